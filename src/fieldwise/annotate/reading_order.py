"""Reading order for boxes that come without one: rows top to bottom, left to right in a row.

This is the order an OCR engine gives a page, and the honest order to train and evaluate a
layout model in: a dataset's own order (FUNSD lists words entity by entity) would leak the
entity segmentation the model is supposed to find.

Example::

    order = reading_order([Box(.5, .1, .6, .12), Box(.1, .1, .2, .12)])   # [1, 0]
"""

from __future__ import annotations

from collections.abc import Sequence

from fieldwise.textract.geometry import Box


def rows(boxes: Sequence[Box]) -> list[list[int]]:
    """Indexes of ``boxes`` grouped into visual rows, rows top→bottom, each row left→right.

    A box joins a row when its vertical centre lies inside the row's vertical extent so far
    (the first box's top..bottom, widened by the boxes that joined).
    """
    by_centre = sorted(range(len(boxes)), key=lambda i: (boxes[i].center_y, boxes[i].left))
    grouped: list[list[int]] = []
    top = bottom = 0.0
    for index in by_centre:
        box = boxes[index]
        if grouped and top <= box.center_y <= bottom:
            grouped[-1].append(index)
            top, bottom = min(top, box.top), max(bottom, box.bottom)
        else:
            grouped.append([index])
            top, bottom = box.top, box.bottom
    return [sorted(row, key=lambda i: boxes[i].left) for row in grouped]


def reading_order(boxes: Sequence[Box]) -> list[int]:
    """Indexes of ``boxes`` in reading order."""
    return [index for row in rows(boxes) for index in row]
