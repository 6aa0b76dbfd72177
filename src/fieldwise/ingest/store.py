"""The ingest output folder: one content-addressed folder per document, manifests beside them.

Layout of ``DIR``::

    documents/<sha256[:16]>/<original name>   the file as it came in
    documents/<sha256[:16]>/textract.json     words and lines (Textract JSON)
    documents/<sha256[:16]>/pages/0001.png    page images; thumbs/0001.png thumbnails
    documents/<sha256[:16]>/document.json     what fieldwise knows of the document
    pages.manifest.jsonl, documents.manifest.jsonl, failures.jsonl
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

DOCUMENTS = "documents"
TEXTRACT = "textract.json"
META = "document.json"
PAGES_MANIFEST = "pages.manifest.jsonl"
DOCUMENTS_MANIFEST = "documents.manifest.jsonl"
FAILURES = "failures.jsonl"


@dataclass
class DocumentRecord:
    """``document.json``: the document's identity, origin and what ingest made of it."""

    doc_id: str
    sha256: str
    kind: str
    file_name: str
    source_path: str
    pages: int
    words: int = 0
    text_sources: dict[str, int] = field(default_factory=dict)
    page_sizes: list[list[int]] = field(default_factory=list)
    images: bool = True

    @classmethod
    def load(cls, path: Path) -> DocumentRecord:
        return cls(**orjson.loads(path.read_bytes()))

    def save(self, path: Path) -> None:
        path.write_bytes(orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2))


@dataclass(frozen=True)
class Failure:
    raw_ref: str
    reason: str
    stage: str

    def to_json(self) -> dict[str, str]:
        return {"raw-ref": self.raw_ref, "reason": self.reason, "stage": self.stage}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def safe_name(name: str) -> str:
    """A file name that is safe in a URL and on every file system."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "document"
    return cleaned[:120]


class Store:
    """The folder ``root`` and the paths of everything in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / DOCUMENTS).mkdir(parents=True, exist_ok=True)

    def folder(self, doc_id: str) -> Path:
        return self.root / DOCUMENTS / doc_id

    def is_complete(self, doc_id: str) -> bool:
        return (self.folder(doc_id) / META).is_file()

    def start(self, doc_id: str) -> Path:
        """A fresh working folder; it becomes the document's folder in :meth:`commit`."""
        work = self.root / DOCUMENTS / f".partial-{doc_id}"
        shutil.rmtree(work, ignore_errors=True)
        (work / "pages").mkdir(parents=True)
        (work / "thumbs").mkdir()
        return work

    def commit(self, doc_id: str, work: Path) -> Path:
        final = self.folder(doc_id)
        if final.exists():
            shutil.rmtree(final)
        work.rename(final)
        return final

    def records(self) -> list[DocumentRecord]:
        out = []
        for meta in (self.root / DOCUMENTS).glob(f"*/{META}"):
            if not meta.parent.name.startswith("."):
                out.append(DocumentRecord.load(meta))
        return sorted(out, key=lambda r: (r.source_path, r.doc_id))

    def write_manifests(self, failures: list[Failure]) -> None:
        """Rewrite both manifests from every document in the store, and this run's failures."""
        doc_lines, page_lines = [], []
        for rec in self.records():
            base = f"{DOCUMENTS}/{rec.doc_id}"
            refs = {"raw-ref": f"{base}/{rec.file_name}", "textract-ref": f"{base}/{TEXTRACT}"}
            doc_lines.append(
                {
                    **refs,
                    "doc-id": rec.doc_id,
                    "sha256": rec.sha256,
                    "source-path": rec.source_path,
                    "kind": rec.kind,
                    "pages": rec.pages,
                    "words": rec.words,
                    "text-sources": rec.text_sources,
                }
            )
            for number in range(1, rec.pages + 1):
                line: dict[str, Any] = dict(refs)
                if rec.images:
                    line["source-ref"] = f"{base}/pages/{number:04d}.png"
                    line["thumbnail-ref"] = f"{base}/thumbs/{number:04d}.png"
                line["page-num"] = number
                page_lines.append(line)
        write_jsonl(self.root / DOCUMENTS_MANIFEST, doc_lines)
        write_jsonl(self.root / PAGES_MANIFEST, page_lines)
        write_jsonl(self.root / FAILURES, [f.to_json() for f in failures])


def write_jsonl(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> None:
    """JSON Lines, written to a temporary file and renamed: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    tmp.replace(path)
