"""File types come from content, never from the name."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldwise.ingest.errors import IngestError
from fieldwise.ingest.filetypes import detect_kind


def test_real_documents_are_recognised_whatever_their_name(
    tmp_path: Path, pdf_dir: Path, funsd_dir: Path
) -> None:
    pdf = next(pdf_dir.glob("*.pdf"))
    renamed = tmp_path / "scan.png"
    renamed.write_bytes(pdf.read_bytes())
    assert detect_kind(renamed) == "pdf"
    png = next((funsd_dir / "images").glob("*.png"))
    as_pdf = tmp_path / "form.pdf"
    as_pdf.write_bytes(png.read_bytes())
    assert detect_kind(as_pdf) == "png"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"<!DOCTYPE html><html><body>Not found</body></html>", "HTML page"),
        (b"  \n<html>", "HTML page"),
        (b'{"a": 1}', "JSON file"),
        (b"PK\x03\x04rest-of-a-docx", "ZIP archive"),
        (b"just some notes\n", "plain text"),
        (b"\x00\x01\x02\x03\xfe\xff", "unsupported file type"),
    ],
)
def test_non_documents_get_a_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "thing.pdf"
    path.write_bytes(content)
    with pytest.raises(IngestError, match=reason) as err:
        detect_kind(path)
    assert err.value.stage == "detect"
