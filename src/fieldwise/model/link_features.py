"""What the page says about whether two neighbouring words belong to one entity.

The tagger finds *what* a word is far better than *where* an entity ends: on FUNSD, scoring its
classes over the true entities gives 0.87 entity F1, its own entity boundaries 0.55. Boundaries
are mostly geometry and punctuation — a wide gap inside a row, a colon that ends a question, a
new line that is indented or spaced apart, a change of letter height — which a small tree
model learns from a few hundred pages where the tagger's 2-D tables cannot.

Each pair of words next to each other in reading order gets the numbers below; NaN where a
number does not exist (the gap to a word that is on another row). Heights are the pair's mean
word height, so the numbers do not depend on resolution.

Example::

    features = pair_features(page)     # (len(page.words) - 1, NUM_PAIR_FEATURES) float32
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from fieldwise.annotate.dataset import PageWords
from fieldwise.model.features import line_boxes

FEATURE_NAMES = (
    "same_line", "gap_x", "gap_y", "shift_left", "log_height_ratio", "indent_from_line_start",
    "rise", "a_colon", "a_period", "a_comma", "a_semicolon", "a_all_caps", "b_all_caps",
    "b_capitalised", "a_capitalised", "b_digit_first", "a_has_digit", "b_open_paren",
    "a_close_paren", "a_length", "b_length", "a_ends_line", "b_starts_line", "a_room_right",
    "a_char_width", "b_box_mark", "a_box_mark", "a_filler", "b_colon", "b_width",
    "gap_x_over_page", "gap_y_over_page", "gap_x_before", "gap_x_after", "a_line_words",
    "b_line_words", "gap_y_before", "gap_y_after", "colon_before_a", "colon_after_b",
)  # fmt: skip
NUM_PAIR_FEATURES = len(FEATURE_NAMES)
_BOX_MARKS = frozenset("□☐☑☒■[]")


def _caps(word: str) -> bool:
    return word.isupper() and any(ch.isalpha() for ch in word)


_FLAGS = (
    "colon", "period", "comma", "semicolon", "caps", "capitalised", "digit_first", "has_digit",
    "open_paren", "close_paren", "length", "mark_first", "mark", "filler",
)  # fmt: skip


@lru_cache(maxsize=1 << 16)
def word_flags_of(w: str) -> tuple[float, ...]:
    """One word's shape facts, in ``_FLAGS`` order (cached: most words of a page recur)."""
    return (
        w.endswith(":"), w.endswith("."), w.endswith(","), w.endswith(";"), _caps(w),
        w[:1].isupper(), w[:1].isdigit(), any(ch.isdigit() for ch in w), w.startswith("("),
        w.endswith(")"), len(w), w[:1] in _BOX_MARKS, w in _BOX_MARKS,
        bool(w) and all(ch in "_.-" for ch in w),
    )  # fmt: skip


def _word_flags(words: list[str]) -> dict[str, np.ndarray]:
    """Per word, the shape facts the pairs read (computed once per word, not per pair)."""
    table = np.asarray([word_flags_of(w) for w in words], dtype=np.float64)
    table = table.reshape(len(words), len(_FLAGS))
    return {name: table[:, k] for k, name in enumerate(_FLAGS)}


def pair_features(page: PageWords) -> np.ndarray:
    """(words - 1, NUM_PAIR_FEATURES): one row per reading-order neighbour pair (i, i + 1)."""
    n = len(page.words)
    if n < 2:
        return np.zeros((0, NUM_PAIR_FEATURES), dtype=np.float32)
    boxes = np.clip(np.asarray(page.boxes, dtype=np.float64), 0.0, 1.0)
    left, top, right, bottom = boxes.T
    height = np.maximum(bottom - top, 1e-3)
    lines = np.asarray(page.line_index)
    _, line_of = np.unique(lines, return_inverse=True)
    line_box = line_boxes(boxes, lines)  # each word's line's (left, top, right, bottom)
    first = np.zeros(n, dtype=bool)
    first[np.unique(line_of, return_index=True)[1]] = True
    last = np.zeros(n, dtype=bool)
    last[n - 1 - np.unique(line_of[::-1], return_index=True)[1]] = True
    f = _word_flags(page.words)
    a, b = slice(0, n - 1), slice(1, n)  # the pair's first and second word
    h = (height[a] + height[b]) / 2
    base = np.stack(
        [
            lines[a] == lines[b], (left[b] - right[a]) / h, (top[b] - bottom[a]) / h,
            (left[b] - left[a]) / h, np.log(height[b] / height[a]),
            (left[b] - line_box[a, 0]) / h, (top[b] - top[a]) / h,
            f["colon"][a], f["period"][a], f["comma"][a], f["semicolon"][a],
            f["caps"][a], f["caps"][b], f["capitalised"][b], f["capitalised"][a],
            f["digit_first"][b], f["has_digit"][a], f["open_paren"][b], f["close_paren"][a],
            f["length"][a], f["length"][b],
            last[a], first[b], (line_box[a, 2] - right[a]) / h,
            (right[a] - left[a]) / np.maximum(f["length"][a], 1) / h,
            f["mark_first"][b], f["mark"][a], f["filler"][a],
            f["colon"][b], (right[b] - left[b]) / h,
        ],
        axis=1,
    ).astype(np.float64)  # fmt: skip
    counts = np.bincount(line_of)[line_of]  # words on each word's line
    return np.concatenate([base, _context(base, counts, f["colon"])], axis=1).astype(np.float32)


def _context(base: np.ndarray, line_words: np.ndarray, colon: np.ndarray) -> np.ndarray:
    """How a pair's gaps compare with the page's and its neighbours' (a gap is wide or narrow
    only against the others), and the colons one word further out."""
    same = base[:, 0] > 0.5
    gap_x, gap_y = base[:, 1], base[:, 2]
    typical_x = float(np.median(gap_x[same])) if same.any() else 0.3
    typical_y = float(np.median(gap_y[~same])) if (~same).any() else 0.5
    nan = np.array([np.nan])
    x_on_row = np.where(same, gap_x, np.nan)
    return np.stack(
        [
            gap_x - typical_x,
            gap_y - typical_y,
            np.r_[nan, x_on_row[:-1]],
            np.r_[x_on_row[1:], nan],
            line_words[:-1],
            line_words[1:],
            np.r_[nan, gap_y[:-1]],
            np.r_[gap_y[1:], nan],
            np.r_[nan, colon[:-2]],
            np.r_[colon[2:], nan],
        ],
        axis=1,
    )
