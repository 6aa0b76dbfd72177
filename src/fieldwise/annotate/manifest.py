"""Page manifests in the SageMaker Ground Truth format: read, write, labels in and out.

One JSON object per line, one page per object::

    {"source-ref": "documents/ab12…/pages/0001.png",
     "textract-ref": "documents/ab12…/textract.json",
     "page-num": 1,
     "label": {"image_size": [{"width": 1275, "height": 1650, "depth": 3}],
               "annotations": [{"class_id": 0, "left": 10, "top": 20,
                                "width": 300, "height": 40}]},
     "label-metadata": {"class-map": {"0": "Provider Name"},
                        "type": "groundtruth/object-detection", "human-annotated": "yes",
                        "job-name": "…", "creation-date": "…"}}

Refs are paths relative to the manifest's folder, absolute paths, or URIs (``s3://…``) that
``map_prefix`` rewrites to local paths. Every key a line has is kept: a manifest read and written
back loses nothing. Boxes are pixels of the page image named by ``source-ref`` (any size);
``LabelBox`` values are fractions of the page, so they meet Textract geometry directly.

Example::

    manifest = Manifest.load("out/pages.manifest.jsonl")
    page = manifest.pages[0]
    labels = page.labels("label")              # BoxLabels or None
    boxes = labels.label_boxes() if labels else []
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fieldwise.annotate.word_labels import LabelBox
from fieldwise.ingest.store import write_jsonl
from fieldwise.textract.geometry import Box

REFS = ("raw-ref", "source-ref", "textract-ref", "thumbnail-ref")


class ManifestError(ValueError):
    """A manifest line that cannot be used: names the file, the line and the reason."""

    def __init__(self, source: str, line: int | None, reason: str) -> None:
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True)
class BoxAnnotation:
    """One Ground Truth box, in pixels of the page image."""

    class_id: int
    left: float
    top: float
    width: float
    height: float
    entity: int | None = None  # boxes sharing this number are parts of one entity (optional key)

    def to_json(self) -> dict[str, Any]:
        def num(v: float) -> float | int:
            return int(v) if float(v).is_integer() else round(v, 2)

        out: dict[str, Any] = {
            "class_id": self.class_id,
            "left": num(self.left),
            "top": num(self.top),
            "width": num(self.width),
            "height": num(self.height),
        }
        if self.entity is not None:
            out["entity"] = self.entity
        return out


@dataclass(frozen=True, slots=True)
class BoxLabels:
    """The boxes of one labelling attribute on one page, with the image size they refer to."""

    width: int
    height: int
    annotations: tuple[BoxAnnotation, ...]
    class_map: Mapping[int, str] = field(default_factory=dict)
    depth: int = 3

    def label_boxes(self) -> list[LabelBox]:
        """The boxes as fractions of the page, clamped to it."""
        return [
            LabelBox(
                a.class_id,
                Box(
                    a.left / self.width,
                    a.top / self.height,
                    (a.left + a.width) / self.width,
                    (a.top + a.height) / self.height,
                ).clamp(),
                a.entity,
            )
            for a in self.annotations
        ]

    @classmethod
    def from_label_boxes(
        cls,
        boxes: Iterable[LabelBox],
        width: int,
        height: int,
        class_names: Sequence[str],
        depth: int = 3,
    ) -> BoxLabels:
        """Boxes in page fractions → pixel boxes on a ``width``×``height`` image."""
        annotations = tuple(
            BoxAnnotation(
                b.class_id,
                round(b.box.left * width, 1),
                round(b.box.top * height, 1),
                round(b.box.width * width, 1),
                round(b.box.height * height, 1),
                b.entity,
            )
            for b in boxes
        )
        class_map = {i: name for i, name in enumerate(class_names)}
        return cls(width, height, annotations, class_map, depth)

    def to_json(self) -> dict[str, Any]:
        return {
            "image_size": [{"width": self.width, "height": self.height, "depth": self.depth}],
            "annotations": [a.to_json() for a in self.annotations],
        }


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number, got {value!r}")
    return float(value)


def parse_box_labels(value: Any, metadata: Any) -> BoxLabels:
    """Validate a Ground Truth bounding-box attribute (and its ``-metadata``)."""
    if not isinstance(value, dict):
        raise ValueError(f"expected an object with image_size and annotations, got {value!r}")
    sizes = value.get("image_size")
    if not isinstance(sizes, list) or not sizes or not isinstance(sizes[0], dict):
        raise ValueError("image_size must be a list with one {width, height, depth} object")
    width = _number(sizes[0].get("width"), "image_size.width")
    height = _number(sizes[0].get("height"), "image_size.height")
    if width <= 0 or height <= 0:
        raise ValueError(f"image_size must be positive, got {width:g}×{height:g}")
    raw_annotations = value.get("annotations", [])
    if not isinstance(raw_annotations, list):
        raise ValueError("annotations must be a list")
    annotations = []
    for i, a in enumerate(raw_annotations):
        if not isinstance(a, dict):
            raise ValueError(f"annotations[{i}] must be an object")
        class_id = a.get("class_id")
        if isinstance(class_id, bool) or not isinstance(class_id, int) or class_id < 0:
            raise ValueError(f"annotations[{i}].class_id must be an integer ≥ 0, got {class_id!r}")
        box = [
            _number(a.get(k), f"annotations[{i}].{k}") for k in ("left", "top", "width", "height")
        ]
        if box[2] < 0 or box[3] < 0:
            raise ValueError(f"annotations[{i}] has a negative width or height")
        entity = a.get("entity")
        if entity is not None and (isinstance(entity, bool) or not isinstance(entity, int)):
            raise ValueError(f"annotations[{i}].entity must be an integer, got {entity!r}")
        annotations.append(BoxAnnotation(class_id, box[0], box[1], box[2], box[3], entity))
    class_map: dict[int, str] = {}
    raw_map = metadata.get("class-map", {}) if isinstance(metadata, dict) else {}
    if not isinstance(raw_map, dict):
        raise ValueError("class-map must be an object of class id → name")
    for key, name in raw_map.items():
        try:
            class_map[int(key)] = str(name)
        except ValueError:
            raise ValueError(f"class-map key {key!r} is not an integer") from None
    depth = sizes[0].get("depth", 3)
    return BoxLabels(int(width), int(height), tuple(annotations), class_map, int(depth or 3))


@dataclass(slots=True)
class PageRecord:
    """One manifest line; ``data`` is the line's JSON object, kept whole."""

    data: dict[str, Any]

    @property
    def page_num(self) -> int:
        return int(self.data.get("page-num", 1))

    def ref(self, key: str) -> str | None:
        value = self.data.get(key)
        return value if isinstance(value, str) else None

    def labels(self, attr: str = "label") -> BoxLabels | None:
        """The boxes under ``attr`` (None when the page has none); ValueError when malformed."""
        if attr not in self.data:
            return None
        return parse_box_labels(self.data[attr], self.data.get(f"{attr}-metadata"))

    def with_labels(
        self, attr: str, labels: BoxLabels, job_name: str = "fieldwise", human: bool = True
    ) -> PageRecord:
        """A copy with ``labels`` written under ``attr`` and ``attr-metadata``."""
        data = copy.deepcopy(self.data)
        data[attr] = labels.to_json()
        data[f"{attr}-metadata"] = {
            "objects": [{"confidence": 0} for _ in labels.annotations],
            "class-map": {str(k): v for k, v in sorted(labels.class_map.items())},
            "type": "groundtruth/object-detection",
            "human-annotated": "yes" if human else "no",
            "creation-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f"),
            "job-name": job_name,
        }
        return PageRecord(data)

    def key(self) -> tuple[str, int]:
        """What identifies the page: its document (Textract or raw ref) and page number."""
        doc = self.ref("textract-ref") or self.ref("raw-ref") or self.ref("source-ref") or ""
        return doc, self.page_num

    def document_key(self) -> str:
        return self.key()[0]


