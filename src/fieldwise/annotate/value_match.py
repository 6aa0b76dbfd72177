"""Find a known value among a page's words, tolerant of layout and typography.

A value in a database ("Up to $40", "Transaction fee") and the same value on a page rarely agree
character for character: the page breaks it over lines or table cells, hyphenates a word at a
line end ("Trans-" + "action"), capitalises differently, or sets "®", curly quotes and dashes
that the database does not have. So both sides are reduced to one *stream* of characters
without any whitespace, dashes or trademark signs, lower-cased (NFKC + casefold), and the value
is searched as a substring of the page's stream. Each stream character remembers its word, so a
match maps back to a run of words in reading order, whichever lines and cells they sit in.

Dropping every dash makes "Trans-"/"action" equal "Transaction" and "79998-1537" equal
"799981537" (pdftotext and our text layer do not always agree where a hyphen went). A match must
begin and end on a word boundary (or next to punctuation), so "$40" does not match inside
"$400", "None" not inside "Nonetheless", and "$40" not inside "$40.00".

The module also answers the two page-level questions a weak label raises: which occurrence of
an ambiguous value ("None", a rate shared by two rows) belongs to a field (``context_score``:
the field's row label beside, above or just before it), and which boxes give the matched words
back under the box→word rule (``place_boxes``: one box per line, per-word boxes where a line
box would take a neighbour).

Example::

    stream = WordStream.build(["Foreign", "Trans-", "action", "Fee:", "3%."])
    stream.find("transaction fee")      # [(1, 4)]: words 1..3
    stream.find("3%")                   # [(4, 5)]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from fieldwise.annotate.manifest import BoxLabels
from fieldwise.annotate.word_labels import LabelBox, label_words
from fieldwise.textract.geometry import Box, union

#: Words before an occurrence (reading order) searched for its field's keywords.
CONTEXT_WORDS = 8
#: Line heights above an occurrence searched for its row label (a label cell of several lines).
ABOVE_LINES = 3
#: Values this short (normalised characters) need their field's row label to be labelled
#: where they occur several times on a page (see ``is_generic``).
GENERIC_CHARS = 10
#: Share of a word box taken off each side when a value's words get a box each.
SHRINK = 0.1

#: Characters that carry no matching information: whitespace is handled separately; dashes
#: (line-break hyphens, en/em dashes, soft hyphens, pdfium's U+FFFE), trademark signs and
#: zero-width characters are set differently by different text extractors.
_DROP = set(
    "-\u00ad\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufffe\u00ae\u2122\u00a9\u200b\u200c\u200d\ufeff"
)
_MAP = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00b4": "'"})


def normalise(text: str) -> str:
    """The characters of ``text`` that matching compares, in order (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text).translate(_MAP).casefold()
    return "".join(c for c in text if not c.isspace() and c not in _DROP)


