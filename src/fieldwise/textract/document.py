"""The document model: a Textract response with pages, lines and words in reading order.

Example::

    doc = TextractDocument.load("out/documents/ab12/textract.json")
    for page in doc.pages:
        for line in page.lines:
            print(page.number, line.text, [w.text for w in line.words])
    doc.cut_page(2).save("page2.json")

The validated JSON (plain dicts) is the truth; :class:`Page`, :class:`Line` and :class:`Word`
are views onto it, so keys added by later stages are saved with the document.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson

from fieldwise.textract.errors import TextractFormatError
from fieldwise.textract.geometry import Box
from fieldwise.textract.schema import BlockDict, ResponseDict
from fieldwise.textract.validate import check_consistency, parse_response


def block_box(block: BlockDict) -> Box:
    """The block's bounding box (an empty box when it has no geometry)."""
    geometry = block.get("Geometry")
    if geometry is None:
        return Box(0.0, 0.0, 0.0, 0.0)
    return Box.from_textract(geometry["BoundingBox"])  # type: ignore[arg-type]


@dataclass(frozen=True)
class Word:
    block: BlockDict

    @property
    def text(self) -> str:
        return self.block.get("Text", "")

    @property
    def box(self) -> Box:
        return block_box(self.block)

    @property
    def confidence(self) -> float:
        return float(self.block.get("Confidence", 100.0))


@dataclass(frozen=True)
class Line:
    block: BlockDict
    words: list[Word]

    @property
    def text(self) -> str:
        return self.block.get("Text") or " ".join(w.text for w in self.words)

    @property
    def box(self) -> Box:
        return block_box(self.block)


@dataclass(frozen=True)
class Page:
    number: int
    block: BlockDict | None
    lines: list[Line] = field(default_factory=list)

    @property
    def words(self) -> list[Word]:
        return [w for line in self.lines for w in line.words]

    @property
    def custom(self) -> dict[str, Any]:
        """fieldwise's extension keys on the PAGE block (``Custom``, kept by Textract parsers)."""
        return dict(self.block.get("Custom") or {}) if self.block else {}  # type: ignore[call-overload]

    @property
    def size(self) -> tuple[int, int] | None:
        """Pixel size of the page image fieldwise rendered, when known."""
        size = self.custom.get("ImageSize")
        return (int(size["Width"]), int(size["Height"])) if size else None


class TextractDocument:
    """A validated Textract response; the blocks are the truth, pages/lines/words are views."""

    def __init__(self, data: ResponseDict, source: str = "<document>") -> None:
        self.data = data
        self.source = source

    # -- loading and saving -------------------------------------------------------------
    @classmethod
    def loads(cls, data: bytes | str | Any, source: str = "<json>") -> TextractDocument:
        """Parse one response, or a list of paginated responses (as asynchronous jobs return)."""
        if isinstance(data, bytes | str):
            try:
                data = orjson.loads(data)
            except orjson.JSONDecodeError as exc:
                raise TextractFormatError(source, [f"not valid JSON ({exc})"]) from None
        if isinstance(data, list):
            if not data:
                raise TextractFormatError(source, ["an empty list of responses"])
            parts = [cls.loads(part, f"{source}[{i}]") for i, part in enumerate(data)]
            return cls._join(parts, renumber=False)
        return cls(parse_response(data, source), source)

    @classmethod
    def load(cls, path: str | Path) -> TextractDocument:
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise TextractFormatError(str(path), [f"cannot read file ({exc.strerror})"]) from None
        return cls.loads(raw, str(path))

    def dumps(self) -> bytes:
        return orjson.dumps(self.data)

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self.dumps())

    # -- views --------------------------------------------------------------------------
    @property
    def blocks(self) -> list[BlockDict]:
        return self.data["Blocks"]

    @property
    def page_count(self) -> int:
        return self.data["DocumentMetadata"]["Pages"]

    @cached_property
    def by_id(self) -> dict[str, BlockDict]:
        return {b["Id"]: b for b in self.blocks}

    def children(self, block: BlockDict, block_type: str | None = None) -> list[BlockDict]:
        """The CHILD blocks of ``block``, in their stored order."""
        out = []
        for rel in block.get("Relationships", ()):
            if rel["Type"] == "CHILD":
                for child_id in rel.get("Ids", ()):
                    child = self.by_id[child_id]
                    if block_type is None or child["BlockType"] == block_type:
                        out.append(child)
        return out

    @cached_property
    def pages(self) -> list[Page]:
        """Pages 1..N with their lines and words in reading order (Textract's block order)."""
        page_blocks: dict[int, BlockDict] = {}
        loose_lines: dict[int, list[BlockDict]] = {}
        for block in self.blocks:
            number = block.get("Page", 1)
            if block["BlockType"] == "PAGE":
                page_blocks.setdefault(number, block)
            elif block["BlockType"] == "LINE":
                loose_lines.setdefault(number, []).append(block)
        pages = []
        for number in range(1, self.page_count + 1):
            page_block = page_blocks.get(number)
            line_blocks = loose_lines.get(number, [])
            if page_block is not None and page_block.get("Relationships"):
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
        """A one-page document of page ``number`` (renumbered 1); off-page relations dropped."""
        self.page(number)
        blocks = [_copy(b) for b in self.blocks if b.get("Page", 1) == number]
        kept = {b["Id"] for b in blocks}
        for b in blocks:
            if "Page" in b:
                b["Page"] = 1
            for rel in b.get("Relationships", ()):
                if "Ids" in rel:
                    rel["Ids"] = [i for i in rel["Ids"] if i in kept]
        data = _copy({k: v for k, v in self.data.items() if k != "Blocks"})
        data["DocumentMetadata"]["Pages"] = 1
        data["Blocks"] = blocks
        return TextractDocument(data, f"{self.source}#page{number}")  # type: ignore[arg-type]

    @classmethod
    def merge(cls, parts: Sequence[TextractDocument]) -> TextractDocument:
        """Join documents page after page, renumbering pages (per-page results back into one)."""
        return cls._join(parts, renumber=True)

    @classmethod
    def _join(cls, parts: Sequence[TextractDocument], renumber: bool) -> TextractDocument:
        """Concatenate blocks; without ``renumber`` the parts are pages of one paginated job."""
        if not parts:
            raise ValueError("merge needs at least one document")
        blocks: list[Any] = []
        offset = 0
        for part in parts:
            for b in _copy(part.blocks):
                if renumber:
                    b["Page"] = b.get("Page", 1) + offset
                blocks.append(b)
            offset += part.page_count
        data = _copy({k: v for k, v in parts[0].data.items() if k != "Blocks"})
        data["DocumentMetadata"]["Pages"] = offset if renumber else max(p.page_count for p in parts)
        data["Blocks"] = blocks
        problems = check_consistency(data)  # type: ignore[arg-type]
        if problems:
            raise TextractFormatError(parts[0].source, problems)
        return cls(data, parts[0].source)  # type: ignore[arg-type]


def _copy(value: Any) -> Any:
    """A deep copy of JSON data (orjson round-trip: an order of magnitude faster than deepcopy)."""
    return orjson.loads(orjson.dumps(value))
