"""``extract`` end to end: real scans in, a smoke-trained model, fields and files out."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fieldwise.annotate.dataset import load_labeled_pages
from fieldwise.cli import app
from fieldwise.fields.config import load_fields, parse_fields
from fieldwise.fields.run import extract_documents
from fieldwise.ingest.options import IngestOptions, OcrMode
from fieldwise.model.encode import EncodeOptions
from fieldwise.model.train import TrainOptions, train
from fieldwise.textract import TextractDocument


@pytest.fixture(scope="module")
def model(funsd_import: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    fields = load_fields(funsd_import / "fields.yaml")
    pages = load_labeled_pages(funsd_import / "pages.manifest.jsonl", fields)[:6]
    out = tmp_path_factory.mktemp("model")
    options = TrainOptions(epochs=1, batch_size=4, encode=EncodeOptions(max_length=128, stride=32))
    train(pages[:4], pages[4:], fields, out, options)
    return out


def test_extract_writes_results_csv_and_per_document_files(
    model: Path, funsd_dir: Path, tmp_path: Path
) -> None:
    scans = sorted((funsd_dir / "images").glob("*.png"))[-3:]
    options = IngestOptions(ocr=OcrMode.auto, workers=1)
    report = extract_documents(scans, model, tmp_path, options=options, review_threshold=0.99)
    assert len(report.documents) == 3 and not report.failures
    lines = [json.loads(x) for x in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [x["raw-ref"] for x in lines] == [d.raw_ref for d in report.documents]
    for line in lines:
        result = line["result"]
        assert set(result["Fields"]) == {"header", "question", "answer"}
        assert 0.0 <= result["Confidence"] <= 1.0
        assert result["Review"]["Required"] == (result["Confidence"] < 0.99)
        folder = tmp_path / Path(line["raw-ref"]).parent
        enriched = TextractDocument.load(folder / "enriched.json")
        words = list(enriched.words())
        assert words and all("PredictedClass" in w.block for w in words)
        assert json.loads((folder / "result.json").read_text()) == result
    rows = list(csv.reader((tmp_path / "results.csv").open()))
    assert rows[0] == ["raw-ref", "confidence", "review", "header", "question", "answer"]
    assert len(rows) == 4
    again = extract_documents(scans, model, tmp_path, options=options)  # reuses the ingest
    assert again.ingest.documents_skipped == 3 and len(again.documents) == 3


def test_fields_must_match_the_models_classes(model: Path, funsd_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "fields.yaml"
    parse_fields([{"name": "Fee - Annual"}]).save(other)
    scan = sorted((funsd_dir / "images").glob("*.png"))[0]
    result = CliRunner().invoke(
        app,
        [
            "extract",
            str(scan),
            "--model",
            str(model),
            "--out",
            str(tmp_path / "o"),
            "--fields",
            str(other),
        ],
    )
    assert result.exit_code == 1
    assert "do not match the model" in " ".join(result.output.split())
    missing = CliRunner().invoke(
        app, ["extract", str(scan), "--model", str(tmp_path / "nope"), "--out", str(tmp_path)]
    )
    assert missing.exit_code == 1 and "Traceback" not in missing.output


def test_extract_prints_a_summary_and_one_documents_fields(
    model: Path, funsd_dir: Path, tmp_path: Path
) -> None:
    scans = sorted((funsd_dir / "images").glob("*.png"))[:2]
    result = CliRunner().invoke(
        app,
        ["extract", *map(str, scans), "--model", str(model), "--out", str(tmp_path),
         "--workers", "1"],
        terminal_width=100,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "fields found" in result.output and "2 documents in" in result.output
    assert result.output.count("/3 ") + result.output.count("/3│") >= 2  # k of 3 fields found
    assert "question" in result.output and "answer" in result.output  # one document's fields
