"""The votes a model folder carries beside its tagger, learned from the same labels.

Each is a :class:`fieldwise.fields.word_vote.WordVote` that field building multiplies with the
tagger's probabilities: the row-label vote for rates and fees
(:mod:`fieldwise.fields.row_labels`) and the head-word vote for names
(:mod:`fieldwise.fields.name_heads`). ``train`` fits them in seconds; folders trained before a
vote existed simply lack its file, and field building goes on without it.

Example::

    fit_votes(model_dir, train_pages, config)     # ["row_labels.json", "name_heads.json"]
    votes = load_votes(model_dir, config)
    detect(doc, config, votes=votes)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fieldwise.annotate.dataset import LabeledPage
from fieldwise.fields.config import FieldConfig
from fieldwise.fields.name_heads import (
    NAME_HEADS_FILE,
    has_names,
    load_name_heads,
    save_name_heads,
)
from fieldwise.fields.row_labels import (
    ROW_LABELS_FILE,
    has_typed_values,
    load_row_labels,
    save_row_labels,
)
from fieldwise.fields.word_vote import WordVote


@dataclass(frozen=True)
class Votes:
    rows: WordVote | None = None  # what a rate or fee is, from its row label
    name_heads: WordVote | None = None  # what a name is, from its head word


def fit_votes(model_dir: Path, pages: Sequence[LabeledPage], config: FieldConfig) -> list[str]:
    """Fit every vote the configuration has fields for into ``model_dir``; the files written."""
    written = []
    if save_row_labels(model_dir, pages, config):
        written.append(ROW_LABELS_FILE)
    if save_name_heads(model_dir, pages, config):
        written.append(NAME_HEADS_FILE)
    return written


def load_votes(model_dir: Path, config: FieldConfig) -> Votes:
    """The folder's votes (None for each it lacks); ValueError naming a file that is unreadable."""
    return Votes(load_row_labels(model_dir, config), load_name_heads(model_dir, config))


def missing_votes(model_dir: Path, config: FieldConfig) -> list[str]:
    """The vote files the configuration's fields would use but the folder lacks."""
    wanted = [(ROW_LABELS_FILE, has_typed_values(config)), (NAME_HEADS_FILE, has_names(config))]
    return [name for name, used in wanted if used and not (model_dir / name).exists()]
