"""``fieldwise show``: label boxes and word classes drawn on the real page image."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from fieldwise.annotate.dataset import page_words
from fieldwise.annotate.manifest import BoxAnnotation, BoxLabels, Manifest
from fieldwise.annotate.show import OTHER_COLOUR, PALETTE, blend, class_colour, load_page, render
from fieldwise.cli import app
from fieldwise.fields.config import load_fields
from fieldwise.ingest.options import IngestOptions
from fieldwise.ingest.runner import ingest
from fieldwise.textract import TextractDocument
from fieldwise.textract.geometry import Box

PDF = "barclays__barclays-gap.pdf"
NAMES = ["Provider Name", "APR - Purchases"]
LABELLED = {40: 0, 60: 1}  # word index on page 1 → class of the box drawn around it
WHITE = (255, 255, 255)
runner = CliRunner()


@pytest.fixture(scope="module")
def case(pdf_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Ingested pages, a manifest with boxes around two real words, fields, enriched JSON."""
    out = tmp_path_factory.mktemp("show")
    assert ingest([pdf_dir / PDF], out, IngestOptions(workers=1)).failures == []
    manifest = Manifest.load(out / "pages.manifest.jsonl")
    textract = manifest.resolve(manifest.pages[0].ref("textract-ref") or "")
    words = page_words(TextractDocument.load(textract), 1)
    assert words.size is not None
    width, height = words.size
    boxes = tuple(
        BoxAnnotation(class_id, words.boxes[i].left * width - 3, words.boxes[i].top * height - 3,
                      words.boxes[i].width * width + 6, words.boxes[i].height * height + 6)
        for i, class_id in LABELLED.items()
    )  # fmt: skip
    labels = BoxLabels(width, height, boxes, {0: NAMES[0], 1: NAMES[1], 2: "other"})
    manifest.pages[0] = manifest.pages[0].with_labels("label", labels)
    manifest.save(out / "job.jsonl")
    (out / "fields.yaml").write_text("".join(f"- name: {n}\n" for n in NAMES))
    raw = json.loads(textract.read_text())  # a model's output: word 80 predicted class 1
    ids = {block_id: i for i, block_id in enumerate(words.block_ids)}
    for block in raw["Blocks"]:
        if block["BlockType"] == "WORD" and block["Page"] == 1 and block["Id"] in ids:
            predicted = 1 if ids[block["Id"]] == 80 else 2
            block["PredictedClass"] = predicted
            block["PredictedClassConfidence"] = 0.9
            block["ClassificationProbabilities"] = [0.05, 0.05, 0.9][:: -1 if predicted == 2 else 1]
    (out / "enriched.json").write_text(json.dumps(raw))
    return {"out": out, "job": out / "job.jsonl", "fields": out / "fields.yaml",
            "enriched": out / "enriched.json", "textract": textract}  # fmt: skip


def _inside(box: Box, size: tuple[int, int], margin: int = 2) -> list[tuple[int, int]]:
    w, h = size
    x0, y0 = round(box.left * w) + margin, round(box.top * h) + margin
    x1, y1 = round(box.right * w) - margin, round(box.bottom * h) - margin
    return [(x, y) for x in range(x0, x1) for y in range(y0, y1)]


def _pixel_box(box: Box, size: tuple[int, int], grow: int) -> tuple[int, int, int, int]:
    w, h = size
    return (round(box.left * w) - grow, round(box.top * h) - grow,
            round(box.right * w) + grow, round(box.bottom * h) + grow)  # fmt: skip


def _contains(area: tuple[int, int, int, int], xy: tuple[int, int]) -> bool:
    return area[0] <= xy[0] <= area[2] and area[1] <= xy[1] <= area[3]


