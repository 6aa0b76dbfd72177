"""``fieldwise annotate import-funsd | consolidate | sample | split``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fieldwise.annotate.funsd import import_funsd
from fieldwise.commands.annotate import app
from fieldwise.commands.common import console, progress


def fail(message: object) -> typer.Exit:
    """Print a one-line error (no traceback) and give the exit to raise."""
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(1)


@app.command("import-funsd")
def import_funsd_command(
    split_dir: Annotated[
        Path, typer.Argument(help="A FUNSD split folder with annotations/ and images/.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
) -> None:
    """Import FUNSD forms: Textract JSON, page images, a labelled manifest and fields.yaml.

    Writes `OUT/documents/<id>/` (as ingest does), `OUT/pages.manifest.jsonl` with one Ground
    Truth box per FUNSD entity under `label` (header, question, answer; FUNSD's `other` is our
    "other") and `OUT/fields.yaml`. Lines are entity words on one row, in reading order.

    Example: `fieldwise annotate import-funsd ../shared/data/funsd/training_data --out out/funsd`
    """
    with progress("import", "forms") as bar:
        task = bar.add_task("", total=None)

        def show(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=name)

        try:
            report = import_funsd(split_dir, out, on_form=show)
        except (ValueError, OSError) as exc:
            raise fail(exc) from None
    table = Table(title=f"FUNSD {split_dir} → {out}")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("forms", str(report.forms))
    table.add_row("words", f"{report.words:,}")
    table.add_row("entities", f"{report.entities:,}")
    table.add_row("label boxes (header/question/answer)", f"{report.labelled_boxes:,}")
    table.add_row("empty FUNSD words left out", str(report.empty_words_skipped))
    console.print(table)
    console.print(f"manifest: {out / 'pages.manifest.jsonl'}  fields: {out / 'fields.yaml'}")
