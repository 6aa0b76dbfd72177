"""The ``fieldwise`` command: argument parsing, progress bars and tables; the work is elsewhere."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fieldwise.commands.common import console, fail, progress
from fieldwise.ingest.options import IngestOptions, OcrMode
from fieldwise.ingest.runner import IngestReport, ingest
from fieldwise.textract import TextractDocument, TextractFormatError

app = typer.Typer(
    help="fieldwise: documents in, Textract-compatible JSON and fields out, on your own machine.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)


def _size(value: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise typer.BadParameter(f"expected WIDTHxHEIGHT such as 224x224, got {value!r}") from None
    if width <= 0 or height <= 0:
        raise typer.BadParameter("thumbnail sides must be positive")
    return width, height


@app.command("ingest")
def ingest_command(
    inputs: Annotated[list[Path], typer.Argument(help="PDF/PNG/JPEG/TIFF files or folders.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    ocr: Annotated[OcrMode, typer.Option(help="auto: text layer, OCR where none.")] = OcrMode.auto,
    dpi: Annotated[int, typer.Option(min=36, max=600, help="Resolution of page images.")] = 150,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes (default: all cores).")
    ] = IngestOptions().workers,
    force: Annotated[bool, typer.Option(help="Redo documents already ingested.")] = False,
    strict: Annotated[bool, typer.Option(help="Exit with code 1 if any file failed.")] = False,
    images: Annotated[bool, typer.Option(help="Write page images and thumbnails.")] = True,
    thumbnail_size: Annotated[str, typer.Option(help="Thumbnail WIDTHxHEIGHT.")] = "224x224",
    stretch_thumbnails: Annotated[
        bool, typer.Option(help="Stretch thumbnails instead of letterboxing.")
    ] = False,
    textract_dir: Annotated[
        Path | None,
        typer.Option(help="Folder of existing Textract JSON (NAME.json) to use instead of OCR."),
    ] = None,
) -> None:
    """Turn documents into Textract JSON, page images and thumbnails, with manifests.

    Writes `OUT/documents/<id>/`, `OUT/pages.manifest.jsonl`, `OUT/documents.manifest.jsonl`
    and `OUT/failures.jsonl` (one line per file that could not be ingested, with the reason).

    Example: `fieldwise ingest ../shared/data/pdfs scans/ --out out --ocr auto --dpi 150`
    """
    options = IngestOptions(
        ocr=ocr,
        dpi=dpi,
        workers=workers,
        force=force,
        write_images=images,
        thumbnail_size=_size(thumbnail_size),
        thumbnail_stretch=stretch_thumbnails,
    )
    with progress("ingest", "pages") as bar:
        task = bar.add_task("", total=None)

        def show(p):  # type: ignore[no-untyped-def]
            bar.update(task, completed=p.pages_done, total=p.pages_total, description=p.document)

        report = ingest(list(inputs), out, options, textract_dir, show)
    _print_report(report, out)
    if strict and report.failures:
        raise typer.Exit(1)


def _print_report(report: IngestReport, out: Path) -> None:
    table = Table(title=f"ingest → {out}", show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("documents ingested", str(report.documents_done))
    table.add_row("documents already there (skipped)", str(report.documents_skipped))
    table.add_row("files that failed", str(len(report.failures)))
    table.add_row("pages", str(report.pages))
    table.add_row("words", f"{report.words:,}")
    for source, count in sorted(report.text_sources.items()):
        table.add_row(f"pages read by {source}", str(count))
    rate = report.pages / report.seconds if report.seconds else 0.0
    table.add_row("seconds", f"{report.seconds:.1f} ({rate:.1f} pages/s)")
    console.print(table)
    if report.failures:
        failed = Table(title=f"failures (also in {out / 'failures.jsonl'})")
        failed.add_column("file", overflow="fold")
        failed.add_column("stage")
        failed.add_column("reason", overflow="fold")
        for f in report.failures:
            failed.add_row(f.raw_ref, f.stage, f.reason)
        console.print(failed)


@app.command("inspect")
def inspect_command(
    file: Annotated[Path, typer.Argument(help="A Textract JSON file.")],
    save: Annotated[
        Path | None, typer.Option(help="Write the document back out through fieldwise's model.")
    ] = None,
) -> None:
    """Validate a Textract JSON file and summarise it: pages, blocks by type, words, confidence.

    Example: `fieldwise inspect out/documents/1a2b3c4d5e6f7a8b/textract.json --save copy.json`
    """
    try:
        doc = TextractDocument.load(file)
    except TextractFormatError as exc:
        raise fail(exc) from None
    types = Counter(b["BlockType"] for b in doc.blocks)
    words = list(doc.words())
    lines = sum(len(p.lines) for p in doc.pages)
    mean_conf = sum(w.confidence for w in words) / len(words) if words else 0.0
    table = Table(title=str(file))
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("pages", str(doc.page_count))
    for block_type, count in sorted(types.items()):
        table.add_row(f"{block_type} blocks", str(count))
    table.add_row("words (in lines)", str(len(words)))
    table.add_row("lines", str(lines))
    table.add_row("mean word confidence", f"{mean_conf:.2f}")
    console.print(table)
    if save is not None:
        doc.save(save)
        console.print(f"saved {save}")


from fieldwise.commands import annotate as annotate_commands  # noqa: E402
from fieldwise.commands import fields as fields_commands  # noqa: E402

app.add_typer(annotate_commands.app, name="annotate")
fields_commands.register(app)
from fieldwise.commands import show as show_commands  # noqa: E402

show_commands.register(app)
from fieldwise.commands import model as model_commands  # noqa: E402

model_commands.register(app)
from fieldwise.commands import pretrain as pretrain_commands  # noqa: E402

pretrain_commands.register(app)

if __name__ == "__main__":
    app()
