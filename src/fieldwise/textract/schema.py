"""Pydantic models of Amazon Textract JSON.

Every model keeps unknown keys (``extra="allow"``) and numbers keep their JSON type, so a real
Textract response loads, validates and saves back with no key lost or changed.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

Number = int | float


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class BoxModel(_Open):
    """Axis-aligned box in fractions of the page (0-1), Textract's convention."""

    Width: Number
    Height: Number
    Left: Number
    Top: Number


class PointModel(_Open):
    X: Number
    Y: Number


class GeometryModel(_Open):
    BoundingBox: BoxModel
    Polygon: list[PointModel] | None = None


class RelationshipModel(_Open):
    Type: str
    Ids: list[str] | None = None


class Block(_Open):
    """One Textract block. Only the keys fieldwise relies on are typed; the rest pass through."""

    BlockType: str
    Id: str
    Page: int | None = None
    Text: str | None = None
    Confidence: Number | None = None
    TextType: str | None = None
    Geometry: GeometryModel | None = None
    Relationships: list[RelationshipModel] | None = None


class MetadataModel(_Open):
    Pages: int


class TextractResponse(_Open):
    """A whole response: ``{"DocumentMetadata": {"Pages": N}, "Blocks": [...]}``."""

    DocumentMetadata: MetadataModel
    Blocks: list[Block]
