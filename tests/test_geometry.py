"""Property tests of the box arithmetic everything else (labels, evaluation) leans on."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fieldwise.textract.geometry import Box, union

coord = st.floats(min_value=-0.5, max_value=1.5, allow_nan=False)


@st.composite
def boxes(draw: st.DrawFn) -> Box:
    left, right = sorted((draw(coord), draw(coord)))
    top, bottom = sorted((draw(coord), draw(coord)))
    return Box(left, top, right, bottom)


@given(boxes(), boxes())
def test_iou_is_symmetric_and_bounded(a: Box, b: Box) -> None:
    assert abs(a.iou(b) - b.iou(a)) < 1e-9
    assert 0.0 <= a.iou(b) <= 1.0 + 1e-9


@given(boxes())
def test_a_box_with_area_overlaps_itself_fully(a: Box) -> None:
    if a.area > 1e-9:
        assert abs(a.iou(a) - 1.0) < 1e-6


@given(st.lists(boxes(), min_size=1, max_size=8))
def test_union_contains_every_box(items: list[Box]) -> None:
    u = union(items)
    for b in items:
        assert u.left <= b.left and u.top <= b.top and u.right >= b.right and u.bottom >= b.bottom


@given(boxes())
def test_clamp_stays_on_the_page_and_inside_the_box(a: Box) -> None:
    c = a.clamp()
    assert all(0.0 <= v <= 1.0 for v in c)
    assert c.area <= a.area + 1e-12


@given(boxes())
def test_geometry_round_trips_through_textract(a: Box) -> None:
    geometry = a.geometry()
    back = Box.from_textract(geometry["BoundingBox"])  # type: ignore[arg-type]
    assert all(abs(x - y) < 1e-9 for x, y in zip(a, back, strict=True))
    assert len(geometry["Polygon"]) == 4  # type: ignore[arg-type]
