"""FUNSD forms into fieldwise's own formats: Textract JSON, page images, a labelled manifest.

FUNSD (Jaume et al., 2019) gives scanned forms with word boxes grouped into entities labelled
``header``, ``question``, ``answer`` or ``other``. The import writes, per form, the same folder
an ingest writes (``documents/<sha256[:16]>/`` with the image, ``textract.json``, ``pages/``,
``thumbs/``) and, for the split, ``pages.manifest.jsonl`` with one Ground Truth box per
non-"other" entity under ``label``, and ``fields.yaml`` (header, question, answer; FUNSD's
``other`` is our "other"). Words are in the order an OCR engine reads the page
(:mod:`fieldwise.annotate.reading_order`); LINEs are visual rows split at wide gaps like an OCR
engine's (default), or an entity's words on one row (``LineMode.entities``: line boundaries
then leak FUNSD's entity segmentation to a model). FUNSD's words with empty text are left out.

Example::

    report = import_funsd(Path("../shared/data/funsd/training_data"), Path("out/funsd"))
    report.forms, report.words
"""

from __future__ import annotations

import json
import shutil
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import orjson
from PIL import Image

from fieldwise.annotate.manifest import BoxAnnotation, BoxLabels, PageRecord, write_jsonl
from fieldwise.annotate.reading_order import rows
from fieldwise.fields.config import FieldConfig, parse_fields
from fieldwise.ingest.content import LineContent, PageContent, WordContent
from fieldwise.ingest.images import browser_safe
from fieldwise.ingest.store import META, TEXTRACT, DocumentRecord, Store, sha256_of
from fieldwise.ingest.thumbnails import make_thumbnail
from fieldwise.textract.build import build_response
from fieldwise.textract.geometry import Box

FUNSD_FIELDS: FieldConfig = parse_fields(
    [
        {"name": "header", "annotation_guidance": "Titles and section headings of the form."},
        {"name": "question", "annotation_guidance": "A key or prompt: the label of a value."},
        {"name": "answer", "annotation_guidance": "The value filled in for a question."},
    ],
    "FUNSD",
)


@dataclass(frozen=True, slots=True)
class FunsdWord:
    text: str
    box: Box  # page fractions
    label: str  # header / question / answer / other
    entity: int  # the FUNSD entity id


@dataclass(frozen=True, slots=True)
class FunsdEntity:
    id: int
    label: str
    box: tuple[float, float, float, float]  # pixels x0, y0, x1, y1
    words: tuple[FunsdWord, ...]


@dataclass(frozen=True, slots=True)
class FunsdForm:
    name: str
    annotation: Path
    image: Path
    width: int
    height: int
    entities: tuple[FunsdEntity, ...]


@dataclass
class FunsdImportReport:
    forms: int = 0
    words: int = 0
    entities: int = 0
    labelled_boxes: int = 0
    empty_words_skipped: int = 0


def read_form(annotation: Path, image: Path) -> FunsdForm:
    """One FUNSD form; ``ValueError`` naming the file when it is not FUNSD JSON."""
    with Image.open(image) as im:
        width, height = im.size
    try:
        form = json.loads(annotation.read_text(encoding="utf-8"))["form"]
        entities = []
        for raw in form:
            words = tuple(
                FunsdWord(
                    w["text"],
                    Box(
                        w["box"][0] / width,
                        w["box"][1] / height,
                        w["box"][2] / width,
                        w["box"][3] / height,
                    ).clamp(),
                    raw["label"],
                    raw["id"],
                )
                for w in raw["words"]
            )
            box = tuple(float(v) for v in raw["box"])
            entities.append(FunsdEntity(raw["id"], raw["label"], box, words))  # type: ignore[arg-type]
    except (KeyError, TypeError, IndexError, json.JSONDecodeError) as exc:
        raise ValueError(f"{annotation}: not a FUNSD annotation ({exc!r})") from None
    return FunsdForm(annotation.stem, annotation, image, width, height, tuple(entities))


#: Row lines split where the gap between words exceeds this many word heights. Measured on 30
#: FUNSD forms: Tesseract's own lines put several entities on one line 44% of the time; rows
#: split at 8 heights do so 34% of the time (at 3 heights 18%, never split 53%).
ROW_GAP = 8.0


class LineMode(StrEnum):
    rows = "rows"  # what an OCR engine gives: visual rows, split at wide gaps only
    entities = "entities"  # an entity's words on one row (leaks FUNSD's segmentation)


def _row_lines(words: list[FunsdWord]) -> list[list[FunsdWord]]:
    lines = []
    for row in rows([w.box for w in words]):
        height = statistics.median(words[i].box.height for i in row)
        current = [words[row[0]]]
        for a, b in zip(row, row[1:], strict=False):
            if words[b].box.left - words[a].box.right > ROW_GAP * height:
                lines.append(current)
                current = []
            current.append(words[b])
        lines.append(current)
    return lines


