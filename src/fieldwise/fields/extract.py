"""Detections → fields → the document's result, with a confidence and a review decision.

Per field (ignored fields are never reported): detections that say the same thing are one
value (same parsed value for typed fields — "Up to $40" and "$40." — same postcode for
addresses, else the same text up to case and punctuation), shown in its longest (most
complete) wording; a value seen several times gets ``1 − ∏(1 − cᵢ)``, and values are
normalised over the field so their confidences add up to at most 1 (the original cloud
design's rule). A single-value field
picks by its ``select`` rule; a multi-value field lists its values by confidence and takes their
mean as its confidence; a field found nowhere has an empty value and confidence 0. The document's
confidence is the minimum over fields, leaving out optional fields that were not found. A
document goes to review when that is under the threshold or a field is under its own
``review_threshold``; the result says which and why.

The output is the original design's ``ModelResult`` (``Confidence``, ``Fields`` with ``ClassId``,
``Confidence``, ``NumDetections``, ``NumDetectedValues``, ``SortOrder``, ``Optional``, ``Value`` +
``Detections`` or ``Values``) plus ``NormalizedValue`` and ``Review``.

Example::

    result = build_result(detect(doc, config), config, review_threshold=0.5)
    result["Fields"]["Fee - Annual"]["Value"], result["Review"]["Required"]
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from fieldwise.fields.config import FieldConfig, FieldSpec, Normalize, Select
from fieldwise.fields.detections import Detection
from fieldwise.fields.normalize import NORMALIZERS, value_key
from fieldwise.fields.value_kinds import ValueKinds

DEFAULT_REVIEW_THRESHOLD = 0.5


@dataclass
class FieldValue:
    text: str
    detections: list[Detection] = field(default_factory=list)
    confidence: float = 0.0

    @property
    def first(self) -> int:
        return self.detections[0].index

    @property
    def last(self) -> int:
        return self.detections[-1].index


_SELECTORS = {
    Select.confidence: (lambda v: v.confidence, True),
    Select.first: (lambda v: v.first, False),
    Select.last: (lambda v: v.last, True),
    Select.longest: (lambda v: len(v.text), True),
    Select.shortest: (lambda v: len(v.text), False),
}


def _contains(words: tuple[str, ...], part: tuple[str, ...]) -> bool:
    return any(words[i : i + len(part)] == part for i in range(len(words) - len(part) + 1))


def _merge_fragments(
    values: dict[str, FieldValue], issuer_words: frozenset[str] = frozenset()
) -> dict[str, FieldValue]:
    """Free-text and name values whose words are a run of another value's words ("Platinum"
    inside "Platinum Card®", "Delta SkyMiles® Platinum" inside "Delta SkyMiles® Platinum
    Card") are fragments of it: their mentions join the longest such value. For names this
    took unseen-issuer precision from 0.899 to 0.906 (F1 0.850 → 0.851; README).
    ``issuer_words`` (the document's issuer, ``build_result``) are left out of the comparison:
    "Delta SkyMiles® Gold Card" and "Delta SkyMiles® Gold American Express Card" are one
    product, and a product name that is only the issuer's ("American Express") is a fragment."""

    merged: dict[tuple[str, ...], FieldValue] = {}
    cores: dict[tuple[str, ...], tuple[str, ...]] = {}  # the merged values' words, issuer aside
    for words in sorted((tuple(k.split()) for k in values), key=len, reverse=True):
        core = tuple(w for w in words if w not in issuer_words)
        container = next((k for k, c in cores.items() if _contains(c, core)), None)
        if container is None:
            merged[words], cores[words] = values[" ".join(words)], core
        else:
            merged[container].detections += values[" ".join(words)].detections
    for value in merged.values():
        value.detections.sort(key=lambda d: d.index)
    return {" ".join(k): v for k, v in merged.items()}


def field_values(
    keyed: list[tuple[str, Detection]],
    merge_fragments: bool = False,
    issuer_words: frozenset[str] = frozenset(),
) -> list[FieldValue]:
    """One value per key (``value_key``: one meaning), with the combined and normalised
    confidences; its text is its longest wording (fragments are the usual error). With
    ``merge_fragments`` (free text, names), a value also takes in its fragments, the
    ``issuer_words`` aside."""
    values: dict[str, FieldValue] = {}
    for key, d in keyed:
        values.setdefault(key, FieldValue(d.text)).detections.append(d)
    if merge_fragments:
        values = _merge_fragments(values, issuer_words)
    for value in values.values():
        value.text = max(value.detections, key=lambda d: (len(d.text), d.confidence)).text
        value.confidence = 1.0 - math.prod(1.0 - d.confidence for d in value.detections)
    total = sum(v.confidence for v in values.values())
    for value in values.values():
        value.confidence /= max(1.0, total)
    return list(values.values())


def _normalized(spec: FieldSpec, text: str) -> dict[str, Any]:
    if spec.normalize is None or not text:
        return {}
    return {"NormalizedValue": NORMALIZERS[spec.normalize](text)}


def build_field(
    spec: FieldSpec,
    detections: list[Detection],
    sort_order: int,
    value_kinds: ValueKinds | None = None,
    issuer_words: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """One field's entry of the result.

    With a typed ``normalize`` (and ``reject_unparsed``, the default), a detection its parser
    cannot read ("CFB01072" for a date, "up to" for a fee) is no value of the field: it is
    listed under ``Rejected`` for a reviewer and takes no part in selection or confidence. So
    is a fee of a kind the field was never labelled with in training (``value_kinds``: "up to
    1.33%" for an annual fee always written as money or "None").
    Each detection is parsed once; the parsed value is also its grouping key.
    """
    parse = NORMALIZERS[spec.normalize] if spec.normalize is not None else None
    keyed: list[tuple[str, Detection]] = []
    rejected: list[Detection] = []
    for d in detections:
        if d.class_id != spec.class_id:
            continue
        parsed = parse(d.text) if parse is not None else None
        unparsed = parse is not None and parsed is None and spec.reject_unparsed
        if unparsed or (value_kinds is not None and not value_kinds.allows(spec.name, d.text)):
            rejected.append(d)
        else:
            keyed.append((value_key(spec.normalize, d.text, parsed), d))
    values = field_values(
        keyed,
        merge_fragments=spec.normalize in (None, Normalize.text, Normalize.name),
        issuer_words=issuer_words,
    )
    result: dict[str, Any] = {
        "ClassId": spec.class_id,
        "Confidence": 0.0,
        "NumDetections": len(keyed),
        "NumDetectedValues": len(values),
        "SortOrder": sort_order,
        "Optional": spec.optional,
    }
    if spec.select is not None:
        key, descending = _SELECTORS[spec.select]
        ranked = sorted(values, key=key, reverse=descending)  # type: ignore[arg-type]
        best = ranked[0] if ranked else None
        result["Value"] = best.text if best else ""
        result.update(_normalized(spec, result["Value"]))
        result["Confidence"] = best.confidence if best else 0.0
        result["Detections"] = [d.to_json() for d in best.detections] if best else []
    else:
        ranked = sorted(values, key=lambda v: v.confidence, reverse=True)
        result["Values"] = [
            {
                "Confidence": v.confidence,
                "Value": v.text,
                **_normalized(spec, v.text),
                "Detections": [d.to_json() for d in v.detections],
            }
            for v in ranked
        ]
        if ranked:
            result["Confidence"] = sum(v.confidence for v in ranked) / len(ranked)
    if rejected:
        result["Rejected"] = [d.to_json() for d in rejected]
    return result


def _lists_names(spec: FieldSpec) -> bool:
    return spec.normalize is Normalize.name and spec.select is None


def _issuer_words(reported: list[FieldSpec], fields: dict[str, dict[str, Any]]) -> frozenset[str]:
    """The words of the document's single-valued names (its issuer), as ``value_key`` writes
    them: set aside when a multi-valued name field (its products) merges spellings."""
    words: set[str] = set()
    for spec in reported:
        if spec.normalize is Normalize.name and spec.select is not None and spec.name in fields:
            value = fields[spec.name].get("Value", "")
            words.update(value_key(Normalize.name, value, None).split())
    return frozenset(words)


def build_result(
    detections: list[Detection],
    config: FieldConfig,
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD,
    untrained: Collection[str] = (),
    value_kinds: ValueKinds | None = None,
) -> dict[str, Any]:
    """The document's result: fields, document confidence and the review decision.

    ``untrained``: fields the model saw labelled on too few documents
    (``artifacts.MIN_FIELD_DOCUMENTS``) to have learned them. Whatever it calls them is a
    guess, so they are reported empty with ``NotTrained`` and left out of the document's
    confidence and review reasons (a review could not fix the model). ``value_kinds``: the
    kinds of amount each fee was labelled with (the model folder's; ``build_field``)."""
    reported = [f for f in config.fields if not f.ignore]
    built: dict[str, dict[str, Any]] = {}
    # lists of names (products) last: they merge spellings with and without the issuer's name
    for i, spec in sorted(enumerate(reported), key=lambda item: _lists_names(item[1])):
        if spec.name in untrained:
            built[spec.name] = {**build_field(spec, [], i), "NotTrained": True}
        else:
            issuer = _issuer_words(reported, built) if _lists_names(spec) else frozenset()
            built[spec.name] = build_field(spec, detections, i, value_kinds, issuer)
    fields = {spec.name: built[spec.name] for spec in reported}
    # an optional field not found, and one the model never learned, hold nothing back
    counted = [
        spec
        for spec in reported
        if not (
            fields[spec.name]["NumDetections"] == 0 and (spec.optional or spec.name in untrained)
        )
    ]
    confidence = min((fields[s.name]["Confidence"] for s in counted), default=1.0)
    reasons = []
    if confidence < review_threshold:
        reasons.append(f"document confidence {confidence:.2f} < {review_threshold:.2f}")
    for spec in counted:
        own, value = spec.review_threshold, fields[spec.name]["Confidence"]
        if own is not None and value < own:
            reasons.append(f"{spec.name}: confidence {value:.2f} < its threshold {own:.2f}")
    return {
        "Confidence": confidence,
        "Fields": fields,
        "Review": {"Required": bool(reasons), "Threshold": review_threshold, "Reasons": reasons},
    }
