"""The document model: a Textract response with pages, lines and words in reading order.

Example::

    doc = TextractDocument.load("out/documents/ab12/textract.json")
    for page in doc.pages:
        for line in page.lines:
            print(page.number, line.text, [w.text for w in line.words])
    doc.cut_page(2).save("page2.json")
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson

from fieldwise.textract.errors import TextractFormatError
from fieldwise.textract.geometry import Box
from fieldwise.textract.schema import Block, TextractResponse
from fieldwise.textract.validate import check_consistency, parse_response


def _box(block: Block) -> Box:
    if block.Geometry is None:
        return Box(0.0, 0.0, 0.0, 0.0)
    bb = block.Geometry.BoundingBox
    return Box(bb.Left, bb.Top, bb.Left + bb.Width, bb.Top + bb.Height)


@dataclass(frozen=True)
class Word:
    block: Block

    @property
    def text(self) -> str:
        return self.block.Text or ""

    @property
    def box(self) -> Box:
        return _box(self.block)

    @property
    def confidence(self) -> float:
        return float(self.block.Confidence if self.block.Confidence is not None else 100.0)


@dataclass(frozen=True)
class Line:
    block: Block
    words: list[Word]

    @property
    def text(self) -> str:
        return self.block.Text or " ".join(w.text for w in self.words)

    @property
    def box(self) -> Box:
        return _box(self.block)


@dataclass(frozen=True)
class Page:
    number: int
    block: Block | None
    lines: list[Line] = field(default_factory=list)

    @property
    def words(self) -> list[Word]:
        return [w for line in self.lines for w in line.words]

    @property
    def size(self) -> tuple[int, int] | None:
        """Pixel size of the page image fieldwise rendered, when known (PAGE ``Custom.ImageSize``)."""
        extra = (self.block.model_extra or {}) if self.block else {}
        size = (extra.get("Custom") or {}).get("ImageSize")
        return (int(size["Width"]), int(size["Height"])) if size else None


class TextractDocument:
    """A validated Textract response; the blocks are the truth, pages/lines/words are views."""

    def __init__(self, response: TextractResponse, source: str = "<document>") -> None:
        self.response = response
        self.source = source

    # -- loading and saving -------------------------------------------------------------
    @classmethod
    def loads(cls, data: bytes | str | dict[str, Any], source: str = "<json>") -> TextractDocument:
        """Parse one response, or a list of paginated responses (as async jobs return)."""
        if isinstance(data, bytes | str):
            try:
                data = orjson.loads(data)
            except orjson.JSONDecodeError as exc:
                raise TextractFormatError(source, [f"not valid JSON ({exc})"]) from None
        if isinstance(data, list):
            parts = [cls.loads(part, f"{source}[{i}]") for i, part in enumerate(data)]
            return cls._join(parts, renumber=False) if parts else cls.loads({}, source)
        return cls(parse_response(data, source), source)

    @classmethod
    def load(cls, path: str | Path) -> TextractDocument:
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise TextractFormatError(str(path), [f"cannot read file ({exc.strerror})"]) from None
        return cls.loads(raw, str(path))

    def to_dict(self) -> dict[str, Any]:
        return self.response.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def dumps(self) -> bytes:
        return orjson.dumps(self.to_dict())

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self.dumps())

    # -- views --------------------------------------------------------------------------
    @property
    def blocks(self) -> list[Block]:
        return self.response.Blocks

    @property
    def page_count(self) -> int:
        return self.response.DocumentMetadata.Pages

    @cached_property
    def by_id(self) -> dict[str, Block]:
        return {b.Id: b for b in self.blocks}

    def children(self, block: Block, block_type: str | None = None) -> list[Block]:
        """The CHILD blocks of ``block``, in their stored order."""
        out = []
        for rel in block.Relationships or []:
            if rel.Type == "CHILD":
                for child_id in rel.Ids or []:
                    child = self.by_id[child_id]
                    if block_type is None or child.BlockType == block_type:
                        out.append(child)
        return out

    @cached_property
    def pages(self) -> list[Page]:
        """Pages 1..N with their lines and words in reading order (Textract's block order)."""
        page_blocks: dict[int, Block] = {}
        loose_lines: dict[int, list[Block]] = {}
        for block in self.blocks:
            number = block.Page or 1
            if block.BlockType == "PAGE":
                page_blocks.setdefault(number, block)
            elif block.BlockType == "LINE":
                loose_lines.setdefault(number, []).append(block)
        pages = []
        for number in range(1, self.page_count + 1):
            page_block = page_blocks.get(number)
            line_blocks = loose_lines.get(number, [])
            if page_block is not None and page_block.Relationships:
                line_blocks = self.children(page_block, "LINE") or line_blocks
            lines = [Line(b, [Word(w) for w in self.children(b, "WORD")]) for b in line_blocks]
            pages.append(Page(number, page_block, lines))
        return pages

    def page(self, number: int) -> Page:
        if not 1 <= number <= self.page_count:
            raise IndexError(f"{self.source}: page {number} outside 1..{self.page_count}")
        return self.pages[number - 1]

    def words(self) -> Iterator[Word]:
        for page in self.pages:
            yield from page.words

    # -- cutting and merging ------------------------------------------------------------
    def cut_page(self, number: int) -> TextractDocument:
        """A one-page document holding page ``number`` (renumbered 1); relations off-page dropped."""
        self.page(number)
        blocks = [copy.deepcopy(b) for b in self.blocks if (b.Page or 1) == number]
        kept = {b.Id for b in blocks}
        for b in blocks:
            if b.Page is not None:
                b.Page = 1
            for rel in b.Relationships or []:
                if rel.Ids is not None:
                    rel.Ids = [i for i in rel.Ids if i in kept]
        response = self.response.model_copy(deep=True, update={"Blocks": blocks})
        response.DocumentMetadata.Pages = 1
        return TextractDocument(response, f"{self.source}#page{number}")

    @classmethod
    def merge(cls, parts: Sequence[TextractDocument]) -> TextractDocument:
        """Join documents page after page, renumbering pages (per-page results back into one)."""
        return cls._join(parts, renumber=True)

    @classmethod
    def _join(cls, parts: Sequence[TextractDocument], renumber: bool) -> TextractDocument:
        """Concatenate blocks; without ``renumber`` the parts are pages of one paginated job."""
        if not parts:
            raise ValueError("merge needs at least one document")
        blocks: list[Block] = []
        offset = 0
        for part in parts:
            for b in part.blocks:
                b = copy.deepcopy(b)
                if renumber:
                    b.Page = (b.Page or 1) + offset
                blocks.append(b)
            offset += part.page_count
        total = offset if renumber else max(p.page_count for p in parts)
        response = parts[0].response.model_copy(deep=True, update={"Blocks": blocks})
        response.DocumentMetadata.Pages = total
        problems = check_consistency(response)
        if problems:
            raise TextractFormatError(parts[0].source, problems)
        return cls(response, parts[0].source)
