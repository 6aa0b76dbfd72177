"""The votes a model folder carries beside its tagger, learned from the same labels.

Three are word votes (:class:`fieldwise.fields.word_vote.WordVote`) that field building
multiplies with the tagger's probabilities: the row-label vote for rates and fees
(:mod:`fieldwise.fields.row_labels`), the head-word vote for names
(:mod:`fieldwise.fields.name_heads`) and the label vote for dates
(:mod:`fieldwise.fields.date_labels`); the fourth, the kinds each fee was written in
(:mod:`fieldwise.fields.value_kinds`), vetoes a fee of a kind its field never had. ``train``
fits them in seconds; folders trained before a vote existed simply lack its file, and field
building goes on without it.

Example::

    fit_votes(model_dir, train_pages, config)   # ["row_labels.json", "name_heads.json", …]
    votes = load_votes(model_dir, config)
    detect(doc, config, votes=votes)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fieldwise.annotate.dataset import LabeledPage
from fieldwise.fields.config import FieldConfig
from fieldwise.fields.date_labels import DATE_LABELS_FILE, fit_date_labels, has_dates
from fieldwise.fields.name_heads import NAME_HEADS_FILE, fit_name_heads, has_names
from fieldwise.fields.row_labels import ROW_LABELS_FILE, fit_row_labels, has_typed_values
from fieldwise.fields.value_kinds import (
    VALUE_KINDS_FILE,
    ValueKinds,
    fit_value_kinds,
    has_kind_checked,
)
from fieldwise.fields.word_vote import WordVote

Fit = Callable[[Sequence[LabeledPage], FieldConfig], WordVote | ValueKinds]
#: Each vote: its file, whether a configuration has fields it is for, and how it is fitted.
_VOTES: tuple[tuple[str, Callable[[FieldConfig], bool], Fit], ...] = (
    (ROW_LABELS_FILE, has_typed_values, fit_row_labels),
    (NAME_HEADS_FILE, has_names, fit_name_heads),
    (VALUE_KINDS_FILE, has_kind_checked, fit_value_kinds),
    (DATE_LABELS_FILE, has_dates, fit_date_labels),
)


@dataclass(frozen=True)
class Votes:
    rows: WordVote | None = None  # what a rate or fee is, from its row label
    name_heads: WordVote | None = None  # what a name is, from its head word
    value_kinds: ValueKinds | None = None  # which kinds of amount each fee was labelled with
    dates: WordVote | None = None  # what a date is, from the words before it


def fit_votes(model_dir: Path, pages: Sequence[LabeledPage], config: FieldConfig) -> list[str]:
    """Fit every vote the configuration has fields for into ``model_dir``; the files written."""
    written = []
    for name, wanted, fit in _VOTES:
        if wanted(config):
            fit(pages, config).save(model_dir / name)
            written.append(name)
    return written


def _load(path: Path, config: FieldConfig) -> WordVote | None:
    return WordVote.load(path, config) if path.exists() else None


def load_votes(model_dir: Path, config: FieldConfig) -> Votes:
    """The folder's votes (None for each it lacks); ValueError naming a file that is unreadable."""
    kinds = model_dir / VALUE_KINDS_FILE
    return Votes(
        _load(model_dir / ROW_LABELS_FILE, config),
        _load(model_dir / NAME_HEADS_FILE, config),
        ValueKinds.load(kinds, config) if kinds.exists() else None,
        _load(model_dir / DATE_LABELS_FILE, config),
    )


def missing_votes(model_dir: Path, config: FieldConfig) -> list[str]:
    """The vote files the configuration's fields would use but the folder lacks."""
    return [
        name for name, wanted, _ in _VOTES if wanted(config) and not (model_dir / name).exists()
    ]
