"""FUNSD import: our box rule must give back FUNSD's own word labels; reading order is honest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fieldwise.annotate.dataset import load_labeled_pages
from fieldwise.annotate.funsd import FUNSD_FIELDS, LineMode, form_lines, read_form
from fieldwise.annotate.manifest import Manifest
from fieldwise.fields import load_fields
from fieldwise.textract import TextractDocument


@pytest.fixture(scope="module")
def imported(funsd_import: Path) -> Path:
    return funsd_import


def test_every_form_is_imported_with_its_files(imported: Path, funsd_dir: Path) -> None:
    manifest = Manifest.load(imported / "pages.manifest.jsonl")
    assert len(manifest) == len(list((funsd_dir / "annotations").glob("*.json"))) == 149
    for page in manifest.pages[:10]:
        for key in ("raw-ref", "textract-ref", "source-ref", "thumbnail-ref"):
            assert manifest.resolve(page.data[key]).is_file(), key
        doc = TextractDocument.load(manifest.resolve(page.data["textract-ref"]))
        labels = page.labels("label")
        assert labels is not None and doc.pages[0].size == (labels.width, labels.height)
    assert load_fields(imported / "fields.yaml").class_names == [
        "header",
        "question",
        "answer",
        "other",
    ]


def test_box_rule_agrees_with_funsd_word_labels(imported: Path, funsd_dir: Path) -> None:
    manifest = Manifest.load(imported / "pages.manifest.jsonl")
    pages = load_labeled_pages(manifest, load_fields(imported / "fields.yaml"))
    agree = total = 0
    for record, page in zip(manifest.pages, pages, strict=True):
        name = record.data["funsd-form"]
        form = read_form(
            funsd_dir / "annotations" / f"{name}.json", funsd_dir / "images" / f"{name}.png"
        )
        gold_words = [w for line in form_lines(form) for w in line]
        assert [w.text for w in gold_words] == page.words
        for word, class_id in zip(gold_words, page.class_ids, strict=True):
            agree += FUNSD_FIELDS.class_id(word.label) == class_id
            total += 1
    assert total == 21888
    assert agree / total >= 0.995, f"{agree}/{total}"


def test_lines_follow_reading_order_not_entity_order(imported: Path, funsd_dir: Path) -> None:
    name = "0000971160"
    form = read_form(
        funsd_dir / "annotations" / f"{name}.json", funsd_dir / "images" / f"{name}.png"
    )
    lines = form_lines(form, LineMode.entities)
    centres = [sum(w.box.center_y for w in line) / len(line) for line in lines]
    # rows go down the page: a line never starts clearly above the previous row's line
    assert all(b >= a - 0.02 for a, b in zip(centres, centres[1:], strict=False))
    assert len({w.entity for w in lines[0]}) == 1  # a line holds words of one entity
    entity_order = [w.entity for e in form.entities for w in e.words if w.text.strip()]
    assert [w.entity for line in lines for w in line] != entity_order


def test_cli_reports_a_folder_that_is_not_funsd(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fieldwise.cli",
            "annotate",
            "import-funsd",
            str(tmp_path),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "no annotations/*.json" in " ".join(result.stdout.split())
    assert "Traceback" not in result.stderr


def test_default_lines_are_ocr_like_rows_that_do_not_leak_entities(funsd_dir: Path) -> None:
    """Row lines mix entities about as often as Tesseract's lines do (44% measured)."""
    mixed = total = 0
    for annotation in sorted((funsd_dir / "annotations").glob("*.json"))[:30]:
        form = read_form(annotation, funsd_dir / "images" / f"{annotation.stem}.png")
        for line in form_lines(form):
            owners = {w.entity if w.label != "other" else None for w in line}
            mixed += len(owners) > 1
            total += 1
        by_rows = [w.text for line in form_lines(form) for w in line]
        assert sorted(by_rows) == sorted(
            w.text for e in form.entities for w in e.words if w.text.strip()
        )
    assert 0.25 < mixed / total < 0.45, mixed / total
