"""Word predictions → detections → fields: hand-computed cases of every rule."""

from __future__ import annotations

import math

import pytest

from fieldwise.fields import parse_fields
from fieldwise.fields.detections import detect
from fieldwise.fields.extract import build_result
from fieldwise.fields.normalize import (
    normalize_address,
    normalize_amount,
    normalize_date,
    normalize_money,
    normalize_percent,
)
from fieldwise.fields.word_calls import ENTITY_START
from fieldwise.ingest.content import LineContent, PageContent, WordContent
from fieldwise.textract import TextractDocument
from fieldwise.textract.build import build_document
from fieldwise.textract.geometry import Box

CONFIG = parse_fields(
    [
        {"name": "Fee - Annual", "select": "confidence", "normalize": "money"},
        {"name": "Provider Address"},  # multi-value
        {"name": "Card Name", "select": "first", "optional": True},
        {"name": "Draft", "ignore": True},
    ]
)
OTHER = CONFIG.other_id


def make_doc(pages: list[list[list[tuple[str, int, float, float]]]]) -> TextractDocument:
    """pages → lines → (text, class, model confidence, OCR confidence) words."""
    contents = []
    for number, lines in enumerate(pages, start=1):
        page_lines = []
        for y, line in enumerate(lines):
            words = [
                WordContent(t, Box(0.1 * x, 0.05 * y, 0.1 * x + 0.08, 0.05 * y + 0.02), ocr)
                for x, (t, _, _, ocr) in enumerate(line)
            ]
            page_lines.append(LineContent(words))
        contents.append(PageContent(number, 100, 100, page_lines))
    doc = build_document(contents, "ab" * 20)
    flat = [w for p in pages for line in p for w in line]
    for word, (_, cls, conf, _) in zip(doc.words(), flat, strict=True):
        word.block["PredictedClass"] = cls  # type: ignore[typeddict-unknown-key]
        word.block["PredictedClassConfidence"] = conf  # type: ignore[typeddict-unknown-key]
    return doc


def test_runs_cross_lines_and_pages_and_a_run_open_at_the_end_is_kept() -> None:
    doc = make_doc(
        [
            [
                [("Annual", OTHER, 0.9, 99), ("Fee", OTHER, 0.9, 99), ("$95", 0, 0.8, 99)],
                [("PO", 1, 0.9, 99), ("Box", 1, 0.7, 99)],
                [("Wilmington,", 1, 0.95, 60)],
            ],
            [[("DE", 1, 0.9, 99), ("19850", 1, 0.9, 99)]],
        ]
    )
    found = detect(doc, CONFIG)
    assert [(d.class_name, d.text, d.page) for d in found] == [
        ("Fee - Annual", "$95", 1),
        ("Provider Address", "PO Box Wilmington, DE 19850", 1),
    ]
    assert found[1].lines == ("PO Box", "Wilmington,", "DE 19850")
    assert found[1].confidence == pytest.approx(0.6)  # the OCR's 60 of 100 is the weakest
    assert found[0].box == Box(0.2, 0.0, 0.28, 0.02)


def test_a_run_never_ends_in_a_dangling_word() -> None:
    """PenFed's "Balance Transfer Fee 3% per transaction": the tagger went on to "per", not to
    "transaction"; the weak "per" (0.3) takes no part in the confidence either."""
    doc = make_doc(
        [
            [
                [
                    ("Fee", OTHER, 0.9, 99),
                    ("3%", 0, 0.8, 99),
                    ("per", 0, 0.3, 99),
                    ("transaction", OTHER, 0.9, 99),
                ],
                [("of", 0, 0.9, 99)],  # a run that is nothing else keeps its word
            ]
        ]
    )
    found = detect(doc, CONFIG, value_grammar=False)
    assert [(d.text, len(d.blocks)) for d in found] == [("3%", 1), ("of", 1)]
    assert found[0].confidence == pytest.approx(0.8)


def test_bio_start_ignored_fields_and_other_end_runs() -> None:
    doc = make_doc(
        [
            [
                [
                    ("A", 1, 0.9, 99),
                    ("B", 1, 0.9, 99),
                    ("C", 3, 0.9, 99),
                    ("D", 1, 0.9, 99),
                    ("E", 1, 0.9, 99),
                    ("F", OTHER, 0.9, 99),
                    ("G", 1, 0.9, 99),
                ]
            ]
        ]
    )
    words = list(doc.words())
    words[4].block[ENTITY_START] = True  # type: ignore[typeddict-unknown-key]
    assert [d.text for d in detect(doc, CONFIG)] == ["A B", "D", "E", "G"]


