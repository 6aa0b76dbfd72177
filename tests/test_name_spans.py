"""Names drawn as whole capitalised phrases around the model's words (fields.name_spans)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fieldwise.fields import parse_fields
from fieldwise.fields.detections import detect
from fieldwise.fields.extract import build_result
from fieldwise.fields.name_spans import name_phrases
from fieldwise.textract import TextractDocument
from tests.test_fields_extract import make_doc
from tests.test_value_spans import with_probabilities as with_class_probabilities

CONFIG = parse_fields(
    [
        {"name": "Provider Name", "select": "first", "normalize": "name"},
        {"name": "Card Name", "normalize": "name"},
        {"name": "Notes"},  # free text: never re-drawn as a name
    ]
)
PROVIDER, CARD, NOTES, OTHER = 0, 1, 2, CONFIG.other_id


def phrases(line: str) -> list[str]:
    words = line.split()
    return [" ".join(words[s:e]) for s, e in name_phrases(words)]


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("Issuer: American Express National Bank", ["Issuer:", "American Express National Bank"]),
        (
            "administered by Bank of America, N.A. Mastercard and World",
            ["Bank of America, N.A.", "Mastercard", "World"],
        ),
        ("Marriott International, Inc. and its", ["Marriott International, Inc."]),
        ("on your Card (Card Account). Eligible", ["Card", "(Card Account).", "Eligible"]),
        ("The Platinum Card® from American Express", ["Platinum Card®", "American Express"]),
        ("visit delta.com or call", []),
        ("drawn on a U.S. bank, or", ["U.S."]),
        ("Petal 2 Visa® Credit Card", ["Petal 2 Visa® Credit Card"]),
        ("with Bank of", ["Bank"]),  # a connector never ends a name
        ("A ® sign", []),  # an article and a mark alone are no name
        (  # a legal name's last word ends it when another name follows (U.S. Bank)
            "Agreement for U.S. Bank National Association Visa Signature® and World",
            ["Agreement", "U.S. Bank National Association", "Visa Signature®", "World"],
        ),
        ("Pentagon Federal Credit Union", ["Pentagon Federal Credit Union"]),
        ("Limited Edition Card", ["Limited Edition Card"]),  # never at a name's start
    ],
)
def test_name_phrases(line: str, names: list[str]) -> None:
    assert phrases(line) == names


def test_every_gold_name_of_the_shared_agreements_is_one_whole_phrase(pdf_dir: Path) -> None:
    """Each issuer and card name annotators chose in the 43 real agreements (at least one of
    its accepted spellings) is exactly one name phrase when it stands in a sentence."""
    gold = json.loads((pdf_dir / "gold_fields.json").read_text())["documents"]
    checked, missed = 0, []
    for document, fields in gold.items():
        for name in ("Provider Name", "Card Name"):
            value = fields[name]
            if not value:
                continue
            for alternatives in value.get("groups") or [value["values"]]:
                checked += 1
                if not any(
                    phrases(f"issued by {alt} and more") == [" ".join(alt.split())]
                    for alt in alternatives
                ):
                    missed.append((document, name, alternatives[0]))
    assert checked == 100
    assert missed == []


def with_probabilities(
    doc: TextractDocument, probabilities: dict[str, dict[int, float]]
) -> TextractDocument:
    return with_class_probabilities(doc, probabilities, CONFIG)


def test_a_name_the_model_tagged_in_part_becomes_the_whole_phrase() -> None:
    """As on Bank of America's agreement: the model tags only "America," and "N.A."."""
    line = [
        ("issued", OTHER, 0.9, 99.0),
        ("by", OTHER, 0.9, 99.0),
        ("Bank", OTHER, 0.9, 99.0),
        ("of", OTHER, 0.9, 99.0),
        ("America,", PROVIDER, 0.8, 99.0),
        ("N.A.", PROVIDER, 0.9, 99.0),
        ("Mastercard", OTHER, 0.9, 99.0),
    ]
    doc = with_probabilities(
        make_doc([[line]]), {"America,": {PROVIDER: 0.8}, "N.A.": {PROVIDER: 0.9}}
    )
    found = detect(doc, CONFIG)
    assert [(d.class_name, d.text) for d in found] == [("Provider Name", "Bank of America, N.A.")]
    assert found[0].confidence == pytest.approx(0.85)  # mean over the words the model called
    field = build_result(found, CONFIG)["Fields"]["Provider Name"]
    assert field["Value"] == "Bank of America, N.A."
    assert field["NormalizedValue"] == "Bank of America, N.A."
    as_tagged = detect(doc, CONFIG, value_grammar=False)
    assert [d.text for d in as_tagged] == ["America, N.A."]


def test_the_phrase_goes_to_the_name_field_its_words_favour() -> None:
    """ "Blue" called the issuer (0.46), but the phrase as a whole reads as the card."""
    line = [
        ("Blue", PROVIDER, 0.46, 99.0),
        ("Cash", OTHER, 0.5, 99.0),
        ("Everyday®", OTHER, 0.8, 99.0),
        ("Card", OTHER, 0.7, 99.0),
    ]
    doc = with_probabilities(
        make_doc([[line]]),
        {
            "Blue": {PROVIDER: 0.46, CARD: 0.24},
            "Cash": {CARD: 0.35},
            "Everyday®": {CARD: 0.09},
            "Card": {CARD: 0.2},
        },
    )
    found = detect(doc, CONFIG)
    assert [(d.class_name, d.text) for d in found] == [("Card Name", "Blue Cash Everyday® Card")]
    assert found[0].confidence == pytest.approx(0.24)


def test_web_addresses_lower_case_words_and_free_text_fields() -> None:
    line = [
        ("visit", OTHER, 0.9, 99.0),
        ("delta.com", PROVIDER, 0.9, 99.0),
        ("a", OTHER, 0.9, 99.0),
        ("bank,", PROVIDER, 0.9, 99.0),
        ("Pay", NOTES, 0.7, 99.0),
        ("early", NOTES, 0.7, 99.0),
    ]
    doc = with_probabilities(make_doc([[line]]), {})
    assert [(d.class_name, d.text) for d in detect(doc, CONFIG)] == [("Notes", "Pay early")]


def test_without_name_fields_nothing_is_redrawn() -> None:
    plain = parse_fields([{"name": "Provider Name", "select": "first"}, {"name": "Card Name"}])
    line = [("Bank", OTHER, 0.9, 99.0), ("of", OTHER, 0.9, 99.0), ("America", PROVIDER, 0.8, 99.0)]
    doc = with_probabilities(make_doc([[line]]), {"America": {PROVIDER: 0.8}})
    assert [d.text for d in detect(doc, plain)] == ["America"]
