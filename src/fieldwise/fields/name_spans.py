"""Names (an issuer, a product) drawn as whole capitalised phrases around the model's words.

On issuers it never saw, the tagger finds *where* a name is but rarely all of it: it tags
"America" in "Bank of America", splits "American Express National Bank" into "American" and
"Express National Bank", or begins a card name at its second word. A name on a page is a run
of capitalised words on one line ("Bank of America, N.A.", "Delta SkyMiles® Blue Card"), so
for fields normalised as ``name`` the phrase draws the span and the model only says whether,
and as which field, the phrase is a name:

* a *name phrase* is a maximal run, on one line, of words that begin with a capital letter or
  a digit, or are a mark ("®", "&"), with "of" and "&" allowed inside it; a word ending in
  ",", ";", ":" or a sentence's "." closes it ("Issuer:" is no part of "American Express"),
  except that a comma may be followed by a legal suffix ("Bank of America, N.A.",
  "Marriott International, Inc."), and a legal name's last word ("Association", "Inc.",
  "Union") ends it when another capitalised word follows ("U.S. Bank National Association
  Visa Signature®" is the issuer, then the product);
* a word outside every name phrase is no part of a name: a name field's call on it is dropped,
  and so is one on a web address or e-mail ("delta.com", "HiltonHonors.com/terms"), which the
  annotation guidance also rules out;
* a phrase holding a word the model called a name field becomes exactly one detection of the
  name field whose probability, summed over the phrase's words, is the highest ("Blue" called
  the issuer, but "Blue Cash Everyday® Card" as a whole the card); its confidence is the mean
  of that field's probability over the words the model called a name;
* a name wrapped onto the next line in running text is one phrase: a phrase that ends its
  line unclosed after other words ("… on your Delta SkyMiles® Blue American") and one that
  opens the next line before other words ("Express Card (Card Account).") join when the
  first ends in no name's head word and the second does (the head-word vote,
  :mod:`fieldwise.fields.name_heads`). "Issuer: American Express National Bank" ends in a
  head ("Bank") and stays apart from the card's title below it; a heading or table cell that
  fills its line joins nothing.

Example::

    name_phrases(["Issuer:", "American", "Express", "National", "Bank"])   # [(1, 5)]
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import numpy as np

from fieldwise.fields.word_calls import WordCall, call_of, call_span, span_vote, weighed_vote
from fieldwise.fields.word_vote import WordVote
from fieldwise.textract.document import Word

_CONNECTORS = frozenset({"of", "&"})
_DETERMINERS = frozenset({"the", "a", "an", "this", "that", "these", "your", "our", "its", "my"})
_MARKS = frozenset({"®", "™", "©", "&"})
_WEB = re.compile(r"(?:www\.|https?:|\.com|\.org|\.net|\.gov|@|/)", re.IGNORECASE)
_INITIALS = re.compile(r"^(?:[A-Z]\.){2,}[,;]?$")  # "U.S.", "N.A."
_LEGAL_SUFFIX = re.compile(r"^(?:(?:[A-Z]\.){2,}|[A-Z][a-z]{0,3}\.|[A-Z]{2,4})[,;.]?$")
#: Words that end a company's legal name: what follows is another name ("U.S. Bank National
#: Association Visa Signature®" is the issuer, then the product).
_LEGAL_ENDS = frozenset(
    {"association", "n.a", "inc", "llc", "ltd", "limited", "corporation", "corp", "plc", "union"}
)
#: Times training must have seen a word end a name before it counts as a name's head word.
MIN_HEAD_COUNT = 2
_OPENING = "\"“‘'(["
_HEAD_STRIP = " .,;:()[]\"'“”‘’®™©℠"


def head_word(text: str) -> str:
    """A phrase's last word as the head-word vote reads it: lower case, without punctuation
    and trademark signs (:mod:`fieldwise.fields.name_heads`)."""
    return text.casefold().strip(_HEAD_STRIP)


def is_web_address(text: str) -> bool:
    """Whether a word is (part of) a web or e-mail address, which no name is."""
    return bool(_WEB.search(text))


def _capitalised(text: str) -> bool:
    core = text.lstrip(_OPENING)
    return bool(core) and (core[0].isupper() or core[0].isdigit()) and not is_web_address(core)


def _closes(text: str, following: str | None) -> bool:
    """Whether the phrase ends with this word: after ",", ";", ":" or a sentence's "."; a comma
    before a legal suffix ("America, N.A.") and dotted initials ("U.S.") do not end it."""
    core = text.rstrip("\"”’')]")
    if core.endswith(","):
        return following is None or not _LEGAL_SUFFIX.match(following)
    if core.endswith((";", ":")) or (following is not None and following.startswith("(")):
        return True
    return core.endswith(".") and not _INITIALS.match(core)


def name_phrases(texts: list[str]) -> list[tuple[int, int]]:
    """(start, end) of every name phrase in one line's words, end exclusive."""
    found: list[tuple[int, int]] = []
    start: int | None = None
    for k, text in enumerate(texts):
        following = texts[k + 1] if k + 1 < len(texts) else None
        inside = start is not None and text in _CONNECTORS and following is not None
        if _capitalised(text) or text in _MARKS or inside:
            if start is None:
                start = k
            suffix = k > start and texts[k - 1].endswith(",") and _LEGAL_SUFFIX.match(text)
            legal_end = (
                k > start
                and text.casefold().rstrip(".,;") in _LEGAL_ENDS
                and following is not None
                and _capitalised(following)
            )
            if suffix or legal_end or _closes(text, following):
                found.append((start, k + 1))
                start = None
        elif start is not None:
            found.append((start, k))
            start = None
    if start is not None:
        found.append((start, len(texts)))
    trimmed = (_trimmed(texts, start, end) for start, end in found)
    return [(start, end) for start, end in trimmed if end > start]


