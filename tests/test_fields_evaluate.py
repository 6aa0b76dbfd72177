"""Field-level evaluation against known values: real gold, hand-counted cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fieldwise.fields.evaluate import (
    confidence_curve,
    evaluate_fields,
    load_gold,
    load_results,
    score_field,
)


def _as_results(gold: dict, pick) -> dict:  # type: ignore[no-untyped-def,type-arg]
    results = {}
    for name, fields in gold.items():
        out = {}
        for field, g in fields.items():
            values = pick(g)
            out[field] = (
                {"Values": [{"Value": v} for v in values]}
                if len(values) > 1
                else {"Value": values[0] if values else ""}
            )
        results[name] = {"Fields": out}
    return results


def test_the_gold_scores_itself_perfectly_and_nothing_scores_zero(pdf_dir: Path) -> None:
    gold = load_gold(pdf_dir / "gold_fields.json")
    canonical = _as_results(
        gold, lambda g: (list(g["values"]) if g.get("multi") else g["values"][:1]) if g else []
    )
    perfect = evaluate_fields(gold, canonical)
    distinct = sum(
        len(g["values"]) if g.get("multi") else 1 for d in gold.values() for g in d.values() if g
    )
    assert perfect.overall.f1 == 1.0 and perfect.overall.tp == distinct and perfect.documents == 43
    assert sum(1 for d in gold.values() for g in d.values() if g) == 469
    # alternatives, other case and spacing count as right
    variants = evaluate_fields(
        gold,
        _as_results(
            gold,
            lambda g: ["  " + g["values"][-1].upper() + " "] if g and not g.get("multi") else [],
        ),
    )
    assert variants.overall.fp == 0 and variants.overall.precision == 1.0
    empty = evaluate_fields(gold, _as_results(gold, lambda g: []))
    assert empty.overall.tp == 0 and empty.overall.fn == distinct and empty.overall.recall == 0


def test_hand_counted_cases() -> None:
    groups = [{"$95"}, {"none", "$0"}]
    counts, wrong, missed = score_field(["$95", "$95", "$39"], groups)
    assert (counts.tp, counts.fp, counts.fn) == (1, 2, 1)
    assert wrong == ["$95", "$39"] and missed == ["$0"]
    counts, _, _ = score_field(["X"], [])
    assert (counts.tp, counts.fp, counts.fn) == (0, 1, 0)
    gold = {"a.pdf": {"Fee": {"values": ["$95"]}, "Rate": None}}
    report = evaluate_fields(
        gold,
        {
            "a.pdf": {"Fields": {"Fee": {"Value": "$9"}, "Rate": {"Value": "1%"}}},
            "b.pdf": {"Fields": {}},
        },
    )
    assert report.per_field["Fee"].to_json()["f1"] == 0
    assert (report.overall.tp, report.overall.fp, report.overall.fn) == (0, 2, 1)
    assert report.missing_documents == ["b.pdf"]
    assert {
        "document": "a.pdf",
        "field": "Fee",
        "wrong": ["$9"],
        "missed": ["$95"],
    } in report.errors


def test_a_confidence_threshold_trades_recall_for_precision() -> None:
    gold = {
        "a.pdf": {"Fee": {"values": ["$95"]}, "Rate": {"values": ["1%"]}, "Card": None},
        "b.pdf": {
            "Fee": {"values": ["$0", "$5"], "multi": True, "groups": [["$0"], ["$5"]]},
            "Rate": None,
            "Card": {"values": ["Gold"]},
        },
    }
    results = {
        "a.pdf": {"Fields": {
            "Fee": {"Value": "$95", "Confidence": 0.95},
            "Rate": {"Value": "2%", "Confidence": 0.4},  # wrong, unsure
            "Card": {"Value": "", "Confidence": 0.0},
        }},
        "b.pdf": {"Fields": {
            "Fee": {"Values": [{"Value": "$0", "Confidence": 0.8},
                               {"Value": "$7", "Confidence": 0.2}]},  # one right, one wrong
            "Rate": {"Value": "3%", "Confidence": 0.6},  # wrong: gold has none
            "Card": {"Value": "Gold", "Confidence": 0.5},
        }},
    }  # fmt: skip
    curve = {row["min_confidence"]: row for row in confidence_curve(gold, results)}
    assert (curve[0.0]["tp"], curve[0.0]["fp"], curve[0.0]["fn"]) == (3, 3, 2)
    assert (curve[0.5]["tp"], curve[0.5]["fp"], curve[0.5]["fn"]) == (3, 1, 2)
    assert (curve[0.7]["tp"], curve[0.7]["fp"], curve[0.7]["fn"]) == (2, 0, 3)
    assert curve[0.9]["precision"] == 1.0 and curve[0.9]["recall"] == 0.2
    # the plain evaluation is the curve's first point
    assert evaluate_fields(gold, results).overall.to_json() == {
        k: v for k, v in curve[0.0].items() if k != "min_confidence"
    }


def test_bad_files_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "gold.json"
    bad.write_text('{"schema_version": 1}')
    with pytest.raises(ValueError, match="gold.json: not a gold file"):
        load_gold(bad)
    results = tmp_path / "results.jsonl"
    results.write_text(json.dumps({"raw-ref": "documents/x/a.pdf", "result": {}}) + "\n{oops\n")
    with pytest.raises(ValueError, match="results.jsonl:2"):
        load_results(results)
