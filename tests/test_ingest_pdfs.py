"""Ingest of the real credit-card PDFs: outputs, manifests, agreement with pdftotext, resuming."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import trp
import trp.trp2 as trp2
from PIL import Image

from fieldwise.ingest.options import IngestOptions, OcrMode
from fieldwise.ingest.runner import ingest
from fieldwise.textract import TextractDocument

NAMES = [
    "apple-card-goldman-sachs__apple-card.pdf",
    "bank-of-america__boa-secured.pdf",
    "petal-webbank__petal-2.pdf",
]


@pytest.fixture(scope="module")
def pdfs(pdf_dir: Path) -> list[Path]:
    return [pdf_dir / n for n in NAMES]


@pytest.fixture(scope="module")
def ingested(pdfs: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ingest")
    report = ingest(pdfs, out, IngestOptions(workers=2))
    assert report.failures == []
    assert report.documents_done == 3
    return out


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_manifests_point_at_files_that_exist(ingested: Path, pdfs: list[Path]) -> None:
    docs = _jsonl(ingested / "documents.manifest.jsonl")
    assert sorted(Path(d["source-path"]).name for d in docs) == sorted(NAMES)
    pages = _jsonl(ingested / "pages.manifest.jsonl")
    assert len(pages) == sum(d["pages"] for d in docs)
    for line in pages:
        for key in ("raw-ref", "textract-ref", "source-ref", "thumbnail-ref"):
            assert (ingested / line[key]).is_file(), line[key]
    for doc in docs:
        numbers = [p["page-num"] for p in pages if p["textract-ref"] == doc["textract-ref"]]
        assert numbers == list(range(1, doc["pages"] + 1))
    assert (ingested / "failures.jsonl").read_text() == ""


def test_page_images_and_thumbnails(ingested: Path) -> None:
    for line in _jsonl(ingested / "pages.manifest.jsonl")[:6]:
        with Image.open(ingested / line["source-ref"]) as page:
            assert page.format == "PNG" and page.mode in ("RGB", "L")
            assert 1200 <= page.width <= 1300  # US Letter at 150 dpi is 1275 px wide
        with Image.open(ingested / line["thumbnail-ref"]) as thumb:
            assert thumb.size == (224, 224)
        doc = TextractDocument.load(ingested / line["textract-ref"])
        assert doc.page(line["page-num"]).size == page.size


def test_textract_output_loads_in_trp_and_has_words_with_boxes(ingested: Path) -> None:
    for line in _jsonl(ingested / "documents.manifest.jsonl"):
        raw = json.loads((ingested / line["textract-ref"]).read_text())
        trp2.TDocumentSchema().load(raw)
        ref = trp.Document(raw)
        doc = TextractDocument.loads(raw)
        assert doc.page_count == line["pages"] == len(ref.pages)
        ref_words = [w.text for p in ref.pages for ln in p.lines for w in ln.words]
        assert [w.text for w in doc.words()] == ref_words
        assert len(ref_words) == line["words"] > 500
        for word in list(doc.words())[:200]:
            box = word.box
            assert 0 <= box.left < box.right <= 1 and 0 <= box.top < box.bottom <= 1
            assert word.confidence == 100.0
        assert {p.custom["TextSource"] for p in doc.pages} == {"text-layer"}


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_words_agree_with_pdftotext(ingested: Path) -> None:
    for line in _jsonl(ingested / "documents.manifest.jsonl"):
        expected = subprocess.run(
            ["pdftotext", line["source-path"], "-"], capture_output=True, check=True
        ).stdout.decode()
        theirs = Counter(expected.split())
        ours = Counter(
            w.text for w in TextractDocument.load(ingested / line["textract-ref"]).words()
        )
        recall = sum((theirs & ours).values()) / sum(theirs.values())
        assert recall >= 0.99, (line["source-path"], recall)


def test_second_run_skips_and_force_redoes(ingested: Path, pdfs: list[Path]) -> None:
    before = (ingested / "documents.manifest.jsonl").read_text()
    again = ingest(pdfs, ingested, IngestOptions(workers=1, write_images=False))
    assert (again.documents_done, again.documents_skipped) == (0, 3)
    assert (ingested / "documents.manifest.jsonl").read_text() == before
    forced = ingest(pdfs[:1], ingested, IngestOptions(workers=1, force=True))
    assert forced.documents_done == 1


def test_same_content_under_two_names_is_one_document(pdfs: list[Path], tmp_path: Path) -> None:
    copy = tmp_path / "in" / "renamed-copy.bin"
    copy.parent.mkdir()
    shutil.copyfile(pdfs[0], copy)
    report = ingest([pdfs[0], copy], tmp_path / "out", IngestOptions(workers=1, write_images=False))
    assert (report.documents_done, report.documents_skipped) == (1, 1)


def test_ids_are_stable_across_runs(pdfs: list[Path], tmp_path: Path) -> None:
    opts = IngestOptions(workers=1, write_images=False, ocr=OcrMode.text)
    ingest(pdfs[:1], tmp_path / "a", opts)
    ingest(pdfs[:1], tmp_path / "b", opts)
    a = next((tmp_path / "a" / "documents").glob("*/textract.json")).read_bytes()
    b = next((tmp_path / "b" / "documents").glob("*/textract.json")).read_bytes()
    assert a == b
    ids = re.findall(rb'"Id":"([^"]+)"', a)
    assert len(ids) == len(set(ids))


def test_a_raised_mark_does_not_cut_its_row_into_lines(pdf_dir: Path) -> None:
    """pdfium breaks its line at a superscript "®": the rest of the row goes back on it, and the
    mark, printed with no space before it, back on its word."""
    from fieldwise.ingest.pdf import open_pdf, text_layer_lines

    path = pdf_dir / "amex__amex-delta-skymiles-blue-american-express-card-cardmember-agreement.pdf"
    with open_pdf(path) as pdf:
        lines = [" ".join(w.text for w in line.words) for line in text_layer_lines(pdf[4])]
    row = next(t for t in lines if "eligible purchases on your Delta SkyMiles" in t)
    assert row.endswith("Delta SkyMiles® Blue American")
    assert "Express Card (Card Account)." in lines
    assert "®" not in lines and "Blue American" not in lines


def test_only_a_close_continuation_of_the_same_row_joins_it() -> None:
    from fieldwise.ingest.content import LineContent, WordContent
    from fieldwise.ingest.pdf import join_row_continuations
    from fieldwise.textract.geometry import Box

    def line(*words: tuple[str, float, float]) -> LineContent:  # text, left, top; 0.02 high
        return LineContent(
            [WordContent(t, Box(x, y, x + 0.05, y + 0.02), 100.0) for t, x, y in words]
        )

    lines = [
        line(("Delta", 0.10, 0.50), ("SkyMiles", 0.16, 0.50)),
        line(("®", 0.21, 0.495)),  # raised, with no space: the same word
        line(("Blue", 0.27, 0.50)),  # a space after the "®", well within a line height
        line(("$95", 0.60, 0.50)),  # the next table cell: far off
        line(("Card", 0.10, 0.53)),  # the next row
    ]
    texts = [[w.text for w in x.words] for x in join_row_continuations(lines)]
    assert texts == [["Delta", "SkyMiles®", "Blue"], ["$95"], ["Card"]]
    assert [w.text for w in lines[0].words] == ["Delta", "SkyMiles"]  # the input is not changed
