"""Weak labels from known field values: boxes around the words where a document states them.

A team with a database of extracted values (here ``gold_fields.json``, see the shared data's
``GOLD_README.md``) can bootstrap a model without drawing a box: each known value is looked up
among its document's words (:mod:`fieldwise.annotate.value_match`: tolerant of whitespace, case,
hyphenation, line and cell breaks; only on the value's listed pages), the words found are
labelled, and the labels are written as Ground Truth boxes, one per line segment, so that a
person can review and correct them in a labeling UI.

Choices, and why:

- *Alternatives* of a single-valued field are tried canonical first, then reading-order
  (``layout_values``) forms, then the others; every alternative adds the occurrences that do not
  overlap one already taken, so "American Express" is labelled beside "American Express National
  Bank" without labelling the longer name's words twice.
- *Several occurrences on one page*: when some of them have the field's row label beside or just
  before them ("Annual Fee None" vs "Overlimit None"), only those are kept.
- *Two fields claiming the same words* ("Up to $40" for both late and returned payment): the
  occurrence goes to the field its row label names, else to a field that has no occurrence yet,
  else to the lower class id; the loser is reported as found but not labelled.
- *Round trip*: the boxes are read back through the box→word rule
  (:func:`fieldwise.annotate.word_labels.label_words`); where a line box would take a neighbour
  word (or lose one of its own), that segment gets one slightly shrunk box per word instead, and
  whatever still disagrees is reported.
- *Counting*: a value is one distinct value of a field in a document (a ``multi`` field counts
  each of its values); it is *found* when any alternative occurs on its pages.

Example::

    fields = load_fields("examples/credit-cards/fields.yaml")
    gold = load_gold("gold_fields.json", fields.class_names[:-1])
    result = label_from_values(gold, Manifest.load("out/pages.manifest.jsonl"), fields)
    result.manifest.save("labels.manifest.jsonl"); result.report()["values_found"]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fieldwise.annotate.dataset import DocumentCache, PageWords
from fieldwise.annotate.manifest import Manifest, ManifestError, PageRecord
from fieldwise.annotate.value_match import (
    WordStream,
    context_score,
    field_keywords,
    is_generic,
    keyword_distance,
    overlaps,
    place_boxes,
)
from fieldwise.fields.config import FieldConfig
from fieldwise.ingest.store import safe_name

JOB_NAME = "from-values"
#: How far back (words) a field's label may stand from an ambiguous value it names.
FALLBACK_WORDS = 24


class GoldError(ValueError):
    """A gold file that cannot be used: the message names the file and the reason."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class _GoldField(BaseModel):
    model_config = ConfigDict(extra="ignore")

    values: list[str] = Field(min_length=1)
    pages: list[int] | None = None
    multi: bool = False
    groups: list[list[str]] | None = None
    layout_values: list[str] = []


@dataclass(frozen=True, slots=True)
class KnownValue:
    """One value of one field in one document, with the forms it may take on the page."""

    field: str
    alternatives: tuple[str, ...]  # canonical first
    pages: tuple[int, ...] | None  # 1-based; None = any page

    @property
    def canonical(self) -> str:
        return self.alternatives[0]


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for s in items if s.strip()))


def _values_of(name: str, spec: _GoldField) -> list[KnownValue]:
    pages = tuple(spec.pages) if spec.pages else None
    if not spec.multi:
        alternatives = [spec.values[0], *spec.layout_values, *spec.values[1:]]
        return [KnownValue(name, _unique(alternatives), pages)]
    groups = spec.groups or [[v] for v in spec.values]
    return [KnownValue(name, _unique(group), pages) for group in groups if _unique(group)]


