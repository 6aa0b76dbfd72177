"""Ground Truth manifests: real reference manifests load, labels round-trip, errors name lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fieldwise.annotate.manifest import (
    BoxLabels,
    Manifest,
    ManifestError,
    PageRecord,
    map_prefix,
    parse_prefix_maps,
)
from fieldwise.annotate.word_labels import LabelBox
from fieldwise.textract.geometry import Box

from .conftest import SHARED

REFERENCE = SHARED / "pdfs" / "reference_annotations" / "aws-textract-transformer-pipeline"


@pytest.mark.parametrize("job", ["augmentation-1", "augmentation-2"])
def test_reference_manifests_load_with_their_labels(job: str) -> None:
    if not REFERENCE.exists():
        pytest.skip(f"shared data not found: {REFERENCE}")
    manifest = Manifest.load(REFERENCE / job / "output.manifest")
    assert len(manifest) == 50
    names: set[str] = set()
    boxes = 0
    for page in manifest:
        labels = page.labels(job)
        assert labels is not None and labels.width > 1000 and labels.height > 1000
        boxes += len(labels.annotations)
        names |= set(labels.class_map.values())
        for box in labels.label_boxes():
            assert (
                0 <= box.box.left <= box.box.right <= 1 and 0 <= box.box.top <= box.box.bottom <= 1
            )
    assert boxes > 100 and {"Provider Name", "APR - Purchases"} <= names


def test_labels_round_trip_through_a_file(tmp_path: Path) -> None:
    boxes = [LabelBox(1, Box(0.1, 0.2, 0.5, 0.25), entity=7), LabelBox(0, Box(0.0, 0.0, 1.0, 0.1))]
    labels = BoxLabels.from_label_boxes(boxes, 1275, 1650, ["a", "b", "other"])
    record = PageRecord({"source-ref": "p.png", "page-num": 2, "extra": [1]}).with_labels(
        "label", labels, job_name="t"
    )
    Manifest([record], tmp_path).save(tmp_path / "m.jsonl")
    again = Manifest.load(tmp_path / "m.jsonl").pages[0]
    assert again.data["extra"] == [1] and again.page_num == 2
    back = again.labels("label")
    assert back is not None and back.class_map == {0: "a", 1: "b", 2: "other"}
    for a, b in zip(back.label_boxes(), boxes, strict=True):
        assert a.class_id == b.class_id and a.entity == b.entity
        assert all(abs(x - y) < 1e-3 for x, y in zip(a.box, b.box, strict=True))
    assert again.data["label-metadata"]["type"] == "groundtruth/object-detection"


def test_saving_elsewhere_keeps_relative_refs_pointing_at_the_same_files(tmp_path: Path) -> None:
    (tmp_path / "a" / "docs").mkdir(parents=True)
    (tmp_path / "a" / "docs" / "p.png").write_bytes(b"x")
    (tmp_path / "a" / "m.jsonl").write_text(json.dumps({"source-ref": "docs/p.png"}) + "\n")
    Manifest.load(tmp_path / "a" / "m.jsonl").save(tmp_path / "b" / "c" / "m.jsonl")
    moved = Manifest.load(tmp_path / "b" / "c" / "m.jsonl")
    assert moved.pages[0].data["source-ref"] == "../../a/docs/p.png"
    assert moved.resolve(moved.pages[0].data["source-ref"]).read_bytes() == b"x"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"page-num": 1}', "no ref"),
        ('{"source-ref": "p.png", "page-num": 0}', "page-num must be"),
    ],
)
def test_bad_lines_are_named(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"source-ref": "ok.png"}\n\n' + line + "\n")
    with pytest.raises(ManifestError, match=rf"m.jsonl:3: .*{reason}"):
        Manifest.load(path)


@pytest.mark.parametrize(
    ("label", "reason"),
    [
        ({"annotations": []}, "image_size"),
        ({"image_size": [{"width": 0, "height": 5}], "annotations": []}, "positive"),
        (
            {"image_size": [{"width": 9, "height": 9}], "annotations": [{"class_id": "x"}]},
            "class_id",
        ),
        (
            {
                "image_size": [{"width": 9, "height": 9}],
                "annotations": [{"class_id": 0, "left": 1, "top": 1, "width": "5", "height": 1}],
            },
            "width must be a number",
        ),
        (
            {
                "image_size": [{"width": 9, "height": 9}],
                "annotations": [
                    {"class_id": 0, "left": 1, "top": 1, "width": 5, "height": 1, "entity": "a"}
                ],
            },
            "entity must be an integer",
        ),
    ],
)
def test_malformed_labels_are_explained(label: dict[str, object], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        PageRecord({"source-ref": "p.png", "label": label}).labels("label")


def test_prefix_maps_rewrite_refs_most_specific_first() -> None:
    maps = parse_prefix_maps(["s3://bucket/=data/", "s3://bucket/imgs/=images/"])
    line = {
        "source-ref": "s3://bucket/imgs/a.png",
        "textract-ref": "s3://bucket/t/a.json",
        "page-num": 1,
    }
    assert map_prefix(line, maps) == {
        "source-ref": "images/a.png",
        "textract-ref": "data/t/a.json",
        "page-num": 1,
    }
    with pytest.raises(ValueError, match="OLD=NEW"):
        parse_prefix_maps(["nothing"])
    with pytest.raises(ManifestError, match="--map-prefix"):
        Manifest([], Path(".")).resolve("s3://bucket/x.png")
