"""``fieldwise annotate export-labelstudio | import-labelstudio``: label pages in Label Studio."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from fieldwise.annotate.labelstudio import ImageUrls, export_tasks, labeling_config
from fieldwise.annotate.labelstudio_import import import_tasks
from fieldwise.annotate.manifest import Manifest, write_jsonl
from fieldwise.commands.annotate import app
from fieldwise.commands.common import console, fail
from fieldwise.fields.config import FieldConfig, load_fields

LabelAttr = Annotated[str, typer.Option(help="Manifest attribute that holds the boxes.")]
Fields = Annotated[Path, typer.Option("--fields", help="Field configuration (YAML or JSON).")]


def _fields(path: Path) -> FieldConfig:
    try:
        return load_fields(path)
    except (ValueError, OSError) as exc:
        raise fail(exc) from None


@app.command("export-labelstudio")
def export_labelstudio_command(
    manifest: Annotated[Path, typer.Argument(help="Page manifest (JSON Lines).")],
    fields: Fields,
    out: Annotated[Path, typer.Option("--out", "-o", help="Label Studio tasks (JSON).")],
    label_attr: LabelAttr = "label",
    image_url_prefix: Annotated[
        str | None,
        typer.Option(help="URL prefix for page images (+ the ref relative to the manifest)."),
    ] = None,
    document_root: Annotated[
        Path | None,
        typer.Option(
            help="Label Studio's LOCAL_FILES_DOCUMENT_ROOT (default: the images' folder)."
        ),
    ] = None,
    config_out: Annotated[
        Path | None, typer.Option(help="Write the labeling configuration XML here.")
    ] = None,
    as_annotations: Annotated[
        bool, typer.Option(help="Existing boxes as finished annotations, not predictions.")
    ] = False,
) -> None:
    """Write one Label Studio task per page, existing boxes as pre-annotations (predictions).

    Page images are served by Label Studio's local files (`/data/local-files/?d=…`, relative to
    `--document-root`) unless `--image-url-prefix` is given. Each task keeps its manifest line
    under `data.fieldwise`, so `import-labelstudio` maps the labels back to the same files.

    Example: `fieldwise annotate export-labelstudio job.jsonl --fields fields.yaml --out tasks.json --config-out config.xml`
    """  # noqa: E501
    config = _fields(fields)
    urls = ImageUrls(image_url_prefix, document_root)
    try:
        result = export_tasks(Manifest.load(manifest), config, label_attr, urls, as_annotations)
    except (ValueError, OSError) as exc:
        raise fail(exc) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result.tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    kind = "annotations" if as_annotations else "predictions"
    console.print(f"{len(result.tasks)} tasks, {result.boxes} boxes as {kind} → {out}")
    if result.other_boxes_skipped:
        console.print(f"{result.other_boxes_skipped} boxes of class 'other' left out")
    if config_out is not None:
        config_out.parent.mkdir(parents=True, exist_ok=True)
        config_out.write_text(labeling_config(config), encoding="utf-8")
        console.print(f"labeling configuration → {config_out}")
    root = result.urls.document_root
    if image_url_prefix is None and root is not None:
        console.print(
            "Start Label Studio with LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true and "
            f"LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT={root}, and add a Local Files source "
            f"storage under {root}, so it can show the page images.",
            highlight=False,
        )


@app.command("import-labelstudio")
def import_labelstudio_command(
    export: Annotated[Path, typer.Argument(help="Label Studio JSON export (a list of tasks).")],
    fields: Fields,
    out: Annotated[Path, typer.Option("--out", "-o", help="Ground Truth manifest to write.")],
    label_attr: LabelAttr = "label",
    use_predictions: Annotated[
        bool, typer.Option(help="Take a task's latest prediction when it has no annotation.")
    ] = False,
) -> None:
    """Read a Label Studio JSON export back into a Ground Truth manifest.

    Takes each task's latest non-cancelled annotation; labels map to class ids by the field
    configuration; rotated rectangles become their axis-aligned bounds. Tasks must come from
    `export-labelstudio` (their `data.fieldwise` says which page they are).

    Example: `fieldwise annotate import-labelstudio export.json --fields fields.yaml --out labelled.jsonl`
    """  # noqa: E501
    config = _fields(fields)
    try:
        data = json.loads(export.read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(f"{export}: cannot read: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise fail(f"{export}: not a JSON file: {exc}") from None
    try:
        result = import_tasks(data, config, label_attr, str(export), use_predictions)
    except ValueError as exc:
        raise fail(exc) from None
    write_jsonl(out, result.manifest_lines(out.parent))
    console.print(f"{len(result.lines)} pages, {result.boxes} boxes under '{label_attr}' → {out}")
    if result.rotated:
        console.print(f"{result.rotated} rotated boxes replaced by their axis-aligned bounds")
    if result.unlabelled:
        shown = ", ".join(result.unlabelled[:10]) + (" …" if len(result.unlabelled) > 10 else "")
        console.print(f"{len(result.unlabelled)} tasks without an annotation left out: {shown}")
