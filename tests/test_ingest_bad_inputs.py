"""Bad input never stops a run: each bad file gets a reason in failures.jsonl, the rest is done.

Runs the real ``fieldwise`` command in a subprocess, as a user would.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

FIELDWISE = [sys.executable, "-m", "fieldwise.cli"]


def _png_claiming(width: int, height: int, real_png: bytes) -> bytes:
    """A real PNG whose header is rewritten to claim ``width`` × ``height`` (a pixel bomb)."""
    ihdr = bytearray(real_png[8 : 8 + 25])
    ihdr[8:16] = struct.pack(">II", width, height)
    ihdr[21:25] = struct.pack(">I", zlib.crc32(bytes(ihdr[4:21])))
    return real_png[:8] + bytes(ihdr) + real_png[33:]


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory: pytest.TempPathFactory, pdf_dir: Path, funsd_dir: Path) -> Path:
    folder = tmp_path_factory.mktemp("bad")
    good_pdf = pdf_dir / "petal-webbank__petal-2.pdf"
    good_png = sorted((funsd_dir / "images").glob("*.png"))[0]
    shutil.copyfile(good_pdf, folder / "good.pdf")
    shutil.copyfile(good_png, folder / "good-scan.png")
    (folder / "empty.pdf").write_bytes(b"")
    data = good_pdf.read_bytes()
    (folder / "truncated.pdf").write_bytes(data[: len(data) // 3])
    (folder / "error-page.pdf").write_text("<!DOCTYPE html><html><body>404</body></html>")
    png = good_png.read_bytes()
    (folder / "truncated.png").write_bytes(png[: len(png) // 2])
    (folder / "bomb.png").write_bytes(_png_claiming(100_000, 100_000, png))
    (folder / "letter.docx").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")  # system file: not even reported
    if shutil.which("qpdf"):
        subprocess.run(
            [
                "qpdf",
                "--encrypt",
                "secret",
                "owner",
                "256",
                "--",
                str(good_pdf),
                str(folder / "locked.pdf"),
            ],
            check=True,
        )
    return folder


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FIELDWISE, *map(str, args)], capture_output=True, text=True, timeout=300
    )


def test_bad_files_are_reported_and_good_ones_ingested(bad_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run("ingest", bad_folder, "--out", out, "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    failures = {
        Path(f["raw-ref"]).name: f
        for f in map(json.loads, (out / "failures.jsonl").read_text().splitlines())
    }
    expected = {
        "empty.pdf": "empty file",
        "truncated.pdf": "corrupt or truncated",
        "error-page.pdf": "HTML page",
        "truncated.png": "truncated or corrupt",
        "bomb.png": "image too large: 100000×100000",
        "letter.docx": "ZIP archive",
    }
    if (bad_folder / "locked.pdf").exists():
        expected["locked.pdf"] = "password-protected"
    assert set(failures) == set(expected)
    for name, reason in expected.items():
        assert reason in failures[name]["reason"], failures[name]
        assert failures[name]["stage"] in {"detect", "open", "page"}
    docs = [json.loads(x) for x in (out / "documents.manifest.jsonl").read_text().splitlines()]
    assert sorted(Path(d["source-path"]).name for d in docs) == ["good-scan.png", "good.pdf"]
    assert all(d["words"] > 50 for d in docs)
    assert not list((out / "documents").glob(".partial-*"))  # nothing half-written is left


def test_strict_exits_with_failure(bad_folder: Path, tmp_path: Path) -> None:
    result = _run("ingest", bad_folder / "empty.pdf", "--out", tmp_path, "--strict")
    assert result.returncode == 1
    assert "empty file" in result.stdout


def test_unreadable_textract_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"DocumentMetadata": {"Pages": 1}, "Blocks": [{"Id": "x"}]}')
    result = _run("inspect", bad)
    assert result.returncode == 1
    assert "bad.json" in result.stdout and "BlockType" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
