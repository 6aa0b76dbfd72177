"""What field building takes each WORD to be: the model's call, or a rule's in its place.

The model writes its call on each WORD block (``fieldwise.model.predict.enrich``): the class,
its probability, every class's probability and, for BIO models, where an entity begins.
Rules of field building (:mod:`fieldwise.fields.value_spans`) may replace a word's call; both
the rules and the detection runs read a word through ``call_of``, so they agree on it.

Example::

    call = call_of(word, overrides)       # None: no prediction on this word
    call.class_id, call.confidence, call.starts
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fieldwise.textract.document import Word

PREDICTED_CLASS = "PredictedClass"
PREDICTED_CONFIDENCE = "PredictedClassConfidence"
PROBABILITIES = "ClassificationProbabilities"
ENTITY_START = "PredictedEntityStart"


@dataclass(frozen=True, slots=True)
class WordCall:
    """A word's class for field building, how sure, and where its detection starts or ends."""

    class_id: int
    confidence: float
    starts: bool  # begins a new detection
    ends: bool = False  # the detection ends with this word


def span_key(first_id: str, last_id: str) -> str:
    """An expression's name across modules: its first and last WORD Ids (a rate expression
    and an amount expression inside it share numbers, never both ends)."""
    return f"{first_id}|{last_id}"


def model_call(word: Word) -> WordCall | None:
    """The model's own call on a word; None where it wrote no class."""
    predicted = word.block.get(PREDICTED_CLASS)
    if not isinstance(predicted, int):
        return None
    confidence = float(word.block.get(PREDICTED_CONFIDENCE, 1.0))  # type: ignore[arg-type]
    return WordCall(predicted, confidence, bool(word.block.get(ENTITY_START, False)))


def call_of(word: Word, overrides: dict[str, WordCall]) -> WordCall | None:
    """A rule's call on the word where one was made, else the model's."""
    return overrides.get(str(word.block["Id"])) or model_call(word)


def class_probability(word: Word, class_id: int, overrides: dict[str, WordCall]) -> float:
    """The model's probability that the word is of ``class_id``: from its probability row when
    it has one, else its call's confidence when the call is that class (0 otherwise)."""
    row = word.block.get(PROBABILITIES)
    if isinstance(row, list) and class_id < len(row):
        return float(row[class_id])
    call = call_of(word, overrides)
    return call.confidence if call is not None and call.class_id == class_id else 0.0


def span_vote(
    span: list[Word], class_ids: set[int], overrides: dict[str, WordCall]
) -> tuple[int, float] | None:
    """Which of ``class_ids`` a span of words is, when the model called any of its words one of
    them: the class with the highest probability summed over the span, and as confidence that
    class's mean probability over the words so called; None when it called none."""
    seeds = [
        w for w in span if (c := call_of(w, overrides)) is not None and c.class_id in class_ids
    ]
    if not seeds:
        return None
    best = max(
        sorted(class_ids),
        key=lambda c: sum(class_probability(w, c, overrides) for w in span),
    )
    return best, sum(class_probability(w, best, overrides) for w in seeds) / len(seeds)


def call_span(
    span: list[Word], class_id: int, confidence: float, overrides: dict[str, WordCall]
) -> None:
    """Make the span exactly one detection of ``class_id``."""
    for k, word in enumerate(span):
        starts, ends = k == 0, k == len(span) - 1
        overrides[str(word.block["Id"])] = WordCall(class_id, confidence, starts, ends)


def weighed_vote(
    words: Sequence[Word], likelihood: np.ndarray | None, classes: Sequence[int] | None = None
) -> tuple[int, float] | None:
    """The class of a group of words and its probability: the model's class probabilities
    averaged over the words, times a learned vote's ``likelihood`` (row label, head word) when
    there is one, over ``classes`` (all by default), normalised. None when a word has no
    probability row (predictions made elsewhere): then the tags are trusted as they are."""
    rows = [w.block.get(PROBABILITIES) for w in words]
    lists = [r for r in rows if isinstance(r, list) and r]
    if not lists or len(lists) != len(rows) or len({len(r) for r in lists}) != 1:
        return None
    scores = np.mean(np.asarray(lists, dtype=np.float64), axis=0)
    if likelihood is not None and likelihood.shape == scores.shape:
        scores = scores * likelihood
    keep = np.asarray(sorted(classes) if classes is not None else range(len(scores)))
    kept = scores[keep]
    total = kept.sum()
    best = int(np.argmax(kept))
    return int(keep[best]), float(kept[best] / total) if total > 0 else 0.0
