"""Settings of one ingest run, passed unchanged to every worker process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum


class OcrMode(StrEnum):
    """Where words come from: ``auto`` uses a PDF's text layer and OCRs pages without one."""

    auto = "auto"
    text = "text"
    tesseract = "tesseract"


@dataclass(frozen=True)
class IngestOptions:
    ocr: OcrMode = OcrMode.auto
    dpi: int = 150  # page images
    ocr_dpi: int = 300  # PDF pages rendered for OCR
    thumbnail_size: tuple[int, int] = (224, 224)
    thumbnail_stretch: bool = False
    write_images: bool = True
    workers: int = os.cpu_count() or 1
    force: bool = False
    max_pixels: int = 200_000_000  # larger images are refused (decompression bombs)
    ocr_engine: str = "tesseract"
    pages_per_task: int = 8
    png_compression: int = 1  # zlib level: 1 is ~3× faster than 6 for ~10% larger files