def test_a_run_of_punctuation_alone_is_not_a_value() -> None:
    doc = make_doc([[[("+", 0, 0.9, 99), ("x", OTHER, 0.9, 99), ("–", 1, 0.9, 99),
                      (".", 1, 0.9, 99), ("x", OTHER, 0.9, 99), ("+", 0, 0.9, 99),
                      ("2%", 0, 0.9, 99)]]])  # fmt: skip
    assert [(d.class_name, d.text) for d in detect(doc, CONFIG)] == [("Fee - Annual", "+ 2%")]


def test_repeated_values_combine_and_normalise_and_select_by_confidence() -> None:
    doc = make_doc(
        [
            [
                [("$95", 0, 0.6, 99)],
                [("x", OTHER, 1, 99)],
                [("$95", 0, 0.5, 99)],
                [("x", OTHER, 1, 99)],
                [("$0", 0, 0.9, 99)],
            ]
        ]
    )
    fee = build_result(detect(doc, CONFIG), CONFIG)["Fields"]["Fee - Annual"]
    combined = 1 - 0.4 * 0.5  # 0.8 for $95 seen twice; 0.9 for $0
    assert fee["NumDetections"] == 3 and fee["NumDetectedValues"] == 2
    assert fee["Value"] == "$0" and fee["NormalizedValue"] == "0.00 USD"
    assert fee["Confidence"] == pytest.approx(0.9 / (combined + 0.9))
    assert len(fee["Detections"]) == 1 and fee["Detections"][0]["PageNum"] == 1


@pytest.mark.parametrize(
    ("select", "expected"),
    [
        ("first", "Gold Card"),
        ("last", "Blue"),
        ("longest", "Platinum Rewards"),
        ("shortest", "Blue"),
        ("confidence", "Platinum Rewards"),
    ],
)
def test_select_rules(select: str, expected: str) -> None:
    config = parse_fields([{"name": "Card Name", "select": select}])
    doc = make_doc(
        [
            [
                [("Gold", 0, 0.5, 99), ("Card", 0, 0.5, 99)],
                [("x", 1, 1, 99)],
                [("Platinum", 0, 0.9, 99), ("Rewards", 0, 0.95, 99)],
                [("x", 1, 1, 99)],
                [("Blue", 0, 0.3, 99)],
            ]
        ]
    )
    assert build_result(detect(doc, config), config)["Fields"]["Card Name"]["Value"] == expected


def test_document_confidence_review_and_missing_fields() -> None:
    doc = make_doc(
        [
            [
                [("$95", 0, 0.9, 99)],
                [("x", OTHER, 1, 99)],
                [("PO", 1, 0.4, 99)],
                [("x", OTHER, 1, 99)],
                [("Box", 1, 0.3, 99)],
            ]
        ]
    )
    result = build_result(detect(doc, CONFIG), CONFIG, review_threshold=0.5)
    address = result["Fields"]["Provider Address"]
    assert [v["Value"] for v in address["Values"]] == ["PO", "Box"]
    assert address["Confidence"] == pytest.approx((0.4 + 0.3) / 2)
    card = result["Fields"]["Card Name"]
    assert card["Value"] == "" and card["Confidence"] == 0 and card["Optional"]
    assert "Draft" not in result["Fields"]
    assert result["Confidence"] == pytest.approx(0.35)  # optional Card Name left out
    assert result["Review"]["Required"] and "0.35 < 0.50" in result["Review"]["Reasons"][0]
    relaxed = build_result(detect(doc, CONFIG), CONFIG, review_threshold=0.3)
    assert not relaxed["Review"]["Required"]
    strict = parse_fields(
        [
            {"name": "Fee - Annual", "select": "first", "review_threshold": 0.95},
            {"name": "Provider Address"},
        ]
    )
    reasons = build_result(detect(doc, strict), strict, 0.1)["Review"]["Reasons"]
    assert reasons == ["Fee - Annual: confidence 0.90 < its threshold 0.95"]
    empty = build_result([], CONFIG)
    assert empty["Confidence"] == 0 and math.isclose(
        empty["Fields"]["Fee - Annual"]["Confidence"], 0
    )


