"""Use Textract JSON made elsewhere (the cloud service, another tool) instead of reading text."""

from __future__ import annotations

from pathlib import Path

from fieldwise.ingest.errors import IngestError
from fieldwise.textract.document import TextractDocument
from fieldwise.textract.errors import TextractFormatError


def find_textract(folder: Path, document: Path) -> Path | None:
    """``folder/<name>.json``, ``folder/<stem>.json`` or ``folder/<name>/textract.json``."""
    for candidate in (
        folder / f"{document.name}.json",
        folder / f"{document.stem}.json",
        folder / document.name / "textract.json",
    ):
        if candidate.is_file():
            return candidate
    return None


def load_textract(path: Path, pages: int) -> TextractDocument:
    """Load and validate ``path``; its page count must be the document's."""
    try:
        doc = TextractDocument.load(path)
    except TextractFormatError as exc:
        raise IngestError(str(exc), "textract") from None
    if doc.page_count != pages:
        raise IngestError(
            f"{path} has {doc.page_count} page(s) but the document has {pages}", "textract"
        )
    return doc
