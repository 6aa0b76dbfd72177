"""``fieldwise show``: a picture of one manifest page with its boxes and word classes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fieldwise.annotate.manifest import Manifest
from fieldwise.annotate.show import load_page, render
from fieldwise.commands.common import console
from fieldwise.fields.config import load_fields


def show_command(
    manifest: Annotated[Path, typer.Argument(help="Page manifest (JSON Lines).")],
    line: Annotated[int, typer.Option("--line", "-k", min=1, help="Manifest line, 1-based.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="PNG to write.")],
    label_attr: Annotated[str, typer.Option(help="Attribute that holds the boxes.")] = "label",
    fields: Annotated[
        Path | None, typer.Option(help="Field configuration: class names and ids.")
    ] = None,
    predictions: Annotated[
        Path | None,
        typer.Option(help="Enriched Textract JSON: colour words by PredictedClass."),
    ] = None,
) -> None:
    """Draw a page: label boxes outlined, words filled by their class, and a legend.

    A word's class is the one the box→word rule gives it, or the model's `PredictedClass` when
    the page's Textract JSON (or `--predictions`) carries one. The PNG has the page image's size.

    Example: `fieldwise show out/pages.manifest.jsonl --line 3 --fields fields.yaml --out page.png`
    """
    try:
        config = load_fields(fields) if fields else None
        image, view = load_page(Manifest.load(manifest), line, label_attr, config, predictions)
        picture = render(image, view)
        out.parent.mkdir(parents=True, exist_ok=True)
        picture.image.save(out)
    except (ValueError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    shown = "predictions" if view.words_from == "predictions" else "the label boxes"
    console.print(
        f"{out}: {len(view.label_boxes)} boxes, {len(view.word_boxes)} words coloured by {shown}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``show`` to the ``fieldwise`` command."""
    app.command("show")(show_command)
