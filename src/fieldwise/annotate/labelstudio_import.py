"""Label Studio import: a JSON export of labelled tasks back into a Ground Truth manifest.

Reads the tasks :mod:`fieldwise.annotate.labelstudio` exported (their ``data.fieldwise`` says
which manifest line and files they are), takes each task's latest non-cancelled annotation,
maps label names to class ids by the field configuration and turns percentages into pixels of
``original_width``×``original_height``. Label Studio turns a rectangle ``rotation`` degrees
clockwise about its top-left corner; a rotated rectangle becomes its axis-aligned bounds on the
page (counted in ``ImportResult.rotated``), since Ground Truth boxes cannot turn and a slightly
skewed box still covers the same words.

Example::

    export = json.loads(Path("export.json").read_text())
    result = import_tasks(export, load_fields("fields.yaml"), "label", "export.json")
    write_jsonl("labelled.jsonl", result.manifest_lines(Path(".")))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fieldwise.annotate.manifest import BoxAnnotation, BoxLabels, PageRecord, rebase_refs
from fieldwise.fields.config import FieldConfig


class LabelStudioError(ValueError):
    """A Label Studio file that cannot be used: names the file, the task and the reason."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")


@dataclass(slots=True)
class ImportResult:
    lines: list[tuple[dict[str, Any], Path]] = field(default_factory=list)  # line, its refs' base
    unlabelled: list[str] = field(default_factory=list)  # tasks without a usable annotation
    boxes: int = 0
    rotated: int = 0  # rotated rectangles replaced by their axis-aligned bounds

    def manifest_lines(self, folder: Path) -> list[dict[str, Any]]:
        """The lines with relative refs re-expressed from ``folder`` (the output's folder)."""
        return [rebase_refs(line, base, folder) for line, base in self.lines]


def _latest(items: Any) -> dict[str, Any] | None:
    """The last-updated non-cancelled annotation (or prediction) with a result list."""
    if not isinstance(items, list):
        return None
    usable = [
        (str(a.get("updated_at") or a.get("created_at") or ""), i, a)
        for i, a in enumerate(items)
        if isinstance(a, dict) and not a.get("was_cancelled") and isinstance(a.get("result"), list)
    ]
    return max(usable, key=lambda t: (t[0], t[1]))[2] if usable else None


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a number, got {value!r}")
    return float(value)


def _pixels(value: dict[str, Any], width: int, height: int) -> tuple[tuple[float, ...], bool]:
    """A percent rectangle → (left, top, width, height) in pixels, and whether it was rotated."""
    x = _number(value.get("x"), "x") * width / 100
    y = _number(value.get("y"), "y") * height / 100
    w = _number(value.get("width"), "width") * width / 100
    h = _number(value.get("height"), "height") * height / 100
    angle = _number(value.get("rotation", 0) or 0, "rotation") % 360
    if angle == 0:
        return (x, y, w, h), False
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    xs = [x, x + w * c, x + w * c - h * s, x - h * s]
    ys = [y, y + w * s, y + w * s + h * c, y + h * c]
    left, top = max(0.0, min(xs)), max(0.0, min(ys))
    right, bottom = min(float(width), max(xs)), min(float(height), max(ys))
    return (left, top, max(0.0, right - left), max(0.0, bottom - top)), True


def _page_size(results: list[dict[str, Any]], fw: dict[str, Any]) -> tuple[int, int] | None:
    for r in results:
        if "original_width" in r and "original_height" in r:
            w, h = (
                _number(r["original_width"], "original_width"),
                _number(r["original_height"], "original_height"),
            )
            return int(w), int(h)
    size = fw.get("image-size")
    if isinstance(size, list) and len(size) == 2:
        return int(_number(size[0], "image-size")), int(_number(size[1], "image-size"))
    return None


def import_tasks(
    export: Any,
    fields: FieldConfig,
    attr: str = "label",
    source: str = "<export>",
    use_predictions: bool = False,
) -> ImportResult:
    """A Label Studio JSON export → manifest lines with the boxes under ``attr``.

    Raises ``LabelStudioError`` naming the task for an unknown label, a task fieldwise did not
    export, or malformed JSON. Tasks without a non-cancelled annotation (or, with
    ``use_predictions``, a prediction) are listed in ``unlabelled`` and left out.
    """
    if not isinstance(export, list):
        raise LabelStudioError(source, "expected a JSON list of tasks (Label Studio's JSON export)")
    out = ImportResult()
    class_map = dict(enumerate(fields.class_names))
    for index, task in enumerate(export, start=1):
        name = f"task {task.get('id', f'#{index}')}" if isinstance(task, dict) else f"task #{index}"
        if not isinstance(task, dict):
            raise LabelStudioError(source, f"{name}: a task must be a JSON object")
        data = task.get("data")
        fw = data.get("fieldwise") if isinstance(data, dict) else None
        if not (
            isinstance(fw, dict)
            and isinstance(fw.get("line"), dict)
            and isinstance(fw.get("base"), str)
        ):
            raise LabelStudioError(
                source,
                f"{name}: no data.fieldwise line; export tasks with "
                "`fieldwise annotate export-labelstudio` (JSON-MIN and CSV exports do not work)",
            )
        if "annotations" not in task:
            raise LabelStudioError(
                source, f"{name}: no annotations; use Label Studio's JSON export"
            )
        chosen, human = _latest(task["annotations"]), True
        if chosen is None and use_predictions:
            chosen, human = _latest(task.get("predictions")), False
        if chosen is None:
            out.unlabelled.append(name)
            continue
        try:
            labels, rotated = _labels(chosen["result"], fw, fields, class_map)
        except (ValueError, TypeError) as exc:
            raise LabelStudioError(source, f"{name}: {exc}") from None
        project = task.get("project")
        job = f"labelstudio/project-{project}" if project is not None else "labelstudio"
        line = PageRecord(fw["line"]).with_labels(attr, labels, job, human).data
        line[f"{attr}-metadata"]["labelstudio"] = {"task": task.get("id"), "id": chosen.get("id")}
        out.lines.append((line, Path(fw["base"])))
        out.boxes += len(labels.annotations)
        out.rotated += rotated
    return out


def _labels(
    results: list[Any], fw: dict[str, Any], fields: FieldConfig, class_map: dict[int, str]
) -> tuple[BoxLabels, int]:
    rects = [r for r in results if isinstance(r, dict) and r.get("type") == "rectanglelabels"]
    size = _page_size(rects, fw)
    if size is None:
        raise ValueError("no original_width/original_height and no data.fieldwise.image-size")
    annotations, rotated = [], 0
    for r in rects:
        value = r.get("value")
        if not isinstance(value, dict):
            raise ValueError(f"region {r.get('id')}: no value object")
        names = value.get("rectanglelabels")
        if not isinstance(names, list) or len(names) != 1 or not isinstance(names[0], str):
            raise ValueError(f"region {r.get('id')}: expected one label, got {names!r}")
        try:
            class_id = fields.class_id(names[0])
        except KeyError:
            known = ", ".join(fields.class_names[:-1])
            raise ValueError(
                f"label {names[0]!r} is not a field of the configuration ({known})"
            ) from None
        box, turned = _pixels(value, *size)
        rotated += turned
        left, top, width, height = (round(v, 2) for v in box)
        annotations.append(BoxAnnotation(class_id, left, top, width, height))
    return BoxLabels(size[0], size[1], tuple(annotations), class_map), rotated
