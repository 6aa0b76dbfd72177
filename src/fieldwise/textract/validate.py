"""Turn raw JSON into a validated :class:`TextractResponse`, with errors a person can act on."""

from __future__ import annotations

import math
from typing import Any

import orjson
from pydantic import ValidationError

from fieldwise.textract.errors import TextractFormatError
from fieldwise.textract.schema import TextractResponse

_TEXT_BLOCKS = {"WORD", "LINE"}


def parse_response(data: bytes | str | dict[str, Any], source: str = "<json>") -> TextractResponse:
    """Parse and validate one Textract response; raise :class:`TextractFormatError` if unusable."""
    if not isinstance(data, dict):
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise TextractFormatError(source, [f"not valid JSON ({exc})"]) from None
    if not isinstance(data, dict):
        raise TextractFormatError(source, [f"expected a JSON object, found {type(data).__name__}"])
    try:
        response = TextractResponse.model_validate(data)
    except ValidationError as exc:
        raise TextractFormatError(source, [_describe(err, data) for err in exc.errors()]) from None
    problems = check_consistency(response)
    if problems:
        raise TextractFormatError(source, problems)
    return response


def _describe(err: Any, data: dict[str, Any]) -> str:
    loc = list(err["loc"])
    if len(loc) >= 2 and loc[0] == "Blocks" and isinstance(loc[1], int):
        index = loc[1]
        raw = data["Blocks"][index] if index < len(data.get("Blocks", [])) else {}
        where = _block_name(index, raw if isinstance(raw, dict) else {})
        field = ".".join(str(p) for p in loc[2:]) or "block"
        return f"{where}: {field}: {err['msg']}"
    return f"{'.'.join(str(p) for p in loc) or 'document'}: {err['msg']}"


def _block_name(index: int, raw: dict[str, Any]) -> str:
    return f"block {index} (Id={raw.get('Id', '?')}, {raw.get('BlockType', '?')})"


def check_consistency(response: TextractResponse) -> list[str]:
    """Problems the schema cannot see: duplicate or dangling Ids, pages, boxes, confidences."""
    problems: list[str] = []
    pages = response.DocumentMetadata.Pages
    if pages < 1:
        problems.append(f"DocumentMetadata.Pages: must be at least 1, found {pages}")
    seen: set[str] = set()
    for i, block in enumerate(response.Blocks):
        if block.Id in seen:
            problems.append(f"{_block_name(i, block.__dict__)}: duplicate Id")
        seen.add(block.Id)
    for i, block in enumerate(response.Blocks):
        name = _block_name(i, block.__dict__)
        if block.Page is not None and not 1 <= block.Page <= max(pages, 1):
            problems.append(f"{name}: Page {block.Page} outside 1..{pages}")
        if block.BlockType in _TEXT_BLOCKS and block.Text is None:
            problems.append(f"{name}: Text missing")
        if block.Confidence is not None and not 0 <= block.Confidence <= 100:
            problems.append(f"{name}: Confidence {block.Confidence} outside 0..100")
        if block.Geometry is not None:
            bb = block.Geometry.BoundingBox
            values = (bb.Left, bb.Top, bb.Width, bb.Height)
            if not all(math.isfinite(v) for v in values) or bb.Width < 0 or bb.Height < 0:
                problems.append(f"{name}: BoundingBox {values} is not a box")
        for rel in block.Relationships or []:
            missing = [x for x in rel.Ids or [] if x not in seen]
            if missing:
                problems.append(f"{name}: {rel.Type} relationship to unknown Id {missing[0]}")
    return problems
