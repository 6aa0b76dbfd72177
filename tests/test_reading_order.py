"""Reading order for boxes without one: rows that a tall box does not swallow."""

from __future__ import annotations

from fieldwise.annotate.reading_order import reading_order, rows
from fieldwise.textract.geometry import Box


def test_rows_go_top_to_bottom_and_left_to_right() -> None:
    boxes = [Box(0.5, 0.10, 0.6, 0.12), Box(0.1, 0.105, 0.2, 0.125), Box(0.1, 0.2, 0.2, 0.22)]
    assert rows(boxes) == [[1, 0], [2]]
    assert reading_order(boxes) == [1, 0, 2]


def test_a_tall_box_does_not_pull_the_next_line_into_its_row() -> None:
    """A checkbox or two-line cell on line 1 reaches down to line 2. Widening the row by it
    would make one row of both lines and interleave them by x ("Name: Date: ☐ John 1/2/99");
    line 2 stays a row of its own."""
    boxes = [
        Box(0.10, 0.100, 0.20, 0.120),  # "Name:" on line 1
        Box(0.30, 0.092, 0.34, 0.146),  # a tall box on line 1, reaching down to line 2
        Box(0.50, 0.100, 0.60, 0.120),  # "John" on line 1
        Box(0.10, 0.130, 0.20, 0.150),  # "Date:" on line 2
        Box(0.50, 0.130, 0.60, 0.150),  # "1/2/99" on line 2
    ]
    assert rows(boxes) == [[0, 1, 2], [3, 4]]


def test_slightly_uneven_words_of_one_line_stay_one_row() -> None:
    boxes = [Box(0.1 * k, 0.100 + 0.002 * (k % 2), 0.1 * k + 0.08, 0.120) for k in range(1, 8)]
    assert rows(boxes) == [list(range(7))]
