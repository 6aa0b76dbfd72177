"""Decide a file's type from its content, never its name, with a useful reason when unsupported."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fieldwise.ingest.errors import IngestError

Kind = Literal["pdf", "png", "jpeg", "tiff"]

_SIGNATURES: list[tuple[bytes, Kind]] = [
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
]
_KNOWN_OTHERS: list[tuple[bytes, str]] = [
    (b"<!doctype html", "an HTML page"),
    (b"<html", "an HTML page"),
    (b"<?xml", "an XML file"),
    (b"{", "a JSON file"),
    (b"[", "a JSON file"),
    (b"PK\x03\x04", "a ZIP archive (e.g. DOCX/XLSX)"),
    (b"GIF8", "a GIF image"),
    (b"RIFF", "a RIFF file (e.g. WebP)"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office file"),
]


def detect_kind(path: Path) -> Kind:
    """The document type of ``path`` from its first bytes; raise :class:`IngestError` otherwise."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror}", "detect") from None
    if size == 0:
        raise IngestError("empty file (0 bytes)", "detect")
    if b"%PDF-" in head:
        return "pdf"
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    for signature, what in _KNOWN_OTHERS:
        if lowered.startswith(signature.lower()):
            raise IngestError(f"unsupported file type: content is {what}", "detect")
    if _looks_like_text(head):
        raise IngestError("unsupported file type: content is plain text", "detect")
    raise IngestError(
        f"unsupported file type: content starts with {head[:8]!r}, expected PDF, PNG, JPEG or TIFF",
        "detect",
    )


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
