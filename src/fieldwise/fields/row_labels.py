"""What a rate or fee is, read from its row label: a naive-Bayes vote learned from the labels.

The word tagger learns the templates it is trained on: on a Chase page it knows that "Up to
29.99%" is the penalty APR, yet on an American Express page it calls "Prime Rate + 26.74%"
a cash-advance APR, though that row's label reads "Penalty APR and When it Applies". Rate tables
name their rows in much the same words at every issuer (US law asks for the same table), so a
vote that sees *only* the row label carries over to issuers never seen.

For each rate or amount expression (:mod:`fieldwise.fields.value_spans`) the evidence is the
words that open its visual row (the row label, :func:`fieldwise.model.features.row_context`)
and the few words before it on its line, lower-cased, letters only. ``fit`` counts them per
class on the training pages (an expression's class: the label most of its value words carry),
with add-one smoothing; ``likelihood`` gives P(words | class) normalised over classes, which
field building multiplies with the tagger's own class probabilities. Measured on unseen issuers
(README, fields benchmark): F1 0.536 → 0.622, the penalty APR 0.00 → 0.93.

Example::

    row_labels = fit_row_labels(train_pages, config)
    row_labels.save(model_dir / ROW_LABELS_FILE)
    evidence = row_labels.likelihood(["penalty", "apr", "and", "when", "it"])
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from fieldwise.annotate.dataset import LabeledPage, PageWords, page_words
from fieldwise.fields.config import FieldConfig, Normalize
from fieldwise.fields.table_cells import TableCells
from fieldwise.fields.value_spans import (
    AMOUNT_GRAMMAR,
    RATE_GRAMMAR,
    Expression,
    expressions,
)
from fieldwise.fields.word_calls import span_key
from fieldwise.fields.word_vote import WordVote
from fieldwise.model.features import row_context
from fieldwise.textract.document import TextractDocument

ROW_LABELS_FILE = "row_labels.json"
#: Words before an expression on its line that count as its label, besides its row's opening words.
WORDS_BEFORE = 4
_WORD = re.compile(r"[a-z]+")
#: Words of the values' own grammar ("Prime Rate + 21.99%"): part of a value, never its label.
_VALUE_WORDS = RATE_GRAMMAR.joiners | AMOUNT_GRAMMAR.joiners


@dataclass(frozen=True, slots=True)
class PageExpression:
    """An expression found on a page: its words' page indexes and its label words."""

    words: tuple[int, ...]  # page indexes of the expression's words
    values: tuple[int, ...]  # page indexes of its value words
    label: tuple[str, ...]  # its row label's words (lower case, letters only)


def page_expressions(page: PageWords) -> Iterator[PageExpression]:
    """Every rate and amount expression of a page, line by line, with its label words."""
    found = [
        (indexes, expression)
        for indexes in page.lines().values()
        for grammar in (RATE_GRAMMAR, AMOUNT_GRAMMAR)
        for expression in expressions([page.words[i] for i in indexes], grammar)
    ]
    # rows only for the words whose label is read: most of a page's words are no value
    context = row_context(page, only=[indexes[e.values[0]] for indexes, e in found])
    cells = TableCells(page) if found else None
    for indexes, expression in found:
        yield _located(page, context, cells, indexes, expression)


def _located(
    page: PageWords,
    context: np.ndarray,
    cells: TableCells | None,
    indexes: list[int],
    expression: Expression,
) -> PageExpression:
    first_value = indexes[expression.values[0]]
    opening = [int(i) for i in context[first_value] if i >= 0]
    before = indexes[max(0, expression.start - WORDS_BEFORE) : expression.start]
    # a heading labels table cells: a line that is the value alone ("(APR)" may lead it)
    alone = expression.start <= 1 and expression.end == len(indexes)
    heading = cells.heading(page.line_index[first_value]) if cells and alone else []
    label = label_tokens([page.words[i] for i in dict.fromkeys(opening + before + heading)])
    return PageExpression(
        tuple(indexes[expression.start : expression.end]),
        tuple(indexes[k] for k in expression.values),
        label,
    )


def label_tokens(words: Sequence[str], skip: frozenset[str] = _VALUE_WORDS) -> tuple[str, ...]:
    """A label's words as the votes read them: lower case, letters only, longer than one
    letter, without ``skip`` (by default the rate and amount grammars' own words)."""
    return tuple(
        token
        for word in words
        for token in _WORD.findall(word.lower())
        if len(token) > 1 and token not in skip
    )


def fit_row_labels(pages: Sequence[LabeledPage], config: FieldConfig) -> WordVote:
    """Count label words per class over the expressions of labelled pages (an expression's
    class: the label most of its value words carry)."""

    def examples() -> Iterator[tuple[tuple[str, ...], int]]:
        for page in pages:
            for found in page_expressions(page):
                votes = Counter(page.labels[i].class_id for i in found.values)
                yield found.label, votes.most_common(1)[0][0]

    return WordVote.fit(examples(), config, discriminative=True)


def has_typed_values(config: FieldConfig) -> bool:
    """Whether any field is a rate or an amount (the only fields the vote is used for)."""
    return bool(config.reported_ids(Normalize.percent, Normalize.amount, Normalize.money))


class Labelled(Protocol):
    """A value found on a page with the words that label it (an expression, a date)."""

    @property
    def words(self) -> tuple[int, ...]: ...
    @property
    def label(self) -> tuple[str, ...]: ...


def document_pages(doc: TextractDocument) -> list[PageWords]:
    """Every page's words, read once for all the votes' evidence."""
    return [page_words(doc, number) for number in range(1, doc.page_count + 1)]


def span_evidence(
    pages: Sequence[PageWords],
    vote: WordVote,
    found_on: Callable[[PageWords], Iterable[Labelled]],
) -> dict[str, np.ndarray]:
    """{a value's first and last WORD Ids (``word_calls.span_key``): its label's likelihood
    per class}, for every value ``found_on`` each page (``document_pages``) finds."""
    evidence: dict[str, np.ndarray] = {}
    for page in pages:
        for found in found_on(page):
            key = span_key(page.block_ids[found.words[0]], page.block_ids[found.words[-1]])
            evidence[key] = vote.likelihood(found.label)
    return evidence


def row_evidence(pages: Sequence[PageWords], row_labels: WordVote) -> dict[str, np.ndarray]:
    """The row-label likelihoods of every rate and amount expression (``span_evidence``)."""
    return span_evidence(pages, row_labels, page_expressions)
