"""Field configuration: YAML/JSON, PascalCase keys, and clear errors for bad configurations."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldwise.fields import FieldConfigError, Select, load_fields, parse_fields


def test_yaml_with_pascal_case_keys_and_implicit_ids(tmp_path: Path) -> None:
    path = tmp_path / "fields.yaml"
    path.write_text(
        "- Name: Fee - Annual\n  Select: confidence\n  AnnotationGuidance: the yearly fee\n"
        "- name: Provider Address\n  optional: true\n  normalize: text\n"
    )
    config = load_fields(path)
    assert config.class_names == ["Fee - Annual", "Provider Address", "other"]
    assert config.other_id == 2 and config.class_id("other") == 2
    annual = config.by_name["Fee - Annual"]
    assert annual.select is Select.confidence and not annual.multi_value
    assert config.by_name["Provider Address"].multi_value
    config.save(tmp_path / "again.json")
    assert load_fields(tmp_path / "again.json") == config


def test_explicit_class_ids_order_the_classes() -> None:
    config = parse_fields([{"name": "b", "class_id": 1}, {"name": "a", "class_id": 0}])
    assert config.class_names == ["a", "b", "other"]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ([], "non-empty list"),
        ([{"name": "a"}, {"name": "a"}], "duplicate field names: a"),
        ([{"name": "a", "select": "median"}], "select"),
        ([{"name": "a", "class_id": 3}], "class ids must be 0..0"),
        ([{"name": "other"}], "reserved"),
        ([{"name": "a", "colour": "red"}], "colour"),
        (["a"], "expected a mapping"),
    ],
)
def test_bad_configurations_are_explained(raw: object, reason: str) -> None:
    with pytest.raises(FieldConfigError, match=reason):
        parse_fields(raw, "f.yaml")


def test_unreadable_and_malformed_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(FieldConfigError, match="missing.yaml: cannot read"):
        load_fields(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.json"
    bad.write_text("[{")
    with pytest.raises(FieldConfigError, match="bad.json: not valid json"):
        load_fields(bad)
    with pytest.raises(KeyError, match="unknown class"):
        parse_fields([{"name": "a"}]).class_id("b")
