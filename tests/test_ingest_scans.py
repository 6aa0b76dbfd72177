"""Scans: OCR against FUNSD's gold words, EXIF rotation, sideways pages, TIFF, scanned PDFs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from fieldwise.ingest.options import IngestOptions, OcrMode
from fieldwise.ingest.runner import ingest
from fieldwise.textract import TextractDocument

from .conftest import funsd_tokens, text_tokens


def _forms(funsd_dir: Path, n: int) -> list[Path]:
    return sorted((funsd_dir / "images").glob("*.png"))[:n]


def _gold(funsd_dir: Path, image: Path) -> Counter[str]:
    return funsd_tokens(funsd_dir / "annotations" / f"{image.stem}.json")


def _f1(gold: Counter[str], found: Counter[str]) -> float:
    hit = sum((gold & found).values())
    return 2 * hit / (sum(gold.values()) + sum(found.values()))


def _only_document(out: Path) -> TextractDocument:
    (path,) = (out / "documents").glob("*/textract.json")
    return TextractDocument.load(path)


def _page_tokens(doc: TextractDocument, number: int = 1) -> Counter[str]:
    return text_tokens([w.text for w in doc.page(number).words])


def test_ocr_words_match_funsd_gold(funsd_dir: Path, tmp_path: Path) -> None:
    forms = _forms(funsd_dir, 4)
    report = ingest(forms, tmp_path, IngestOptions(workers=2, ocr=OcrMode.tesseract))
    assert report.failures == [] and report.text_sources == {"tesseract": 4}
    manifest = [json.loads(x) for x in (tmp_path / "documents.manifest.jsonl").read_text().split()]
    gold: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for line in manifest:
        doc = TextractDocument.load(tmp_path / line["textract-ref"])
        gold += _gold(funsd_dir, Path(line["source-path"]))
        found += _page_tokens(doc)
        assert all(0 <= w.confidence <= 100 for w in doc.words())
    assert _f1(gold, found) >= 0.75  # benchmarks/ingest.py reports the full-set number


def test_exif_orientation_is_applied_to_the_pixels(funsd_dir: Path, tmp_path: Path) -> None:
    form = _forms(funsd_dir, 1)[0]
    upright = Image.open(form).convert("L")
    stored = upright.rotate(90, expand=True)  # pixels stored sideways...
    exif = Image.Exif()
    exif[0x0112] = 6  # ...and EXIF says "turn 90° clockwise to view"
    photo = tmp_path / "in" / "photo.jpg"
    photo.parent.mkdir()
    stored.save(photo, exif=exif.tobytes(), quality=95)
    ingest([photo], tmp_path / "out", IngestOptions(workers=1))
    doc = _only_document(tmp_path / "out")
    assert doc.page(1).size == upright.size
    (page_png,) = (tmp_path / "out" / "documents").glob("*/pages/0001.png")
    assert Image.open(page_png).size == upright.size
    assert _f1(_gold(funsd_dir, form), _page_tokens(doc)) >= 0.6


def test_sideways_scan_comes_out_upright(funsd_dir: Path, tmp_path: Path) -> None:
    form = _forms(funsd_dir, 2)[1]
    upright = Image.open(form).convert("L")
    sideways = tmp_path / "in" / "sideways.png"
    sideways.parent.mkdir()
    upright.rotate(90, expand=True).save(sideways)  # counter-clockwise: needs 90° clockwise back
    ingest([sideways], tmp_path / "out", IngestOptions(workers=1))
    doc = _only_document(tmp_path / "out")
    assert doc.page(1).custom["Rotation"] == 90
    assert doc.page(1).size == upright.size
    assert _f1(_gold(funsd_dir, form), _page_tokens(doc)) >= 0.6


def test_multipage_tiff_gives_one_page_per_frame(funsd_dir: Path, tmp_path: Path) -> None:
    forms = _forms(funsd_dir, 2)
    frames = [Image.open(f).convert("L") for f in forms]
    tiff = tmp_path / "in" / "batch.tif"
    tiff.parent.mkdir()
    frames[0].save(tiff, save_all=True, append_images=frames[1:], compression="tiff_lzw")
    ingest([tiff], tmp_path / "out", IngestOptions(workers=2, pages_per_task=1))
    doc = _only_document(tmp_path / "out")
    assert doc.page_count == 2
    for number, form in enumerate(forms, start=1):
        assert _f1(_gold(funsd_dir, form), _page_tokens(doc, number)) >= 0.6


def test_scanned_pdf_is_ocred_in_auto_mode(funsd_dir: Path, tmp_path: Path) -> None:
    form = _forms(funsd_dir, 1)[0]
    scanned = tmp_path / "in" / "scanned.pdf"
    scanned.parent.mkdir()
    Image.open(form).convert("L").save(scanned, resolution=100)
    report = ingest([scanned], tmp_path / "out", IngestOptions(workers=1))
    assert report.text_sources == {"tesseract": 1}
    doc = _only_document(tmp_path / "out")
    assert _f1(_gold(funsd_dir, form), _page_tokens(doc)) >= 0.6


@pytest.mark.parametrize("mode", [OcrMode.text])
def test_text_mode_does_not_ocr_images(funsd_dir: Path, tmp_path: Path, mode: OcrMode) -> None:
    report = ingest(_forms(funsd_dir, 1), tmp_path, IngestOptions(workers=1, ocr=mode))
    assert report.text_sources == {"none": 1} and report.words == 0


def test_tessdata_is_found_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fieldwise.ingest.ocr import tesseract

    prefix, bundled = tmp_path / "prefix", tmp_path / "bundled"
    for folder in (prefix, bundled):
        folder.mkdir()
        (folder / "eng.traineddata").write_bytes(b"model")
    monkeypatch.setattr(tesseract, "BUNDLED_TESSDATA", str(bundled))
    monkeypatch.setenv("TESSDATA_PREFIX", str(prefix))
    assert tesseract.find_tessdata("eng") == str(prefix)  # the user's choice wins
    monkeypatch.delenv("TESSDATA_PREFIX")
    assert tesseract.find_tessdata("eng") == str(bundled)  # then the installed accurate model
    assert "/usr/share/tesseract-ocr" in tesseract.find_tessdata("osd")  # then Debian's
    with pytest.raises(Exception, match="tesseract-ocr-xyz"):
        tesseract.find_tessdata("xyz")


def test_installed_engine_reads_with_the_accurate_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """`make install` puts tessdata_best (integer) in the environment; the engine must use it."""
    from fieldwise.ingest.ocr.tesseract import BUNDLED_TESSDATA, TesseractEngine

    monkeypatch.delenv("TESSDATA_PREFIX", raising=False)
    engine = TesseractEngine()
    assert engine.tessdata == BUNDLED_TESSDATA
    model = Path(BUNDLED_TESSDATA) / "eng.traineddata"
    fast_model_bytes = 4_113_088  # Debian's tesseract-ocr-eng, the smaller "fast" network
    assert model.stat().st_size != fast_model_bytes
    assert engine._api.GetIntVariable("thresholding_method") == 1
