"""``fieldwise evaluate-fields`` (and, with a model, ``fieldwise extract``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fieldwise.commands.common import console, fail, progress
from fieldwise.fields.config import FieldConfigError, load_fields
from fieldwise.fields.evaluate import (
    FieldsReport,
    confidence_curve,
    evaluate_fields,
    load_gold,
    load_results,
    predicted_values,
)
from fieldwise.fields.extract import DEFAULT_REVIEW_THRESHOLD
from fieldwise.fields.run import RESULTS, ExtractReport, extract_documents
from fieldwise.ingest.options import IngestOptions, OcrMode


def print_fields_report(report: FieldsReport, title: str) -> None:
    table = Table(title=title)
    for column in ("field", "TP", "FP", "FN", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column == "field" else "right")
    rows = sorted(report.per_field.items()) + [("[bold]all fields", report.overall)]
    for name, c in rows:
        table.add_row(
            name,
            str(c.tp),
            str(c.fp),
            str(c.fn),
            f"{c.precision:.3f}",
            f"{c.recall:.3f}",
            f"{c.f1:.3f}",
        )
    console.print(table)


def print_confidence_curve(curve: list[dict[str, float | int]]) -> None:
    """Precision and recall of the values a review threshold would accept without a person."""
    table = Table(title="values accepted at a confidence threshold (the rest go to review)")
    for column in ("min confidence", "TP", "FP", "FN", "precision", "recall", "F1"):
        table.add_column(column, justify="right")
    for row in curve:
        table.add_row(
            f"{row['min_confidence']:.1f}",
            *(str(row[k]) for k in ("tp", "fp", "fn")),
            *(f"{row[k]:.3f}" for k in ("precision", "recall", "f1")),
        )
    console.print(table)


def evaluate_fields_command(
    gold: Annotated[Path, typer.Option(help="Known values (GOLD_README format).")],
    results: Annotated[Path, typer.Option(help="results.jsonl written by `fieldwise extract`.")],
    out: Annotated[Path | None, typer.Option(help="Write the report as JSON.")] = None,
) -> None:
    """Per-field and overall precision, recall and F1 of extracted fields against known values.

    A value is right when it equals one of the gold alternatives (whitespace, case and
    surrounding punctuation aside); multi-value fields are matched value by value. A second
    table shows precision and recall when only values at or above a confidence are accepted.

    Example: `fieldwise evaluate-fields --gold ../shared/data/pdfs/gold_fields.json --results
    out/results.jsonl --out fields-report.json`
    """
    try:
        known, extracted = load_gold(gold), load_results(results)
    except ValueError as exc:
        raise fail(exc) from None
    report = evaluate_fields(known, extracted)
    curve = confidence_curve(known, extracted)
    print_fields_report(report, f"{results} against {gold} ({report.documents} documents)")
    print_confidence_curve(curve)
    if report.missing_documents:
        console.print(
            f"[yellow]{len(report.missing_documents)} results have no gold: "
            + ", ".join(report.missing_documents[:5])
        )
    if out is not None:
        data = {**report.to_json(), "confidence_curve": curve}
        out.write_text(json.dumps(data, indent=2, ensure_ascii=False))
        console.print(f"report: {out}")


def extract_command(
    inputs: Annotated[list[Path], typer.Argument(help="PDF/PNG/JPEG/TIFF files or folders.")],
    model: Annotated[Path, typer.Option(help="A model folder made by `fieldwise train`.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (an ingest store).")],
    fields: Annotated[
        Path | None, typer.Option(help="Field configuration (default: the model's own).")
    ] = None,
    review_threshold: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Send documents under this to review.")
    ] = DEFAULT_REVIEW_THRESHOLD,
    backend: Annotated[str, typer.Option(help="torch, onnx or onnx-int8.")] = "torch",
    ocr: Annotated[OcrMode, typer.Option(help="auto: text layer, OCR where none.")] = OcrMode.auto,
    workers: Annotated[
        int, typer.Option(min=1, help="Ingest processes (default: all cores).")
    ] = IngestOptions().workers,
) -> None:
    """Extract fields: ingest (or reuse), predict every word, build fields with confidences.

    Writes `OUT/results.jsonl` (one line per document: `raw-ref` and its result),
    `OUT/results.csv` (one row per document, one column per field) and, per document,
    `enriched.json` and `result.json` in its store folder.

    Example: `fieldwise extract ../shared/data/pdfs --model models/credit-cards --out out`
    """
    config = None
    try:
        if fields is not None:
            config = load_fields(fields)
    except FieldConfigError as exc:
        raise fail(exc) from None
    with progress("extract", "documents") as bar:
        task = bar.add_task("ingest", total=None)

        def show(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=name)

        try:
            report = extract_documents(
                list(inputs),
                model,
                out,
                config,
                IngestOptions(ocr=ocr, workers=workers),
                review_threshold,
                backend,
                show,
            )
        except ValueError as exc:  # model folder or field configuration that cannot be used
            raise fail(exc) from None
    _print_results(report, out)


def _print_results(report: ExtractReport, out: Path, detailed: int = 1) -> None:
    """One summary row per document, then every field of the first ``detailed`` documents.

    A grid of every field for every document does not fit a terminal; it is in results.csv.
    """
    for note in report.notes:
        console.print(f"[yellow]note[/yellow] {note}", soft_wrap=True)
    if not report.documents:
        console.print("no documents extracted")
    else:
        names = list(report.documents[0].result["Fields"])
        summary = Table(title=f"documents → {out / RESULTS} (every value: {out / 'results.csv'})")
        summary.add_column("document", overflow="fold")
        for column in ("confidence", "review", "fields found"):
            summary.add_column(column, justify="right" if column != "review" else "left")
        for d in report.documents:
            fields = d.result["Fields"]
            found = sum(bool(predicted_values(fields[n])) for n in names)
            summary.add_row(
                d.raw_ref.rsplit("/", 1)[-1],
                f"{d.result['Confidence']:.2f}",
                "yes" if d.result["Review"]["Required"] else "no",
                f"{found}/{len(names)}",
            )
        console.print(summary)
        for d in report.documents[:detailed]:
            table = Table(title=d.raw_ref.rsplit("/", 1)[-1])
            table.add_column("field")
            table.add_column("value", overflow="fold")
            table.add_column("confidence", justify="right")
            for name in names:
                entry = d.result["Fields"][name]
                table.add_row(
                    name, " | ".join(predicted_values(entry)), f"{entry['Confidence']:.2f}"
                )
            console.print(table)
    for failure in report.failures:
        console.print(f"[red]failed[/red] {failure.raw_ref}: {failure.reason}", soft_wrap=True)
    rate = len(report.documents) / report.seconds if report.seconds else 0.0
    console.print(f"{len(report.documents)} documents in {report.seconds:.1f} s ({rate:.2f}/s)")


def register(app: typer.Typer) -> None:
    app.command("extract")(extract_command)
    app.command("evaluate-fields")(evaluate_fields_command)