@dataclass(slots=True)
class Manifest:
    """The pages of a manifest file and the folder its relative refs start from."""

    pages: list[PageRecord]
    base: Path = Path(".")
    source: str = "<manifest>"

    def __iter__(self) -> Iterator[PageRecord]:
        return iter(self.pages)

    def __len__(self) -> int:
        return len(self.pages)

    @classmethod
    def load(cls, path: str | Path) -> Manifest:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ManifestError(str(path), None, f"cannot read: {exc.strerror or exc}") from None
        pages = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ManifestError(str(path), number, f"not JSON: {exc.msg}") from None
            if not isinstance(data, dict):
                raise ManifestError(str(path), number, "a line must be a JSON object")
            page_num = data.get("page-num", 1)
            if isinstance(page_num, bool) or not isinstance(page_num, int) or page_num < 1:
                raise ManifestError(str(path), number, f"page-num must be ≥ 1, got {page_num!r}")
            if not any(isinstance(data.get(k), str) for k in REFS):
                raise ManifestError(str(path), number, f"no ref: needs one of {', '.join(REFS)}")
            pages.append(PageRecord(data))
        return cls(pages, path.parent, str(path))

    def resolve(self, ref: str) -> Path:
        """A ref as a local path (relative refs start at the manifest's folder)."""
        if "://" in ref:
            raise ManifestError(
                self.source, None, f"{ref} is a URI; map it to a local folder with --map-prefix"
            )
        path = Path(ref)
        return path if path.is_absolute() else self.base / path

    def save(self, path: str | Path, relative_to_new_folder: bool = True) -> None:
        """Write the manifest; relative refs are rewritten so they still point at the same files."""
        path = Path(path)
        rows = (
            rebase_refs(p.data, self.base, path.parent) if relative_to_new_folder else p.data
            for p in self.pages
        )
        write_jsonl(path, rows)


def _relpath(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target.resolve(), start.resolve())).as_posix()


def rebase_refs(data: dict[str, Any], old_base: Path, new_base: Path) -> dict[str, Any]:
    """Relative refs re-expressed from ``new_base`` (absolute refs and URIs unchanged)."""
    if old_base.resolve() == new_base.resolve():
        return data
    out = dict(data)
    for key in REFS:
        ref = out.get(key)
        if isinstance(ref, str) and "://" not in ref and not Path(ref).is_absolute():
            out[key] = _relpath(old_base / ref, new_base)
    return out


def parse_prefix_maps(pairs: Iterable[str]) -> list[tuple[str, str]]:
    """``OLD=NEW`` strings → pairs, longest OLD first so the most specific mapping wins."""
    maps = []
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old:
            raise ValueError(f"--map-prefix expects OLD=NEW, got {pair!r}")
        maps.append((old, new))
    return sorted(maps, key=lambda m: -len(m[0]))


def map_prefix(data: dict[str, Any], maps: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A copy of a manifest line with every ``*-ref`` rewritten by the first matching prefix."""
    out = dict(data)
    for key, value in data.items():
        if key.endswith("-ref") and isinstance(value, str):
            for old, new in maps:
                if value.startswith(old):
                    out[key] = new + value[len(old) :]
                    break
    return out