def parse_gold(
    raw: Any, source: str = "<gold>", field_names: Sequence[str] | None = None
) -> dict[str, list[KnownValue]]:
    """Validate a parsed gold file: document name → its known values (null fields left out)."""
    documents = raw.get("documents") if isinstance(raw, dict) else None
    if not isinstance(documents, dict):
        raise GoldError(source, 'expected an object with "documents": {file name: {field: …}}')
    known = set(field_names) if field_names is not None else None
    out: dict[str, list[KnownValue]] = {}
    for doc_name, doc_fields in documents.items():
        if not isinstance(doc_fields, dict):
            raise GoldError(source, f"document {doc_name!r}: expected an object of fields")
        values: list[KnownValue] = []
        for field_name, spec in doc_fields.items():
            if known is not None and field_name not in known:
                raise GoldError(
                    source,
                    f"document {doc_name!r}: field {field_name!r} is not in the field "
                    f"configuration ({', '.join(sorted(known))})",
                )
            if spec is None:
                continue
            try:
                parsed = _GoldField.model_validate(spec)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors()
                )
                raise GoldError(
                    source, f"document {doc_name!r}, field {field_name!r}: {problems}"
                ) from None
            if parsed.pages and min(parsed.pages) < 1:
                raise GoldError(
                    source, f"document {doc_name!r}, field {field_name!r}: pages are 1-based"
                )
            values += _values_of(field_name, parsed)
        out[str(doc_name)] = values
    return out


def load_gold(
    path: str | Path, field_names: Sequence[str] | None = None
) -> dict[str, list[KnownValue]]:
    """Read a gold JSON file; errors (unreadable, not JSON, wrong shape) name the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GoldError(str(path), f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise GoldError(str(path), "not UTF-8 text") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GoldError(
            str(path), f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    return parse_gold(raw, str(path), field_names)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """Where one known value stands on a page: words ``span`` = (first, last + 1)."""

    value: int  # index into the document's known values
    page: int
    span: tuple[int, int]
    score: int  # how strongly the words around it name the field (value_match.context_score)
    generic: bool  # short enough to need its field's row label (value_match.is_generic)


@dataclass(frozen=True, slots=True)
class ValueOutcome:
    document: str
    value: KnownValue
    found: bool  # some alternative occurs on the value's pages
    labelled: int  # occurrences labelled after context filtering and conflicts


@dataclass(frozen=True, slots=True)
class Disagreement:
    """A word whose class read back from the written boxes is not the class it was matched to."""

    document: str
    page: int
    word: str
    expected: str
    got: str


@dataclass
class FromValuesResult:
    manifest: Manifest  # the labelled pages (refs still relative to the input's folder)
    outcomes: list[ValueOutcome] = field(default_factory=list)
    missing: list[dict[str, str]] = field(default_factory=list)  # gold documents not labelled
    disagreements: list[Disagreement] = field(default_factory=list)
    boxes: int = 0
    words_labelled: int = 0
    field_names: list[str] = field(default_factory=list)  # every field, in the report's order

    def report(self) -> dict[str, Any]:
        """Counts overall and per field, and every value a person should look at."""
        per_field: dict[str, dict[str, int]] = {
            name: {"values_total": 0, "values_found": 0, "values_labelled": 0}
            for name in self.field_names
        }
        for o in self.outcomes:
            counts = per_field.setdefault(
                o.value.field, {"values_total": 0, "values_found": 0, "values_labelled": 0}
            )
            counts["values_total"] += 1
            counts["values_found"] += o.found
            counts["values_labelled"] += o.labelled > 0
        total, found = len(self.outcomes), sum(o.found for o in self.outcomes)

        def row(o: ValueOutcome) -> dict[str, Any]:
            return {
                "document": o.document,
                "field": o.value.field,
                "value": o.value.canonical,
                "pages": list(o.value.pages or []),
            }

        return {
            "values_total": total,
            "values_found": found,
            "values_labelled": sum(o.labelled > 0 for o in self.outcomes),
            "found_share": round(found / total, 4) if total else None,
            "per_field": per_field,
            "not_found": [row(o) for o in self.outcomes if not o.found],
            "found_not_labelled": [row(o) for o in self.outcomes if o.found and not o.labelled],
            "missing_documents": self.missing,
            "pages": len(self.manifest.pages),
            "boxes": self.boxes,
            "words_labelled": self.words_labelled,
            "round_trip_disagreements": [vars_of(d) for d in self.disagreements],
        }


def vars_of(d: Disagreement) -> dict[str, Any]:
    return {
        "document": d.document,
        "page": d.page,
        "word": d.word,
        "expected": d.expected,
        "got": d.got,
    }


def _documents(manifest: Manifest) -> dict[str, list[list[PageRecord]]]:
    """Manifest pages grouped by document, keyed by the original file's (store-safe) name."""
    by_doc: dict[str, list[PageRecord]] = {}
    for record in manifest.pages:
        by_doc.setdefault(record.document_key(), []).append(record)
    by_name: dict[str, list[list[PageRecord]]] = {}
    for records in by_doc.values():
        raw = records[0].ref("raw-ref") or records[0].ref("textract-ref") or ""
        by_name.setdefault(Path(raw).name, []).append(records)
    return by_name


