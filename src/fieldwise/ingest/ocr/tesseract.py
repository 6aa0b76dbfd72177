"""Tesseract through tesserocr: libtesseract in-process, one API object per worker process."""

from __future__ import annotations

import glob
import os
import sys

import tesserocr
from PIL import Image

from fieldwise.ingest.content import LineContent, WordContent
from fieldwise.ingest.errors import IngestError
from fieldwise.ingest.ocr.base import OcrEngine
from fieldwise.textract.geometry import Box

_RIL = tesserocr.RIL


#: Where ``make install`` puts Tesseract's accurate model (tessdata_best with integer weights):
#: inside the environment, so it travels with it. Debian's tesseract-ocr-eng is the "fast" model.
BUNDLED_TESSDATA = os.path.join(sys.prefix, "share", "fieldwise", "tessdata")

#: Adaptive (tiled) Otsu binarisation instead of one global threshold: unevenly lit, faxed and
#: stamped forms keep their faint strokes. +0.3 points of word F1 on FUNSD's scans, both halves.
THRESHOLDING_METHOD = "1"


def find_tessdata(language: str = "eng") -> str:
    """The tessdata folder holding ``language``: $TESSDATA_PREFIX, the environment's, Debian's."""
    candidates = [os.environ.get("TESSDATA_PREFIX", ""), BUNDLED_TESSDATA]
    candidates += sorted(glob.glob("/usr/share/tesseract-ocr/*/tessdata"), reverse=True)
    candidates += ["/usr/share/tessdata", "/usr/local/share/tessdata"]
    for folder in candidates:
        if folder and os.path.exists(os.path.join(folder, f"{language}.traineddata")):
            return folder
    raise IngestError(
        f"Tesseract language data '{language}' not found: install the Debian package "
        f"tesseract-ocr-{language} or set TESSDATA_PREFIX",
        "ocr",
    )


class TesseractEngine(OcrEngine):
    """Words and lines with confidences from libtesseract's layout analysis (reading order)."""

    name = "tesseract"

    def __init__(self, language: str = "eng") -> None:
        self.language = language
        self.tessdata = find_tessdata(language)
        self._api = tesserocr.PyTessBaseAPI(path=self.tessdata, lang=language)
        self._api.SetVariable("thresholding_method", THRESHOLDING_METHOD)
        self._osd: tesserocr.PyTessBaseAPI | None = None

    def recognize(self, image: Image.Image, dpi: float | None = None) -> list[LineContent]:
        api = self._api
        api.SetImage(image)
        if dpi:  # saves Tesseract a guess that is often wrong for small scans
            api.SetSourceResolution(round(dpi))
        api.Recognize()
        width, height = image.size
        lines: list[LineContent] = []
        words: list[WordContent] = []
        iterator = api.GetIterator()
        if iterator is None:
            return lines
        for item in tesserocr.iterate_level(iterator, _RIL.WORD):
            if item.IsAtBeginningOf(_RIL.TEXTLINE) and words:
                lines.append(LineContent(words))
                words = []
            try:
                text = item.GetUTF8Text(_RIL.WORD)
            except RuntimeError:  # tesserocr's way of saying "an empty word"
                continue
            bbox = item.BoundingBox(_RIL.WORD)
            if not text or bbox is None:
                continue
            x0, y0, x1, y1 = bbox
            box = Box(x0 / width, y0 / height, x1 / width, y1 / height)
            words.append(WordContent(text.strip(), box, float(item.Confidence(_RIL.WORD))))
        if words:
            lines.append(LineContent(words))
        api.Clear()
        return lines

    def detect_rotation(self, image: Image.Image) -> int:
        try:
            if self._osd is None:
                self._osd = tesserocr.PyTessBaseAPI(
                    path=find_tessdata("osd"), lang="osd", psm=tesserocr.PSM.OSD_ONLY
                )
        except IngestError:
            return 0  # orientation data not installed: leave the page as it is
        self._osd.SetImage(image)
        result = self._osd.DetectOrientationScript()
        self._osd.Clear()
        if not result or result.get("orient_conf", 0) < 1.0:
            return 0
        # orient_deg is how far the text is turned clockwise; undoing it is the rest of a turn
        return (360 - int(result["orient_deg"])) % 360
