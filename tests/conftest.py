"""Fixtures for the real data in ../shared/data and for small files the tests make."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data not found: {path}")
    return path


@pytest.fixture(scope="session")
def pdf_dir() -> Path:
    return _need(SHARED / "pdfs")


@pytest.fixture(scope="session")
def funsd_dir() -> Path:
    return _need(SHARED / "funsd" / "training_data")


@pytest.fixture(scope="session")
def textract_samples() -> list[Path]:
    return sorted(_need(SHARED / "textract-samples").glob("*.json"))


def funsd_tokens(annotation: Path) -> Counter[str]:
    """Alphanumeric tokens of a FUNSD form's gold words (FUNSD splits on punctuation, OCR not)."""
    form = json.loads(annotation.read_text())["form"]
    return Counter(t for e in form for w in e["words"] for t in re.findall(r"\w+", w["text"]))


def text_tokens(texts: list[str]) -> Counter[str]:
    return Counter(t for text in texts for t in re.findall(r"\w+", text))
