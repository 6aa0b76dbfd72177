"""Dates drawn whole around the model's words.

A BIO tagger on issuers it never saw often marks every word of "September 30, 2025" as the
start of its own entity, so the date falls apart into "September", "30," and "2025." — none of
which a date parser reads, so a ``select: first`` field skipped to a later, worse mention
("09/30/2025)" in a table footnote). A date has a fixed shape, so for fields normalised as
``date`` the shape draws the span and the model says only whether it is the field:

* a *date expression* on one line is one word of digits ("10/08/2025", "2025-09-30") or three to
  five words "September 30, 2025", "30 September 2025", "30 de septiembre de 2025", exactly as
  :func:`fieldwise.fields.normalize.normalize_date` reads them (a real calendar date);
* an expression holding a word the model called a date field becomes exactly one detection of
  the date field with the highest probability summed over its words; its confidence is the mean
  of that field's probability over the words the model called a date.

Example::

    date_expressions(["as", "of", "September", "30,", "2025."])    # [(2, 5)]
"""

from __future__ import annotations

import numpy as np

from fieldwise.fields.normalize import MONTH_NAMES, normalize_date
from fieldwise.fields.word_calls import WordCall, call_span, span_key, span_vote, weighed_vote
from fieldwise.textract.document import Word

_TRIM = ".,;:()[]\"'“”"
#: Word counts a date may span: "10/08/2025"; "Sept. 30, 2025"; "30 de septiembre de 2025".
_LENGTHS = (1, 3, 4, 5)


def _is_date(texts: list[str]) -> bool:
    """Whether these words are one date and nothing else (every word is part of it)."""
    words = [t.strip(_TRIM) for t in texts]
    if not all(words) or not (words[0][:1].isdigit() or words[0][:1].isalpha()):
        return False
    joined = " ".join(words)
    if normalize_date(joined) is None:
        return False
    # nothing before or after the date itself: dropping an end word must lose the date
    return len(words) == 1 or (
        normalize_date(" ".join(words[1:])) is None and normalize_date(" ".join(words[:-1])) is None
    )


def _may_start(text: str) -> bool:
    """Whether a date could begin with this word: a number or a month's name (cheap, so the
    parser runs only where a date can be)."""
    word = text.strip(_TRIM)
    return word[:1].isdigit() or word.casefold() in MONTH_NAMES


def date_expressions(texts: list[str]) -> list[tuple[int, int]]:
    """(start, end) of each date in one line's words, end exclusive, left to right."""
    found: list[tuple[int, int]] = []
    if not any(ch.isdigit() for text in texts for ch in text):
        return found
    k = 0
    while k < len(texts):
        if not _may_start(texts[k]):
            k += 1
            continue
        length = next(
            (n for n in _LENGTHS if k + n <= len(texts) and _is_date(texts[k : k + n])), None
        )
        if length is None:
            k += 1
            continue
        found.append((k, k + length))
        k += length
    return found


def date_calls(
    words: list[Word],
    date_ids: set[int],
    other_id: int,
    calls: dict[str, WordCall],
    evidence: dict[str, np.ndarray] | None = None,
) -> None:
    """Calls for one line: each date expression the model called a date field in becomes one
    detection of it. With ``evidence`` (:mod:`fieldwise.fields.date_labels`, by ``span_key``),
    the words before the date weigh in: the tagger's mean probabilities over
    the date times their likelihood choose between the date fields and "other", so a date
    the tagger missed may become the field and one it called the field may become "other"."""
    for start, end in date_expressions([w.text for w in words]):
        expression = words[start:end]
        seed = span_vote(expression, date_ids, calls)
        key = span_key(str(expression[0].block["Id"]), str(expression[-1].block["Id"]))
        likelihood = evidence.get(key) if evidence is not None else None
        vote = None
        if likelihood is not None:
            vote = weighed_vote(expression, likelihood, [*date_ids, other_id])
        if vote is None:  # no vote, or predictions without probability rows
            vote = seed
        elif vote[0] not in date_ids and seed is None:
            continue  # "other" and never called a date: the words stay as tagged
        if vote is not None:
            call_span(expression, *vote, calls)
