"""Building Textract JSON from words: what the FUNSD importer and OCR engines rely on."""

from __future__ import annotations

import json

import pytest
import trp
import trp.trp2 as trp2

from fieldwise.ingest.content import LineContent, PageContent, WordContent
from fieldwise.textract.build import build_document
from fieldwise.textract.geometry import Box


def _page(number: int, rows: list[list[str]]) -> PageContent:
    lines = []
    for r, row in enumerate(rows):
        top = 0.1 + 0.05 * r
        words = [
            WordContent(text, Box(0.1 + 0.2 * i, top, 0.25 + 0.2 * i, top + 0.03), 90.0 + i)
            for i, text in enumerate(row)
        ]
        lines.append(LineContent(words))
    return PageContent(number, 850, 1100, lines, "test")


def test_built_document_reads_back_in_order_and_loads_in_trp() -> None:
    pages = [_page(1, [["Name:", "Ada"], ["Date:", "1843"]]), _page(2, [["Total", "$5"]])]
    doc = build_document(pages, "ab" * 32)
    assert doc.page_count == 2
    assert [line.text for line in doc.page(1).lines] == ["Name: Ada", "Date: 1843"]
    assert [w.text for w in doc.page(2).words] == ["Total", "$5"]
    line = doc.page(1).lines[0]
    assert line.box == pytest.approx(Box(0.1, 0.1, 0.45, 0.13))  # the union of its words
    assert line.block["Confidence"] == 90.5  # the mean of its words
    assert doc.page(1).size == (850, 1100)
    raw = json.loads(doc.dumps())
    trp2.TDocumentSchema().load(raw)
    assert [w.text for p in trp.Document(raw).pages for ln in p.lines for w in ln.words] == [
        "Name:",
        "Ada",
        "Date:",
        "1843",
        "Total",
        "$5",
    ]
    ids = [b["Id"] for b in raw["Blocks"]]
    assert len(ids) == len(set(ids))
    assert build_document(pages, "ab" * 32).dumps() == doc.dumps()  # stable Ids
