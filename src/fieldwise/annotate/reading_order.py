"""Reading order for boxes that come without one: rows top to bottom, left to right in a row.

This is the order an OCR engine gives a page, and the honest order to train and evaluate a
layout model in: a dataset's own order (FUNSD lists words entity by entity) would leak the
entity segmentation the model is supposed to find.

Example::

    order = reading_order([Box(.5, .1, .6, .12), Box(.1, .1, .2, .12)])   # [1, 0]
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import median

from fieldwise.textract.geometry import Box


def rows(boxes: Sequence[Box]) -> list[list[int]]:
    """Indexes of ``boxes`` grouped into visual rows, rows top→bottom, each row left→right.

    Boxes are taken by vertical centre; one joins the row being built when its centre lies
    within half a height (the smaller of its own and the row's median) of the row's median
    centre. The row does not widen as boxes join: a tall box (a checkbox, a two-line cell)
    would otherwise swallow the next line's words into its row and break an entity that runs
    down a column (FUNSD entities not contiguous in reading order: 5.5% → 4.2%).
    """
    by_centre = sorted(range(len(boxes)), key=lambda i: (boxes[i].center_y, boxes[i].left))
    grouped: list[list[int]] = []
    for index in by_centre:
        box = boxes[index]
        if grouped:
            row = grouped[-1]
            centre = median(boxes[i].center_y for i in row)
            height = median(boxes[i].height for i in row)
            if abs(box.center_y - centre) <= 0.5 * min(height, box.height):
                row.append(index)
                continue
        grouped.append([index])
    return [sorted(row, key=lambda i: boxes[i].left) for row in grouped]


def reading_order(boxes: Sequence[Box]) -> list[int]:
    """Indexes of ``boxes`` in reading order."""
    return [index for row in rows(boxes) for index in row]
