"""What a date is, read from the words before it: a vote learned from the labels.

An agreement holds many dates, and few are its effective date: "Effective as of March 11,
2025" and "This information is accurate as of September 30, 2025" are; "based on the Prime
Rate as of September 30, 2025" is not (the annotation guidance rules out the prime rate's
date). A tagger that never saw an issuer's template reads mostly the date's own shape, so on
Chase it called the prime rate's date the effective date in five agreements, and on
American Express agreements a tagger trained on other issuers missed "As of: 10/08/2025".
The words before a date say which it is, in much the same words at every issuer.

For each date expression (:func:`fieldwise.fields.date_spans.date_expressions`) the evidence
is the words that open its visual row and the few words before it on its line, as for rates
and fees (:mod:`fieldwise.fields.row_labels`, whose word vote, naive Bayes times logistic
regression, it shares). Field building multiplies its likelihood with the tagger's mean class
probabilities over the date's words (:func:`fieldwise.fields.date_spans.date_calls`).

Example::

    dates = fit_date_labels(train_pages, config)
    dates.save(model_dir / DATE_LABELS_FILE)
    evidence = date_evidence(document_pages(doc), dates)   # {span_key: likelihood per class}
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from fieldwise.annotate.dataset import LabeledPage, PageWords
from fieldwise.fields.config import FieldConfig, Normalize
from fieldwise.fields.date_spans import date_expressions
from fieldwise.fields.row_labels import WORDS_BEFORE, label_tokens, span_evidence
from fieldwise.fields.word_vote import WordVote
from fieldwise.model.features import row_context

DATE_LABELS_FILE = "date_labels.json"


@dataclass(frozen=True, slots=True)
class PageDate:
    """A date expression found on a page: its words' page indexes and its label words."""

    words: tuple[int, ...]
    label: tuple[str, ...]


def page_dates(page: PageWords) -> Iterator[PageDate]:
    """Every date expression of a page, line by line, with its label words ("prime" and
    "rate" included: here they are what says a date is no effective date)."""
    found = [
        (indexes, start, end)
        for indexes in page.lines().values()
        for start, end in date_expressions([page.words[i] for i in indexes])
    ]
    if not found:
        return
    context = row_context(page, only=[indexes[start] for indexes, start, _ in found])
    for indexes, start, end in found:
        opening = [int(i) for i in context[indexes[start]] if i >= 0]
        before = indexes[max(0, start - WORDS_BEFORE) : start]
        words = [page.words[i] for i in dict.fromkeys(opening + before)]
        yield PageDate(tuple(indexes[start:end]), label_tokens(words, frozenset()))


def has_dates(config: FieldConfig) -> bool:
    return bool(config.reported_ids(Normalize.date))


def fit_date_labels(pages: Sequence[LabeledPage], config: FieldConfig) -> WordVote:
    """Count label words per class over the date expressions of labelled pages: a date field
    when most of the date's words carry it, else "other"."""
    date_ids = config.reported_ids(Normalize.date)

    def examples() -> Iterator[tuple[tuple[str, ...], int]]:
        for page in pages:
            for found in page_dates(page):
                votes = Counter(page.labels[i].class_id for i in found.words)
                class_id = votes.most_common(1)[0][0]
                yield found.label, class_id if class_id in date_ids else config.other_id

    return WordVote.fit(examples(), config, discriminative=True)


def date_evidence(pages: Sequence[PageWords], dates: WordVote) -> dict[str, np.ndarray]:
    """The date-label likelihoods of every date expression (``row_labels.span_evidence``)."""
    return span_evidence(pages, dates, page_dates)
