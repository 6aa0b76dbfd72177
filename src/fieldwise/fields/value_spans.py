"""Rates and fees segmented by their grammar, classed by the model's vote.

A word tagger is good at saying *what* a number on a line is (the penalty APR, the late fee)
and poor at saying where a value written in several words begins and ends: on issuers it never
saw it cuts "Prime Rate + 12.74% to Prime Rate + 21.74%" into "+ 12.74% to" and "+ 21.74%", or
keeps "$250" out of "None to $250". Rate and fee expressions have a small, fixed grammar, so
here the grammar draws the span and the model only chooses its class:

* a *rate expression* on one line is a run of percentages joined by "to", "or", "-", "+",
  "plus", "Prime Rate", "Up to", "None" (and their Spanish forms "a", "hasta", "ninguno"),
  starting with a rate or one of "Prime", "Up", "None", "hasta", ending with a rate;
* an *amount expression* is the same with money ("$40", "₹500", "Rs. 500"), percentages and
  "None"/"Nil" as its values, joined by "to", "or", "-", "Up to", "Either" ("$0 to $550",
  "Up to $40", "None to $250", "Either $5 or 3%", "$5 o 5%").

The expression's class is the argmax of its value words' class probabilities, averaged
(``ClassificationProbabilities``, which every fieldwise model writes). When that class is a
field normalised as ``percent``, the expression becomes exactly one detection of it, whatever
the model's own boundaries were (an APR is the rate and nothing else). When it is "other", the
expression is no field's value, whatever the model tagged its words: the row label "Cash
Advance" outvotes a tagger that learned "Either $5 or 5% of…" as a balance-transfer fee on
another issuer (unseen-issuer F1 0.830 → 0.839, P 0.861 → 0.880). An expression that is an
operand of a calculation ("$30,300 minus $300 equals $30,000", a worked minimum-payment
example) is no field's value either, and neither is a rate named a periodic rate or a cap
right before it ("(DPR) 0.038328%", "Maximum APR 29.99%", "APR máxima del 29.99%"): a daily
rate is no APR, and a variable rate's cap, repeated under every footnote, outvoted the table's
one cash-advance APR (0.848 → 0.850, P 0.895 → 0.899). When it is a field
normalised as ``amount`` or ``money``, the expression starts a detection of that field (words
the model tagged before it, "Fee" or "% of Transaction", stay out), and a fee stated as a
sentence runs on to the sentence's end ("Either $5 or 3%" → "Either $5 or 3% of the amount of
each transfer, whichever is greater."). Any other vote leaves the words as the model tagged
them. With a row-label vote (:mod:`fieldwise.fields.row_labels`) the class probabilities are
multiplied by it first, and a one-word amount ("None") may be named by it. Measured on the
credit-card agreements of issuers the model never saw (README, fields benchmark): unseen-issuer
F1 0.437 → 0.536 with the grammar alone, 0.673 with the row-label vote and sentence ends.

Addresses (fields normalised as ``address``) get two rules of the same kind: a mention the
model began at the street ("Liberty Street, New York…") begins at its house number ("28")
or at "P.O." before "Box" (0.673 → 0.714); one it began inside the name before the street
("CT Corporation System, 28 Liberty Street": at "System,") begins at the house number
(a fresh training that did so in 17 Amex agreements: 0.829 → 0.859).

Example::

    calls = value_calls(doc, config)          # {WORD Id: WordCall} for words it changes
    detections = detect(doc, config)          # applies them by default
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from fieldwise.fields.config import FieldConfig, Normalize
from fieldwise.fields.date_spans import date_calls
from fieldwise.fields.name_spans import name_calls, page_phrases
from fieldwise.fields.word_calls import WordCall, call_of, call_span, span_key, weighed_vote
from fieldwise.fields.word_vote import WordVote
from fieldwise.textract.document import TextractDocument, Word

_RATE = re.compile(r"^\d+(?:\.\d+)?%(?:apr)?$")  # "34.99%APR." as the PDF ran it together
_MONEY = re.compile(r"^(?:[$₹€£`]|rs\.?\s?)\d[\d,]*(?:\.\d+)?$")
_NONE_WORDS = frozenset({"none", "nil", "ninguno", "ninguna"})
_TRIM = ".,;:()"


@dataclass(frozen=True, slots=True)
class Grammar:
    """Which words an expression is made of, which may open it, and what counts as a value."""

    joiners: frozenset[str]  # openers included
    openers: frozenset[str]
    amounts: bool  # money and "None"/"Nil" are values too, not only rates

    def role(self, text: str) -> str | None:
        """The word's part: "value", the joiner itself, or None (it ends an expression)."""
        token = text.strip().casefold().strip(_TRIM)
        if _RATE.match(token):
            return "value"
        if self.amounts and (token in _NONE_WORDS or _MONEY.match(token)):
            return "value"
        return token if token in self.joiners else None


