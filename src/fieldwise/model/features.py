"""Layout and shape features per word, fed to the model next to its 2-D position embeddings.

LayoutLM's 2-D tables start untrained from MiniLM and 134 forms are too few to learn them
(notes/funsd-calibration.md). These few continuous numbers say directly what the tables would
have to learn: where the word and its LINE are, the gap to the previous and next word, whether
a new line starts, and the casing the uncased tokenizer throws away (headers are often in
capitals, questions end with a colon). A zero-initialised projection adds them to the word
embeddings, so the model starts as plain MiniLM.

Example::

    feats = word_features(page)   # (len(page.words), NUM_FEATURES) float32
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from fieldwise.annotate.dataset import PageWords

NUM_FEATURES = 24
#: Bumped whenever the features change, so that a model is never fed features it was not trained on.
FEATURES_VERSION = 1


#: How many words of a word's row (those left of it, leftmost first) the model may look at.
ROW_CONTEXT_WORDS = 6


def row_context(
    page: PageWords, size: int = ROW_CONTEXT_WORDS, only: Sequence[int] | None = None
) -> np.ndarray:
    """(words, size) indexes of the words that open each word's visual row, -1 where none.

    In a rate table the row label ("Annual Fee", "Late Payment") is what says which field a
    value is, and it sits at the left of the value's row, wherever the template puts the table.
    Words count as one row when they overlap vertically by half the smaller height. ``only``:
    the words whose rows are wanted (the others' rows stay -1): a few words of a page cost a
    few rows of the comparison, not the whole page squared.
    """
    n = len(page.words)
    out = np.full((n, size), -1, dtype=np.int64)
    if n == 0 or size == 0:
        return out
    wanted = np.arange(n) if only is None else np.unique(np.asarray(only, dtype=np.int64))
    if wanted.size == 0:
        return out
    boxes = np.clip(np.asarray(page.boxes, dtype=np.float64), 0.0, 1.0)
    top, bottom, left, right = boxes[:, 1], boxes[:, 3], boxes[:, 0], boxes[:, 2]
    height = np.maximum(bottom - top, 1e-4)
    w = wanted
    overlap = np.minimum(bottom[w, None], bottom[None, :]) - np.maximum(top[w, None], top[None, :])
    same_row = overlap >= 0.5 * np.minimum(height[w, None], height[None, :])
    before = right[None, :] <= left[w, None] + 1e-3  # j ends before i starts
    order = np.argsort(left, kind="stable")
    candidates = (same_row & before)[:, order]
    rank = np.cumsum(candidates, axis=1) - 1  # each candidate's place in its row, leftmost 0
    rows, columns = np.nonzero(candidates & (rank < size))
    out[w[rows], rank[rows, columns]] = order[columns]
    return out


def normalized_boxes(page: PageWords) -> np.ndarray:
    """Word boxes as LayoutLM wants them: integers 0–1000, (left, top, right, bottom)."""
    if not page.boxes:
        return np.zeros((0, 4), dtype=np.int64)
    boxes = np.clip(np.asarray(page.boxes, dtype=np.float64), 0.0, 1.0)
    boxes[:, 2] = np.maximum(boxes[:, 2], boxes[:, 0])
    boxes[:, 3] = np.maximum(boxes[:, 3], boxes[:, 1])
    return np.rint(boxes * 1000).astype(np.int64)


def line_boxes(boxes: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Each word's LINE box: the union of the boxes of the words on its line."""
    _, line_of = np.unique(lines, return_inverse=True)
    count = int(line_of.max()) + 1
    low = np.full((count, 2), np.inf)
    high = np.full((count, 2), -np.inf)
    np.minimum.at(low, line_of, boxes[:, :2])
    np.maximum.at(high, line_of, boxes[:, 2:])
    return np.concatenate([low[line_of], high[line_of]], axis=1)


@lru_cache(maxsize=1 << 16)
def word_shape(word: str) -> tuple[float, ...]:
    """Cached: a page's words are mostly words of earlier pages ("the", "Date:")."""
    letters = [c for c in word if c.isalpha()]
    upper = bool(letters) and all(c.isupper() for c in letters)
    return (
        float(upper and len(letters) > 1),
        float(bool(letters) and letters[0].isupper()),
        float(any(c.isdigit() for c in word)),
        float(word.endswith(":")),
        float(bool(word) and not any(c.isalnum() for c in word)),
    )


def word_features(page: PageWords) -> np.ndarray:
    """(words, NUM_FEATURES) float32, each feature roughly in [-1, 1]."""
    n = len(page.words)
    if n == 0:
        return np.zeros((0, NUM_FEATURES), dtype=np.float32)
    boxes = np.clip(np.asarray(page.boxes, dtype=np.float64), 0.0, 1.0)
    lines = np.asarray(page.line_index)
    line_box = line_boxes(boxes, lines)
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    height = np.maximum(boxes[:, 3] - boxes[:, 1], 1e-4)
    prev = np.r_[0, np.arange(n - 1)]
    nxt = np.r_[np.arange(1, n), n - 1]
    first = np.r_[True, lines[1:] != lines[:-1]]
    last = np.r_[lines[1:] != lines[:-1], True]
    gap_prev = np.where(first, 0.0, boxes[:, 0] - boxes[prev, 2])
    gap_next = np.where(last, 0.0, boxes[nxt, 0] - boxes[:, 2])
    # vertical step from the previous line, in units of the word's own height (clipped)
    dy_prev = np.where(first, np.clip((cy - cy[prev]) / height / 10, -1, 1), 0.0)
    dy_prev[0] = 1.0
    dx_prev_line = np.where(first, np.clip(boxes[:, 0] - line_box[prev, 0], -1, 1), 0.0)
    line_len = np.bincount(lines - lines.min())[lines - lines.min()]
    index = np.arange(n)
    position = (index - np.maximum.accumulate(np.where(first, index, 0))).astype(np.float64)
    shape = np.asarray([word_shape(w) for w in page.words], dtype=np.float64)
    columns = [
        boxes,  # 4
        line_box,  # 4
        np.clip(gap_prev * 10, -1, 1)[:, None],
        np.clip(gap_next * 10, -1, 1)[:, None],
        dy_prev[:, None],
        dx_prev_line[:, None],
        np.where(first, np.clip((boxes[:, 1] - line_box[prev, 3]) * 20, -1, 1), 0.0)[:, None],
        first[:, None],
        last[:, None],
        np.clip(height * 20, 0, 1)[:, None],
        (position / np.maximum(line_len - 1, 1))[:, None],
        np.minimum(line_len / 10, 1)[:, None],
        (lines / max(int(lines.max()), 1))[:, None],
        shape,  # 5
    ]
    out = np.concatenate([np.asarray(c, dtype=np.float64).reshape(n, -1) for c in columns], 1)
    assert out.shape[1] == NUM_FEATURES, out.shape
    return out.astype(np.float32)