def _close(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return all(abs(p - q) <= 1 for p, q in zip(a, b, strict=True))


def test_cli_writes_the_page_with_label_colours(case: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "page.png"
    result = runner.invoke(app, ["show", str(case["job"]), "--line", "1", "--out", str(out),
                                 "--fields", str(case["fields"])])  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = Manifest.load(case["job"])
    page_image = Image.open(manifest.resolve(manifest.pages[0].ref("source-ref") or ""))
    original = page_image.convert("RGB")
    picture = Image.open(out).convert("RGB")
    assert picture.size == original.size
    image, view = load_page(manifest, 1, fields=load_fields(case["fields"]))
    drawn = render(image, view)
    assert drawn.image.tobytes() == picture.tobytes()  # the CLI draws the same
    legend = drawn.legend

    outlines = [_pixel_box(b.box, picture.size, grow=10) for b in view.label_boxes]

    def visible(xy: tuple[int, int]) -> bool:  # not under the legend or a label box's outline
        return not any(_contains(area, xy) for area in [legend, *outlines])

    labelled = {i for i, c in enumerate(view.word_classes) if c != view.other_id}
    assert labelled == set(LABELLED)  # the box→word rule gave exactly the boxed words a class
    for index, box in enumerate(view.word_boxes):
        white = [xy for xy in _inside(box, picture.size) if original.getpixel(xy) == WHITE]
        white = [xy for xy in white if not _contains(legend, xy)]
        assert white, f"word {index} has no visible background pixel"
        if index in LABELLED:
            expected = blend(WHITE, class_colour(LABELLED[index], view.other_id))
            assert all(_close(picture.getpixel(xy), expected) for xy in white)  # type: ignore[arg-type]
        else:  # "other" words: background untouched inside
            assert all(picture.getpixel(xy) == WHITE for xy in white if visible(xy))
    for label in view.label_boxes:  # outline in the class colour, just outside the box
        x0 = round(label.box.left * picture.width)
        y = round((label.box.top + label.box.bottom) / 2 * picture.height)
        assert picture.getpixel((x0 - 1, y)) == class_colour(label.class_id, view.other_id)


def test_predictions_colour_the_words(case: dict[str, Path]) -> None:
    manifest, fields = Manifest.load(case["job"]), load_fields(case["fields"])
    image, view = load_page(manifest, 1, fields=fields, predictions=case["enriched"])
    assert view.words_from == "predictions"
    assert [i for i, c in enumerate(view.word_classes) if c != view.other_id] == [80]
    picture = render(image, view).image
    original = image.convert("RGB")
    for index, expected in ((80, blend(WHITE, PALETTE[1])), (40, WHITE)):
        white = [xy for xy in _inside(view.word_boxes[index], image.size)
                 if original.getpixel(xy) == WHITE]  # fmt: skip
        assert white and all(_close(picture.getpixel(xy), expected) for xy in white)  # type: ignore[arg-type]


def test_predictions_in_the_manifests_textract_json_are_used(
    case: dict[str, Path], tmp_path: Path
) -> None:
    line = json.loads(case["job"].read_text().splitlines()[0])
    line["textract-ref"] = str(case["enriched"])
    line["source-ref"] = str(case["out"] / line["source-ref"])
    (tmp_path / "m.jsonl").write_text(json.dumps(line) + "\n")
    _, view = load_page(Manifest.load(tmp_path / "m.jsonl"), 1)  # no fields: the class-map
    assert view.words_from == "predictions"
    assert view.class_names == [*NAMES, "other"]
    assert view.word_classes[80] == 1 and view.word_classes[40] == view.other_id == 2
    assert class_colour(2, view.other_id) == OTHER_COLOUR


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"textract-ref": "t.json", "page-num": 1}, "no source-ref: no page image"),
        ({"source-ref": "missing.png", "page-num": 1}, "missing.png"),
    ],
)
def test_page_without_image_fails_cleanly(tmp_path: Path, line: dict, message: str) -> None:
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps(line) + "\n")
    command = [sys.executable, "-m", "fieldwise.cli", "show", str(manifest), "--line", "1"]
    done = subprocess.run(
        [*command, "--out", str(tmp_path / "p.png")], capture_output=True, text=True
    )
    output = " ".join(done.stdout.split())
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{manifest}:1" in output and message in output
    assert not (tmp_path / "p.png").exists()


def test_line_out_of_range(case: dict[str, Path], tmp_path: Path) -> None:
    result = runner.invoke(app, ["show", str(case["job"]), "--line", "3", "--out",
                                 str(tmp_path / "p.png")])  # fmt: skip
    assert result.exit_code == 1
    assert "line 3 out of range 1..2" in " ".join(result.output.split())