RATE_GRAMMAR = Grammar(
    joiners=frozenset(
        {"prime", "rate", "+", "plus", "to", "-", "–", "—", "or", "up", "a", "hasta"}
        | {"none", "ninguno"}
    ),
    openers=frozenset({"prime", "up", "none", "hasta", "ninguno"}),
    amounts=False,
)
AMOUNT_GRAMMAR = Grammar(
    joiners=frozenset({"to", "-", "–", "—", "or", "o", "a", "up", "hasta", "either"}),
    openers=frozenset({"up", "hasta", "either"}),
    amounts=True,
)
#: How far (in words) a fee statement may run on after its amounts to reach its sentence's end.
SENTENCE_REACH = 25
#: Words that make the numbers beside them a calculation's operands ("$30,300 minus $300
#: equals $30,000", "15.99% divided by 365"): a worked example, never a term of the agreement.
_OPERATORS = frozenset({"minus", "equals", "multiplied", "divided", "times", "=", "×"})
#: Words that make a rate shortly after them some other rate than the agreement's APR: a daily
#: or monthly periodic rate ("(DPR) 0.038328%", "tasa periódica diaria actual de 0.05135%") or
#: the cap of a variable rate ("Maximum APR 29.99%", "APR máxima del 29.99%").
_OTHER_RATE_WORDS = frozenset({"dpr", "periodic", "periódica", "maximum", "máxima", "max"})
#: How many words before a rate such a word may stand ("tasa periódica diaria actual de").
QUALIFIER_REACH = 4


@dataclass(frozen=True, slots=True)
class Expression:
    start: int  # first word's index in its line
    end: int  # one past the last word
    values: tuple[int, ...]  # indexes of its value words


def expressions(texts: Sequence[str], grammar: Grammar) -> list[Expression]:
    """Maximal expressions in one line's words: opened by a value or an opener, closed by a
    value, every word between them a value or a joiner."""
    return list(_expressions(tuple(texts), grammar))


@lru_cache(maxsize=8192)
def _expressions(texts: tuple[str, ...], grammar: Grammar) -> tuple[Expression, ...]:
    # cached: field building reads each line twice, for the row-label evidence
    # (row_labels.row_evidence) and for the calls (value_calls)
    roles = [grammar.role(t) for t in texts]
    found: list[Expression] = []
    i = 0
    while i < len(texts):
        if roles[i] is None:
            i += 1
            continue
        j = i
        while j < len(texts) and roles[j] is not None:
            j += 1
        run = list(range(i, j))
        while run and roles[run[0]] != "value" and roles[run[0]] not in grammar.openers:
            run.pop(0)
        while run and roles[run[-1]] != "value":
            run.pop()
        values = tuple(k for k in run if roles[k] == "value")
        if values:
            found.append(Expression(run[0], run[-1] + 1, values))
        i = j
    return tuple(found)


def _in_calculation(texts: Sequence[str], expression: Expression) -> bool:
    """Whether an operator stands right before or after the expression ("multiplied by" and
    "divided by" before it count by their first word)."""

    def word(k: int) -> str:
        return texts[k].casefold().strip(_TRIM) if 0 <= k < len(texts) else ""

    before = expression.start - 1
    if word(before) == "by":
        before -= 1
    return word(before) in _OPERATORS or word(expression.end) in _OPERATORS


def _other_rate(texts: Sequence[str], expression: Expression) -> bool:
    """Whether the words right before a rate name it a periodic rate or a cap, not an APR."""
    before = texts[max(0, expression.start - QUALIFIER_REACH) : expression.start]
    return any(t.casefold().strip(_TRIM) in _OTHER_RATE_WORDS for t in before)


def _class_of(word: Word, calls: dict[str, WordCall]) -> int | None:
    call = call_of(word, calls)
    return call.class_id if call else None


def expression_key(words: Sequence[Word], expression: Expression) -> str:
    first, last = words[expression.start], words[expression.end - 1]
    return span_key(str(first.block["Id"]), str(last.block["Id"]))