def _locate(
    values: Sequence[KnownValue], pages: dict[int, PageWords], keywords: dict[str, frozenset[str]]
) -> tuple[list[bool], list[Occurrence]]:
    """Each value's occurrences on its pages (see the module docstring for the rules)."""
    streams: dict[int, WordStream] = {}  # built on first use: most pages hold no listed value
    raw: list[list[Occurrence]] = []
    for index, value in enumerate(values):
        field_words = keywords.get(value.field, frozenset())
        mine: list[Occurrence] = []
        for alternative in value.alternatives:
            for n in value.pages or sorted(pages):
                if n not in pages:
                    continue
                stream = streams.get(n) or streams.setdefault(n, WordStream.build(pages[n].words))
                for span in stream.find(alternative):
                    if not any(o.page == n and overlaps(o.span, span) for o in mine):
                        score = context_score(pages[n].words, pages[n].boxes, span, field_words)
                        mine.append(Occurrence(index, n, span, score, is_generic(alternative)))
        raw.append(mine)
    taken: dict[str, list[Occurrence]] = {}  # per field, so a multi field's values never overlap
    for index, mine in enumerate(raw):
        field = values[index].field
        shared = any(
            o.page == t.page and overlaps(o.span, t.span)
            for other, theirs in enumerate(raw)
            if values[other].field != field
            for t in theirs
            for o in mine
        )
        if shared or any(o.generic for o in mine):
            mine = _by_context(mine, pages, keywords.get(field, frozenset()))
        own = taken.setdefault(field, [])
        own += [
            o for o in mine if not any(t.page == o.page and overlaps(t.span, o.span) for t in own)
        ]
    return [bool(mine) for mine in raw], [o for occurrences in taken.values() for o in occurrences]


def _by_context(
    occurrences: list[Occurrence], pages: dict[int, PageWords], field_words: frozenset[str]
) -> list[Occurrence]:
    """Of an ambiguous value's occurrences on a page, those its field's row label names best.

    "None" stands in many rows of a fee table, and one rate in the purchase, balance-transfer
    and loan rows; only the one beside (or just below) the field's label is the field's. Kept:
    the occurrences scoring more than half the page's best score; when none is near a label, the
    one nearest after a label (at most ``FALLBACK_WORDS`` back), else none: a guess would teach
    the model a wrong label. A lone occurrence, or a field whose name gives no keyword, is kept.
    """
    kept: list[Occurrence] = []
    for n in sorted({o.page for o in occurrences}):
        here = [o for o in occurrences if o.page == n]
        best = max(o.score for o in here)
        if len(here) < 2 or not field_words:
            kept += here
        elif best > 0:
            kept += [o for o in here if 2 * o.score > best]
        else:
            near = [
                (d, o.span, o)
                for o in here
                if (d := keyword_distance(pages[n].words, o.span[0], field_words)) is not None
                and d <= FALLBACK_WORDS
            ]
            kept += [min(near, key=lambda t: t[:2])[2]] if near else []
    return sorted(kept, key=lambda o: (o.page, o.span))


