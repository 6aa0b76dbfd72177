"""``fieldwise annotate …``: the label layer's commands (manifests, sampling, adapters)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Labels: Ground Truth manifests, sampling, splits, and adapters (FUNSD, values, LS).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)
from fieldwise.commands import from_values, labels, labelstudio  # noqa: E402,F401
