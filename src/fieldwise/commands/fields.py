"""``fieldwise evaluate-fields`` (and, with a model, ``fieldwise extract``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fieldwise.commands.common import console
from fieldwise.fields.evaluate import FieldsReport, evaluate_fields, load_gold, load_results


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


def evaluate_fields_command(
    gold: Annotated[Path, typer.Option(help="Known values (GOLD_README format).")],
    results: Annotated[Path, typer.Option(help="results.jsonl written by `fieldwise extract`.")],
    out: Annotated[Path | None, typer.Option(help="Write the report as JSON.")] = None,
) -> None:
    """Per-field and overall precision, recall and F1 of extracted fields against known values.

    A value is right when it equals one of the gold alternatives (whitespace, case and
    surrounding punctuation aside); multi-value fields are matched value by value.

    Example: `fieldwise evaluate-fields --gold ../shared/data/pdfs/gold_fields.json --results
    out/results.jsonl --out fields-report.json`
    """
    try:
        report = evaluate_fields(load_gold(gold), load_results(results))
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    print_fields_report(report, f"{results} against {gold} ({report.documents} documents)")
    if report.missing_documents:
        console.print(
            f"[yellow]{len(report.missing_documents)} results have no gold: "
            + ", ".join(report.missing_documents[:5])
        )
    if out is not None:
        out.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
        console.print(f"report: {out}")


def register(app: typer.Typer) -> None:
    app.command("evaluate-fields")(evaluate_fields_command)
