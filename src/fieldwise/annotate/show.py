"""Pictures of labelled pages, for checking labels by eye and for the README.

One picture per manifest page: the page image with each label box outlined in its class's
colour, each word filled translucently in the colour of the class it received (by the box→word
rule of :mod:`fieldwise.annotate.word_labels`, or by a model's ``PredictedClass`` when the words
carry one), words of class "other" outlined in grey, and a legend in the emptiest corner. The
picture keeps the page image's size, so a pixel of the picture is a pixel of the page.

Example::

    manifest = Manifest.load("out/pages.manifest.jsonl")
    image, view = load_page(manifest, line=3, fields=load_fields("fields.yaml"))
    render(image, view).image.save("page.png")
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from fieldwise.annotate.dataset import page_words
from fieldwise.annotate.manifest import BoxLabels, Manifest, ManifestError
from fieldwise.annotate.word_labels import LabelBox, label_words
from fieldwise.fields.config import OTHER, FieldConfig
from fieldwise.textract.document import TextractDocument
from fieldwise.textract.geometry import Box

#: Class colours (Tableau 20 order: strong colours first), reused by the Label Studio config.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (188, 189, 34), (23, 190, 207), (174, 199, 232),
    (255, 187, 120), (152, 223, 138), (255, 152, 150), (197, 176, 213), (196, 156, 148),
    (247, 182, 210), (219, 219, 141), (158, 218, 229), (57, 59, 121), (132, 60, 57),
)  # fmt: skip
OTHER_COLOUR = (150, 150, 150)
WORD_ALPHA = 96  # of 255: the word's text stays readable under its fill


def class_colour(class_id: int, other_id: int) -> tuple[int, int, int]:
    """The colour of a class; "other" is grey."""
    return OTHER_COLOUR if class_id == other_id else PALETTE[class_id % len(PALETTE)]


def blend(under: tuple[int, int, int], colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """What a word fill makes of a page pixel ``under`` (for tests and colour pickers)."""
    a = WORD_ALPHA / 255
    return tuple(round(c * a + u * (1 - a)) for u, c in zip(under, colour, strict=True))  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class PageView:
    """What a picture shows: boxes in page fractions, class ids, class names (last "other")."""

    label_boxes: list[LabelBox]
    word_boxes: list[Box]
    word_classes: list[int]
    class_names: list[str]
    words_from: str  # "labels", "predictions" or "" when the page has no words

    @property
    def other_id(self) -> int:
        return len(self.class_names) - 1


@dataclass(frozen=True, slots=True)
class Picture:
    image: Image.Image
    legend: tuple[int, int, int, int]  # the legend panel, pixels (left, top, right, bottom)


def _pixels(box: Box, size: tuple[int, int]) -> tuple[int, int, int, int]:
    w, h = size
    return round(box.left * w), round(box.top * h), round(box.right * w), round(box.bottom * h)


def render(image: Image.Image, view: PageView) -> Picture:
    """Draw ``view`` on a copy of ``image`` (any mode); the result is RGB of the same size."""
    size = image.size
    overlay = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for box, class_id in zip(view.word_boxes, view.word_classes, strict=True):
        x0, y0, x1, y1 = _pixels(box, size)
        if class_id == view.other_id:
            draw.rectangle((x0, y0, x1, y1), outline=(*OTHER_COLOUR, 160), width=1)
        else:
            colour = class_colour(class_id, view.other_id)
            draw.rectangle((x0, y0, x1, y1), fill=(*colour, WORD_ALPHA))
    picture = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    draw = ImageDraw.Draw(picture)
    line = max(2, size[0] // 400)
    for label in view.label_boxes:
        x0, y0, x1, y1 = _pixels(label.box, size)
        colour = class_colour(label.class_id, view.other_id)
        draw.rectangle((x0 - line, y0 - line, x1 + line, y1 + line), outline=colour, width=line)
    return Picture(picture, _legend(picture, view))


def _legend(picture: Image.Image, view: PageView) -> tuple[int, int, int, int]:
    words = Counter(view.word_classes)
    boxes = Counter(b.class_id for b in view.label_boxes)
    ids = sorted(set(boxes) | set(words))
    lines = [f"word colours: {view.words_from}" if view.words_from else "no words on this page"]
    rows: list[tuple[int, str]] = []
    for class_id in ids:
        names = view.class_names
        name = names[class_id] if class_id < len(names) else f"class {class_id}"
        rows.append((class_id, f"{name}: {words[class_id]} words, {boxes[class_id]} boxes"))
    em = max(12, picture.width // 70)  # font size in pixels
    font = ImageFont.load_default(size=em)
    draw = ImageDraw.Draw(picture)
    height = round(em * 1.4)
    texts = lines + [t for _, t in rows]
    width = max(draw.textlength(t, font=font) for t in texts) + height + em
    panel_w, panel_h = int(width), height * len(texts) + em // 2
    x0, y0 = _emptiest_corner(picture.size, (panel_w, panel_h), view.word_boxes)
    draw.rectangle((x0, y0, x0 + panel_w, y0 + panel_h), fill="white", outline="black")
    pad = em // 3
    draw.text((x0 + pad, y0 + pad), lines[0], fill="black", font=font)
    for row, (class_id, text) in enumerate(rows, start=1):
        y = y0 + pad + row * height
        swatch = (x0 + pad, y, x0 + pad + em, y + em)
        draw.rectangle(swatch, fill=class_colour(class_id, view.other_id), outline="black")
        draw.text((x0 + 2 * pad + em, y), text, fill="black", font=font)
    return x0, y0, x0 + panel_w, y0 + panel_h


def _emptiest_corner(
    size: tuple[int, int], panel: tuple[int, int], words: list[Box]
) -> tuple[int, int]:
    """The corner where the legend hides the least word area."""
    margin = max(4, size[0] // 200)
    corners = [
        (x, y)
        for y in (margin, max(0, size[1] - panel[1] - margin))
        for x in (max(0, size[0] - panel[0] - margin), margin)
    ]

    def hidden(corner: tuple[int, int]) -> float:
        x, y = corner
        area = Box(x / size[0], y / size[1], (x + panel[0]) / size[0], (y + panel[1]) / size[1])
        return sum(area.intersection(w) for w in words)

    return min(corners, key=hidden)


def _class_names(fields: FieldConfig | None, labels: BoxLabels | None, predicted: int) -> list[str]:
    """Names by class id, last "other": the configuration's, else the labels' class-map."""
    if fields is not None:
        return fields.class_names
    class_map = dict(labels.class_map) if labels else {}
    ids = [*class_map, *(a.class_id for a in labels.annotations)] if labels else []
    labelled = max(ids, default=-1) + 1
    if labelled and class_map.get(labelled - 1) == OTHER:
        labelled -= 1  # the class-map names "other" itself
    count = max(labelled, predicted - 1)  # ``predicted`` counts "other" too
    return [class_map.get(i, f"class {i}") for i in range(count)] + [OTHER]


def _label_boxes(labels: BoxLabels, fields: FieldConfig | None, where: str) -> list[LabelBox]:
    boxes = labels.label_boxes()
    if fields is None or not labels.class_map:
        return boxes
    try:  # jobs may number classes differently: the configuration's ids follow the names
        return [LabelBox(fields.class_id(labels.class_map[b.class_id]), b.box) for b in boxes]
    except KeyError as exc:
        raise ValueError(f"{where}: {exc.args[0]}") from None


def _length(value: object) -> int:
    return len(value) if isinstance(value, list) else 0


def load_page(
    manifest: Manifest,
    line: int,
    attr: str = "label",
    fields: FieldConfig | None = None,
    predictions: Path | None = None,
) -> tuple[Image.Image, PageView]:
    """The page image of manifest line ``line`` (1-based) and what to draw on it.

    Raises ``ValueError`` (a ``ManifestError`` or ``TextractFormatError``) naming the file and
    the reason for a line out of range, a page without an image, or unreadable files.
    """
    if not 1 <= line <= len(manifest):
        raise ManifestError(manifest.source, None, f"line {line} out of range 1..{len(manifest)}")
    record, where = manifest.pages[line - 1], f"{manifest.source}:{line}"
    source = record.ref("source-ref")
    if source is None:
        raise ManifestError(manifest.source, line, "no source-ref: no page image to draw on")
    path = manifest.resolve(source)
    try:
        with Image.open(path) as opened:
            image = opened.copy()
    except OSError as exc:
        raise ManifestError(manifest.source, line, f"page image {path}: {exc}") from None
    try:
        labels = record.labels(attr)
    except ValueError as exc:
        raise ManifestError(manifest.source, line, f"{attr}: {exc}") from None
    ref = record.ref("textract-ref")
    doc = (
        TextractDocument.load(predictions)
        if predictions
        else TextractDocument.load(manifest.resolve(ref))
        if ref
        else None
    )
    words = page_words(doc, record.page_num) if doc else None
    blocks = [doc.by_id[i] for i in words.block_ids] if doc and words else []
    predicted = [b.get("PredictedClass") for b in blocks]
    if predictions and not any(isinstance(p, int) for p in predicted):
        raise ValueError(f"{predictions}: no PredictedClass on the words of page {record.page_num}")
    probs = max((_length(b.get("ClassificationProbabilities")) for b in blocks), default=0)
    by_model = any(isinstance(p, int) for p in predicted)
    count = max(probs, max((p for p in predicted if isinstance(p, int)), default=-1) + 1)
    names = _class_names(fields, labels, count if by_model else 0)
    other = len(names) - 1
    boxes = _label_boxes(labels, fields, where) if labels else []
    word_boxes = words.boxes if words else []
    if by_model:
        classes = [p if isinstance(p, int) and 0 <= p <= other else other for p in predicted]
    else:
        classes = [w.class_id for w in label_words(word_boxes, boxes, other)]
    source_of_words = ("predictions" if by_model else "labels") if word_boxes else ""
    return image, PageView(boxes, word_boxes, classes, names, source_of_words)
