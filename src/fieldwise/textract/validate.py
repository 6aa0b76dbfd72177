"""Turn raw JSON into a validated response dict, with errors a person can act on."""

from __future__ import annotations

import math
from typing import Any

import orjson
from pydantic import ValidationError

from fieldwise.textract.errors import TextractFormatError
from fieldwise.textract.schema import RESPONSE, ResponseDict

_TEXT_BLOCKS = {"WORD", "LINE"}


def parse_response(data: bytes | str | dict[str, Any], source: str = "<json>") -> ResponseDict:
    """Parse and validate one Textract response; raise :class:`TextractFormatError` if unusable."""
    if not isinstance(data, dict):
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise TextractFormatError(source, [f"not valid JSON ({exc})"]) from None
    if not isinstance(data, dict):
        raise TextractFormatError(source, [f"expected a JSON object, found {type(data).__name__}"])
    try:
        RESPONSE.validate_python(data)
    except ValidationError as exc:
        raise TextractFormatError(source, [_describe(err, data) for err in exc.errors()]) from None
    response: ResponseDict = data  # type: ignore[assignment]  # strict: valid means unchanged
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


def check_consistency(response: ResponseDict) -> list[str]:
    """Problems the schema cannot see: duplicate or dangling Ids, pages, boxes, confidences."""
    problems: list[str] = []
    pages = response["DocumentMetadata"]["Pages"]
    if pages < 1:
        problems.append(f"DocumentMetadata.Pages: must be at least 1, found {pages}")
    blocks = response["Blocks"]
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        if block["Id"] in seen:
            problems.append(f"{_block_name(i, block)}: duplicate Id")  # type: ignore[arg-type]
        seen.add(block["Id"])
    for i, block in enumerate(blocks):
        page = block.get("Page")
        confidence = block.get("Confidence")
        geometry = block.get("Geometry")
        if page is not None and not 1 <= page <= max(pages, 1):
            problems.append(f"{_block_name(i, block)}: Page {page} outside 1..{pages}")  # type: ignore[arg-type]
        if block["BlockType"] in _TEXT_BLOCKS and "Text" not in block:
            problems.append(f"{_block_name(i, block)}: Text missing")  # type: ignore[arg-type]
        if confidence is not None and not 0 <= confidence <= 100:
            problems.append(f"{_block_name(i, block)}: Confidence {confidence} outside 0..100")  # type: ignore[arg-type]
        if geometry is not None:
            bb = geometry["BoundingBox"]
            values = (bb["Left"], bb["Top"], bb["Width"], bb["Height"])
            if not all(math.isfinite(v) for v in values) or values[2] < 0 or values[3] < 0:
                problems.append(f"{_block_name(i, block)}: BoundingBox {values} is not a box")  # type: ignore[arg-type]
        for rel in block.get("Relationships", ()):
            missing = [x for x in rel.get("Ids", ()) if x not in seen]
            if missing:
                name = _block_name(i, block)  # type: ignore[arg-type]
                problems.append(f"{name}: {rel['Type']} relationship to unknown Id {missing[0]}")
    return problems
