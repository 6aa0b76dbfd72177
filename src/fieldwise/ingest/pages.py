"""The work of one worker task: a few pages of one document → images, thumbnails and words.

Runs in a worker process; everything it needs travels in a :class:`PageTask`, everything it made
is written under the task's folder or returned as :class:`PageContent`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson
from PIL import Image

from fieldwise.ingest.content import LineContent, PageContent
from fieldwise.ingest.errors import IngestError
from fieldwise.ingest.images import load_image_page
from fieldwise.ingest.ocr import get_engine
from fieldwise.ingest.options import IngestOptions, OcrMode
from fieldwise.ingest.pdf import image_coverage, open_pdf, render_page, text_layer_lines
from fieldwise.ingest.thumbnails import make_thumbnail
from fieldwise.textract.build import build_blocks

#: A page with fewer text-layer words than this and a page-sized image is treated as a scan.
_SCAN_MAX_WORDS = 10
#: A page with no words at all is OCRed if images cover at least this share of it (else: blank).
_SCAN_MIN_COVERAGE_EMPTY = 0.1


@dataclass(frozen=True)
class PageTask:
    path: str
    kind: str  # "pdf" or an image kind
    pages: tuple[int, ...]  # 1-based
    folder: str  # the document's working folder; pages/ and thumbs/ go under it
    options: IngestOptions
    document_key: str  # the document's sha256, for stable block Ids
    read_text: bool = True  # False when the words come from an existing Textract JSON


@dataclass(frozen=True)
class PageResult:
    """What a worker sends back for a page: its facts and its blocks, already as JSON."""

    number: int
    width: int
    height: int
    text_source: str
    words: int
    blocks_json: bytes


def page_image_name(number: int) -> str:
    return f"{number:04d}.png"


def run_page_task(task: PageTask) -> list[PageResult]:
    """Process the task's pages in order; an :class:`IngestError` names the page that failed."""
    if task.kind == "pdf":
        with open_pdf(Path(task.path)) as pdf:
            pages = [_guard(n, lambda n=n: _pdf_page(pdf[n - 1], n, task)) for n in task.pages]
    else:
        pages = [_guard(n, lambda n=n: _image_page(n, task)) for n in task.pages]
    return [_result(page, task.document_key) for page in pages]


def _result(page: PageContent, document_key: str) -> PageResult:
    blocks = orjson.dumps(build_blocks(page, document_key))
    return PageResult(
        page.number, page.width, page.height, page.text_source, page.word_count, blocks
    )


def _guard(number: int, work):  # type: ignore[no-untyped-def]
    try:
        return work()
    except IngestError as exc:
        raise IngestError(f"page {number}: {exc.reason}", "page") from None
    except MemoryError:
        raise IngestError(f"page {number}: out of memory", "page") from None
    except Exception as exc:  # a library's failure on one page must not end the run
        raise IngestError(f"page {number}: {type(exc).__name__}: {exc}", "page") from None


def _pdf_page(page, number: int, task: PageTask) -> PageContent:  # type: ignore[no-untyped-def]
    opts = task.options
    lines: list[LineContent] = []
    source = "none"
    if task.read_text and opts.ocr != OcrMode.tesseract:
        lines = text_layer_lines(page)
        source = "text-layer"
    words = sum(len(line.words) for line in lines)
    needs_ocr = task.read_text and (
        opts.ocr == OcrMode.tesseract
        or (opts.ocr == OcrMode.auto and words < _SCAN_MAX_WORDS and _is_scan(page, words))
    )
    image = render_page(page, opts.dpi, opts.max_pixels) if opts.write_images else None
    rotation = 0
    if needs_ocr:
        scan = render_page(page, opts.ocr_dpi, opts.max_pixels)
        result = get_engine(opts.ocr_engine).read_page(scan, dpi=opts.ocr_dpi)
        lines, rotation, source = result.lines, result.rotation, opts.ocr_engine
        if rotation and image is not None:
            image = image.rotate(-rotation, expand=True)
    return _finish(number, image, lines, source, rotation, task)


def _is_scan(page, words: int) -> bool:  # type: ignore[no-untyped-def]
    """Few or no text-layer words, and images where the text would be (blank pages are not)."""
    coverage = image_coverage(page)
    return coverage >= (_SCAN_MIN_COVERAGE_EMPTY if words == 0 else 0.5)


def _image_page(number: int, task: PageTask) -> PageContent:
    opts = task.options
    image = load_image_page(Path(task.path), number - 1, opts.max_pixels)
    lines: list[LineContent] = []
    rotation = 0
    source = "none"
    if task.read_text and opts.ocr != OcrMode.text:
        result = get_engine(opts.ocr_engine).read_page(image)
        image, lines, rotation = result.image, result.lines, result.rotation
        source = opts.ocr_engine
    return _finish(number, image if opts.write_images else None, lines, source, rotation, task)


def _finish(
    number: int,
    image: Image.Image | None,
    lines: list[LineContent],
    source: str,
    rotation: int,
    task: PageTask,
) -> PageContent:
    width = height = 0
    if image is not None:
        opts = task.options
        folder = Path(task.folder)
        name = page_image_name(number)
        image.save(folder / "pages" / name, compress_level=opts.png_compression)
        thumb = make_thumbnail(image, opts.thumbnail_size, opts.thumbnail_stretch)
        thumb.save(folder / "thumbs" / name, compress_level=opts.png_compression)
        width, height = image.size
    return PageContent(number, width, height, lines, source, rotation)