def _vote(
    words: list[Word], expression: Expression, evidence: dict[str, np.ndarray]
) -> tuple[int, float] | None:
    """The class and its probability: the tagger's mean over the value words, times the row
    label's likelihood where there is one (:mod:`fieldwise.fields.row_labels`)."""
    values = [words[k] for k in expression.values]
    return weighed_vote(values, evidence.get(expression_key(words, expression)))


def _line_calls(
    words: list[Word],
    next_words: list[Word] | None,
    rate_ids: set[int],
    amount_ids: set[int],
    other_id: int,
    evidence: dict[str, np.ndarray],
    calls: dict[str, WordCall],
) -> None:
    texts = [w.text for w in words]
    rates = expressions(texts, RATE_GRAMMAR)
    for expression in rates:
        if _in_calculation(texts, expression):
            call_span(words[expression.start : expression.end], other_id, 1.0, calls)
            continue
        vote = _vote(words, expression, evidence)
        if vote is not None and vote[0] in rate_ids and _other_rate(texts, expression):
            vote = (other_id, 1.0)  # an APR's cap or a periodic rate ("Maximum 3%" may be a fee)
        if vote is not None and vote[0] in rate_ids | {other_id}:
            call_span(words[expression.start : expression.end], *vote, calls)
    for expression in expressions(texts, AMOUNT_GRAMMAR):
        if any(
            r.start <= expression.start
            and expression.end <= r.end
            and r.end - r.start > expression.end - expression.start
            for r in rates
        ):
            continue  # "17.74%" inside "Prime + 17.74% to Prime + 20.74%" is part of a rate
        if _in_calculation(texts, expression):
            call_span(words[expression.start : expression.end], other_id, 1.0, calls)
            continue
        earlier = calls.get(str(words[expression.start].block["Id"]))
        if earlier is not None and earlier.class_id in amount_ids and not earlier.starts:
            continue  # inside a fee statement begun before it ("…; each authorized user: none
            # to $195 per year." goes on from "None to $795" on the line above)
        one_word = expression.end - expression.start == 1
        if one_word and expression_key(words, expression) not in evidence:
            continue  # one word and no row label: the model's own call already is the vote
        vote = _vote(words, expression, evidence)
        if vote is not None and vote[0] == other_id:
            call_span(words[expression.start : expression.end], *vote, calls)
        if vote is None or vote[0] not in amount_ids:
            continue
        class_id, confidence = vote
        statement = words[expression.start : expression.end] + _sentence_rest(
            words, expression.end, next_words
        )
        for k, word in enumerate(statement):
            starts = k == 0
            ends = k == len(statement) - 1 and len(statement) > expression.end - expression.start
            calls[str(word.block["Id"])] = WordCall(class_id, confidence, starts, ends)


def _sentence_close(texts: list[str], first: int, reach: int) -> int | None:
    """The index of the first word from ``first`` on, within ``reach`` words, that closes a
    sentence: it ends in "." or ";" before a capital, a non-letter or the line's end."""
    for k in range(first, min(len(texts), first + reach + 1)):
        if texts[k].endswith((".", ";")):
            following = texts[k + 1][:1] if k + 1 < len(texts) else ""
            if not following or following.isupper() or not following.isalpha():
                return k
    return None


def _sentence_rest(words: list[Word], end: int, next_words: list[Word] | None) -> list[Word]:
    """The words after a fee's amounts up to its sentence's end: "Either $5 or 3%" runs on to
    "... whichever is greater.", onto the next line when the sentence goes on there (that line
    starts in lower case and closes the sentence within ``SENTENCE_REACH`` words in all). None
    when the sentence ends nowhere near: then the model's words decide."""
    texts = [w.text for w in words]
    if end > 0 and (close := _sentence_close(texts, end - 1, SENTENCE_REACH)) is not None:
        return words[end : close + 1]
    left = SENTENCE_REACH - (len(texts) - end)
    if not next_words or left <= 0 or not next_words[0].text[:1].islower():
        return []
    close = _sentence_close([w.text for w in next_words], 0, left)
    return [] if close is None else words[end:] + next_words[: close + 1]


_HOUSE_NUMBER = re.compile(r"^\d{1,6}(?:-\d{1,6})?[A-Za-z]?$")
_PO = re.compile(r"^p\.?\s?o\.?$|^p\.$|^o\.$", re.IGNORECASE)
#: Street-name words an address may have before the model's first word ("28 Liberty Street").
STREET_REACH = 4


