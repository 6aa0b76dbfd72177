"""Box → word labels: which class each word takes from the boxes drawn on its page.

A word takes a class when at least half of its area lies inside one box of that class; when
boxes of several classes qualify, the lowest class id wins; otherwise the word is "other" (the
last class id). In the ``bio`` scheme a new entity begins at the first word of each box.
Boxes may name the entity they belong to (``entity``): labels made from known values draw a
value that wraps over lines, or that had to be boxed word by word, as several boxes of one
entity, and the boundary model (:mod:`fieldwise.model.links`) must read them as one.

Example::

    labels = label_words([Box(.1, .1, .2, .12)], [LabelBox(0, Box(.05, .05, .5, .2))], other_id=3)
    bio_tags(labels, ["header", "question", "answer", "other"])   # ["B-header"]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fieldwise.textract.geometry import Box

#: The share of a word's area that must lie inside a box for the word to take its class.
MIN_INSIDE = 0.5


@dataclass(frozen=True, slots=True)
class LabelBox:
    """A box drawn by a labeller: a class id and a box in page fractions."""

    class_id: int
    box: Box
    entity: int | None = None  # boxes with one entity number are one entity; None: its own


@dataclass(frozen=True, slots=True)
class WordLabel:
    class_id: int
    box_index: int | None  # the box the class came from (None for "other")
    begins: bool  # the first word of its box in reading order (BIO's B-)
    entity: int | None = None  # the entity of its box: its entity number, else -1 - box index


def _inside_share(word: Box, box: Box) -> float:
    area = word.area
    return word.intersection(box) / area if area > 0 else 0.0


def label_words(words: Sequence[Box], boxes: Sequence[LabelBox], other_id: int) -> list[WordLabel]:
    """A label per word (words in reading order); see the module docstring for the rule."""
    labels: list[WordLabel] = []
    previous_box: int | None = None
    for word in words:
        best: tuple[int, float, int] | None = None  # (class id, -share, box index): min wins
        for index, label_box in enumerate(boxes):
            share = _inside_share(word, label_box.box)
            if share >= MIN_INSIDE:
                candidate = (label_box.class_id, -share, index)
                if best is None or candidate < best:
                    best = candidate
        if best is None:
            labels.append(WordLabel(other_id, None, False))
            previous_box = None
            continue
        class_id, _, index = best
        number = boxes[index].entity
        entity = number if number is not None else -1 - index
        labels.append(WordLabel(class_id, index, index != previous_box, entity))
        previous_box = index
    return labels


def io_tags(labels: Sequence[WordLabel], class_names: Sequence[str]) -> list[str]:
    """One class name per word (the original design's scheme); "other" is the last name."""
    return [class_names[label.class_id] for label in labels]


def bio_tags(labels: Sequence[WordLabel], class_names: Sequence[str]) -> list[str]:
    """``B-name``/``I-name`` per word, ``O`` for "other" (the last class id)."""
    other_id = len(class_names) - 1
    tags = []
    for label in labels:
        if label.class_id == other_id:
            tags.append("O")
        else:
            prefix = "B" if label.begins else "I"
            tags.append(f"{prefix}-{class_names[label.class_id]}")
    return tags