def _trimmed(texts: list[str], start: int, end: int) -> tuple[int, int]:
    """Connectors and marks never end or begin a name ("of" in "Bank of" at a line's end), and
    a sentence's capitalised article or pronoun is no part of one ("The Platinum Card®")."""
    while start < end and (
        texts[start] in _CONNECTORS
        or texts[start] in _MARKS
        or texts[start].casefold() in _DETERMINERS
    ):
        start += 1
    while end > start and texts[end - 1] in _CONNECTORS:
        end -= 1
    return start, end


def wraps(
    line: list[str], phrase: tuple[int, int], next_line: list[str], next_phrase: tuple[int, int]
) -> bool:
    """Whether ``phrase`` could go on into ``next_phrase``: it runs to its line's end without
    closing punctuation, and the other opens the next line, both inside running text (other
    words before the first, after the second: a phrase that is a whole line, or ends or opens
    one after a short heading, is a title, heading or cell — "How the Reward Program Works"
    above "Morgan Stanley Platinum Card")."""
    return (
        phrase[0] > 0
        and phrase[1] == len(line)
        and next_phrase[0] == 0
        and next_phrase[1] < len(next_line)
        and not _closes(line[-1], next_line[0])
        and line[-1] not in _MARKS
    )


def is_name_head(heads: WordVote, word: str, name_ids: set[int]) -> bool:
    """Whether training saw ``word`` end a name field's phrases more than once, at a higher
    rate than it ended other phrases (raw counts: smoothing would favour the rarer name
    fields for any word seen once, "Works" included)."""
    counts = heads.counts(word)
    examples = np.maximum(np.asarray(heads.examples, dtype=np.float64), 1.0)
    rates = counts / examples
    others = max((rates[c] for c in range(len(rates)) if c not in name_ids), default=0.0)
    return any(counts[c] >= MIN_HEAD_COUNT and rates[c] > others for c in name_ids)


def wrapped_lines(
    texts: Sequence[list[str]], spans: Sequence[list[tuple[int, int]]]
) -> Iterator[int]:
    """Each ``n`` whose last name phrase could go on into line ``n + 1``'s first (``wraps``),
    given each line's words and its ``name_phrases``."""
    for n in range(len(texts) - 1):
        if (
            spans[n]
            and spans[n + 1]
            and wraps(texts[n], spans[n][-1], texts[n + 1], spans[n + 1][0])
        ):
            yield n


def page_phrases(
    lines: Sequence[Sequence[Word]], name_ids: set[int], heads: WordVote | None
) -> list[list[list[Word]]]:
    """Per line, the name phrases that end on it, a wrapped name (module doc) ending on the
    line it is wrapped onto; without ``heads`` no name is taken as wrapped."""
    texts = [[w.text for w in line] for line in lines]
    spans = [name_phrases(t) for t in texts]
    ending: list[list[list[Word]]] = [
        [list(line[start:end]) for start, end in found]
        for line, found in zip(lines, spans, strict=True)
    ]
    if heads is None:
        return ending
    for n in wrapped_lines(texts, spans):
        head = head_word(texts[n][spans[n][-1][1] - 1])
        next_head = head_word(texts[n + 1][spans[n + 1][0][1] - 1])
        if not is_name_head(heads, head, name_ids) and is_name_head(heads, next_head, name_ids):
            ending[n + 1][0] = ending[n].pop() + ending[n + 1][0]
    return ending


def name_calls(
    words: list[Word],
    phrases: list[list[Word]],
    covered: set[str],
    name_ids: set[int],
    other_id: int,
    calls: dict[str, WordCall],
    heads: WordVote | None = None,
) -> None:
    """Calls for one line, given the name ``phrases`` ending on it (``page_phrases``) and the
    Ids of the page's words ``covered`` by any phrase: each phrase the model called a name
    field in becomes one detection of it; a name field's call outside every phrase is
    dropped. With ``heads`` (:mod:`fieldwise.fields.name_heads`) the phrase's head word weighs
    in, and a phrase it and the tagger together call "other" is no name."""
    for word in words:
        if str(word.block["Id"]) in covered:
            continue
        call = call_of(word, calls)
        if call is not None and call.class_id in name_ids:
            calls[str(word.block["Id"])] = WordCall(other_id, call.confidence, True)
    for phrase in phrases:
        vote = span_vote(phrase, name_ids, calls)
        if vote is not None and heads is not None:
            likelihood = heads.likelihood([head_word(phrase[-1].text)])
            vote = weighed_vote(phrase, likelihood, [*name_ids, other_id]) or vote
        if vote is not None:
            call_span(phrase, *vote, calls)
