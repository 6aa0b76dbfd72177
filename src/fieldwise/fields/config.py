"""Field configuration: which fields a model extracts and how each is reported.

A configuration is a list of fields (YAML or JSON). Each field has a ``name``, a ``class_id``
(default: its position in the list), an optional ``select`` rule for single-value fields
(absent = multi-value), ``optional``, ``ignore`` (trained on, never reported),
``annotation_guidance`` and ``normalize``. The model's classes are the fields in class-id order
plus one last class, "other". PascalCase keys written by the original cloud design
(``ClassId``, ``Select``, ``Optional``, ``Ignore``, ``AnnotationGuidance``) load too.

Example::

    config = load_fields("examples/credit-cards/fields.yaml")
    config.class_names[-1]     # "other"
    config.by_name["Fee - Annual"].select   # Select.confidence
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

OTHER = "other"


class Select(StrEnum):
    first = "first"
    last = "last"
    confidence = "confidence"
    longest = "longest"
    shortest = "shortest"


class Normalize(StrEnum):
    date = "date"
    percent = "percent"
    money = "money"
    amount = "amount"  # money or a percentage, as fees are written
    address = "address"
    name = "name"  # an organisation or product name: one capitalised phrase
    text = "text"


class FieldConfigError(ValueError):
    """A field configuration that cannot be used; the message names the file and the reason."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class FieldSpec(BaseModel):
    """One field: the class the model predicts for it and how its value is chosen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    class_id: int = Field(ge=0)
    select: Select | None = None
    optional: bool = False
    ignore: bool = False
    annotation_guidance: str = ""
    normalize: Normalize | None = None
    # values the ``normalize`` parser cannot read are not this field's (``Rejected`` in results)
    reject_unparsed: bool = True
    review_threshold: float | None = Field(default=None, ge=0.0, le=1.0)

    @property
    def multi_value(self) -> bool:
        return self.select is None

    @field_validator("name")
    @classmethod
    def _not_other(cls, name: str) -> str:
        if name.strip().lower() == OTHER:
            raise ValueError('"other" is reserved for the last class; do not list it')
        return name


class FieldConfig(BaseModel):
    """The fields, sorted by class id (ids 0..n-1), plus the implicit last class "other"."""

    model_config = ConfigDict(frozen=True)

    fields: tuple[FieldSpec, ...]

    @property
    def class_names(self) -> list[str]:
        return [f.name for f in self.fields] + [OTHER]

    @property
    def num_classes(self) -> int:
        return len(self.fields) + 1

    @property
    def other_id(self) -> int:
        return len(self.fields)

    @property
    def by_name(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.fields}

    def class_id(self, name: str) -> int:
        """The class id of a field name (or of "other")."""
        if name == OTHER:
            return self.other_id
        spec = self.by_name.get(name)
        if spec is None:
            raise KeyError(f"unknown class {name!r}; known: {', '.join(self.class_names)}")
        return spec.class_id

    def reported_ids(self, *kinds: Normalize) -> set[int]:
        """Class ids of the reported (not ignored) fields normalised as any of ``kinds``."""
        return {f.class_id for f in self.fields if f.normalize in kinds and not f.ignore}

    def to_list(self) -> list[dict[str, Any]]:
        return [f.model_dump(mode="json", exclude_defaults=True) for f in self.fields]

    def save(self, path: str | Path) -> None:
        path = Path(path)
        text = (
            json.dumps(self.to_list(), indent=2, ensure_ascii=False)
            if path.suffix.lower() == ".json"
            else yaml.safe_dump(self.to_list(), sort_keys=False, allow_unicode=True, width=100)
        )
        path.write_text(text, encoding="utf-8")


_PASCAL = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(key: str) -> str:
    return _PASCAL.sub("_", key).lower() if any(c.isupper() for c in key) else key


def parse_fields(raw: Any, source: str = "<fields>") -> FieldConfig:
    """Validate a parsed configuration (a list, or ``{"fields": [...]}``)."""
    if isinstance(raw, dict) and "fields" in raw:
        raw = raw["fields"]
    if not isinstance(raw, list) or not raw:
        raise FieldConfigError(source, "expected a non-empty list of fields")
    specs: list[FieldSpec] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise FieldConfigError(source, f"field {index}: expected a mapping, got {item!r}")
        data = {_snake(k): v for k, v in item.items()}
        data.setdefault("class_id", index)
        try:
            specs.append(FieldSpec.model_validate(data))
        except ValidationError as exc:
            name = item.get("name", item.get("Name", f"#{index}"))
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'field'}: {e['msg']}" for e in exc.errors()
            )
            raise FieldConfigError(source, f"field {name!r}: {problems}") from None
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise FieldConfigError(source, f"duplicate field names: {', '.join(duplicates)}")
    ids = sorted(s.class_id for s in specs)
    if ids != list(range(len(specs))):
        raise FieldConfigError(
            source, f"class ids must be 0..{len(specs) - 1}, each once; got {ids}"
        )
    return FieldConfig(fields=tuple(sorted(specs, key=lambda s: s.class_id)))


def load_fields(path: str | Path) -> FieldConfig:
    """Read a YAML or JSON field configuration, with errors naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FieldConfigError(str(path), f"cannot read: {exc.strerror or exc}") from None
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise FieldConfigError(str(path), f"not valid {path.suffix[1:] or 'YAML'}: {exc}") from None
    return parse_fields(raw, str(path))
