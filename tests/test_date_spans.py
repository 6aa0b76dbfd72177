"""Dates drawn whole around the model's words (fields.date_spans)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fieldwise.fields import parse_fields
from fieldwise.fields.date_spans import date_expressions
from fieldwise.fields.detections import detect
from fieldwise.fields.extract import build_result
from tests.test_fields_extract import make_doc

CONFIG = parse_fields([{"name": "Effective", "select": "first", "normalize": "date"}])
DATE, OTHER = 0, CONFIG.other_id


def dates(line: str) -> list[str]:
    words = line.split()
    return [" ".join(words[s:e]) for s, e in date_expressions(words)]


@pytest.mark.parametrize(
    ("line", "found"),
    [
        ("accurate as of September 30, 2025. PLEASE NOTE", ["September 30, 2025."]),
        ("As of: 10/08/2025 Issuer:", ["10/08/2025"]),
        ("vigente el 30 de septiembre de 2025 y", ["30 de septiembre de 2025"]),
        ("Prime Rate (as of 09/30/2025)", ["09/30/2025)"]),
        ("from 2 to 30 days, up to 2025 points", []),
        ("February 30, 2025 is no date", []),
        ("CFB01072 12.74%", []),
    ],
)
def test_date_expressions(line: str, found: list[str]) -> None:
    assert dates(line) == found


def test_every_gold_date_of_the_shared_agreements_is_one_whole_expression(pdf_dir: Path) -> None:
    gold = json.loads((pdf_dir / "gold_fields.json").read_text())["documents"]
    values = [v["values"] for fields in gold.values() if (v := fields["Agreement Effective Date"])]
    assert len(values) == 30
    missed = [
        alts[0]
        for alts in values
        if not any(dates(f"effective {alt} and") == [" ".join(alt.split())] for alt in alts)
    ]
    assert missed == []


def test_a_date_the_model_broke_into_words_is_one_value() -> None:
    """As on Bank of America's agreement: each word tagged as the start of its own date."""
    line = [
        ("of", OTHER, 0.9, 99.0),
        ("September", DATE, 0.40, 99.0),
        ("30,", DATE, 0.55, 99.0),
        ("2025.", DATE, 0.59, 99.0),
        ("PLEASE", OTHER, 0.9, 99.0),
    ]
    doc = make_doc([[line], [[("(as", OTHER, 0.9, 99.0), ("09/30/2025)", DATE, 0.64, 99.0)]]])
    for word in doc.words():
        if word.text in ("September", "30,", "2025."):
            word.block["PredictedEntityStart"] = True  # type: ignore[typeddict-unknown-key]
    as_tagged = build_result(detect(doc, CONFIG, value_grammar=False), CONFIG)
    assert as_tagged["Fields"]["Effective"]["Value"] == "09/30/2025)"  # the pieces do not parse
    found = detect(doc, CONFIG)
    assert [d.text for d in found] == ["September 30, 2025.", "09/30/2025)"]
    assert found[0].confidence == pytest.approx((0.40 + 0.55 + 0.59) / 3)
    field = build_result(found, CONFIG)["Fields"]["Effective"]
    assert (field["Value"], field["NormalizedValue"]) == ("September 30, 2025.", "2025-09-30")
