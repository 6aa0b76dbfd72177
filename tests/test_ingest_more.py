"""Rotated PDF pages, Textract JSON from elsewhere, very long PDFs, and the CLI's help."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fieldwise.ingest.options import IngestOptions, OcrMode
from fieldwise.ingest.runner import ingest
from fieldwise.textract import TextractDocument

needs_qpdf = pytest.mark.skipif(shutil.which("qpdf") is None, reason="qpdf not installed")
PDF = "barclays__barclays-gap.pdf"  # 2 pages


def _document(out: Path) -> tuple[TextractDocument, Path]:
    (path,) = (out / "documents").glob("*/textract.json")
    return TextractDocument.load(path), path.parent


def _ink_share(doc: TextractDocument, folder: Path, number: int) -> float:
    """Share of word boxes on the page image that hold dark pixels (the text is where we say)."""
    image = np.asarray(Image.open(folder / "pages" / f"{number:04d}.png").convert("L"))
    height, width = image.shape
    words = doc.page(number).words
    inked = 0
    for w in words:
        b = w.box
        crop = image[
            int(b.top * height) : int(b.bottom * height) + 1,
            int(b.left * width) : int(b.right * width) + 1,
        ]
        inked += crop.size > 0 and crop.min() < 128
    return inked / len(words)


@needs_qpdf
def test_rotated_pdf_page_words_land_on_the_rendered_text(pdf_dir: Path, tmp_path: Path) -> None:
    rotated = tmp_path / "rotated.pdf"
    subprocess.run(["qpdf", "--rotate=+90:1", str(pdf_dir / PDF), str(rotated)], check=True)
    ingest([pdf_dir / PDF], tmp_path / "plain", IngestOptions(workers=1))
    ingest([rotated], tmp_path / "turned", IngestOptions(workers=1))
    plain, plain_dir = _document(tmp_path / "plain")
    turned, turned_dir = _document(tmp_path / "turned")
    assert turned.page(1).size == tuple(reversed(plain.page(1).size))  # landscape now
    # pdfium may order and split text differently on a turned page; the words and places agree:
    # turned 90° clockwise, a word's new left edge is 1 - its old bottom, its new top its old left
    turned_at = {(w.text, round(w.box.left, 4), round(w.box.top, 4)) for w in turned.page(1).words}
    words = plain.page(1).words
    moved = [(w.text, round(1 - w.box.bottom, 4), round(w.box.left, 4)) for w in words]
    assert sum(m in turned_at for m in moved) / len(words) > 0.95
    assert _ink_share(plain, plain_dir, 1) > 0.95
    assert _ink_share(turned, turned_dir, 1) > 0.95


def test_existing_textract_json_is_used_instead_of_reading_text(
    pdf_dir: Path, tmp_path: Path, textract_samples: list[Path]
) -> None:
    source = pdf_dir / PDF
    ingest([source], tmp_path / "first", IngestOptions(workers=1, write_images=False))
    _, folder = _document(tmp_path / "first")
    given = tmp_path / "given"
    given.mkdir()
    shutil.copyfile(folder / "textract.json", given / f"{source.stem}.json")
    report = ingest([source], tmp_path / "second", IngestOptions(workers=1), textract_dir=given)
    assert report.failures == [] and report.text_sources == {"textract": 2}
    _, second = _document(tmp_path / "second")
    assert (second / "textract.json").read_bytes() == (given / f"{source.stem}.json").read_bytes()
    assert (second / "pages" / "0002.png").is_file()  # page images are still rendered

    wrong = tmp_path / "wrong"
    wrong.mkdir()
    shutil.copyfile(textract_samples[0], wrong / f"{source.stem}.json")  # a 1-page response
    report = ingest([source], tmp_path / "third", IngestOptions(workers=1), textract_dir=wrong)
    assert "has 1 page(s) but the document has 2" in report.failures[0].reason


@needs_qpdf
def test_a_400_page_pdf_is_processed_with_bounded_memory(pdf_dir: Path, tmp_path: Path) -> None:
    part = pdf_dir / "amex__amex-platinum.pdf"  # 11 pages
    big = tmp_path / "big.pdf"
    subprocess.run(["qpdf", "--empty", "--pages", *[str(part)] * 37, "--", str(big)], check=True)
    out = tmp_path / "out"
    code = (
        "import resource, sys; from pathlib import Path;"
        "from fieldwise.ingest.runner import ingest; from fieldwise.ingest.options import *;"
        f"r = ingest([Path({str(big)!r})], Path({str(out)!r}),"
        " IngestOptions(workers=2, ocr=OcrMode.text, write_images=False));"
        # VmHWM, not ru_maxrss: ru_maxrss survives exec, so it would report the peak of the
        # pytest process this one was forked from (large once a model test has run).
        "hwm = [x for x in open('/proc/self/status') if x.startswith('VmHWM')];"
        "self = int(hwm[0].split()[1]);"
        "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
        "print(r.pages, self, kids)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    pages, parent_kib, worker_kib = map(int, result.stdout.split())
    assert pages == 407
    assert worker_kib < 400 * 1024, worker_kib  # a worker holds a few pages at a time
    assert parent_kib < 600 * 1024, parent_kib  # the parent holds words, not pages
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0


def test_every_command_has_help_with_an_example() -> None:
    for command in ("ingest", "inspect"):
        result = subprocess.run(
            [sys.executable, "-m", "fieldwise.cli", command, "--help"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "Example" in result.stdout and f"fieldwise {command}" in result.stdout


def test_ocr_mode_tesseract_reads_a_digital_pdf_too(pdf_dir: Path, tmp_path: Path) -> None:
    opts = IngestOptions(workers=2, write_images=False)
    ingest([pdf_dir / PDF], tmp_path / "text", opts)
    report = ingest([pdf_dir / PDF], tmp_path / "ocr", replace(opts, ocr=OcrMode.tesseract))
    assert report.text_sources == {"tesseract": 2}
    manifest = json.loads((tmp_path / "ocr" / "documents.manifest.jsonl").read_text())
    assert manifest["text-sources"] == {"tesseract": 2}
    text_layer = Counter(w.text for w in _document(tmp_path / "text")[0].words())
    ocr = Counter(w.text for w in _document(tmp_path / "ocr")[0].words())
    assert sum((text_layer & ocr).values()) / sum(text_layer.values()) > 0.9
