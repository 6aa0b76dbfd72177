"""Full training on FUNSD with the default recipe (slow: ~6 min on 2 idle cores; ``-m slow``).

The forms are imported with OCR-like row LINEs (the import default), where this recipe measured
0.639 entity F1 with its entity-boundary model (benchmarks/funsd.py, seed 1; 0.553 before it);
the bar leaves room for seed noise (~3 points).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fieldwise.annotate.dataset import load_labeled_pages
from fieldwise.fields.config import load_fields
from fieldwise.model.predict import Tagger
from fieldwise.model.train import TrainOptions, train

pytestmark = pytest.mark.slow


def test_default_recipe_reaches_the_bar_on_held_out_forms(funsd_dir: Path, tmp_path: Path) -> None:
    funsd = pytest.importorskip("fieldwise.annotate.funsd")
    funsd.import_funsd(funsd_dir, tmp_path)
    fields = load_fields(tmp_path / "fields.yaml")
    lines = (tmp_path / "pages.manifest.jsonl").read_text().splitlines()
    forms = {json.loads(ln)["textract-ref"] + "#1": json.loads(ln)["funsd-form"] for ln in lines}
    held_out = set(sorted(forms.values())[::10])
    pages = load_labeled_pages(tmp_path / "pages.manifest.jsonl", fields)
    train_pages = [p for p in pages if forms[p.key] not in held_out]
    val_pages = [p for p in pages if forms[p.key] in held_out]
    assert len(val_pages) == 15
    result = train(train_pages, val_pages, fields, tmp_path / "model", TrainOptions())
    assert result.minutes <= 45
    assert result.best_f1 >= 0.69  # measured 0.727 (seed 0); 0.738, 0.727 with seeds 1, 2
    assert (tmp_path / "model" / "links.json").is_file()
    # the saved model gives the same F1 through the inference path
    from fieldwise.model.evaluate import evaluate_pages

    report = evaluate_pages(Tagger.load(tmp_path / "model"), val_pages)
    assert report["entity_f1"] == pytest.approx(result.best_f1, abs=0.01)
