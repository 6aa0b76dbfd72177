"""Evaluate a model folder on a labelled manifest: the report ``fieldwise evaluate`` writes.

Example::

    report = evaluate_manifest(Tagger.load("models/funsd"), "val/pages.manifest.jsonl")
    write_report(report, Path("report.json"))   # and report.confusion.png beside it
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fieldwise.annotate.dataset import LabeledPage, load_labeled_pages
from fieldwise.annotate.word_labels import bio_tags
from fieldwise.model.metrics import evaluate_tags, save_confusion_png
from fieldwise.model.predict import Tagger


def evaluate_pages(tagger: Tagger, pages: Sequence[LabeledPage]) -> dict[str, Any]:
    """All metrics of ``tagger`` on labelled pages, plus pages/s of the prediction."""
    names = tagger.info.class_names
    started = time.perf_counter()
    predictions = tagger.predict_pages(pages)
    seconds = time.perf_counter() - started
    gold = [bio_tags(p.labels, names) for p in pages]
    report = evaluate_tags(gold, [p.tags for p in predictions], names)
    report["pages"] = len(pages)
    report["decoder"] = tagger.info.decoder
    report["predict_seconds"] = round(seconds, 3)
    report["pages_per_second"] = round(len(pages) / seconds, 2) if seconds else None
    return report


def evaluate_manifest(tagger: Tagger, manifest: str | Path, attr: str = "label") -> dict[str, Any]:
    """Evaluate on every labelled page of ``manifest`` (labels read with the model's fields)."""
    pages = load_labeled_pages(manifest, tagger.loaded.fields, attr)
    if not pages:
        raise ValueError(f"{manifest}: no page has labels under {attr!r}")
    report = evaluate_pages(tagger, pages)
    report["manifest"] = str(manifest)
    report["model"] = str(tagger.loaded.path)
    return report


def write_report(report: dict[str, Any], out: Path) -> Path:
    """Write the JSON report and the confusion-matrix PNG beside it; the PNG's path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    png = out.with_suffix(".confusion.png")
    report = {**report, "confusion_png": png.name}
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    save_confusion_png(report["confusion"], report["class_names"], png)
    return png
