"""FUNSD forms into fieldwise's own formats: Textract JSON, page images, a labelled manifest.

FUNSD (Jaume et al., 2019) gives scanned forms with word boxes grouped into entities labelled
``header``, ``question``, ``answer`` or ``other``. The import writes, per form, the same folder
an ingest writes (``documents/<sha256[:16]>/`` with the image, ``textract.json``, ``pages/``,
``thumbs/``) and, for the split, ``pages.manifest.jsonl`` with one Ground Truth box per
non-"other" entity under ``label``, and ``fields.yaml`` (header, question, answer; FUNSD's
``other`` is our "other"). LINEs are an entity's words on one visual row, ordered like an OCR
engine reads the page (:mod:`fieldwise.annotate.reading_order`). FUNSD's words with empty text
are left out.

Example::

    report = import_funsd(Path("../shared/data/funsd/training_data"), Path("out/funsd"))
    report.forms, report.words
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
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


def form_lines(form: FunsdForm) -> list[list[FunsdWord]]:
    """Lines in reading order: each entity's words split into visual rows, rows ordered."""
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


def _write_form(form: FunsdForm, store: Store, thumb_size: tuple[int, int]) -> PageRecord:
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
        for line in form_lines(form)
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
) -> FunsdImportReport:
    """Import a FUNSD split folder (``annotations/*.json`` + ``images/*.png``) into ``out_dir``."""
    annotations = sorted((split_dir / "annotations").glob("*.json"))
    if not annotations:
        raise ValueError(f"{split_dir}: no annotations/*.json (expected a FUNSD split folder)")
    store = Store(out_dir)
    report = FunsdImportReport()
    lines = []
    for number, annotation in enumerate(annotations, start=1):
        image = split_dir / "images" / f"{annotation.stem}.png"
        if not image.exists():
            raise ValueError(f"{annotation}: its image {image} is missing")
        form = read_form(annotation, image)
        if on_form:
            on_form(number, len(annotations), form.name)
        record = _write_form(form, store, thumb_size)
        lines.append(record.data)
        all_words = [w for e in form.entities for w in e.words]
        report.forms += 1
        report.entities += len(form.entities)
        report.words += sum(1 for w in all_words if w.text.strip())
        report.empty_words_skipped += sum(1 for w in all_words if not w.text.strip())
        report.labelled_boxes += len(record.data["label"]["annotations"])
    store.write_manifests([])
    write_jsonl(out_dir / "pages.manifest.jsonl", lines)
    FUNSD_FIELDS.save(out_dir / "fields.yaml")
    return report
