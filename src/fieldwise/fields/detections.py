"""Word predictions → detections: runs of consecutive words of one class in reading order.

A run goes on across lines and pages while the class stays the same; it ends at a word of
another class (or "other", or an ignored field's class), or where the model said a new entity
begins (``PredictedEntityStart`` on a WORD, written by BIO models). A run still open at the end
of the document is kept (the original cloud design dropped it). A detection's confidence is the
minimum over its words of the model's confidence and the OCR's (0–100 scaled to 0–1: the
original compared the two scales directly, so OCR never counted). A run with no letter or digit
("+", "–", "•") is not a value and is dropped: no field states itself in punctuation alone.
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
from fieldwise.fields.row_labels import row_evidence
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


class _Run:
    def __init__(self, class_id: int, page: int) -> None:
        self.class_id = class_id
        self.page = page
        self.lines: list[list[str]] = [[]]
        self.line_key: object = None
        self.blocks: list[str] = []
        self.boxes: list[Box] = []
        self.confidence = 1.0

    def add(self, word: Word, model_confidence: float, page: int, line_key: object) -> None:
        if self.line_key is not None and line_key != self.line_key:
            self.lines.append([])
        self.line_key = line_key
        self.lines[-1].append(word.text)
        self.blocks.append(str(word.block["Id"]))
        if page == self.page:
            self.boxes.append(word.box)
        self.confidence = min(self.confidence, model_confidence, word.confidence / 100.0)


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
        evidence = row_evidence(doc, votes.rows) if votes.rows is not None else None
        calls = value_calls(doc, config, evidence, votes.name_heads)
    detections: list[Detection] = []
    run: _Run | None = None

    def close() -> None:
        nonlocal run
        if run is not None and run.blocks and _has_content(run.lines):
            lines = tuple(" ".join(words) for words in run.lines if words)
            detections.append(
                Detection(
                    run.class_id,
                    reported[run.class_id],
                    run.confidence,
                    run.page,
                    lines,
                    tuple(run.blocks),
                    union(run.boxes),
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
