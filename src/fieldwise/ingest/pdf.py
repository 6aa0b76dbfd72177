"""Open PDFs safely, render pages, and read the text layer as words with boxes (pypdfium2).

Example::

    with open_pdf(Path("agreement.pdf")) as pdf:
        page = pdf[0]
        lines = text_layer_lines(page)
        image = render_page(page, dpi=150, max_pixels=200_000_000)
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from fieldwise.ingest.content import LineContent, WordContent
from fieldwise.ingest.errors import IngestError
from fieldwise.textract.geometry import Box, union

# pdfium marks a hyphen that breaks a word at a line end as U+FFFE and runs straight on into the
# next line ("mini\ufffemum"): the hyphen ends its word and its line, as pdftotext has it
_LINE = re.compile(r"[^\r\n\ufffe]+\ufffe?")
_WORD = re.compile(r"[^\s\x00\uffff\ufffe]+\ufffe?")
_CLEAN = str.maketrans({"\x02": "-", "\xad": "-", "\ufffe": "-"})
_PASSWORD_ERR = getattr(pdfium_c, "FPDF_ERR_PASSWORD", 4)


@contextmanager
def open_pdf(path: Path) -> Iterator[pdfium.PdfDocument]:
    """Open ``path`` as a PDF, turning pdfium's errors into reasons a person understands."""
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise IngestError(_open_reason(exc), "open") from None
    try:
        if len(pdf) == 0:
            raise IngestError("PDF has no pages", "open")
        yield pdf
    finally:
        pdf.close()


def _open_reason(exc: pdfium.PdfiumError) -> str:
    code = getattr(exc, "err_code", None)
    if code == _PASSWORD_ERR or "password" in str(exc).lower():
        return "PDF is password-protected"
    return f"PDF is corrupt or truncated and cannot be opened ({exc})"


def render_page(page: pdfium.PdfPage, dpi: int, max_pixels: int) -> Image.Image:
    """Render upright at ``dpi``, lowering the resolution for pages too large to hold in memory."""
    width, height = page.get_size()  # as displayed, rotation applied, in points
    scale = dpi / 72
    pixels = width * height * scale * scale
    if pixels > max_pixels:
        scale *= (max_pixels / pixels) ** 0.5
    bitmap = page.render(scale=scale, may_draw_forms=True)
    try:
        image = bitmap.to_pil()
    finally:
        bitmap.close()
    return image if image.mode in ("RGB", "L") else image.convert("RGB")


def _to_display(page: pdfium.PdfPage) -> tuple[float, float, float, float, int]:
    """(x0, y0, width, height, quarter-turns) mapping page space to upright page fractions."""
    x0, y0, x1, y1 = page.get_cropbox()
    return x0, y0, (x1 - x0) or 1.0, (y1 - y0) or 1.0, (page.get_rotation() // 90) % 4


def text_layer_lines(page: pdfium.PdfPage) -> list[LineContent]:
    """Words of the page's text layer, grouped in pdfium's lines, boxes in upright page fractions.

    Boxes are the font (loose) boxes of the first and last character, which match what
    ``pdftotext -bbox`` reports; one ctypes call per word end keeps this fast.
    """
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        if count <= 0:
            return []
        text = textpage.get_text_range(0, count)
        if len(text) != count:  # characters outside the BMP: fall back to one call per char
            text = "".join(
                chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, i) or 32) for i in range(count)
            )
        x0, y0, width, height, turns = _to_display(page)
        rect = pdfium_c.FS_RECTF()
        handle = textpage.raw
        lines: list[LineContent] = []
        for line in _LINE.finditer(text):
            words: list[WordContent] = []
            for match in _WORD.finditer(text, line.start(), line.end()):
                word = match.group().translate(_CLEAN)
                pdfium_c.FPDFText_GetLooseCharBox(handle, match.start(), ctypes.byref(rect))
                left, top, right, bottom = rect.left, rect.top, rect.right, rect.bottom
                pdfium_c.FPDFText_GetLooseCharBox(handle, match.end() - 1, ctypes.byref(rect))
                left, right = min(left, rect.left), max(right, rect.right)
                top, bottom = max(top, rect.top), min(bottom, rect.bottom)
                box = Box(
                    (left - x0) / width,
                    1 - (top - y0) / height,
                    (right - x0) / width,
                    1 - (bottom - y0) / height,
                ).clamp()  # cut to the page; a quarter turn keeps the cut box cut
                if box.width > 0 and box.height > 0:
                    words.append(WordContent(word, box, 100.0))
            if words:
                lines.append(LineContent(words))
        # rows are joined as the text runs, before the page's /Rotate turns them upright
        joined = join_row_continuations(lines)
        return _turned(joined, turns) if turns else joined
    finally:
        textpage.close()


#: Most a line may sit right of the one before it, in that line's heights, and still go on it.
_CONTINUATION_GAP = 1.0
#: A gap under this share of a line height is no space: the two are one word.
_NO_SPACE = 0.1


def join_row_continuations(lines: list[LineContent]) -> list[LineContent]:
    """pdfium starts a new line where the baseline moves, as at a raised "®"; the rest of the
    row then comes as lines of its own ("… your Delta SkyMiles" / "®" / "Blue American").
    A line that begins on the same row just right of where the line before it ends
    (within one line height) goes on that line, as OCR and Textract have it, and with no
    space between, its first word goes on that line's last ("SkyMiles®"); a table's next
    cell or the next column stands further off."""
    joined: list[LineContent] = []
    for line in lines:
        gap = _continuation_gap(joined[-1].words, line.words) if joined else None
        if gap is None:
            joined.append(LineContent(list(line.words)))
            continue
        words = joined[-1].words
        if gap < _NO_SPACE:  # no space between: one word ("SkyMiles" + "®")
            last, first = words[-1], line.words[0]
            words[-1] = replace(last, text=last.text + first.text, box=union([last.box, first.box]))
            words.extend(line.words[1:])
        else:
            words.extend(line.words)
    return joined


def _continuation_gap(before: list[WordContent], after: list[WordContent]) -> float | None:
    """How far right of ``before`` the line ``after`` begins, in ``before``'s heights, when it
    continues the same row; None when it does not."""
    row, rest = union(w.box for w in before), union(w.box for w in after)
    overlap = min(row.bottom, rest.bottom) - max(row.top, rest.top)
    gap = (after[0].box.left - before[-1].box.right) / row.height
    shorter = min(row.height, rest.height)
    if overlap > shorter / 2 and -0.1 <= gap <= _CONTINUATION_GAP:
        return gap
    return None


def _turned(lines: list[LineContent], turns: int) -> list[LineContent]:
    """Lines with their boxes turned upright by the page's quarter ``turns``."""
    return [
        LineContent([replace(w, box=_rotate(w.box, turns)) for w in line.words]) for line in lines
    ]


def _rotate(box: Box, turns: int) -> Box:
    """Rotate a box in unit-square fractions clockwise by ``turns`` quarter turns."""
    if turns == 0:
        return box
    if turns == 1:
        return Box(1 - box.bottom, box.left, 1 - box.top, box.right)
    if turns == 2:
        return Box(1 - box.right, 1 - box.bottom, 1 - box.left, 1 - box.top)
    return Box(box.top, 1 - box.right, box.bottom, 1 - box.left)


def image_coverage(page: pdfium.PdfPage) -> float:
    """Share of the page covered by image objects (a scan has about 1.0)."""
    width, height = page.get_size()
    covered = 0.0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        covered += max(0.0, right - left) * max(0.0, top - bottom)
    return min(1.0, covered / max(width * height, 1.0))
