"""Label Studio export: manifest pages as tasks with pre-annotations, and the labeling config.

Many teams already label in Label Studio. Its rectangles are *percentages* of the image
(``x``, ``y``, ``width``, ``height`` in 0–100) with the image's pixel size in
``original_width``/``original_height``; Ground Truth boxes are pixels. Each task keeps its
manifest line under ``data.fieldwise``, with the folder its refs start from, so Label Studio's
JSON export comes back (:mod:`fieldwise.annotate.labelstudio_import`) as manifest lines that
point at the same files, wherever the export was downloaded to.

Existing boxes go out as ``predictions``, Label Studio's pre-annotations: shown for correction,
never counted as finished labels, and no friction on import (``annotations`` on tasks need
matching users and are taken as done work). ``as_annotations`` writes them as annotations for
teams that move finished labels into Label Studio.

Example::

    fields = load_fields("fields.yaml")
    result = export_tasks(Manifest.load("job.jsonl"), fields, "label", ImageUrls())
    Path("tasks.json").write_text(json.dumps(result.tasks))
    Path("config.xml").write_text(labeling_config(fields))
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

from PIL import Image

from fieldwise.annotate.manifest import BoxAnnotation, BoxLabels, Manifest, ManifestError
from fieldwise.annotate.show import class_colour
from fieldwise.fields.config import OTHER, FieldConfig

FROM_NAME = "label"  # the RectangleLabels control of the labeling configuration
TO_NAME = "image"  # the Image object it labels
LOCAL_FILES = "/data/local-files/?d="


@dataclass(frozen=True, slots=True)
class ImageUrls:
    """How a page image becomes ``data.image``: ``prefix`` + the ref relative to the manifest's
    folder, else Label Studio's local-files URL relative to ``document_root`` (its
    ``LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT``; default: the folder holding all the page
    images). URIs (``s3://…``) pass as they are, for Label Studio's cloud storages."""

    prefix: str | None = None
    document_root: Path | None = None

    def url(self, ref: str, manifest: Manifest) -> str:
        if "://" in ref:
            return ref
        path = manifest.resolve(ref).resolve()
        root = manifest.base if self.prefix is not None else self.document_root or Path("/")
        try:
            relative = path.relative_to(root.resolve()).as_posix()
        except ValueError:
            what = "the manifest's folder" if self.prefix is not None else "--document-root"
            raise ValueError(f"page image {path} is outside {what} {root.resolve()}") from None
        head = self.prefix if self.prefix is not None else LOCAL_FILES
        return head + quote(relative, safe="/")

    def with_root_for(self, manifest: Manifest) -> ImageUrls:
        """These settings with ``document_root`` defaulting to the images' common folder."""
        if self.prefix is not None or self.document_root is not None:
            return self
        refs = [p.ref("source-ref") for p in manifest.pages]
        folders = [str(manifest.resolve(r).resolve().parent) for r in refs if r and "://" not in r]
        return ImageUrls(None, Path(os.path.commonpath(folders)) if folders else manifest.base)


@dataclass(slots=True)
class ExportResult:
    tasks: list[dict[str, Any]] = field(default_factory=list)
    boxes: int = 0
    other_boxes_skipped: int = 0  # boxes of class "other": not a label Label Studio offers
    urls: ImageUrls = field(default_factory=ImageUrls)  # as used, document root filled in


def labeling_config(fields: FieldConfig) -> str:
    """The labeling configuration XML: one ``<Label>`` per field ("other" is the absence of one)."""
    labels = "\n".join(
        f"    <Label value={quoteattr(f.name)} background={quoteattr(_hex(f.class_id, fields))}/>"
        for f in fields.fields
    )
    return (
        f'<View>\n  <Image name="{TO_NAME}" value="$image" zoom="true"/>\n'
        f'  <RectangleLabels name="{FROM_NAME}" toName="{TO_NAME}">\n{labels}\n'
        "  </RectangleLabels>\n</View>\n"
    )


def _hex(class_id: int, fields: FieldConfig) -> str:
    return "#{:02x}{:02x}{:02x}".format(*class_colour(class_id, fields.other_id))


def _class_name(class_id: int, labels: BoxLabels, fields: FieldConfig, where: str) -> str:
    if labels.class_map:
        name = labels.class_map.get(class_id)
        if name is None:
            raise ValueError(f"{where}: class id {class_id} is not in the line's class-map")
    elif class_id < fields.num_classes:
        name = fields.class_names[class_id]
    else:
        raise ValueError(f"{where}: class id {class_id} exceeds the {fields.num_classes} classes")
    if name != OTHER and name not in fields.by_name:
        known = ", ".join(fields.class_names[:-1])
        raise ValueError(f"{where}: class {name!r} is not a field of the configuration ({known})")
    return name


def _rectangle(a: BoxAnnotation, name: str, width: int, height: int, rid: str) -> dict[str, Any]:
    return {
        "id": rid,
        "type": "rectanglelabels",
        "from_name": FROM_NAME,
        "to_name": TO_NAME,
        "original_width": width,
        "original_height": height,
        "image_rotation": 0,
        "value": {
            "x": 100.0 * a.left / width,
            "y": 100.0 * a.top / height,
            "width": 100.0 * a.width / width,
            "height": 100.0 * a.height / height,
            "rotation": 0,
            "rectanglelabels": [name],
        },
    }


def _image_size(manifest: Manifest, ref: str) -> list[int] | None:
    if "://" in ref:
        return None
    try:
        with Image.open(manifest.resolve(ref)) as image:  # reads the header only
            return [image.width, image.height]
    except OSError:
        return None


def export_tasks(
    manifest: Manifest,
    fields: FieldConfig,
    attr: str = "label",
    urls: ImageUrls | None = None,
    as_annotations: bool = False,
) -> ExportResult:
    """One Label Studio task per manifest page, with the page's boxes under ``attr`` as
    pre-annotations; ``ManifestError`` names the line for a page without an image."""
    urls = (urls or ImageUrls()).with_root_for(manifest)
    out = ExportResult(urls=urls)
    base = str(manifest.base.resolve())
    for number, record in enumerate(manifest.pages, start=1):
        where = f"{manifest.source}:{number}"
        source = record.ref("source-ref")
        if source is None:
            raise ManifestError(
                manifest.source, number, "no source-ref: Label Studio needs an image"
            )
        try:
            labels = record.labels(attr)
            image = urls.url(source, manifest)
        except ValueError as exc:
            raise ManifestError(manifest.source, number, str(exc)) from None
        line = {k: v for k, v in record.data.items() if k not in (attr, f"{attr}-metadata")}
        size = [labels.width, labels.height] if labels else _image_size(manifest, source)
        fieldwise = {"line": line, "base": base, "manifest": manifest.source, "line-number": number}
        if size:
            fieldwise["image-size"] = size
        task: dict[str, Any] = {"data": {"image": image, "fieldwise": fieldwise}}
        if labels is not None:
            results = []
            for index, a in enumerate(labels.annotations):
                name = _class_name(a.class_id, labels, fields, where)
                if name == OTHER:
                    out.other_boxes_skipped += 1
                    continue
                rid = f"fw{number}-{index}"
                results.append(_rectangle(a, name, labels.width, labels.height, rid))
            out.boxes += len(results)
            if as_annotations:
                task["annotations"] = [{"result": results}]
            else:
                task["predictions"] = [{"model_version": f"fieldwise:{attr}", "result": results}]
        out.tasks.append(task)
    return out