def form_lines(form: FunsdForm, mode: LineMode = LineMode.rows) -> list[list[FunsdWord]]:
    """Lines in reading order.

    ``rows`` (default): the page's words in visual rows, split only at wide gaps, as an OCR
    engine gives them, so line boundaries tell a model nothing FUNSD's labellers decided.
    ``entities``: each entity's words split into rows (a line never mixes entities — which is
    exactly what a model must not be told when it is evaluated).
    """
    if mode is LineMode.rows:
        return _row_lines([w for e in form.entities for w in e.words if w.text.strip()])
    segments: list[list[FunsdWord]] = []
    for entity in form.entities:
        words = [w for w in entity.words if w.text.strip()]
        segments.extend([words[i] for i in row] for row in rows([w.box for w in words]))
    boxes = [
        Box(
            min(w.box.left for w in s),
            min(w.box.top for w in s),
            max(w.box.right for w in s),
            max(w.box.bottom for w in s),
        )
        for s in segments
    ]
    return [segments[i] for row in rows(boxes) for i in row]


def entity_labels(form: FunsdForm, fields: FieldConfig = FUNSD_FIELDS) -> BoxLabels:
    """One Ground Truth box per entity that is not FUNSD ``other``, in image pixels."""
    annotations = tuple(
        BoxAnnotation(
            fields.class_id(e.label), e.box[0], e.box[1], e.box[2] - e.box[0], e.box[3] - e.box[1]
        )
        for e in form.entities
        if e.label != "other" and any(w.text.strip() for w in e.words)
    )
    class_map = dict(enumerate(fields.class_names))
    return BoxLabels(form.width, form.height, annotations, class_map)


def _write_form(
    form: FunsdForm, store: Store, thumb_size: tuple[int, int], mode: LineMode
) -> PageRecord:
    sha = sha256_of(form.image)
    doc_id = sha[:16]
    work = store.start(doc_id)
    shutil.copyfile(form.image, work / form.image.name)
    with Image.open(form.image) as im:
        page_image = browser_safe(im)
        page_image.save(work / "pages" / "0001.png", optimize=False)
        make_thumbnail(page_image, thumb_size).save(work / "thumbs" / "0001.png")
    lines = [
        LineContent([WordContent(w.text, w.box, 100.0, "PRINTED") for w in line])
        for line in form_lines(form, mode)
    ]
    page = PageContent(1, form.width, form.height, lines, text_source="funsd")
    (work / TEXTRACT).write_bytes(orjson.dumps(build_response([page], sha)))
    record = DocumentRecord(
        doc_id,
        sha,
        "png",
        form.image.name,
        str(form.image),
        1,
        page.word_count,
        {"funsd": 1},
        [[form.width, form.height]],
    )
    record.save(work / META)
    store.commit(doc_id, work)
    base = f"documents/{doc_id}"
    line = PageRecord(
        {
            "raw-ref": f"{base}/{form.image.name}",
            "textract-ref": f"{base}/{TEXTRACT}",
            "source-ref": f"{base}/pages/0001.png",
            "thumbnail-ref": f"{base}/thumbs/0001.png",
            "page-num": 1,
            "funsd-form": form.name,
        }
    )
    return line.with_labels("label", entity_labels(form), job_name="funsd-import", human=True)


def import_funsd(
    split_dir: Path,
    out_dir: Path,
    thumb_size: tuple[int, int] = (224, 224),
    on_form: Callable[[int, int, str], None] | None = None,
    lines: LineMode = LineMode.rows,
) -> FunsdImportReport:
    """Import a FUNSD split folder (``annotations/*.json`` + ``images/*.png``) into ``out_dir``."""
    annotations = sorted((split_dir / "annotations").glob("*.json"))
    if not annotations:
        raise ValueError(f"{split_dir}: no annotations/*.json (expected a FUNSD split folder)")
    store = Store(out_dir)
    report = FunsdImportReport()
    manifest_lines = []
    for number, annotation in enumerate(annotations, start=1):
        image = split_dir / "images" / f"{annotation.stem}.png"
        if not image.exists():
            raise ValueError(f"{annotation}: its image {image} is missing")
        form = read_form(annotation, image)
        if on_form:
            on_form(number, len(annotations), form.name)
        record = _write_form(form, store, thumb_size, lines)
        manifest_lines.append(record.data)
        all_words = [w for e in form.entities for w in e.words]
        report.forms += 1
        report.entities += len(form.entities)
        report.words += sum(1 for w in all_words if w.text.strip())
        report.empty_words_skipped += sum(1 for w in all_words if not w.text.strip())
        report.labelled_boxes += len(record.data["label"]["annotations"])
    store.write_manifests([])
    write_jsonl(out_dir / "pages.manifest.jsonl", manifest_lines)
    FUNSD_FIELDS.save(out_dir / "fields.yaml")
    return report
