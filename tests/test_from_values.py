"""Weak labels from known values: coverage on the real gold file, round trip, matching, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fieldwise.annotate.dataset import load_labeled_pages
from fieldwise.annotate.from_values import (
    FromValuesResult,
    GoldError,
    label_from_values,
    load_gold,
    parse_gold,
)
from fieldwise.annotate.manifest import Manifest
from fieldwise.annotate.value_match import WordStream, field_keywords
from fieldwise.cli import app
from fieldwise.fields.config import FieldConfig
from fieldwise.ingest.content import LineContent, PageContent, WordContent
from fieldwise.textract.build import build_document
from fieldwise.textract.geometry import Box

REPO = Path(__file__).resolve().parents[1]
FIELDS = REPO / "examples" / "credit-cards" / "fields.yaml"
runner = CliRunner()


def test_real_gold_values_are_located(weak_labels: FromValuesResult, gold_path: Path) -> None:
    raw = json.loads(gold_path.read_text(encoding="utf-8"))["documents"]
    non_null = sum(spec is not None for doc in raw.values() for spec in doc.values())
    distinct = sum(
        len(spec.get("groups") or spec["values"]) if spec.get("multi") else 1
        for doc in raw.values()
        for spec in doc.values()
        if spec is not None
    )
    report = weak_labels.report()
    assert non_null == 469  # the README's count of non-null fields
    assert report["values_total"] == distinct  # a multi field's distinct values count each
    assert report["values_found"] / report["values_total"] >= 0.95
    # stricter: found *and* labelled (not lost to another field claiming the same words)
    assert report["values_labelled"] / report["values_total"] >= 0.95
    assert report["missing_documents"] == []
    per_field = report["per_field"]
    for name in ("Fee - Annual", "APR - Purchases", "Provider Address"):
        counts = per_field[name]
        assert counts["values_found"] / counts["values_total"] >= 0.9, name
    assert sum(c["values_total"] for c in per_field.values()) == report["values_total"]
    assert len(weak_labels.manifest.pages) == 582  # every page of every gold document


def test_boxes_give_back_exactly_the_matched_words(
    weak_labels: FromValuesResult, card_fields: FieldConfig, pdfs_ingested: Path, tmp_path: Path
) -> None:
    assert weak_labels.disagreements == []
    out = tmp_path / "sub" / "labels.jsonl"
    weak_labels.manifest.save(out)  # refs rebased: the saved manifest is read from another folder
    pages = load_labeled_pages(out, card_fields)
    assert len(pages) == 582
    read_back = sum(c != card_fields.other_id for page in pages for c in page.class_ids)
    assert read_back == weak_labels.words_labelled > 3000
    line = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert (out.parent / line["source-ref"]).is_file()
    assert line["label-metadata"]["human-annotated"] == "no"
    assert line["label-metadata"]["job-name"] == "from-values"
    assert line["label-metadata"]["class-map"]["0"] == "Provider Name"


def test_values_split_over_lines_get_one_box_per_line(weak_labels: FromValuesResult) -> None:
    """Amex addresses wrap over two lines: no box may span both (it would swallow neighbours)."""
    multi_line = 0
    for record in weak_labels.manifest.pages:
        labels = record.labels("label")
        assert labels is not None
        for a in labels.annotations:
            assert a.height < 0.05 * labels.height  # one text line, never a paragraph
        multi_line += len(labels.annotations)
    assert multi_line == weak_labels.boxes


def test_a_value_drawn_as_several_boxes_is_one_entity(
    weak_labels: FromValuesResult, card_fields: FieldConfig
) -> None:
    """The line boxes of a wrapped address carry one entity number: its words begin a box on
    each line (the tagger's B-), yet the boundary model reads them as one entity."""
    wrapped = 0
    for page in load_labeled_pages(weak_labels.manifest, card_fields):
        for a, b in zip(page.labels, page.labels[1:], strict=False):
            if a.box_index is None or b.box_index is None or a.box_index == b.box_index:
                continue
            if a.entity == b.entity:
                assert a.class_id == b.class_id and b.begins
                wrapped += 1
    assert wrapped > 20


def _crafted() -> tuple[Manifest, FieldConfig]:
    """One page: a hyphenated value across a line break, a two-column row, a decoy "None"."""
    rows = [
        (["Annual", "Fee", "None"], 0.10),
        (["Foreign", "Trans-"], 0.20),
        (["action", "Fee:", "3%", "of", "each"], 0.25),
        (["purchase", "in", "U.S.", "dollars."], 0.30),
        (["Overlimit", "Fee", "None"], 0.40),
    ]
    lines = []
    for words, top in rows:
        lines.append(
            LineContent(
                [
                    WordContent(w, Box(0.1 + 0.15 * i, top, 0.22 + 0.15 * i, top + 0.03), 99.0)
                    for i, w in enumerate(words)
                ]
            )
        )
    doc = build_document([PageContent(1, 850, 1100, lines, "test")], "ab" * 32)
    return doc, FieldConfig.model_validate(
        {
            "fields": [
                {"name": "Fee - Annual", "class_id": 0},
                {"name": "Fee - Foreign Transaction", "class_id": 1},
            ]
        }
    )


def test_crafted_case_hyphenation_line_breaks_case_and_context(tmp_path: Path) -> None:
    doc, fields = _crafted()
    folder = tmp_path / "doc"
    folder.mkdir()
    doc.save(folder / "textract.json")
    (tmp_path / "pages.jsonl").write_text(
        json.dumps(
            {
                "raw-ref": "doc/Card Terms.pdf",
                "textract-ref": "doc/textract.json",
                "source-ref": "doc/0001.png",
                "page-num": 1,
            }
        )
        + "\n"
    )
    gold = parse_gold(
        {
            "documents": {
                "Card Terms.pdf": {
                    "Fee - Annual": {"values": ["none"], "pages": [1]},
                    "Fee - Foreign Transaction": {
                        "values": ["TRANSACTION FEE: 3% of each purchase in U.S. dollars"]
                    },
                },
                "absent.pdf": {"Fee - Annual": {"values": ["$0"]}},
            }
        }
    )
    result = label_from_values(gold, Manifest.load(tmp_path / "pages.jsonl"), fields)
    report = result.report()
    assert report["values_found"] == 2 and report["values_total"] == 3
    assert report["missing_documents"] == [
        {"document": "absent.pdf", "reason": "not in the pages manifest"}
    ]
    assert [r["document"] for r in report["not_found"]] == ["absent.pdf"]
    page = load_labeled_pages(result.manifest, fields)[0]
    labelled = {w: c for w, c in zip(page.words, page.class_ids, strict=True) if c != 2}
    # "Trans-" + "action" = "TRANSACTION"; the value runs over three lines; decoy "None" left
    assert [w for w, c in zip(page.words, page.class_ids, strict=True) if c == 1] == [
        "Trans-", "action", "Fee:", "3%", "of", "each", "purchase", "in", "U.S.", "dollars.",
    ]  # fmt: skip
    assert labelled.get("None") == 0
    assert page.words.count("None") == 2 and page.class_ids[page.words.index("Overlimit") + 2] == 2
    labels = result.manifest.pages[0].labels("label")
    assert labels is not None and len(labels.annotations) == 1 + 3  # one box per line segment


def test_word_stream_boundaries() -> None:
    stream = WordStream.build(["Fee", "$400", "and", "$40.00", "or", "$40.", "Nonetheless"])
    assert stream.find("$40") == [(5, 6)]
    assert stream.find("none") == []
    assert stream.find("AND $40.00") == [(2, 4)]
    assert WordStream.build(["MO", "63166-", "9801"]).find("MO 631669801") == [(0, 3)]


def test_keywords_tell_sibling_rows_apart() -> None:
    keywords = field_keywords(["Fee - Late Payment", "Fee - Returned Payment", "Provider Name"])
    assert keywords["Fee - Late Payment"] == {"late"}
    assert keywords["Fee - Returned Payment"] == {"return"}
    assert keywords["Provider Name"] == {"provider", "name"}


def test_malformed_gold_names_the_file(tmp_path: Path, card_fields: FieldConfig) -> None:
    bad = tmp_path / "gold.json"
    bad.write_text('{"documents": {"a.pdf": ', encoding="utf-8")
    with pytest.raises(GoldError, match=r"gold\.json: not valid JSON"):
        load_gold(bad)
    bad.write_text(json.dumps({"documents": {"a.pdf": {"Fee - Annual": {"values": []}}}}))
    with pytest.raises(GoldError, match=r"gold\.json: document 'a\.pdf', field 'Fee - Annual'"):
        load_gold(bad)
    bad.write_text(json.dumps({"documents": {"a.pdf": {"Fee - Yearly": None}}}))
    with pytest.raises(GoldError, match="'Fee - Yearly' is not in the field configuration"):
        load_gold(bad, [f.name for f in card_fields.fields])


def test_cli_bad_gold_exits_1_without_traceback(tmp_path: Path, pdfs_ingested: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text("[1, 2", encoding="utf-8")
    args = ["annotate", "from-values", "--gold", str(bad), "--fields", str(FIELDS)]
    args += [
        "--pages",
        str(pdfs_ingested / "pages.manifest.jsonl"),
        "--out",
        str(tmp_path / "m.jsonl"),
    ]
    outcome = runner.invoke(app, args)
    text = " ".join(outcome.output.split())  # the console wraps long lines
    assert outcome.exit_code == 1
    assert "broken.json: not valid JSON" in text and "Traceback" not in text
    missing = runner.invoke(app, [*args[:3], str(tmp_path / "nope.json"), *args[4:]])
    assert missing.exit_code == 1 and "nope.json: cannot read" in " ".join(missing.output.split())


def test_cli_writes_manifest_and_report(
    tmp_path: Path, pdfs_ingested: Path, gold_path: Path
) -> None:
    raw = json.loads(gold_path.read_text(encoding="utf-8"))
    names = ["petal-webbank__petal-2.pdf", "penfed-cu__penfed.pdf"]
    small = {"documents": {n: raw["documents"][n] for n in names}}
    (tmp_path / "gold.json").write_text(json.dumps(small), encoding="utf-8")
    out, report = tmp_path / "out" / "m.jsonl", tmp_path / "r.json"
    outcome = runner.invoke(
        app,
        [
            "annotate", "from-values", "--gold", str(tmp_path / "gold.json"),
            "--pages", str(pdfs_ingested / "pages.manifest.jsonl"), "--fields", str(FIELDS),
            "--out", str(out), "--report", str(report), "--label-attr", "weak",
        ],
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["per_field"]["Fee - Annual"]["values_total"] == 3  # Petal None, PenFed $95/None
    assert data["values_found"] <= data["values_total"]
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert {Path(x["raw-ref"]).name for x in lines} == set(names)
    assert all("weak" in x and (out.parent / x["textract-ref"]).is_file() for x in lines)
