"""Typer commands, one module per area; ``fieldwise.cli`` registers them on the root app."""
