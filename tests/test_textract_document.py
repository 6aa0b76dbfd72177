"""The document model on real Textract responses: load, validate, round-trip, walk, cut, merge."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import trp
import trp.trp2 as trp2

from fieldwise.textract import TextractDocument, TextractFormatError


def test_every_real_response_round_trips_and_reads_like_trp(textract_samples: list[Path]) -> None:
    assert len(textract_samples) >= 7
    for path in textract_samples:
        raw = json.loads(path.read_text())
        doc = TextractDocument.load(path)
        saved = json.loads(doc.dumps())
        assert json.dumps(saved, sort_keys=True) == json.dumps(raw, sort_keys=True), path.name
        ref = trp.Document(raw)
        assert doc.page_count == len(ref.pages)
        ours_lines = [line.text for page in doc.pages for line in page.lines]
        ref_lines = [line.text for page in ref.pages for line in page.lines]
        assert ours_lines == ref_lines, path.name
        ours_words = [w.text for w in doc.words()]
        ref_words = [w.text for page in ref.pages for line in page.lines for w in line.words]
        assert ours_words == ref_words, path.name


def test_two_page_document_has_words_on_both_pages(textract_samples: list[Path]) -> None:
    path = next(p for p in textract_samples if "2-page" in p.name)
    doc = TextractDocument.load(path)
    assert doc.page_count == 2
    assert all(page.words for page in doc.pages)


def test_cut_pages_merge_back_to_the_same_words(textract_samples: list[Path]) -> None:
    path = next(p for p in textract_samples if "2-page" in p.name)
    doc = TextractDocument.load(path)
    pieces = [doc.cut_page(n) for n in (1, 2)]
    assert [p.page_count for p in pieces] == [1, 1]
    assert [w.text for w in pieces[1].words()] == [w.text for w in doc.page(2).words]
    merged = TextractDocument.merge(pieces)
    assert merged.page_count == 2
    assert [w.text for w in merged.words()] == [w.text for w in doc.words()]
    trp2.TDocumentSchema().load(json.loads(merged.dumps()))  # still valid for the field's parser
    assert doc.page(2).words[0].block["Page"] == 2  # cutting copied, never changed the original


def test_paginated_job_responses_load_as_one_document(textract_samples: list[Path]) -> None:
    path = next(p for p in textract_samples if "2-page" in p.name)
    raw = json.loads(path.read_text())
    part1 = copy.deepcopy(raw)
    part1["Blocks"] = [b for b in raw["Blocks"] if b.get("Page") == 1]
    part2 = copy.deepcopy(raw)
    part2["Blocks"] = [b for b in raw["Blocks"] if b.get("Page") == 2]
    doc = TextractDocument.loads(json.dumps([part1, part2]))
    assert doc.page_count == 2
    assert len(list(doc.words())) == len(list(TextractDocument.load(path).words()))


def _sample(textract_samples: list[Path]) -> dict:
    return json.loads(next(p for p in textract_samples if "employment" in p.name).read_text())


def test_missing_field_error_names_the_block(textract_samples: list[Path]) -> None:
    raw = _sample(textract_samples)
    word = next(i for i, b in enumerate(raw["Blocks"]) if b["BlockType"] == "WORD")
    del raw["Blocks"][word]["Geometry"]["BoundingBox"]["Width"]
    with pytest.raises(TextractFormatError) as err:
        TextractDocument.loads(raw, "bad.json")
    message = str(err.value)
    assert "bad.json" in message and f"block {word}" in message and "Width" in message


def test_dangling_relationship_and_duplicate_id_are_reported(textract_samples: list[Path]) -> None:
    raw = _sample(textract_samples)
    line = next(b for b in raw["Blocks"] if b["BlockType"] == "LINE")
    line["Relationships"][0]["Ids"].append("no-such-block")
    raw["Blocks"].append(copy.deepcopy(raw["Blocks"][1]))
    with pytest.raises(TextractFormatError) as err:
        TextractDocument.loads(raw, "x.json")
    assert any("unknown Id no-such-block" in p for p in err.value.problems)
    assert any("duplicate Id" in p for p in err.value.problems)


def test_malformed_json_and_wrong_shapes_are_clear_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"Blocks": [')
    with pytest.raises(TextractFormatError, match="broken.json: invalid Textract JSON: not valid"):
        TextractDocument.load(broken)
    with pytest.raises(TextractFormatError, match="DocumentMetadata"):
        TextractDocument.loads({"Blocks": []})
    with pytest.raises(TextractFormatError, match="cannot read file"):
        TextractDocument.load(tmp_path / "absent.json")
    with pytest.raises(TextractFormatError, match="Page 3 outside 1..1"):
        TextractDocument.loads(
            {
                "DocumentMetadata": {"Pages": 1},
                "Blocks": [{"BlockType": "PAGE", "Id": "p", "Page": 3}],
            }
        )
