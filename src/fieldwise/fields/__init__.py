"""Fields: the field configuration, and (later) word predictions → detections → fields."""

from fieldwise.fields.config import (
    OTHER,
    FieldConfig,
    FieldConfigError,
    FieldSpec,
    Normalize,
    Select,
    load_fields,
    parse_fields,
)

__all__ = [
    "OTHER",
    "FieldConfig",
    "FieldConfigError",
    "FieldSpec",
    "Normalize",
    "Select",
    "load_fields",
    "parse_fields",
]
