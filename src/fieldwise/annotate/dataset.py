"""Labelled pages for training: a manifest's boxes turned into one label per word.

This is the hand-over from the label layer to the model: each :class:`LabeledPage` has the
words of one page in reading order (the order of the Textract LINE/WORD blocks), their boxes in
page fractions, the line each word sits on, the OCR confidence, and the class of each word by the
box rule of :mod:`fieldwise.annotate.word_labels`. Class ids follow the *field configuration*:
when a manifest line carries a ``class-map``, boxes are matched to fields **by name**, so
labelling jobs that numbered classes differently still train one model.

Example::

    fields = load_fields("out/funsd/fields.yaml")
    pages = load_labeled_pages("out/funsd/pages.manifest.jsonl", fields)
    pages[0].words[:3], pages[0].labels[:3]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fieldwise.annotate.manifest import Manifest, ManifestError, PageRecord
from fieldwise.annotate.word_labels import LabelBox, WordLabel, label_words
from fieldwise.fields.config import FieldConfig
from fieldwise.textract.document import TextractDocument
from fieldwise.textract.errors import TextractFormatError
from fieldwise.textract.geometry import Box


@dataclass(frozen=True, slots=True)
class PageWords:
    """The words of one page, in reading order, with what a layout model needs of them."""

    key: str  # "<textract path>#<page number>", unique per page
    page_num: int
    words: list[str]
    boxes: list[Box]  # fractions of the page
    line_index: list[int]  # the LINE each word belongs to (0, 1, … in reading order)
    confidences: list[float]  # OCR confidence, 0–100
    block_ids: list[str]  # the WORD blocks' Ids, for writing predictions back
    size: tuple[int, int] | None = None  # page image pixels when known

    @property
    def document(self) -> str:
        """The document the page belongs to: its key without the page number."""
        return self.key.rsplit("#", 1)[0]

    def lines(self) -> dict[int, list[int]]:
        """{LINE number: the indexes of its words}, in reading order."""
        found: dict[int, list[int]] = {}
        for index, line in enumerate(self.line_index):
            found.setdefault(line, []).append(index)
        return found


@dataclass(frozen=True, slots=True)
class LabeledPage(PageWords):
    """A page with one label per word (class ids of the field configuration)."""

    labels: tuple[WordLabel, ...] = ()

    @property
    def class_ids(self) -> list[int]:
        return [label.class_id for label in self.labels]


def page_words(doc: TextractDocument, page_num: int, key: str | None = None) -> PageWords:
    """The words of page ``page_num`` of ``doc`` as :class:`PageWords`."""
    if not 1 <= page_num <= doc.page_count:
        raise ValueError(f"{doc.source}: page {page_num} out of range 1..{doc.page_count}")
    page = doc.page(page_num)
    words, boxes, lines, confs, ids = [], [], [], [], []
    for line_number, line in enumerate(page.lines):
        for word in line.words:
            words.append(word.text)
            boxes.append(word.box)
            lines.append(line_number)
            confs.append(word.confidence)
            ids.append(str(word.block["Id"]))
    return PageWords(
        key or f"{doc.source}#{page_num}", page_num, words, boxes, lines, confs, ids, page.size
    )


def _map_classes(
    boxes: list[LabelBox], class_map: dict[int, str], fields: FieldConfig, where: str
) -> list[LabelBox]:
    if not class_map:
        bad = sorted({b.class_id for b in boxes if b.class_id >= fields.num_classes})
        if bad:
            raise ValueError(f"{where}: class ids {bad} exceed the {fields.num_classes} classes")
        return boxes
    mapped = []
    for b in boxes:
        name = class_map.get(b.class_id)
        if name is None:
            raise ValueError(f"{where}: class id {b.class_id} is not in the line's class-map")
        try:
            mapped.append(LabelBox(fields.class_id(name), b.box, b.entity))
        except KeyError:
            raise ValueError(
                f"{where}: class {name!r} is not a field of the configuration "
                f"({', '.join(fields.class_names)})"
            ) from None
    return mapped


class DocumentCache:
    """Loads each Textract JSON once while a manifest's pages are read."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self._docs: dict[Path, TextractDocument] = {}

    def page(self, record: PageRecord, where: str) -> PageWords:
        ref = record.ref("textract-ref")
        if ref is None:
            raise ValueError(f"{where}: no textract-ref")
        path = self.manifest.resolve(ref)
        doc = self._docs.get(path)
        if doc is None:
            if not path.exists():
                raise ValueError(f"{where}: textract-ref {ref} not found ({path})")
            doc = self._docs[path] = TextractDocument.load(path)
        return page_words(doc, record.page_num, f"{ref}#{record.page_num}")


def load_pages(manifest: str | Path | Manifest) -> list[PageWords]:
    """Every page of the manifest, labelled or not (for pre-training on unlabelled pages)."""
    manifest = manifest if isinstance(manifest, Manifest) else Manifest.load(manifest)
    cache = DocumentCache(manifest)
    pages = []
    for number, record in enumerate(manifest.pages, start=1):
        try:
            pages.append(cache.page(record, f"{manifest.source}:{number}"))
        except TextractFormatError as exc:
            raise ValueError(f"{manifest.source}:{number}: {exc}") from None
    return pages


def load_labeled_pages(
    manifest: str | Path | Manifest,
    fields: FieldConfig,
    attr: str = "label",
    on_page: Callable[[int, int], None] | None = None,
) -> list[LabeledPage]:
    """Every page of the manifest that has boxes under ``attr``, with its words labelled.

    Pages without the attribute are skipped (they are not labelled yet); a malformed label, a
    class the configuration does not know or a missing Textract file raises ``ValueError``
    naming the manifest line.
    """
    manifest = manifest if isinstance(manifest, Manifest) else Manifest.load(manifest)
    cache = DocumentCache(manifest)
    pages: list[LabeledPage] = []
    for number, record in enumerate(manifest.pages, start=1):
        if on_page:
            on_page(number, len(manifest.pages))
        where = f"{manifest.source}:{number}"
        try:
            labels = record.labels(attr)
        except ValueError as exc:
            raise ManifestError(manifest.source, number, f"{attr}: {exc}") from None
        if labels is None:
            continue
        try:
            words = cache.page(record, where)
        except TextractFormatError as exc:
            raise ValueError(f"{where}: {exc}") from None
        boxes = _map_classes(labels.label_boxes(), dict(labels.class_map), fields, where)
        word_labels = label_words(words.boxes, boxes, fields.other_id)
        pages.append(with_labels(words, word_labels))
    return pages


def with_labels(words: PageWords, labels: Sequence[WordLabel]) -> LabeledPage:
    """``words`` with one label per word."""
    if len(labels) != len(words.words):
        raise ValueError(f"{words.key}: {len(labels)} labels for {len(words.words)} words")
    return LabeledPage(
        key=words.key,
        page_num=words.page_num,
        words=words.words,
        boxes=words.boxes,
        line_index=words.line_index,
        confidences=words.confidences,
        block_ids=words.block_ids,
        size=words.size,
        labels=tuple(labels),
    )
