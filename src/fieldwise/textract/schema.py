"""The shape of Amazon Textract JSON, as typed dictionaries validated by pydantic.

Validation is strict (no coercion: "1" is not a page number) over plain dicts (no model objects,
4× faster than models on large documents), so a document that passes is kept exactly as read:
every key, its order, and every number's type.
"""

from __future__ import annotations

from typing import NotRequired

from pydantic import ConfigDict, TypeAdapter, with_config
from typing_extensions import TypedDict

Number = int | float
_OPEN = ConfigDict(extra="allow", strict=True)


@with_config(_OPEN)
class BoundingBoxDict(TypedDict):
    """Axis-aligned box in fractions of the page (0-1), Textract's convention."""

    Width: Number
    Height: Number
    Left: Number
    Top: Number


@with_config(_OPEN)
class PointDict(TypedDict):
    X: Number
    Y: Number


@with_config(_OPEN)
class GeometryDict(TypedDict):
    BoundingBox: BoundingBoxDict
    Polygon: NotRequired[list[PointDict]]


@with_config(_OPEN)
class RelationshipDict(TypedDict):
    Type: str
    Ids: NotRequired[list[str]]


@with_config(_OPEN)
class BlockDict(TypedDict):
    """One block. Only the keys fieldwise relies on are typed; the rest (RowIndex, Query, Custom,
    PredictedClass, ...) pass through untouched."""

    BlockType: str
    Id: str
    Page: NotRequired[int]
    Text: NotRequired[str]
    Confidence: NotRequired[Number]
    TextType: NotRequired[str]
    Geometry: NotRequired[GeometryDict]
    Relationships: NotRequired[list[RelationshipDict]]


@with_config(_OPEN)
class MetadataDict(TypedDict):
    Pages: int


@with_config(_OPEN)
class ResponseDict(TypedDict):
    """A whole response: ``{"DocumentMetadata": {"Pages": N}, "Blocks": [...]}``."""

    DocumentMetadata: MetadataDict
    Blocks: list[BlockDict]


RESPONSE = TypeAdapter(ResponseDict)
