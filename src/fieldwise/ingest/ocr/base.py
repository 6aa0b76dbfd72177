"""The one interface every OCR engine plugs into, with the shared work done here.

An engine only has to turn an image into lines of words (:meth:`OcrEngine.recognize`), and may
say how far a page is rotated (:meth:`OcrEngine.detect_rotation`). The base class does what all
engines need: upscaling low-resolution scans, turning sideways pages upright, dropping empty words.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from PIL import Image

from fieldwise.ingest.content import LineContent

#: OCR engines read best at about this many dots per inch; smaller scans are upscaled to it.
MIN_OCR_DPI = 200
#: Without DPI metadata, a page is assumed to be this many inches on its long side (Letter/A4).
ASSUMED_PAGE_INCHES = 11.0


@dataclass(slots=True)
class OcrPage:
    image: Image.Image  # the upright image (same size as the input, or rotated by 90/270)
    lines: list[LineContent]
    rotation: int  # degrees clockwise applied to the input to make it upright


class OcrEngine(ABC):
    """Base class of OCR engines. Boxes are fractions of the image given to :meth:`recognize`."""

    name: str = "ocr"

    @abstractmethod
    def recognize(self, image: Image.Image, dpi: float | None = None) -> list[LineContent]:
        """Lines of words in reading order; box fractions of ``image``; confidences 0-100."""

    def detect_rotation(self, image: Image.Image) -> int:
        """Degrees clockwise that make ``image`` upright (0, 90, 180, 270); 0 if unknown."""
        return 0

    def read_page(self, image: Image.Image, dpi: float | None = None) -> OcrPage:
        """OCR an upright-or-not page: upscale small scans, retry sideways pages rotated."""
        readable, resolution = _for_ocr(image, dpi)
        lines = self.recognize(readable, resolution)
        if _looks_unreadable(lines):
            rotation = self.detect_rotation(readable)
            if rotation:
                turned = readable.rotate(-rotation, expand=True)
                turned_lines = self.recognize(turned, resolution)
                if _quality(turned_lines) > _quality(lines):
                    upright = image.rotate(-rotation, expand=True)  # stored at its own size
                    return OcrPage(upright, _clean(turned_lines), rotation)
        return OcrPage(image, _clean(lines), 0)


def estimated_dpi(image: Image.Image) -> float:
    """The image's resolution from its metadata, else from its size on a Letter/A4 page."""
    dpi = image.info.get("dpi")
    if dpi and 50 <= float(dpi[0]) <= 2400:
        return float(dpi[0])
    return max(image.size) / ASSUMED_PAGE_INCHES


def _for_ocr(image: Image.Image, dpi: float | None) -> tuple[Image.Image, float]:
    """The image the engine reads (upscaled to MIN_OCR_DPI if needed) and its resolution."""
    resolution = dpi or estimated_dpi(image)
    if resolution >= MIN_OCR_DPI * 0.95:
        return image, resolution
    scale = MIN_OCR_DPI / resolution
    size = (round(image.width * scale), round(image.height * scale))
    return image.resize(size, Image.Resampling.BICUBIC), float(MIN_OCR_DPI)


def _quality(lines: list[LineContent]) -> float:
    """Characters read with confidence ≥ 60: more is better, garbage from a sideways page is not."""
    return sum(len(w.text) for line in lines for w in line.words if w.confidence >= 60)


def _looks_unreadable(lines: list[LineContent]) -> bool:
    words = [w for line in lines for w in line.words]
    if len(words) < 3:
        return True
    confident = sum(1 for w in words if w.confidence >= 60)
    return confident / len(words) < 0.5


def _clean(lines: list[LineContent]) -> list[LineContent]:
    out = []
    for line in lines:
        words = [w for w in line.words if w.text.strip() and w.box.width > 0 and w.box.height > 0]
        if words:
            out.append(LineContent(words))
    return out
