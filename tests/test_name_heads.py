"""The head-word vote for names (fields.name_heads) and the model folder's votes (fields.votes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fieldwise.annotate.from_values import FromValuesResult
from fieldwise.fields.config import FieldConfig
from fieldwise.fields.date_labels import DATE_LABELS_FILE
from fieldwise.fields.detections import detect
from fieldwise.fields.name_heads import NAME_HEADS_FILE, fit_name_heads
from fieldwise.fields.row_labels import ROW_LABELS_FILE
from fieldwise.fields.value_kinds import VALUE_KINDS_FILE
from fieldwise.fields.votes import Votes, fit_votes, load_votes, missing_votes
from tests.test_fields_extract import make_doc
from tests.test_name_spans import CARD, CONFIG, OTHER, PROVIDER, with_probabilities
from tests.test_row_labels import pages_by_issuer


def test_learned_on_other_issuers_head_words_name_the_field(
    weak_labels: FromValuesResult, card_fields: FieldConfig
) -> None:
    """Fitted without American Express: a phrase ending in "Card" is a card, one ending in
    "Bank" an issuer, one ending in "Agreement" or "Notice" no name at all."""
    others, _ = pages_by_issuer(weak_labels, card_fields)
    heads = fit_name_heads(others, card_fields)
    names = card_fields.class_names
    provider, card = names.index("Provider Name"), names.index("Card Name")
    candidates = [provider, card, card_fields.other_id]

    def reads(word: str) -> str:
        likelihood = heads.likelihood([word])
        return names[max(candidates, key=lambda c: likelihood[c])]

    assert reads("card") == "Card Name"
    assert reads("bank") == "Provider Name"
    assert reads("agreement") == "other"
    assert reads("notice") == "other"
    assert heads.examples[card] > 10 and heads.examples[provider] > 10


def heads_vote(likelihoods: dict[str, tuple[float, ...]]) -> Votes:
    from fieldwise.fields.word_vote import WordVote

    unknown = (float(np.log(0.01)),) * CONFIG.num_classes
    logs = {w: tuple(float(np.log(p)) for p in row) for w, row in likelihoods.items()}
    return Votes(name_heads=WordVote(tuple(CONFIG.class_names), logs, unknown, (1, 1, 1, 1)))


def test_the_head_word_moves_a_title_to_the_card_and_drops_a_heading() -> None:
    """As on Amex's first page: the tagger calls "Blue" of "Blue Cash Preferred® Card" the
    issuer, and on Chase's "MILITARY" of a notice heading; the head words decide."""
    lines = [
        [("Blue", PROVIDER, 0.64, 99.0), ("Cash", OTHER, 0.9, 99.0), ("Card", OTHER, 0.9, 99.0)],
        [("MILITARY", PROVIDER, 0.47, 99.0), ("NOTICE:", OTHER, 0.99, 99.0)],
    ]
    doc = with_probabilities(
        make_doc([lines]),
        {
            "Blue": {PROVIDER: 0.64, CARD: 0.1},
            "Cash": {CARD: 0.25},
            "Card": {CARD: 0.2},
            "MILITARY": {PROVIDER: 0.47},
        },
    )
    plain = [(d.class_name, d.text) for d in detect(doc, CONFIG)]
    assert plain == [("Provider Name", "Blue Cash Card"), ("Provider Name", "MILITARY NOTICE:")]
    votes = heads_vote({"card": (0.01, 0.6, 0.01, 0.1), "notice": (0.01, 0.01, 0.01, 0.5)})
    found = detect(doc, CONFIG, votes=votes)
    assert [(d.class_name, d.text) for d in found] == [("Card Name", "Blue Cash Card")]
    assert 0.5 < found[0].confidence < 1.0  # the normalised product, not the tagger's call


def test_a_model_folder_gets_every_vote_its_fields_use(
    weak_labels: FromValuesResult, card_fields: FieldConfig, tmp_path: Path
) -> None:
    others, _ = pages_by_issuer(weak_labels, card_fields)
    every = [ROW_LABELS_FILE, NAME_HEADS_FILE, VALUE_KINDS_FILE, DATE_LABELS_FILE]
    assert missing_votes(tmp_path, card_fields) == every
    assert load_votes(tmp_path, card_fields) == Votes()  # older folders: no votes, no error
    assert fit_votes(tmp_path, others[:60], card_fields) == every
    assert missing_votes(tmp_path, card_fields) == []
    votes = load_votes(tmp_path, card_fields)
    assert votes.rows is not None and votes.name_heads is not None
    assert votes.value_kinds is not None and "Fee - Annual" in votes.value_kinds.seen
    assert votes.dates is not None
    assert fit_votes(tmp_path / "forms", [], CONFIG.model_copy(update={"fields": ()})) == []
