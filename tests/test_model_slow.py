"""Full training on FUNSD with the default recipe (slow: ~6 min on 2 idle cores; ``-m slow``).

The forms are imported with OCR-like row LINEs (the import default). Training validates on 10%
of its forms, as ``fieldwise train`` does, and is scored on 15 forms it never saw, where
benchmarks/funsd.py measured 0.731 entity F1 (seed 1); the bar leaves room for seed noise.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fieldwise.annotate.dataset import load_labeled_pages
from fieldwise.fields.config import load_fields
from fieldwise.model.predict import Tagger
from fieldwise.model.train import TrainOptions, split_validation, train

pytestmark = pytest.mark.slow


def test_default_recipe_reaches_the_bar_on_held_out_forms(funsd_dir: Path, tmp_path: Path) -> None:
    funsd = pytest.importorskip("fieldwise.annotate.funsd")
    funsd.import_funsd(funsd_dir, tmp_path)
    fields = load_fields(tmp_path / "fields.yaml")
    lines = (tmp_path / "pages.manifest.jsonl").read_text().splitlines()
    forms = {json.loads(ln)["textract-ref"] + "#1": json.loads(ln)["funsd-form"] for ln in lines}
    held_out = set(sorted(forms.values())[::10])
    pages = load_labeled_pages(tmp_path / "pages.manifest.jsonl", fields)
    test_pages = [p for p in pages if forms[p.key] in held_out]
    assert len(test_pages) == 15
    # as `fieldwise train` without --validation: early stopping on 10% of the training forms
    options = TrainOptions()
    train_pages, val_pages = split_validation(
        [p for p in pages if forms[p.key] not in held_out], options.validation_share
    )
    result = train(train_pages, val_pages, fields, tmp_path / "model", options)
    assert result.minutes <= 45
    assert (tmp_path / "model" / "links.json").is_file()
    from fieldwise.model.evaluate import evaluate_pages

    tagger = Tagger.load(tmp_path / "model")
    # the saved model gives the validation F1 of its best epoch through the inference path
    assert evaluate_pages(tagger, val_pages)["entity_f1"] == pytest.approx(result.best_f1, abs=0.01)
    # measured on the 15 forms training never saw: 0.731 (seed 1, 2026-11-25); seeds move it
    assert evaluate_pages(tagger, test_pages)["entity_f1"] >= 0.69
