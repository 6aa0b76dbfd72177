"""Build Textract JSON (PAGE → LINE → WORD) from words in reading order, with stable Ids.

Ids are UUID-shaped strings made of the document key, page, block kind and position, so
ingesting the same file twice gives the same JSON, and no two blocks of a document share an Id.
PAGE blocks carry fieldwise's extension keys ``ImageSize`` (pixels of the stored page image),
``TextSource`` and ``Rotation`` inside ``Custom``, the key Textract parsers (``trp.trp2``) keep
for extensions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fieldwise.ingest.content import PageContent
from fieldwise.textract.document import TextractDocument
from fieldwise.textract.geometry import Box, union
from fieldwise.textract.validate import parse_response

_FULL_PAGE = Box(0.0, 0.0, 1.0, 1.0)


_KINDS = {"page": 1, "line": 2, "word": 3}


def build_blocks(page: PageContent, document_key: str) -> list[dict[str, Any]]:
    """Blocks of one page: the PAGE, then each LINE followed by its WORDs.

    ``document_key`` is a hex string of at least 15 digits (the document's sha256).
    """
    head = f"{document_key[:8]}-{document_key[8:12]}-{page.number:04x}-"
    tail = document_key[12:15]

    def new_id(kind: str, index: int) -> str:
        return f"{head}{_KINDS[kind]:x}{tail}-{index:012x}"

    page_block: dict[str, Any] = {
        "BlockType": "PAGE",
        "Id": new_id("page", 0),
        "Page": page.number,
        "Geometry": _FULL_PAGE.geometry(),
        "Custom": {"TextSource": page.text_source, "Rotation": page.rotation},
    }
    if page.width and page.height:
        page_block["Custom"]["ImageSize"] = {"Width": page.width, "Height": page.height}
    blocks = [page_block]
    line_ids: list[str] = []
    word_index = 0
    for line_index, line in enumerate(page.lines):
        word_blocks = []
        for word in line.words:
            word_blocks.append(
                {
                    "BlockType": "WORD",
                    "Id": new_id("word", word_index),
                    "Page": page.number,
                    "Text": word.text,
                    "TextType": word.text_type,
                    "Confidence": round(float(word.confidence), 4),
                    "Geometry": word.box.geometry(),
                }
            )
            word_index += 1
        line_id = new_id("line", line_index)
        line_ids.append(line_id)
        confidences = [w.confidence for w in line.words]
        blocks.append(
            {
                "BlockType": "LINE",
                "Id": line_id,
                "Page": page.number,
                "Text": " ".join(w.text for w in line.words),
                "Confidence": round(sum(confidences) / len(confidences), 4),
                "Geometry": union(w.box for w in line.words).geometry(),
                "Relationships": [{"Type": "CHILD", "Ids": [w["Id"] for w in word_blocks]}],
            }
        )
        blocks.extend(word_blocks)
    if line_ids:
        page_block["Relationships"] = [{"Type": "CHILD", "Ids": line_ids}]
    return blocks


def build_response(pages: Sequence[PageContent], document_key: str) -> dict[str, Any]:
    """Textract JSON as plain dicts (the fast path for writing; nothing to validate)."""
    blocks: list[dict[str, Any]] = []
    for page in sorted(pages, key=lambda p: p.number):
        blocks.extend(build_blocks(page, document_key))
    return {"DocumentMetadata": {"Pages": len(pages)}, "Blocks": blocks}


def join_page_json(pages: Sequence[bytes]) -> bytes:
    """One response from per-page JSON arrays of blocks (as workers send them), in page order."""
    inner = b",".join(chunk[1:-1] for chunk in pages if len(chunk) > 2)
    return b'{"DocumentMetadata":{"Pages":%d},"Blocks":[%s]}' % (len(pages), inner)


def build_document(
    pages: Sequence[PageContent], document_key: str, source: str = "<built>"
) -> TextractDocument:
    """A validated :class:`TextractDocument` from pages 1..N of one document."""
    raw = build_response(pages, document_key)
    return TextractDocument(parse_response(raw, source), source)
