"""Box arithmetic in page fractions, shared by ingest, labels and evaluation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class Box(NamedTuple):
    """(left, top, right, bottom) in page fractions; a tuple, cheap to make by the million."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    @property
    def center_y(self) -> float:
        return (self.top + self.bottom) / 2

    @classmethod
    def from_textract(cls, bbox: dict[str, float]) -> Box:
        left, top = bbox["Left"], bbox["Top"]
        return cls(left, top, left + bbox["Width"], top + bbox["Height"])

    def geometry(self) -> dict[str, object]:
        """Textract's ``Geometry``: the box and its four-corner polygon."""
        left, top, right, bottom = self
        return {
            "BoundingBox": {
                "Width": right - left,
                "Height": bottom - top,
                "Left": left,
                "Top": top,
            },
            "Polygon": [
                {"X": left, "Y": top},
                {"X": right, "Y": top},
                {"X": right, "Y": bottom},
                {"X": left, "Y": bottom},
            ],
        }

    def intersection(self, other: Box) -> float:
        w = min(self.right, other.right) - max(self.left, other.left)
        h = min(self.bottom, other.bottom) - max(self.top, other.top)
        return w * h if w > 0 and h > 0 else 0.0

    def iou(self, other: Box) -> float:
        inter = self.intersection(other)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def clamp(self) -> Box:
        """The box cut to the page (0-1 on both axes)."""

        left, top, right, bottom = self
        return Box(
            0.0 if left < 0 else 1.0 if left > 1 else left,
            0.0 if top < 0 else 1.0 if top > 1 else top,
            0.0 if right < 0 else 1.0 if right > 1 else right,
            0.0 if bottom < 0 else 1.0 if bottom > 1 else bottom,
        )


def union(boxes: Iterable[Box]) -> Box:
    """The smallest box holding all of ``boxes`` (at least one)."""
    lefts, tops, rights, bottoms = zip(*boxes, strict=True)
    return Box(min(lefts), min(tops), max(rights), max(bottoms))
