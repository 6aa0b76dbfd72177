"""``fieldwise annotate from-values``: weak labels (Ground Truth boxes) from known field values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from fieldwise.annotate.from_values import label_from_values, load_gold
from fieldwise.annotate.manifest import Manifest
from fieldwise.commands.annotate import app
from fieldwise.commands.common import console, fail, progress
from fieldwise.fields.config import load_fields

_COUNTS = ("values_total", "values_found", "values_labelled")


def _share(found: int, total: int) -> str:
    return f"{found / total:.1%}" if total else "–"


def _table(report: dict[str, Any]) -> Table:
    """Per field: values in the gold file, found on the pages, labelled after conflicts."""
    table = Table(title="Known values located", show_footer=True)
    table.add_column("field", footer="all")
    for key in _COUNTS:
        table.add_column(key.removeprefix("values_"), justify="right", footer=str(report[key]))
    footer = _share(report["values_found"], report["values_total"])
    table.add_column("found", justify="right", footer=footer)
    for name, counts in report["per_field"].items():
        if counts["values_total"]:
            cells = [str(counts[k]) for k in _COUNTS]
            table.add_row(name, *cells, _share(counts["values_found"], counts["values_total"]))
    return table


@app.command("from-values")
def from_values_command(
    gold: Annotated[Path, typer.Option("--gold", help="Known values per document (JSON).")],
    pages: Annotated[Path, typer.Option("--pages", help="Page manifest from `fieldwise ingest`.")],
    fields: Annotated[Path, typer.Option("--fields", help="Field configuration (YAML or JSON).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Labelled page manifest (JSONL).")],
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the coverage report (JSON) here.")
    ] = None,
    label_attr: Annotated[
        str, typer.Option(help="Manifest attribute that receives the boxes.")
    ] = "label",
    keep_empty: Annotated[
        bool, typer.Option(help="Keep pages where no value was found (empty annotations).")
    ] = True,
) -> None:
    """Label the words where each document states its known field values, as reviewable boxes.

    Each value in `--gold` (format: the shared data's GOLD_README.md) is looked up among its
    document's words on its listed pages, tolerant of whitespace, case, hyphenation and line or
    cell breaks; the words found get one Ground Truth box per line, on the page image named by
    `source-ref`, with class ids from `--fields`. Gold documents are matched to the manifest by
    their original file name. The report counts the values found per field and lists the ones
    a person should look at (not found; found but claimed by another field).

    Example: `fieldwise annotate from-values --gold gold_fields.json --pages .fieldwise/pdfs/pages.manifest.jsonl --fields examples/credit-cards/fields.yaml --out labels.jsonl --report report.json`
    """  # noqa: E501
    try:
        config = load_fields(fields)
        known = load_gold(gold, [f.name for f in config.fields])
        manifest = Manifest.load(pages)
    except (ValueError, OSError) as exc:
        raise fail(exc) from None
    try:
        with progress("labelling", "documents") as bar:
            task = bar.add_task("", total=len(known))

            def advance(name: str) -> None:
                bar.update(task, advance=1, description=name)

            result = label_from_values(known, manifest, config, label_attr, keep_empty, advance)
    except (ValueError, OSError) as exc:
        raise fail(exc) from None
    result.manifest.save(out)
    summary = result.report()
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    console.print(_table(summary))
    for row in summary["not_found"]:
        console.print(f"not found: {row['document']} · {row['field']} · {row['value']!r}")
    for row in summary["missing_documents"]:
        console.print(
            f"[yellow]document not labelled:[/yellow] {row['document']} ({row['reason']})"
        )
    if summary["round_trip_disagreements"]:
        n = len(summary["round_trip_disagreements"])
        console.print(f"[yellow]{n} words read back from the boxes with another class[/yellow]")
    console.print(
        f"{summary['pages']} pages, {summary['boxes']} boxes, {summary['words_labelled']} words "
        f"labelled → {out}" + (f"; report → {report}" if report else "")
    )