@dataclass(frozen=True, slots=True)
class WordStream:
    """The normalised characters of a run of words and, for each character, its word."""

    text: str
    owner: tuple[int, ...]  # word index of each character of ``text``
    first: tuple[bool, ...]  # the character is its word's first kept character
    last: tuple[bool, ...]  # … its word's last kept character

    @classmethod
    def build(cls, words: Sequence[str]) -> WordStream:
        chars: list[str] = []
        owner: list[int] = []
        first: list[bool] = []
        last: list[bool] = []
        for index, word in enumerate(words):
            kept = normalise(word)
            for position, char in enumerate(kept):
                chars.append(char)
                owner.append(index)
                first.append(position == 0)
                last.append(position == len(kept) - 1)
        return cls("".join(chars), tuple(owner), tuple(first), tuple(last))

    def find(self, value: str) -> list[tuple[int, int]]:
        """Every non-overlapping occurrence of ``value`` as (first word, last word + 1)."""
        needle = normalise(value)
        if not needle:
            return []
        spans: list[tuple[int, int]] = []
        start = self.text.find(needle)
        while start >= 0:
            end = start + len(needle)
            if self._bounded(start, end):
                spans.append((self.owner[start], self.owner[end - 1] + 1))
                start = self.text.find(needle, end)
            else:
                start = self.text.find(needle, start + 1)
        return spans

    def _bounded(self, start: int, end: int) -> bool:
        """The match does not begin or end inside a word's run of letters or digits."""
        text = self.text
        if text[start].isalnum() and not self.first[start] and text[start - 1].isalnum():
            return False
        if text[end - 1].isalnum() and not self.last[end - 1]:
            after = text[end]
            if after.isalnum():
                return False
            # "$40" is not "$40.00" or "$40,000": a separator followed by a digit in the same word
            if (
                text[end - 1].isdigit()
                and after in ".,"
                and not self.last[end]
                and text[end + 1].isdigit()
            ):
                return False
        return True


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Two word ranges (start, end) share a word."""
    return a[0] < b[1] and b[0] < a[1]


#: Words that name no field on their own.
_STOP = frozenset({"a", "an", "and", "the", "of", "for", "on", "to", "in", "or", "other"})
_TOKEN = re.compile(r"[^\W_]+")


def _stem(token: str) -> str:
    """A crude stem, used as a word *prefix*: "returned" → "return" (matches "Return")."""
    for suffix in ("ing", "ed", "s"):
        if len(token) > len(suffix) + 2 and token.endswith(suffix) and not token.endswith("ss"):
            return token[: -len(suffix)]
    return token


def field_keywords(names: Sequence[str]) -> dict[str, frozenset[str]]:
    """Words that tell a field's row label apart from its siblings', from the field names alone.

    A name's prefix before `` - `` ("APR", "Fee") makes a group; within a group a word counts
    only when one field has it ("Fee - Late Payment" → {"late"}: "payment" is shared with
    "Fee - Returned Payment"). Generic names ("Provider Name" next to "Card Name" and "Provider
    Address") can end up with no keyword: their occurrences are then never filtered by context.
    """
    groups: dict[str, list[str]] = {}
    for name in names:
        prefix, sep, _ = name.partition(" - ")
        groups.setdefault(prefix if sep else "", []).append(name)
    keywords: dict[str, frozenset[str]] = {}
    for members in groups.values():
        own = {
            n: {_stem(t) for t in _TOKEN.findall((n.partition(" - ")[2] or n).casefold())} - _STOP
            for n in members
        }
        counts: dict[str, int] = {}
        for tokens in own.values():
            for token in tokens:
                counts[token] = counts.get(token, 0) + 1
        for name, tokens in own.items():
            keywords[name] = frozenset(t for t in tokens if counts[t] == 1)
    return keywords


def keyword_hits(words: Sequence[str], keywords: frozenset[str]) -> int:
    """How many ``keywords`` begin a word of ``words`` (joined, so "Pu rchases" has "purchase")."""
    if not keywords or not words:
        return 0
    stream = WordStream.build(words)
    hits = 0
    for keyword in keywords:
        at = stream.text.find(keyword)
        while at >= 0 and not stream.first[at]:
            at = stream.text.find(keyword, at + 1)
        hits += at >= 0
    return hits


def context_score(
    words: Sequence[str],
    boxes: Sequence[Box],
    span: tuple[int, int],
    keywords: frozenset[str],
    before: int = CONTEXT_WORDS,
) -> int:
    """How strongly the words around ``span`` name the field: its table row label, mostly.

    A keyword in the words on the same visual row to the left of the span's first word counts
    three (a rate table's row label); one in the words to the left a few lines higher (a label
    cell taller than its first line), or in the ``before`` words preceding the span in reading
    order (a label written above its value), one each. A field with more keywords scores no
    higher for it.
    """
    if not keywords:
        return 0
    start, end = span
    head = boxes[start]
    same: list[str] = []
    above: list[str] = []
    for index, box in enumerate(boxes):
        if start <= index < end or box.right > head.left + 1e-4:
            continue
        overlap = min(box.bottom, head.bottom) - max(box.top, head.top)
        if overlap >= 0.5 * min(box.height, head.height) > 0:
            same.append(words[index])
        elif head.top - ABOVE_LINES * head.height <= box.top < head.top:
            above.append(words[index])
    previous = words[max(0, start - before) : start]
    hit = [keyword_hits(region, keywords) > 0 for region in (same, above, previous)]
    return 3 * hit[0] + hit[1] + hit[2]


def keyword_distance(words: Sequence[str], start: int, keywords: frozenset[str]) -> int | None:
    """How many words back from ``start`` the nearest word naming the field is (None: none)."""
    for index in range(start - 1, -1, -1):
        if keyword_hits(words[index : index + 1], keywords):
            return start - index
    return None


def is_generic(value: str) -> bool:
    """A value short enough to stand for other things on the same page ("None", "$0", "3%")."""
    return len(normalise(value)) <= GENERIC_CHARS


def shrink(box: Box, share: float = SHRINK) -> Box:
    """``box`` with ``share`` of its width and height taken off each side."""
    dx, dy = box.width * share, box.height * share
    return Box(box.left + dx, box.top + dy, box.right - dx, box.bottom - dy)


@dataclass(frozen=True, slots=True)
class PlacedLabels:
    """A page's boxes in pixels, and the words whose class read back from them is not meant."""

    labels: BoxLabels
    mismatches: list[tuple[int, int, int]]  # (word index, intended class, class read back)


def place_boxes(
    boxes: Sequence[Box],
    lines: Sequence[int],
    spans: Sequence[tuple[int, tuple[int, int]]],
    size: tuple[int, int],
    class_names: Sequence[str],
) -> PlacedLabels:
    """Boxes for labelled word ``spans`` ((class id, (first, last + 1))) that give them back.

    Line-segment boxes first; a segment whose box takes a word it should not (or loses one of
    its own) is replaced by a shrunk box per word; what then still disagrees is returned.
    """
    other = len(class_names) - 1
    intended = [other] * len(boxes)
    segments: list[tuple[int, list[int]]] = []  # (class id, word indices on one line)
    entity: list[int] = []  # per segment: the span it is part of (one value, one entity)
    for number, (class_id, (start, end)) in enumerate(spans):
        for index in range(start, end):
            intended[index] = class_id
        for index in range(start, end):
            if index == start or lines[index] != lines[index - 1]:
                segments.append((class_id, []))
                entity.append(number)
            segments[-1][1].append(index)
    split: set[int] = set()
    for _ in range(3):
        label_boxes: list[LabelBox] = []
        owner: list[int] = []  # segment of each box
        for number, (class_id, indices) in enumerate(segments):
            if number in split:
                label_boxes += [LabelBox(class_id, shrink(boxes[i]), entity[number])
                                for i in indices]  # fmt: skip
                owner += [number] * len(indices)
            else:
                label_boxes.append(
                    LabelBox(class_id, union(boxes[i] for i in indices), entity[number])
                )
                owner.append(number)
        labels = BoxLabels.from_label_boxes(label_boxes, size[0], size[1], class_names)
        got = label_words(boxes, labels.label_boxes(), other)
        bad = [i for i, label in enumerate(got) if label.class_id != intended[i]]
        if not bad:
            break
        culprits = {owner[b] for b in (got[i].box_index for i in bad) if b is not None}
        culprits |= {n for n, (_, indices) in enumerate(segments) if set(indices) & set(bad)}
        if culprits <= split:
            break
        split |= culprits
    return PlacedLabels(labels, [(i, intended[i], got[i].class_id) for i in bad])
