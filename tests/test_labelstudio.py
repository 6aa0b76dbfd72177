"""Label Studio interop: tasks out with percent rectangles, exports back in as Ground Truth."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fieldwise.annotate.dataset import page_words
from fieldwise.annotate.labelstudio import ImageUrls, export_tasks, labeling_config
from fieldwise.annotate.labelstudio_import import LabelStudioError, import_tasks
from fieldwise.annotate.manifest import BoxAnnotation, BoxLabels, Manifest, ManifestError
from fieldwise.cli import app
from fieldwise.fields.config import load_fields, parse_fields
from fieldwise.ingest.options import IngestOptions
from fieldwise.ingest.runner import ingest
from fieldwise.textract import TextractDocument

PDF = "barclays__barclays-gap.pdf"  # two pages with a text layer
NAMES = ["Provider Name", "APR - Purchases", "Fee - Annual"]
REFERENCE = "reference_annotations/aws-textract-transformer-pipeline/augmentation-1/output.manifest"
runner = CliRunner()


@pytest.fixture(scope="module")
def fields_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fields") / "fields.yaml"
    path.write_text("".join(f"- name: {n}\n" for n in NAMES))
    return path


@pytest.fixture(scope="module")
def job(pdf_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A manifest in its own folder: page 1 with boxes around real words, page 2 unlabelled."""
    out = tmp_path_factory.mktemp("ingest")
    assert ingest([pdf_dir / PDF], out, IngestOptions(workers=1)).failures == []
    manifest = Manifest.load(out / "pages.manifest.jsonl")
    page = manifest.pages[0]
    doc = TextractDocument.load(manifest.resolve(page.ref("textract-ref") or ""))
    words = page_words(doc, 1)
    assert words.size is not None
    width, height = words.size
    boxes = []
    for index, class_id in ((0, 0), (5, 1), (30, 2), (31, 2)):
        b = words.boxes[index]
        boxes.append(
            BoxAnnotation(
                class_id,
                b.left * width - 2,
                b.top * height - 2,
                b.width * width + 4,
                b.height * height + 4,
            )  # fmt: skip
        )
    class_map = dict(enumerate([*NAMES, "other"]))
    labels = BoxLabels(width, height, tuple(boxes), class_map)
    manifest.pages[0] = page.with_labels("label", labels)
    path = tmp_path_factory.mktemp("job") / "job.jsonl"
    manifest.save(path)
    return path


