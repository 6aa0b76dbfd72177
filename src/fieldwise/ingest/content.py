"""What every text source (PDF text layer, OCR engine, imported Textract) produces for a page."""

from __future__ import annotations

from dataclasses import dataclass, field

from fieldwise.textract.geometry import Box


@dataclass(slots=True)
class WordContent:
    text: str
    box: Box  # page fractions, upright page
    confidence: float  # 0-100, Textract's scale
    text_type: str = "PRINTED"


@dataclass(slots=True)
class LineContent:
    words: list[WordContent]


@dataclass(slots=True)
class PageContent:
    """One page's words in reading order, plus how they were obtained."""

    number: int
    width: int  # pixel size of the stored page image (0 when no image was written)
    height: int
    lines: list[LineContent] = field(default_factory=list)
    text_source: str = "none"  # "text-layer", "tesseract", "textract", "none"
    rotation: int = 0  # degrees clockwise applied to make the page upright

    @property
    def word_count(self) -> int:
        return sum(len(line.words) for line in self.lines)
