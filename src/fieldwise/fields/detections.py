"""Word predictions → detections: runs of consecutive words of one class in reading order.

A run goes on across lines and pages while the class stays the same; it ends at a word of
another class (or "other", or an ignored field's class), or where the model said a new entity
begins (``PredictedEntityStart`` on a WORD, written by BIO models). A run still open at the end
of the document is kept (the original cloud design dropped it). A detection's confidence is the
minimum over its words of the model's confidence and the OCR's (0–100 scaled to 0–1: the
original compared the two scales directly, so OCR never counted). A run with no letter or digit
("+", "–", "•") is not a value and is dropped: no field states itself in punctuation alone,
and a run's last words are dropped while they are words no mention ends in ("3% per").
Rates, fees, addresses, dates and names are first re-segmented by their grammar
(:mod:`fieldwise.fields.value_spans`, ``date_spans``, ``name_spans``): "Prime Rate + 12.74% to
Prime Rate + 21.74%" is one APR and "Bank of America, N.A." one name even where the model broke
them up; a word's call is read through :func:`fieldwise.fields.word_calls.call_of`.

Example::

    doc = TextractDocument.load("enriched.json")
    for d in detect(doc, load_fields("fields.yaml")):
        print(d.class_name, d.text, round(d.confidence, 2))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fieldwise.fields.config import FieldConfig
from fieldwise.fields.date_labels import date_evidence
from fieldwise.fields.row_labels import document_pages, row_evidence
from fieldwise.fields.value_spans import value_calls
from fieldwise.fields.votes import Votes
from fieldwise.fields.word_calls import WordCall, call_of
from fieldwise.textract.document import TextractDocument, Word
from fieldwise.textract.geometry import Box, union


@dataclass(frozen=True, slots=True)
class Detection:
    """One mention of a field in a document."""

    class_id: int
    class_name: str
    confidence: float  # 0–1
    page: int  # of the first word
    lines: tuple[str, ...]  # the text on each line the mention spans
    blocks: tuple[str, ...]  # WORD block Ids
    box: Box  # union of the words on the first page (page fractions)
    index: int  # position among all detections of the document

    @property
    def text(self) -> str:
        return join_lines(self.lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "ClassId": self.class_id,
            "ClassName": self.class_name,
            "Confidence": round(self.confidence, 6),
            "Blocks": list(self.blocks),
            "BoundingBox": {
                "Left": self.box.left,
                "Top": self.box.top,
                "Width": self.box.width,
                "Height": self.box.height,
            },
            "PageNum": self.page,
            "Text": self.text,
        }


def join_lines(lines: tuple[str, ...] | list[str]) -> str:
    """Lines of one mention as one string; a word broken by a line-end hyphen is rejoined."""
    text = ""
    for line in lines:
        if not text:
            text = line
        elif text.endswith("-") and line[:1].islower():
            text = text[:-1] + line
        else:
            text = f"{text} {line}"
    return text


def _has_content(lines: list[list[str]]) -> bool:
    return any(ch.isalnum() for words in lines for word in words for ch in word)


#: Words no mention ends in: a run that stops on one went on past its value ("3% per" of
#: "3% per transaction", the tagger's call on "per" and not on "transaction").
DANGLING = frozenset(
    {"per", "of", "to", "for", "and", "or", "the", "on", "in", "at", "by", "with", "from"}
)


@dataclass(frozen=True, slots=True)
class _Entry:
    word: Word
    model_confidence: float
    page: int
    line_key: object


class _Run:
    def __init__(self, class_id: int, page: int) -> None:
        self.class_id = class_id
        self.page = page
        self.entries: list[_Entry] = []

    def add(self, word: Word, model_confidence: float, page: int, line_key: object) -> None:
        self.entries.append(_Entry(word, model_confidence, page, line_key))

    def trimmed(self) -> list[_Entry]:
        """The run without dangling words at its end (``DANGLING``)."""
        entries = list(self.entries)
        while len(entries) > 1 and entries[-1].word.text.casefold() in DANGLING:
            entries.pop()
        return entries

    @staticmethod
    def lines(entries: list[_Entry]) -> list[list[str]]:
        lines: list[list[str]] = []
        key: object = None
        for k, entry in enumerate(entries):
            if k == 0 or entry.line_key != key:
                lines.append([])
            key = entry.line_key
            lines[-1].append(entry.word.text)
        return lines


def detect(
    doc: TextractDocument,
    config: FieldConfig,
    value_grammar: bool = True,
    votes: Votes | None = None,
) -> list[Detection]:
    """All detections of the document's reported fields, in reading order. ``value_grammar``
    lets the grammars of rates, fees, dates, names and addresses draw those fields' spans
    (off: the model's spans as tagged); ``votes`` (the model folder's, ``load_votes``) also
    weigh what each one is."""
    reported = {f.class_id: f.name for f in config.fields if not f.ignore}
    calls: dict[str, WordCall] = {}
    if value_grammar:
        votes = votes or Votes()
        wanted = votes.rows is not None or votes.dates is not None
        pages = document_pages(doc) if wanted else []
        evidence = row_evidence(pages, votes.rows) if votes.rows is not None else None
        dates = date_evidence(pages, votes.dates) if votes.dates is not None else None
        calls = value_calls(doc, config, evidence, votes.name_heads, dates)
    detections: list[Detection] = []
    run: _Run | None = None

    def close() -> None:
        nonlocal run
        entries = run.trimmed() if run is not None else []
        words = _Run.lines(entries)
        if run is not None and entries and _has_content(words):
            detections.append(
                Detection(
                    run.class_id,
                    reported[run.class_id],
                    min(min(e.model_confidence, e.word.confidence / 100.0) for e in entries),
                    run.page,
                    tuple(" ".join(line) for line in words),
                    tuple(str(e.word.block["Id"]) for e in entries),
                    union([e.word.box for e in entries if e.page == run.page]),
                    len(detections),
                )
            )
        run = None

    for page in doc.pages:
        for line_number, line in enumerate(page.lines):
            for word in line.words:
                call = call_of(word, calls)
                if call is None or call.class_id not in reported:
                    close()
                    continue
                if run is None or run.class_id != call.class_id or call.starts:
                    close()
                    run = _Run(call.class_id, page.number)
                run.add(word, call.confidence, page.number, (page.number, line_number))
                if call.ends:
                    close()
    close()
    return detections