def _resolve(
    occurrences: list[Occurrence], values: Sequence[KnownValue], fields: FieldConfig
) -> list[Occurrence]:
    """Occurrences that two fields claim go to one of them (module docstring); others stay."""

    def clash(a: Occurrence, b: Occurrence) -> bool:
        return (
            a.page == b.page
            and values[a.value].field != values[b.value].field
            and overlaps(a.span, b.span)
        )

    contested = [o for o in occurrences if any(clash(o, b) for b in occurrences)]
    accepted = [o for o in occurrences if o not in contested]
    labelled = {o.value for o in accepted}
    while contested:
        best = min(
            contested,
            key=lambda o: (
                -o.score,
                o.value in labelled,
                fields.class_id(values[o.value].field),
                o.page,
                o.span,
            ),
        )
        contested.remove(best)
        if not any(clash(best, a) for a in accepted):
            accepted.append(best)
            labelled.add(best.value)
    return accepted


def _image_size(
    manifest: Manifest, record: PageRecord, words: PageWords, where: str
) -> tuple[int, int]:
    """The pixel size of the page image the boxes are drawn on (``source-ref``)."""
    ref = record.ref("source-ref")
    if ref is None:
        raise ManifestError(manifest.source, None, f"{where}: no source-ref (ingest with images)")
    if words.size:
        return words.size
    try:
        with Image.open(manifest.resolve(ref)) as image:
            return image.size
    except OSError as exc:
        raise ManifestError(
            manifest.source, None, f"{where}: cannot read image {ref}: {exc}"
        ) from None


def label_from_values(
    gold: dict[str, list[KnownValue]],
    manifest: Manifest,
    fields: FieldConfig,
    attr: str = "label",
    keep_empty: bool = True,
    on_document: Callable[[str], None] | None = None,
) -> FromValuesResult:
    """Label every page of every gold document found in ``manifest`` (module docstring).

    ``keep_empty`` keeps pages where nothing was found, with an empty ``annotations`` list, so
    that a trainer sees the negative pages too.
    """
    result = FromValuesResult(Manifest([], manifest.base, manifest.source))
    result.field_names = [f.name for f in fields.fields]
    keywords = field_keywords(fields.class_names[:-1])
    cache = DocumentCache(manifest)
    by_name = _documents(manifest)
    for name, values in gold.items():
        if on_document:
            on_document(name)
        matches = by_name.get(name) or by_name.get(safe_name(name)) or []
        if len(matches) != 1:
            reason = (
                "not in the pages manifest" if not matches else "several documents by this name"
            )
            result.missing.append({"document": name, "reason": reason})
            result.outcomes += [ValueOutcome(name, v, False, 0) for v in values]
            continue
        records = matches[0]
        pages = {
            r.page_num: cache.page(r, f"{manifest.source}: {name} page {r.page_num}")
            for r in records
        }
        found, occurrences = _locate(values, pages, keywords)
        accepted = _resolve(occurrences, values, fields)
        for index, value in enumerate(values):
            count = sum(o.value == index for o in accepted)
            result.outcomes.append(ValueOutcome(name, value, found[index], count))
        for record in records:
            words = pages[record.page_num]
            spans = [
                (fields.class_id(values[o.value].field), o.span)
                for o in accepted
                if o.page == record.page_num
            ]
            if not spans and not keep_empty:
                continue
            size = _image_size(manifest, record, words, f"{name} page {record.page_num}")
            placed = place_boxes(words.boxes, words.line_index, spans, size, fields.class_names)
            result.boxes += len(placed.labels.annotations)
            result.words_labelled += sum(e - s for _, (s, e) in spans)
            result.disagreements += [
                Disagreement(
                    name,
                    record.page_num,
                    words.words[i],
                    fields.class_names[want],
                    fields.class_names[got],
                )
                for i, want, got in placed.mismatches
            ]
            result.manifest.pages.append(
                record.with_labels(attr, placed.labels, job_name=JOB_NAME, human=False)
            )
    return result
