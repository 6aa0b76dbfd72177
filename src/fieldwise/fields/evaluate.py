"""Field-level precision, recall and F1 of extracted results against known values (gold).

Gold is the format of ``../shared/data/pdfs/GOLD_README.md``: per document and field either
``null`` or ``{"values": [...], "multi": bool, "groups": [[...]], "layout_values": [...]}``.
A predicted value is right when, with whitespace collapsed, case folded and surrounding
punctuation trimmed, it equals one of the gold alternatives. Counting, per field:

* single value: right → TP; wrong → FP and FN; empty while gold has one → FN;
* several values (multi gold or a multi-value field): each predicted value is matched to at most
  one unmatched gold group (TP) or counts FP; gold groups left unmatched count FN;
* gold ``null``: every predicted value is FP.

Example::

    report = evaluate_fields(load_gold("gold_fields.json"), load_results("out/results.jsonl"))
    report.overall.f1, report.per_field["Fee - Annual"].precision
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from fieldwise.fields.normalize import text_key


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    def to_json(self) -> dict[str, float | int]:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass
class FieldsReport:
    overall: Counts = field(default_factory=Counts)
    per_field: dict[str, Counts] = field(default_factory=dict)
    documents: int = 0
    missing_documents: list[str] = field(default_factory=list)  # results without gold
    errors: list[dict[str, Any]] = field(default_factory=list)  # what went wrong, for people

    def to_json(self) -> dict[str, Any]:
        return {
            **self.overall.to_json(),
            "documents": self.documents,
            "per_field": {k: v.to_json() for k, v in sorted(self.per_field.items())},
            "results_without_gold": self.missing_documents,
            "errors": self.errors,
        }


def load_gold(path: str | Path) -> dict[str, dict[str, Any]]:
    """``{document file name: {field: gold or None}}``; ValueError naming the file if malformed."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        documents = data["documents"]
        if not isinstance(documents, dict):
            raise TypeError("documents must be an object")
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a gold file ({exc})") from None
    return documents


def load_results(path: str | Path) -> dict[str, dict[str, Any]]:
    """``{document file name: result}`` from a ``results.jsonl`` (``raw-ref`` + ``result``)."""
    path = Path(path)
    out = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out[PurePosixPath(row["raw-ref"]).name] = row["result"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a result line ({exc})") from None
    return out


def predicted_values(entry: dict[str, Any] | None, min_confidence: float = 0.0) -> list[str]:
    """The non-empty values a result reports for one field, at or above ``min_confidence``."""
    if not entry:
        return []
    if "Values" in entry:
        return [
            v["Value"]
            for v in entry["Values"]
            if v.get("Value") and v.get("Confidence", 1.0) >= min_confidence
        ]
    if not entry.get("Value") or entry.get("Confidence", 1.0) < min_confidence:
        return []
    return [entry["Value"]]


def gold_groups(gold: dict[str, Any] | None) -> list[set[str]]:
    """Each distinct gold value as the set of its accepted (normalised) spellings."""
    if not gold:
        return []
    layout = list(gold.get("layout_values", []))
    if gold.get("multi"):
        groups = gold.get("groups") or [[v] for v in gold["values"]]
        return [{text_key(v) for v in g} for g in groups]
    return [{text_key(v) for v in list(gold["values"]) + layout}]


def score_field(
    predicted: list[str], groups: list[set[str]]
) -> tuple[Counts, list[str], list[str]]:
    """Counts, and the wrong predictions and missed gold values (for the report)."""
    counts = Counts()
    unmatched = list(range(len(groups)))
    wrong = []
    for value in predicted:
        norm = text_key(value)
        hit = next((i for i in unmatched if norm in groups[i]), None)
        if hit is None:
            counts.fp += 1
            wrong.append(value)
        else:
            counts.tp += 1
            unmatched.remove(hit)
    counts.fn = len(unmatched)
    missed = [sorted(groups[i])[0] for i in unmatched]
    return counts, wrong, missed


def evaluate_fields(
    gold: dict[str, dict[str, Any]],
    results: dict[str, dict[str, Any]],
    min_confidence: float = 0.0,
) -> FieldsReport:
    """Score every result whose document is in the gold, over the gold's fields.

    With ``min_confidence``, values under it count as not reported (sent to review instead).
    """
    report = FieldsReport()
    for name, result in sorted(results.items()):
        doc_gold = gold.get(name)
        if doc_gold is None:
            report.missing_documents.append(name)
            continue
        report.documents += 1
        fields = result.get("Fields", {})
        for field_name, field_gold in doc_gold.items():
            counts, wrong, missed = score_field(
                predicted_values(fields.get(field_name), min_confidence), gold_groups(field_gold)
            )
            report.per_field.setdefault(field_name, Counts()).add(counts)
            report.overall.add(counts)
            if wrong or missed:
                report.errors.append(
                    {"document": name, "field": field_name, "wrong": wrong, "missed": missed}
                )
    return report


#: The confidence thresholds the evaluation reports precision and recall at.
CURVE_THRESHOLDS = (0.0, 0.3, 0.5, 0.7, 0.9)


def confidence_curve(
    gold: dict[str, dict[str, Any]],
    results: dict[str, dict[str, Any]],
    thresholds: tuple[float, ...] = CURVE_THRESHOLDS,
) -> list[dict[str, float | int]]:
    """Precision and recall when only values at or above each threshold are accepted.

    What a user needs to choose a review threshold: a confident wrong value is worse than one
    sent to a person, so precision of the accepted values is what the threshold buys.
    """
    return [
        {"min_confidence": t, **evaluate_fields(gold, results, t).overall.to_json()}
        for t in thresholds
    ]