def _address_start(texts: list[str], first: int) -> int | None:
    """Where a street address that the model began at ``first`` really begins: its house
    number ("28" in "28 Liberty Street") or "P.O." / "P. O." before "Box", over at most
    ``STREET_REACH`` capitalised street-name words; None when the words before it are no such
    start."""
    k = first - 1
    box = first
    while box < len(texts) - 1 and _PO.match(texts[box]):
        box += 1  # the model began inside "P. O. Box" (at "O.")
    if box < len(texts) and texts[box].casefold() == "box":
        while k >= 0 and _PO.match(texts[k]):
            k -= 1
        return k + 1 if k + 1 < first else None
    for _ in range(STREET_REACH + 1):
        if k < 0:
            return None
        word = texts[k]
        if _HOUSE_NUMBER.match(word):
            return k
        if not (word[:1].isupper() and word.isalpha()):
            return None  # "System," or "to": not part of a street line
        k -= 1
    return None


def _street_after_name_tail(texts: list[str], first: int) -> int | None:
    """Where the street address begins when the model began it inside a name: at the house
    number or "P.O." after the comma that ends the name ("CT Corporation System, 28 Liberty
    Street": the model began at "System,"); None when the mention begins where a name or the
    street itself begins."""
    if first == 0 or _HOUSE_NUMBER.match(texts[first]) or _PO.match(texts[first]):
        return None
    before = texts[first - 1]
    if not (before[:1].isupper() and before[-1:].isalpha()):
        return None  # the word before ends a phrase or is no name: the mention starts a name
    for k in range(first + 1, min(len(texts), first + STREET_REACH + 1)):
        if texts[k - 1].endswith(",") and (_HOUSE_NUMBER.match(texts[k]) or _PO.match(texts[k])):
            return k
    return None


def _address_calls(
    words: list[Word], address_ids: set[int], other_id: int, calls: dict[str, WordCall]
) -> None:
    texts = [w.text for w in words]
    for first, word in enumerate(words):
        call = call_of(word, calls)
        if call is None or call.class_id not in address_ids:
            continue
        if first > 0 and _class_of(words[first - 1], calls) == call.class_id and not call.starts:
            continue  # not where the model's mention begins
        if (street := _street_after_name_tail(texts, first)) is not None:
            call_span(words[first:street], other_id, call.confidence, calls)
            calls[str(words[street].block["Id"])] = WordCall(call.class_id, call.confidence, True)
            continue
        start = _address_start(texts, first)
        if start is None:
            continue
        for k in range(start, first + 1):
            calls[str(words[k].block["Id"])] = WordCall(call.class_id, call.confidence, k == start)


def value_calls(
    doc: TextractDocument,
    config: FieldConfig,
    evidence: dict[str, np.ndarray] | None = None,
    name_heads: WordVote | None = None,
    date_evidence: dict[str, np.ndarray] | None = None,
) -> dict[str, WordCall]:
    """{WORD Id: WordCall} for the words whose class or boundaries the grammar changes;
    ``evidence``: row-label likelihoods by ``expression_key`` (``row_labels.row_evidence``);
    ``name_heads``: the head-word vote for names (:mod:`fieldwise.fields.name_heads`);
    ``date_evidence``: the date-label likelihoods (``date_labels.date_evidence``)."""
    rate_ids = config.reported_ids(Normalize.percent)
    amount_ids = config.reported_ids(Normalize.amount, Normalize.money)
    address_ids = config.reported_ids(Normalize.address)
    name_ids = config.reported_ids(Normalize.name)
    date_ids = config.reported_ids(Normalize.date)
    calls: dict[str, WordCall] = {}
    if not (rate_ids or amount_ids or address_ids or name_ids or date_ids):
        return calls
    for page in doc.pages:
        lines = page.lines
        if name_ids:
            phrases = page_phrases([line.words for line in lines], name_ids, name_heads)
            covered = {str(w.block["Id"]) for found in phrases for p in found for w in p}
        for number, line in enumerate(lines):
            if rate_ids or amount_ids:
                following = lines[number + 1].words if number + 1 < len(lines) else None
                _line_calls(
                    line.words,
                    following,
                    rate_ids,
                    amount_ids,
                    config.other_id,
                    evidence or {},
                    calls,
                )
            if address_ids:
                _address_calls(line.words, address_ids, config.other_id, calls)
            if name_ids:
                name_calls(
                    line.words,
                    phrases[number],
                    covered,
                    name_ids,
                    config.other_id,
                    calls,
                    name_heads,
                )
            if date_ids:
                date_calls(line.words, date_ids, config.other_id, calls, date_evidence)
    return calls
