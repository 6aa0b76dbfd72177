"""Table cells whose label is a heading above them, not the row they stand in.

Some rate tables (Bank of America's, U.S. Bank's) put a row's label as a heading *above* the
row's values, in the left column, while the values' own visual row holds an explanation or
nothing: "Annual Percentage Rate (APR) for / Purchases", then lower and to the right
"Prime + 17.74% to Prime + 20.74%" / "(APR) 24.99% to 27.99%". The row then says nothing of
what the value is; the heading does (:mod:`fieldwise.fields.row_labels` adds its words to the
label of a value that stands alone on its line).

Example::

    cells = TableCells(page)                       # a page's PageWords
    [page.words[i] for i in cells.heading(page.line_index[value_word])]
"""

from __future__ import annotations

from fieldwise.annotate.dataset import PageWords

#: How close (in line heights) lines must be to count as one cell of a table column.
CELL_GAP = 1.0
#: How close (in line heights) the lines of one heading must be.
HEADING_GAP = 0.5
HEADING_LINES = 3
COLUMN_TOLERANCE = 0.01  # page widths: lines starting this close start in one column


class TableCells:
    """A page's lines as boxes, to find the heading of a value's table cell."""

    def __init__(self, page: PageWords) -> None:
        self.words = page.lines()
        self.box = {
            line: (
                min(page.boxes[i].left for i in indexes),
                min(page.boxes[i].top for i in indexes),
                max(page.boxes[i].right for i in indexes),
                max(page.boxes[i].bottom for i in indexes),
            )
            for line, indexes in self.words.items()
        }

    def _above(self, line: int, gap: float) -> int | None:
        """The nearest line just above ``line`` in its column, within ``gap`` line heights."""
        left, top, _, bottom = self.box[line]
        height = bottom - top
        best = None
        for other, (o_left, o_top, _, o_bottom) in self.box.items():
            near = o_bottom <= top + 1e-3 and top - o_bottom <= gap * height
            same_column = abs(o_left - left) <= COLUMN_TOLERANCE
            if (
                other != line
                and near
                and same_column
                and (best is None or o_top > self.box[best][1])
            ):
                best = other
        return best

    def heading(self, line: int) -> list[int]:
        """Word indexes of the heading of the cell ``line`` is in: the nearest lines (up to
        ``HEADING_LINES``) above the cell's first line that start in a column left of it; none
        when the cell's first row has its own words in that heading's column (the row is
        labelled where it stands)."""
        first = line
        while (up := self._above(first, CELL_GAP)) is not None:
            first = up
        left, top = self.box[first][0], self.box[first][1]
        candidates = [
            other
            for other, (o_left, o_top, _, _) in self.box.items()
            if o_left < left - COLUMN_TOLERANCE and o_top < top - 1e-3
        ]
        if not candidates:
            return []
        nearest = max(candidates, key=lambda other: self.box[other][1])
        column = self.box[nearest][0]
        bottom = self.box[first][3]
        half = 0.5 * (bottom - top)
        for other, (o_left, o_top, _, o_bottom) in self.box.items():
            level = min(bottom, o_bottom) - max(top, o_top) >= half
            if other != first and level and o_left <= column + COLUMN_TOLERANCE:
                return []  # the row is labelled where it stands
        block = [nearest]
        while len(block) < HEADING_LINES:
            up = self._above(block[-1], HEADING_GAP)
            if up is None:
                break
            block.append(up)
        return [i for heading_line in reversed(block) for i in self.words[heading_line]]