def test_fields_the_model_never_saw_are_reported_not_trained() -> None:
    doc = make_doc([[[("$95", 0, 0.9, 99)], [("PO", 1, 0.4, 99)]]])
    detections = detect(doc, CONFIG)
    result = build_result(detections, CONFIG, 0.5, untrained=["Provider Address"])
    address = result["Fields"]["Provider Address"]
    assert address["NotTrained"] and address["Values"] == [] and address["NumDetections"] == 0
    assert "NotTrained" not in result["Fields"]["Fee - Annual"]
    # a required field it cannot find does not hold the document back: 0.9, not 0
    assert result["Confidence"] == pytest.approx(0.9) and not result["Review"]["Required"]
    assert build_result(detections, CONFIG, 0.5)["Confidence"] == pytest.approx(0.4)


def test_line_end_hyphen_is_rejoined() -> None:
    doc = make_doc([[[("Foreign", 1, 0.9, 99), ("Trans-", 1, 0.9, 99)], [("action", 1, 0.9, 99)]]])
    assert detect(doc, CONFIG)[0].text == "Foreign Transaction"


@pytest.mark.parametrize(
    ("parse", "text", "expected"),
    [
        (normalize_date, "As of: 10/08/2025", "2025-10-08"),
        (normalize_date, "accurate as of September 30, 2025", "2025-09-30"),
        (normalize_date, "30 de septiembre de 2025", "2025-09-30"),
        (normalize_date, "13/45/2025", None),
        (normalize_date, "Form 1203-PL", None),
        (normalize_percent, "Prime Rate + 12.74% to Prime Rate + 21.74%", "12.74%–21.74%"),
        (normalize_percent, "29.990%", "29.99%"),
        (normalize_percent, "none", None),
        (normalize_money, "Up to $40", "40.00 USD"),
        (normalize_money, "`50,000", "50000.00 INR"),
        (normalize_money, "Ninguno", "0.00"),
        (normalize_money, "see schedule", None),
        (normalize_amount, "3% of the transaction, with a minimum of $5", "3% or 5.00 USD"),
        (normalize_amount, "2.7% of each transaction", "2.7%"),
        (normalize_amount, "Up to $40.", "40.00 USD"),
        (normalize_amount, "Nil", "0.00"),
        (normalize_amount, "up to", None),
        (normalize_amount, "of each", None),
        (
            normalize_address,
            "P.O. Box 981535, El Paso, TX  79998-1535",
            "P.O. Box 981535, El Paso, TX 79998-1535",
        ),
        (
            normalize_address,
            "4th floor, Plot no 402, Airoli, Navi Mumbai 400 708",
            "4th floor, Plot no 402, Airoli, Navi Mumbai 400 708",
        ),
        (normalize_address, "Hauptstraße 5, 10115 Berlin", "Hauptstraße 5, 10115 Berlin"),
        (normalize_address, "10001 Main St, Austin, TX 78701", "10001 Main St, Austin, TX 78701"),
        (normalize_address, "Airoli, Navi Mumbai 400 708", None),  # no house number: a fragment
        (normalize_address, "Voorhees, NJ 08043.", None),  # a wrapped address's last line
        (normalize_address, "ID CLITE014 1203903", None),
        (normalize_address, "System, 28", None),
        (normalize_address, "P.O. Box 15298, Wilmington, DE", None),  # a wrapped first line
        (normalize_address, "P.O. Box 653064 Dallas, TX", None),  # the box number is no PIN
        (normalize_address, "P. O. Box 6352 Fargo, ND 58125", "P. O. Box 6352 Fargo, ND 58125"),
    ],
)
def test_normalisers(parse, text, expected) -> None:  # type: ignore[no-untyped-def]
    assert parse(text) == expected


def test_values_the_parser_cannot_read_are_rejected_not_selected() -> None:
    config = parse_fields(
        [
            {"name": "Fee - Annual", "select": "confidence", "normalize": "money"},
            {"name": "Provider Address", "normalize": "address"},
            {"name": "Effective", "select": "first", "normalize": "date", "reject_unparsed": False},
        ]
    )
    other = config.other_id
    doc = make_doc(
        [
            [
                [("up", 0, 0.99, 99), ("to", 0, 0.99, 99), ("and", other, 0.9, 99)],
                [("$95", 0, 0.6, 99)],
                [("ID", 1, 0.9, 99), ("CL14", 1, 0.9, 99), ("and", other, 0.9, 99)],
                [
                    ("PO", 1, 0.8, 99),
                    ("Box", 1, 0.8, 99),
                    ("6500,", 1, 0.8, 99),
                    ("Dover,", 1, 0.8, 99),
                    ("DE", 1, 0.8, 99),
                    ("19850", 1, 0.8, 99),
                ],
                [("CFB01072", 2, 0.9, 99)],
            ]
        ]
    )
    fields = build_result(detect(doc, config), config)["Fields"]
    annual = fields["Fee - Annual"]
    assert (annual["Value"], annual["NormalizedValue"]) == ("$95", "95.00 USD")
    assert annual["Confidence"] == pytest.approx(0.6)  # "up to" takes no share of it
    assert [r["Text"] for r in annual["Rejected"]] == ["up"]  # its dangling "to" trimmed
    assert [v["Value"] for v in fields["Provider Address"]["Values"]] == [
        "PO Box 6500, Dover, DE 19850"
    ]
    assert fields["Provider Address"]["NumDetections"] == 1
    assert fields["Effective"]["Value"] == "CFB01072"  # reject_unparsed: false keeps it
    assert fields["Effective"]["NormalizedValue"] is None
    assert "Rejected" not in fields["Effective"]


