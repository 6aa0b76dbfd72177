"""What every command module shares: the console, one-line errors, a progress bar style."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()


def progress(label: str, unit: str = "") -> Progress:
    """A transient progress bar: ``label [bar] done/total unit elapsed description``."""
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    )


def fail(message: object) -> typer.Exit:
    """Print a one-line error (no traceback) and give the exit to raise: ``raise fail(exc)``."""
    console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(1)
