"""``fieldwise pretrain``: teach the base model layout on unlabelled pages before ``train``."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from fieldwise.commands.common import console, fail


def pretrain_command(
    pages: Annotated[
        list[Path],
        typer.Argument(help="Page manifests (pages.manifest.jsonl of `ingest` or `annotate`)."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write.")],
    base_model: Annotated[
        Path | None, typer.Option(help="Local Hugging Face checkpoint (default: MiniLM-L6).")
    ] = None,
    max_minutes: Annotated[float, typer.Option(min=0.1, help="Time budget in minutes.")] = 20.0,
    epochs: Annotated[int, typer.Option(min=1, help="Most passes over the pages.")] = 10,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Masked-language pre-training with boxes on unlabelled pages (labels are not read).

    Word pieces are hidden and predicted from their neighbours and their place on the page, so
    the 2-D position tables learn layout from every page you have ingested. Use the result as
    `train --base-model OUT`. Writes HF-format weights, tokenizer and pretrain.json (held-out
    masked-piece accuracy, steps, minutes, the command).

    Example: `fieldwise pretrain out/nda/pages.manifest.jsonl out/pdfs/pages.manifest.jsonl
    --out models/base --max-minutes 20`
    """
    from fieldwise.annotate.dataset import load_pages
    from fieldwise.model.pretrain import PretrainOptions, pretrain

    try:
        words = [page for manifest in pages for page in load_pages(manifest)]
    except (OSError, ValueError) as exc:
        raise fail(exc) from None
    console.print(f"pre-training on {len(words)} pages from {len(pages)} manifest(s)")
    options = PretrainOptions(max_minutes=max_minutes, epochs=epochs, seed=seed)
    command = shlex.join(["fieldwise", *sys.argv[1:]])
    columns = (TextColumn("[bold]pretrain"), BarColumn(), TextColumn("{task.description}"),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("", total=None)

        def show(kind: str, info: dict[str, Any]) -> None:
            description = f"epoch {info['epoch'] + 1}/{epochs} loss {info['loss']:.3f}"
            bar.update(task, completed=info["step"], total=info["total"], description=description)

        try:
            result = pretrain(words, out, options, base_model, command, show)
        except ValueError as exc:
            raise fail(exc) from None
    console.print(
        f"{result.steps} steps in {result.minutes:.1f} min on {result.train_pages} pages; "
        f"held-out masked-piece accuracy {result.val_accuracy:.3f} "
        f"({result.val_pages} pages); model: {out} (use it as `train --base-model {out}`)"
    )


def register(app: typer.Typer) -> None:
    app.command("pretrain")(pretrain_command)
