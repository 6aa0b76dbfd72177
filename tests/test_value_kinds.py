"""The kinds of amount each fee field was labelled with (fields.value_kinds), and their veto."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fieldwise.annotate.from_values import FromValuesResult
from fieldwise.fields import parse_fields
from fieldwise.fields.config import FieldConfig
from fieldwise.fields.detections import detect
from fieldwise.fields.extract import build_result
from fieldwise.fields.value_kinds import ValueKinds, fit_value_kinds, kinds_of
from tests.test_fields_extract import make_doc
from tests.test_row_labels import pages_by_issuer


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("$95", {"money"}),
        ("Up to $40", {"money"}),
        ("up to 1.33%", {"percent"}),
        ("None", {"none"}),
        ("Ninguno a $795", {"none", "money"}),
        ("Either $5 or 3% of each transfer, whichever is greater", {"money", "percent"}),
        ("3% of the transaction, with a minimum of $5", {"percent", "money"}),
        ("`2,999", {"money"}),
        ("Rs. 500", {"money"}),
        ("Up to 40", {"money"}),  # a bare number is money when nothing has a sign
        ("3% for 12 months", {"percent"}),  # and nothing when something does
        ("Nil", {"none"}),
        ("annual fee", set()),
    ],
)
def test_kinds_of_a_fee_as_written(text: str, kinds: set[str]) -> None:
    assert kinds_of(text) == kinds


def test_learned_on_other_issuers_no_annual_fee_is_a_percentage(
    weak_labels: FromValuesResult, card_fields: FieldConfig
) -> None:
    """Fitted on every issuer but American Express (the gold values of
    ../shared/data/pdfs, labelled by ``annotate from-values``): annual fees are money or "None",
    foreign-transaction fees are rates or "None", balance transfers both; one issuer's late fee
    (IDFC's "15% of Total Amount Due…") is enough to allow percentages there."""
    others, _ = pages_by_issuer(weak_labels, card_fields)
    seen = fit_value_kinds(others, card_fields).seen
    assert seen["Fee - Annual"] == {"money", "none"}
    assert {"money", "percent"} <= seen["Fee - Late Payment"]
    assert "money" not in seen["Fee - Foreign Transaction"]
    assert "percent" in seen["Fee - Foreign Transaction"]
    assert {"money", "percent"} <= seen["Fee - Balance Transfer"]
    assert not any(name.startswith("APR") for name in seen)  # rates are not kind-checked
    kinds = ValueKinds(seen)
    assert not kinds.allows("Fee - Annual", "up to 1.33%")
    assert kinds.allows("Fee - Annual", "None to $795")
    assert kinds.allows("Card Name", "Platinum 3%")  # fields without a record allow anything


def test_any_fee_may_be_none_though_no_label_says_so(
    weak_labels: FromValuesResult, card_fields: FieldConfig
) -> None:
    """Fitted on the American Express agreements: no late fee there is "None" (nor on Chase's),
    but Apple Card's is; the benchmark's fold for the other issuers rejected it for that."""
    others, amex = pages_by_issuer(weak_labels, card_fields)
    kinds = fit_value_kinds(list(amex.values()), card_fields)
    assert "none" not in kinds.seen["Fee - Late Payment"]
    assert kinds.allows("Fee - Late Payment", "None")
    assert not kinds.allows("Fee - Foreign Transaction", "$5")  # Amex's are rates or "None"


CONFIG = parse_fields(
    [
        {"name": "Fee - Annual", "select": "confidence", "normalize": "amount"},
        {"name": "Fee - Foreign Transaction", "select": "confidence", "normalize": "amount"},
    ]
)


def test_a_fee_of_a_kind_its_field_never_had_is_rejected_not_selected() -> None:
    """As make run's undertrained model did on Amex: "up to 1.33%" (a plan fee), more
    confident than the real "$95", is the annual fee only without the record of kinds."""
    other = CONFIG.other_id
    doc = make_doc(
        [
            [
                [("up", 0, 0.9, 99), ("to", 0, 0.9, 99), ("1.33%", 0, 0.9, 99), ("a", other, 1, 9)],
                [("$95", 0, 0.5, 99), ("b", other, 1, 99)],
                [("2.7%", 1, 0.8, 99)],
            ]
        ]
    )
    plain = build_result(detect(doc, CONFIG), CONFIG)["Fields"]
    assert plain["Fee - Annual"]["Value"] == "up to 1.33%"
    kinds = ValueKinds({"Fee - Annual": frozenset({"money", "none"})})
    fields = build_result(detect(doc, CONFIG), CONFIG, value_kinds=kinds)["Fields"]
    annual = fields["Fee - Annual"]
    assert (annual["Value"], annual["NormalizedValue"]) == ("$95", "95.00 USD")
    assert annual["Confidence"] == pytest.approx(0.5)  # the rejected one takes no share
    assert [r["Text"] for r in annual["Rejected"]] == ["up to 1.33%"]
    assert fields["Fee - Foreign Transaction"]["Value"] == "2.7%"  # no record: kept


def test_saved_kinds_load_back_and_bad_files_name_themselves(tmp_path: Path) -> None:
    path = tmp_path / "value_kinds.json"
    kinds = ValueKinds({"Fee - Annual": frozenset({"money", "none"})})
    kinds.save(path)
    assert ValueKinds.load(path, CONFIG) == kinds
    path.write_text(json.dumps({"fields": {"Fee - Monthly": ["money"]}}))
    with pytest.raises(ValueError, match=r"value_kinds.json: unknown field 'Fee - Monthly'"):
        ValueKinds.load(path, CONFIG)
    path.write_text(json.dumps({"fields": {"Fee - Annual": ["euros"]}}))
    with pytest.raises(ValueError, match=r"unknown kinds \['euros'\]"):
        ValueKinds.load(path, CONFIG)
    path.write_text("{not json")
    with pytest.raises(ValueError, match=r"value_kinds.json: not a value-kinds file"):
        ValueKinds.load(path, CONFIG)