def as_labelstudio_export(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What Label Studio exports after a labeller submits each pre-annotated task unchanged."""
    exported = json.loads(json.dumps(tasks))
    for number, task in enumerate(exported, start=1):
        task.update(id=100 + number, project=3)
        task["annotations"] = [
            {"id": number, "result": p["result"], "was_cancelled": False,
             "created_at": "2024-05-01T10:00:00Z", "updated_at": "2024-05-01T10:00:00Z"}
            for p in task.pop("predictions", [])
        ]  # fmt: skip
    return exported


def test_export_writes_percent_of_the_image(tmp_path: Path) -> None:
    line = {
        "source-ref": "pages/0001.png",
        "page-num": 1,
        "label": {"image_size": [{"width": 2000, "height": 1000, "depth": 3}],
                  "annotations": [{"class_id": 1, "left": 500, "top": 250,
                                   "width": 100, "height": 50}]},
        "label-metadata": {"class-map": {"1": "APR - Purchases"}},
    }  # fmt: skip
    (tmp_path / "m.jsonl").write_text(json.dumps(line) + "\n")
    fields = parse_fields([{"name": n} for n in NAMES])
    result = export_tasks(Manifest.load(tmp_path / "m.jsonl"), fields)
    (task,) = result.tasks
    (rect,) = task["predictions"][0]["result"]
    assert rect["value"] == {
        "x": 25.0, "y": 25.0, "width": 5.0, "height": 5.0,
        "rotation": 0, "rectanglelabels": ["APR - Purchases"],
    }  # fmt: skip
    assert (rect["original_width"], rect["original_height"]) == (2000, 1000)
    assert rect["type"] == "rectanglelabels"
    assert task["data"]["image"] == "/data/local-files/?d=0001.png"  # root: the images' folder
    assert task["data"]["fieldwise"]["line"] == {"source-ref": "pages/0001.png", "page-num": 1}
    assert task["data"]["fieldwise"]["base"] == str(tmp_path.resolve())


def test_labeling_config_matches_the_tasks(fields_file: Path, job: Path) -> None:
    fields = load_fields(fields_file)
    root = ET.fromstring(labeling_config(fields))
    image = root.find("Image")
    control = root.find("RectangleLabels")
    assert image is not None and control is not None
    assert image.get("value") == "$image"
    assert [label.get("value") for label in control.findall("Label")] == NAMES  # no "other"
    task = export_tasks(Manifest.load(job), fields).tasks[0]
    for rect in task["predictions"][0]["result"]:
        assert rect["from_name"] == control.get("name")
        assert rect["to_name"] == control.get("toName") == image.get("name")
    assert task["data"]["image"].startswith("/data/local-files/?d=")


def test_image_url_prefix_and_document_root(fields_file: Path, job: Path) -> None:
    fields, manifest = load_fields(fields_file), Manifest.load(job)
    ref = manifest.pages[0].ref("source-ref") or ""
    image = manifest.resolve(ref).resolve()
    ingested = image.parents[3]  # <ingest out>/documents/<id>/pages/0001.png
    with_root = export_tasks(manifest, fields, urls=ImageUrls(document_root=ingested)).tasks
    relative = image.relative_to(ingested).as_posix()
    assert with_root[0]["data"]["image"] == f"/data/local-files/?d={relative}"
    with pytest.raises(ManifestError, match="outside the manifest's folder"):
        export_tasks(manifest, fields, urls=ImageUrls(prefix="http://files/"))  # refs are ../…
    manifest.save(ingested / "inside.jsonl")  # refs rebased: the images are below it now
    inside = Manifest.load(ingested / "inside.jsonl")
    tasks = export_tasks(inside, fields, urls=ImageUrls(prefix="http://files/")).tasks
    assert tasks[0]["data"]["image"] == f"http://files/{relative}"


def test_round_trip_keeps_boxes_class_ids_and_files(
    fields_file: Path, job: Path, tmp_path: Path
) -> None:
    fields, original = load_fields(fields_file), Manifest.load(job)
    tasks = export_tasks(original, fields).tasks
    export = tmp_path / "downloads" / "export.json"
    export.parent.mkdir()
    export.write_text(json.dumps(as_labelstudio_export(tasks)))
    out = tmp_path / "elsewhere" / "labelled.jsonl"
    result = runner.invoke(app, ["annotate", "import-labelstudio", str(export),
                                 "--fields", str(fields_file), "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    # page 2 had no boxes, so no annotation: left out
    assert "task 102" in " ".join(result.output.split())
    back = Manifest.load(out)
    assert len(back) == 1
    before, after = original.pages[0].labels("label"), back.pages[0].labels("label")
    assert before is not None and after is not None
    assert (after.width, after.height) == (before.width, before.height)
    assert [a.class_id for a in after.annotations] == [0, 1, 2, 2]
    for a, b in zip(before.annotations, after.annotations, strict=True):
        assert a.class_id == b.class_id
        for key in ("left", "top", "width", "height"):
            assert abs(getattr(a, key) - getattr(b, key)) <= 1
    for key in ("source-ref", "textract-ref", "raw-ref"):
        ref_before, ref_after = original.pages[0].ref(key), back.pages[0].ref(key)
        assert ref_before and ref_after and ref_after != ref_before  # rebased to the new folder
        assert back.resolve(ref_after).resolve() == original.resolve(ref_before).resolve()
    metadata = back.pages[0].data["label-metadata"]
    assert metadata["class-map"]["1"] == "APR - Purchases"
    assert metadata["job-name"] == "labelstudio/project-3"


def test_reference_ground_truth_manifest_exports(pdf_dir: Path) -> None:
    manifest = Manifest.load(pdf_dir / REFERENCE)
    names: dict[int, str] = {}
    for page in manifest.pages:
        labels = page.labels("augmentation-1")
        names.update(labels.class_map if labels else {})
    count = max(names) + 1  # class ids without a box on these pages get a placeholder name
    fields = parse_fields([{"name": names.get(i, f"unused {i}")} for i in range(count)])
    result = export_tasks(manifest, fields, "augmentation-1")
    assert len(result.tasks) == len(manifest) and result.other_boxes_skipped == 0
    total = sum(len(p.labels("augmentation-1").annotations) for p in manifest.pages)  # type: ignore[union-attr]
    assert result.boxes == total > 100
    for task in result.tasks:
        assert task["data"]["image"].startswith("s3://DOC-EXAMPLE-BUCKET/")  # for cloud storage
        for rect in task["predictions"][0]["result"]:
            v = rect["value"]
            assert v["x"] >= 0 and v["x"] + v["width"] <= 100.01
            assert v["y"] >= 0 and v["y"] + v["height"] <= 100.01
            assert v["rectanglelabels"][0] in names.values()


def _task(results: list[dict[str, Any]], **annotation: Any) -> dict[str, Any]:
    line = {"source-ref": "p.png", "page-num": 1}
    return {"id": 42, "data": {"image": "x", "fieldwise": {"line": line, "base": "/data"}},
            "annotations": [{"result": results, **annotation}]}  # fmt: skip


def _rect(x: float, y: float, w: float, h: float, label: str, rotation: float = 0) -> dict:
    value = {"x": x, "y": y, "width": w, "height": h, "rotation": rotation,
             "rectanglelabels": [label]}  # fmt: skip
    return {"type": "rectanglelabels", "value": value,
            "original_width": 1000, "original_height": 500}  # fmt: skip


def test_import_converts_percent_to_pixels_and_takes_the_latest_annotation() -> None:
    fields = parse_fields([{"name": n} for n in NAMES])
    task = _task([_rect(0, 0, 1, 1, "Provider Name")], updated_at="2024-01-01T00:00:00Z")
    task["annotations"] += [  # neither the first, the last, nor a cancelled one: the latest
        {"result": [_rect(10, 20, 5, 4, "Fee - Annual")], "updated_at": "2024-02-01T00:00:00Z"},
        {"result": [_rect(0, 0, 2, 2, "Provider Name")], "updated_at": "2023-12-01T00:00:00Z"},
        {"result": [], "updated_at": "2024-03-01T00:00:00Z", "was_cancelled": True},
    ]
    result = import_tasks([task], fields)
    ((line, base),) = result.lines
    assert base == Path("/data")
    assert line["label"]["image_size"][0] == {"width": 1000, "height": 500, "depth": 3}
    assert line["label"]["annotations"] == [
        {"class_id": 2, "left": 100, "top": 100, "width": 50, "height": 20}
    ]


def test_rotated_rectangle_becomes_its_axis_aligned_bounds() -> None:
    fields = parse_fields([{"name": n} for n in NAMES])
    # 100×20 px at (100, 100), turned 90° clockwise about its top-left corner
    result = import_tasks([_task([_rect(10, 20, 10, 4, "Provider Name", rotation=90)])], fields)
    ((line, _),) = result.lines
    assert result.rotated == 1
    assert line["label"]["annotations"] == [
        {"class_id": 0, "left": 80, "top": 100, "width": 20, "height": 100}
    ]


def test_unknown_label_names_the_task_and_the_label() -> None:
    fields = parse_fields([{"name": n} for n in NAMES])
    with pytest.raises(LabelStudioError, match=r"export.json: task 42: label 'Due Date' is not"):
        import_tasks([_task([_rect(1, 1, 1, 1, "Due Date")])], fields, source="export.json")


def test_predictions_only_with_use_predictions() -> None:
    fields = parse_fields([{"name": n} for n in NAMES])
    task = _task([])
    task["annotations"] = []
    task["predictions"] = [{"result": [_rect(10, 10, 10, 10, "Provider Name")]}]
    assert import_tasks([task], fields).unlabelled == ["task 42"]
    result = import_tasks([task], fields, use_predictions=True)
    assert result.boxes == 1
    assert result.lines[0][0]["label-metadata"]["human-annotated"] == "no"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a JSON file"),
        ('{"tasks": []}', "expected a JSON list of tasks"),
        ('[{"id": 7, "data": {"image": "a.png"}, "annotations": []}]', "task 7: no data.fieldwise"),
        ('[{"image": "a.png", "label": []}]', "JSON-MIN"),
    ],
)
def test_bad_exports_fail_cleanly(
    fields_file: Path, tmp_path: Path, content: str, message: str
) -> None:
    export = tmp_path / "export.json"
    export.write_text(content)
    out = tmp_path / "o.jsonl"
    arguments = ["annotate", "import-labelstudio", str(export), "--fields", str(fields_file)]
    result = runner.invoke(app, [*arguments, "--out", str(out)])
    output = " ".join(result.output.split())
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert str(export) in output and message in output
    assert not out.exists()


def test_cli_export_in_a_subprocess(fields_file: Path, job: Path, tmp_path: Path) -> None:
    tasks, config = tmp_path / "tasks.json", tmp_path / "config.xml"
    command = [sys.executable, "-m", "fieldwise.cli", "annotate", "export-labelstudio", str(job)]
    command += ["--fields", str(fields_file), "--out", str(tasks), "--config-out", str(config)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "2 tasks, 4 boxes as predictions" in done.stdout
    assert len(json.loads(tasks.read_text())) == 2
    assert ET.fromstring(config.read_text()).tag == "View"
    broken = tmp_path / "no-image.jsonl"
    broken.write_text(json.dumps({"textract-ref": "t.json", "page-num": 1}) + "\n")
    command[5] = str(broken)
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{broken}:1: no source-ref" in " ".join(done.stdout.split())
