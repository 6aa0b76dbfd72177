"""OCR engines behind one interface; :func:`get_engine` gives one per process, reused."""

from __future__ import annotations

from collections.abc import Callable

from fieldwise.ingest.ocr.base import OcrEngine, OcrPage

_FACTORIES: dict[str, Callable[[], OcrEngine]] = {}
_ENGINES: dict[str, OcrEngine] = {}


def register_engine(name: str, factory: Callable[[], OcrEngine]) -> None:
    """Make an engine available by name (``--ocr-engine NAME``)."""
    _FACTORIES[name] = factory


def get_engine(name: str = "tesseract") -> OcrEngine:
    """The engine ``name``, created once per process (engines load models, which is slow)."""
    if name not in _ENGINES:
        if name not in _FACTORIES:
            raise ValueError(f"unknown OCR engine {name!r}; known: {sorted(_FACTORIES)}")
        _ENGINES[name] = _FACTORIES[name]()
    return _ENGINES[name]


def _tesseract() -> OcrEngine:
    from fieldwise.ingest.ocr.tesseract import TesseractEngine

    return TesseractEngine()


register_engine("tesseract", _tesseract)

__all__ = ["OcrEngine", "OcrPage", "get_engine", "register_engine"]
