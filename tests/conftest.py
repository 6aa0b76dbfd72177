"""Fixtures for the real data in ../shared/data and for small files the tests make."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from fieldwise.annotate.from_values import FromValuesResult, label_from_values, load_gold
from fieldwise.annotate.manifest import Manifest
from fieldwise.fields.config import FieldConfig, load_fields
from fieldwise.ingest.options import IngestOptions
from fieldwise.ingest.runner import ingest

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


CARD_FIELDS = REPO / "examples" / "credit-cards" / "fields.yaml"


@pytest.fixture(scope="session")
def card_fields() -> FieldConfig:
    return load_fields(CARD_FIELDS)


@pytest.fixture(scope="session")
def gold_path(pdf_dir: Path) -> Path:
    return pdf_dir / "gold_fields.json"


@pytest.fixture(scope="session")
def pdfs_ingested(pdf_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every shared PDF ingested with page images (about 20 s on two cores)."""
    out = tmp_path_factory.mktemp("pdfs_ingest")
    report = ingest(sorted(pdf_dir.glob("*.pdf")), out, IngestOptions(workers=2))
    assert report.failures == [] and report.documents_done == 43
    return out


@pytest.fixture(scope="session")
def weak_labels(pdfs_ingested: Path, gold_path: Path, card_fields: FieldConfig) -> FromValuesResult:
    """Word labels of every shared agreement, from its known field values."""
    gold = load_gold(gold_path, [f.name for f in card_fields.fields])
    return label_from_values(
        gold, Manifest.load(pdfs_ingested / "pages.manifest.jsonl"), card_fields
    )


@pytest.fixture(scope="session")
def funsd_import(funsd_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The FUNSD training split imported once per run (Textract JSON, images, manifest)."""
    from fieldwise.annotate.funsd import import_funsd

    out = tmp_path_factory.mktemp("funsd")
    import_funsd(funsd_dir, out)
    return out


@pytest.fixture(scope="session")
def minilm_windows(funsd_import: Path):  # type: ignore[no-untyped-def]
    """An untrained LayoutLM-MiniLM (row context, 7 labels) in evaluation mode and the
    256-token windows of 6 FUNSD forms: for the int8 smoothing and rounding tests."""
    from fieldwise.annotate.dataset import load_pages
    from fieldwise.model.build import build_model
    from fieldwise.model.encode import EncodeOptions, encode_page

    model, tokenizer = build_model(None, num_labels=7, row_context=True)
    options = EncodeOptions(max_length=256, stride=64)
    pages = load_pages(funsd_import / "pages.manifest.jsonl")[:6]
    windows = [w for p in pages for w in encode_page(p, tokenizer, options).windows]
    return model.eval(), windows
