"""Expand the inputs of a run into files: folders recursively, sorted, system files left out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_SYSTEM_NAMES = {"thumbs.db", "desktop.ini", "ehthumbs.db", "icon\r"}
_SYSTEM_DIRS = {"__macosx", "$recycle.bin", "system volume information"}


@dataclass(frozen=True)
class Missing:
    path: str
    reason: str = "no such file or folder"


def is_system_file(path: Path) -> bool:
    """Hidden files (``.*``), macOS resource forks, Office lock files, Windows thumbnails."""
    name = path.name
    return name.startswith((".", "~$")) or name.lower() in _SYSTEM_NAMES


def discover(inputs: Iterable[str | Path]) -> tuple[list[Path], list[Missing]]:
    """Files to ingest in a stable order, and the inputs that do not exist."""
    files: list[Path] = []
    missing: list[Missing] = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            files.extend(_walk(path))
        elif path.is_file():
            files.append(path)
        else:
            missing.append(Missing(str(raw)))
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, missing


def _walk(folder: Path) -> list[Path]:
    out = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).parts
        if any(p.startswith(".") or p.lower() in _SYSTEM_DIRS for p in relative[:-1]):
            continue
        if path.is_file() and not is_system_file(path):
            out.append(path)
    return out