def test_mentions_with_one_meaning_are_one_value_in_their_longest_wording() -> None:
    config = parse_fields(
        [
            {"name": "Fee - Late Payment", "select": "confidence", "normalize": "amount"},
            {"name": "Provider Address", "normalize": "address"},
        ]
    )
    other = config.other_id
    doc = make_doc(
        [
            [
                [
                    ("Up", 0, 0.5, 99),
                    ("to", 0, 0.5, 99),
                    ("$40.", 0, 0.5, 99),
                    ("or", other, 1, 99),
                ],
                [("$40", 0, 0.5, 99), ("or", other, 1, 99), ("$29", 0, 0.6, 99)],
                [("P.O.", 1, 0.9, 99), ("Box", 1, 0.9, 99), ("7247,", 1, 0.9, 99)],
                [("Philadelphia,", 1, 0.9, 99), ("PA", 1, 0.9, 99), ("19170-6112.", 1, 0.9, 99)],
                [
                    ("and", other, 1, 99),
                    ("Box", 1, 0.8, 99),
                    ("7247", 1, 0.8, 99),
                    ("PA", 1, 0.8, 99),
                    ("19170-6112", 1, 0.8, 99),
                ],
            ]
        ]
    )
    fields = build_result(detect(doc, config), config)["Fields"]
    late = fields["Fee - Late Payment"]
    # "Up to $40." and "$40" are one value: 1 - 0.5 * 0.5 = 0.75 beats "$29" at 0.6
    assert (late["Value"], late["NormalizedValue"]) == ("Up to $40.", "40.00 USD")
    assert late["Confidence"] == pytest.approx(0.75 / 1.35)
    assert late["NumDetectedValues"] == 2
    addresses = fields["Provider Address"]["Values"]
    assert [v["Value"] for v in addresses] == ["P.O. Box 7247, Philadelphia, PA 19170-6112."]
    assert len(addresses[0]["Detections"]) == 2


@pytest.mark.parametrize("kind", [None, "name"])
def test_free_text_fragments_join_the_value_they_are_part_of(kind: str | None) -> None:
    """A name mentioned in part ("Platinum" of "Platinum Card®") is the same product: as two
    values of a multi-value field, the part was a wrong value beside the right one."""
    card = {"name": "Card Name", **({"normalize": kind} if kind else {})}
    config = parse_fields([card, {"name": "Fee", "normalize": "money"}])
    other = config.other_id
    doc = make_doc(
        [
            [
                [("Platinum", 0, 0.6, 99), ("and", other, 1, 99), ("Gold", 0, 0.5, 99)],
                [("The", other, 1, 99), ("Platinum", 0, 0.4, 99), ("Card®", 0, 0.4, 99)],
                [("$5", 1, 0.9, 99), ("or", other, 1, 99), ("$5.50", 1, 0.9, 99)],
            ]
        ]
    )
    fields = build_result(detect(doc, config), config)["Fields"]
    names = {v["Value"]: len(v["Detections"]) for v in fields["Card Name"]["Values"]}
    assert names == {"Platinum Card®": 2, "Gold": 1}
    # typed values group by what they parse to, never by words: $5 and $5.50 stay apart
    assert sorted(v["Value"] for v in fields["Fee"]["Values"]) == ["$5", "$5.50"]


def test_text_keys_ignore_case_spacing_and_surrounding_punctuation() -> None:
    from fieldwise.fields.normalize import text_key

    assert text_key("  Apple   Card! ") == text_key("apple card") == "apple card"
    assert text_key("JPMorgan Chase Bank, N.A.,") == "jpmorgan chase bank, n.a"
    assert text_key("FIRST WOW! Credit Card") == "first wow! credit card"  # inside: kept
