"""Rates and fees segmented by grammar and classed by the model's vote (fields.value_spans)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from fieldwise.fields import FieldConfig, parse_fields
from fieldwise.fields.detections import detect
from fieldwise.fields.extract import build_result
from fieldwise.fields.value_spans import AMOUNT_GRAMMAR, RATE_GRAMMAR, expressions, value_calls
from fieldwise.fields.votes import Votes
from fieldwise.fields.word_vote import WordVote
from fieldwise.textract import TextractDocument
from tests.test_fields_extract import make_doc

CONFIG = parse_fields(
    [
        {"name": "APR - Purchases", "select": "confidence", "normalize": "percent"},
        {"name": "APR - Penalty", "select": "confidence", "normalize": "percent"},
        {"name": "Fee - Annual", "select": "confidence", "normalize": "amount"},
        {"name": "Card Name"},
        {"name": "Provider Address", "normalize": "address"},
    ]
)
PURCHASES, PENALTY, ANNUAL, CARD, ADDRESS, OTHER = 0, 1, 2, 3, 4, CONFIG.other_id


def found(text: str, grammar: object) -> list[str]:
    words = text.split()
    return [" ".join(words[e.start : e.end]) for e in expressions(words, grammar)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("line", "rates"),
    [
        (
            "(APR) for Purchases Prime Rate + 12.74% to Prime Rate + 21.74% for any",
            ["Prime Rate + 12.74% to Prime Rate + 21.74%"],
        ),
        ("Penalty APR Up to 29.99%. This APR will vary", ["Up to 29.99%."]),
        ("We add 12.49% to 20.99% to the Prime Rate", ["12.49% to 20.99%"]),
        ("APR de multa hasta 29.99%", ["hasta 29.99%"]),
        ("Rate 9% - 43.8% per annum, or 3.5% monthly", ["9% - 43.8%", "3.5%"]),
        ("Prime Rate applies to your account", []),  # no rate, no expression
        ("None or Up to 29.99%", ["None or Up to 29.99%"]),
        ("Purchases 17.99% to 34.99%APR. This APR", ["17.99% to 34.99%APR."]),  # Barclays
    ],
)
def test_rate_expressions(line: str, rates: list[str]) -> None:
    assert found(line, RATE_GRAMMAR) == rates


@pytest.mark.parametrize(
    ("line", "amounts"),
    [
        ("Annual Membership Fee None to $250", ["None to $250"]),
        ("Either $5 or 3% of the amount of each transfer", ["Either $5 or 3%"]),
        ("Late Payment Up to $40.", ["Up to $40."]),
        ("Cuota anual Ninguno a $795; cada usuario", ["Ninguno a $795;"]),
        ("Fee of up to 1,000 points", []),  # a bare number is no amount
    ],
)
def test_amount_expressions(line: str, amounts: list[str]) -> None:
    assert found(line, AMOUNT_GRAMMAR) == amounts


def test_every_gold_apr_of_the_shared_agreements_is_one_whole_rate_expression(
    pdf_dir: Path,
) -> None:
    """The grammar must draw exactly the spans annotators chose, on all 43 real agreements.
    Introductory offers are phrases ("0% APR on Amazon.com purchases for 12 months"): the
    grammar keeps only their rate, so they are the known exception."""
    gold = json.loads((pdf_dir / "gold_fields.json").read_text())["documents"]
    checked, missed = 0, []
    for document, fields in gold.items():
        for name, value in fields.items():
            if not name.startswith("APR") or not value:
                continue
            groups = value.get("groups") or [value["values"] + value.get("layout_values", [])]
            for alternatives in groups:
                checked += 1
                whole = any(
                    found(f"Row label {alt} is variable", RATE_GRAMMAR) == [" ".join(alt.split())]
                    for alt in alternatives
                )
                if not whole:
                    missed.append((document, name, alternatives[0]))
    assert checked >= 150
    assert missed and all(name == "APR - Introductory" for _, name, _ in missed), missed


def with_probabilities(
    doc: TextractDocument,
    probabilities: dict[str, dict[int, float]],
    config: FieldConfig = CONFIG,
) -> TextractDocument:
    """Give each WORD a probability row: the listed classes, the rest to "other"."""
    for word in doc.words():
        row = [0.0] * config.num_classes
        for class_id, p in probabilities.get(word.text, {}).items():
            row[class_id] = p
        row[config.other_id] += 1.0 - sum(row)
        word.block["ClassificationProbabilities"] = row  # type: ignore[typeddict-unknown-key]
    return doc


def rate_row() -> TextractDocument:
    """The model breaks an Amex rate in two and tags no "Prime Rate" (as seen on unseen issuers)."""
    words = [
        ("APR", OTHER, 0.9, 99),
        ("Prime", OTHER, 0.6, 99),
        ("Rate", OTHER, 0.6, 99),
        ("+", PURCHASES, 0.6, 99),
        ("12.74%", PURCHASES, 0.6, 99),
        ("to", OTHER, 0.5, 99),
        ("Prime", PURCHASES, 0.4, 99),
        ("Rate", OTHER, 0.5, 99),
        ("+", PENALTY, 0.4, 99),
        ("21.74%", PURCHASES, 0.7, 99),
        ("variable", PURCHASES, 0.4, 90),
    ]
    doc = make_doc([[words]])
    for word, (_, cls, _, _) in zip(doc.words(), words, strict=True):
        if cls == PENALTY:
            word.block["PredictedEntityStart"] = True  # type: ignore[typeddict-unknown-key]
    return with_probabilities(doc, {"12.74%": {PURCHASES: 0.6}, "21.74%": {PURCHASES: 0.7}})


def test_a_broken_rate_becomes_one_detection_of_the_voted_class() -> None:
    by_model = [(d.class_name, d.text) for d in detect(rate_row(), CONFIG, value_grammar=False)]
    assert by_model == [
        ("APR - Purchases", "+ 12.74%"),
        ("APR - Purchases", "Prime"),
        ("APR - Purchases", "21.74% variable"),
    ]
    found_ = detect(rate_row(), CONFIG)
    assert [(d.class_name, d.text) for d in found_] == [
        ("APR - Purchases", "Prime Rate + 12.74% to Prime Rate + 21.74%"),
        ("APR - Purchases", "variable"),  # the model's trailing word is a detection of its own
    ]
    assert found_[0].confidence == pytest.approx(0.65)  # mean of the rates' probabilities
    field = build_result(found_, CONFIG)["Fields"]["APR - Purchases"]
    assert field["Value"] == "Prime Rate + 12.74% to Prime Rate + 21.74%"
    assert field["NormalizedValue"] == "12.74%–21.74%"


def test_a_rate_voted_to_a_fee_keeps_the_models_tags_and_one_voted_other_is_no_value() -> None:
    fee_like = with_probabilities(
        make_doc([[[("Maximum", OTHER, 0.9, 99), ("3%", ANNUAL, 0.8, 99)]]]),
        {"3%": {ANNUAL: 0.8}},
    )
    assert value_calls(fee_like, CONFIG) == {}  # the amount grammar reads a lone "3%" itself
    other = with_probabilities(
        make_doc([[[("Maximum", OTHER, 0.9, 99), ("29.99%", OTHER, 0.8, 99)]]]),
        {"29.99%": {PENALTY: 0.2}},
    )
    assert {c.class_id for c in value_calls(other, CONFIG).values()} == {OTHER}
    assert detect(other, CONFIG) == []


def test_a_row_label_that_votes_other_overrules_the_models_fee_tags() -> None:
    """As on Amex agreements read by a model trained on Chase: the tagger takes the cash-advance
    fee "Either $10 or 5% of …" for a fee field it knows; the row label "Cash Advance" (seen on
    other issuers' rows of no field) votes "other", so the amounts are no fee and the field
    stays without a value."""
    words = ["Cash", "Advance", "Either", "$10", "or", "5%", "of", "each", "advance."]
    tags = [OTHER, OTHER] + [ANNUAL] * 7
    doc = with_probabilities(
        make_doc([[[(w, t, 0.7, 99.0) for w, t in zip(words, tags, strict=True)]]]),
        {w: {ANNUAL: 0.7} for w in words[2:]},
    )
    assert [d.text for d in detect(doc, CONFIG)] == ["Either $10 or 5% of each advance."]
    other_rows = {"cash": (0.01,) * 5 + (0.95,), "advance": (0.01,) * 5 + (0.95,)}
    votes = WordVote(
        tuple(CONFIG.class_names),
        {w: tuple(math.log(p) for p in ps) for w, ps in other_rows.items()},
        (math.log(0.01),) * CONFIG.num_classes,
        (1,) * CONFIG.num_classes,
    )
    found = detect(doc, CONFIG, votes=Votes(rows=votes))
    assert [d.text for d in found] == ["of each advance."]  # the tagger's words past the amounts
    assert build_result(found, CONFIG)["Fields"]["Fee - Annual"]["Value"] == ""  # no amount


def test_a_fee_range_grows_a_detection_and_a_fee_sentence_keeps_its_words() -> None:
    fee_range = make_doc(
        [
            [
                [
                    ("Annual", OTHER, 0.9, 99),
                    ("None", OTHER, 0.5, 99),
                    ("to", OTHER, 0.5, 99),
                    ("$250", ANNUAL, 0.6, 99),
                ]
            ]
        ]
    )
    with_probabilities(fee_range, {"None": {ANNUAL: 0.5}, "$250": {ANNUAL: 0.6}})
    grown = detect(fee_range, CONFIG)
    assert [d.text for d in grown] == ["None to $250"]
    assert grown[0].confidence == pytest.approx(0.55)  # mean over "None" and "$250"
    sentence = make_doc(
        [[[(w, ANNUAL, 0.8, 99) for w in ("Either", "$5", "or", "3%", "of", "each")]]]
    )
    with_probabilities(sentence, {"$5": {ANNUAL: 0.8}, "3%": {ANNUAL: 0.8}})
    assert [d.text for d in detect(sentence, CONFIG)] == ["Either $5 or 3% of each"]


def test_predictions_without_probabilities_are_left_as_tagged() -> None:
    doc = make_doc([[[("+", PURCHASES, 0.6, 99), ("12.74%", PURCHASES, 0.6, 99)]]])
    assert value_calls(doc, CONFIG) == {}
    assert [d.text for d in detect(doc, CONFIG)] == ["+ 12.74%"]


def test_a_row_label_names_a_one_word_fee_the_model_left_out() -> None:
    """ "None" in the annual-fee row: the tagger says "other" (0.7), the row label says annual
    fee; the product decides, and without a row-label vote nothing changes."""
    from fieldwise.fields.votes import Votes
    from fieldwise.fields.word_vote import WordVote

    row = [("Annual", OTHER, 0.9, 99), ("Fee", OTHER, 0.9, 99), ("None", OTHER, 0.7, 99)]
    doc = with_probabilities(make_doc([[row]]), {"None": {ANNUAL: 0.3}})
    votes = WordVote(
        tuple(CONFIG.class_names),
        {"annual": tuple(math.log(p) for p in (0.1, 0.1, 0.6, 0.1, 0.1, 0.1))},
        (math.log(0.01),) * CONFIG.num_classes,
        (1,) * CONFIG.num_classes,
    )
    assert detect(doc, CONFIG) == []
    found_ = detect(doc, CONFIG, votes=Votes(rows=votes))
    assert [(d.class_name, d.text) for d in found_] == [("Fee - Annual", "None")]
    assert found_[0].confidence == pytest.approx(0.18 / 0.25)  # 0.3·0.6 against 0.7·0.1


def test_a_fee_statement_runs_on_to_its_sentences_end() -> None:
    """Chase's row: the label, then the fee as a sentence the model did not tag; the vote
    (numbers: balance-transfer fee) makes it one mention up to "greater." and no further, and
    "U.S." inside a sentence does not end it."""
    words = (
        "Balance Transfers Either $5 or 5% of the amount of each transfer, whichever is greater."
    )
    row = [(w, OTHER, 0.8, 99) for w in words.split()] + [("Next", ANNUAL, 0.6, 99)]
    doc = with_probabilities(make_doc([[row]]), {"$5": {ANNUAL: 0.6}, "5%": {ANNUAL: 0.6}})
    found_ = detect(doc, CONFIG)
    assert [d.text for d in found_] == [
        "Either $5 or 5% of the amount of each transfer, whichever is greater.",
        "Next",  # the model's next mention stays its own
    ]
    text = ["Up", "to", "3%", "of", "each", "transaction", "in", "U.S.", "dollars.", "See"]
    doc = with_probabilities(
        make_doc([[[(w, OTHER, 0.8, 99) for w in text]]]), {"3%": {ANNUAL: 0.9}}
    )
    assert build_result(detect(doc, CONFIG), CONFIG)["Fields"]["Fee - Annual"]["Value"] == (
        "Up to 3% of each transaction in U.S. dollars."
    )


@pytest.mark.parametrize(
    ("line", "tagged_from", "expected"),
    [
        (  # Amex's arbitration notice: the model began at "Street"
            "c/o CT Corporation System, 28 Liberty Street, New York, New York 10005.",
            "Street,",
            "28 Liberty Street, New York, New York 10005.",
        ),
        (  # the model began inside the name before it ("CT Corporation System,")
            "c/o CT Corporation System, 28 Liberty Street, New York, New York 10005.",
            "System,",
            "28 Liberty Street, New York, New York 10005.",
        ),
        (  # ... or inside "Federal Reserve Bank," before a P.O. box
            "the Federal Reserve Bank, P.O. Box 27622, Richmond, VA 23261",
            "Bank,",
            "P.O. Box 27622, Richmond, VA 23261",
        ),
        (  # a mention that begins where a name begins keeps it (U.S. Bank's gold has it)
            "write to Consumer Recovery Department, P.O. Box 108, St. Louis, MO 63166",
            "Consumer",
            "Consumer Recovery Department, P.O. Box 108, St. Louis, MO 63166",
        ),
        (
            "write to P.O. Box 7247, Philadelphia, PA 19170",
            "Box",
            "P.O. Box 7247, Philadelphia, PA 19170",
        ),
        (  # U.S. Bank writes "P. O. Box"; the model began at "O."
            "Send payments to P. O. Box 6352 Fargo, ND 58125",
            "O.",
            "P. O. Box 6352 Fargo, ND 58125",
        ),
        (  # no house number before the street's name: left as tagged
            "c/o CT Corporation System, Liberty Street, New York, NY 10005",
            "Liberty",
            "Liberty Street, New York, NY 10005",
        ),
        (  # a lower-case word ends the street line
            "sent to the 28 offices in Liberty Street, New York, NY 10005",
            "Street,",
            "Street, New York, NY 10005",
        ),
    ],
)
def test_an_address_begins_at_its_house_number_or_po_box(
    line: str, tagged_from: str, expected: str
) -> None:
    texts = line.split()
    start = texts.index(tagged_from)
    row = [(t, ADDRESS if i >= start else OTHER, 0.7, 99) for i, t in enumerate(texts)]
    found_ = detect(make_doc([[row]]), CONFIG)
    assert [(d.class_name, d.text) for d in found_] == [("Provider Address", expected)]
    assert [d.text for d in detect(make_doc([[row]]), CONFIG, value_grammar=False)] == [
        " ".join(texts[start:])
    ]


def test_a_fee_sentence_runs_on_to_its_end_on_the_next_line() -> None:
    """As on U.S. Bank's agreement: "… Fee Either $5 to $10 or 3% to 5% of the Transfer or
    Advance / amount, whichever is greater (maximum fee (No Maximum))." A next line that starts
    a new sentence is not taken in."""
    first = [(w, OTHER, 0.9, 99.0) for w in ("Fee", "Either", "$5", "or", "3%", "of", "the")]
    rest = [(w, OTHER, 0.9, 99.0) for w in ("amount,", "whichever", "is", "greater.", "Then")]
    probabilities = {"$5": {ANNUAL: 0.6}, "3%": {ANNUAL: 0.6}}
    doc = with_probabilities(make_doc([[first, rest]]), probabilities)
    found = detect(doc, CONFIG)
    assert [d.text for d in found] == ["Either $5 or 3% of the amount, whichever is greater."]
    assert found[0].lines == ("Either $5 or 3% of the", "amount, whichever is greater.")
    new_sentence = [(w, OTHER, 0.9, 99.0) for w in ("Amount", "owed.", "Then")]
    doc = with_probabilities(make_doc([[first, new_sentence]]), probabilities)
    assert [d.text for d in detect(doc, CONFIG)] == ["Either $5 or 3%"]


def uniform_rows() -> Votes:
    """A row-label vote that knows no word: every expression gets (uniform) evidence, as every
    expression of a real page does."""
    rows = WordVote(tuple(CONFIG.class_names), {}, (0.0,) * CONFIG.num_classes, (1,) * 6)
    return Votes(rows=rows)


def test_a_percentage_inside_a_rate_is_never_a_fee_on_its_own() -> None:
    """As on Bank of America's table: "17.74%" alone reads as a fee to the tagger, but it is
    part of the rate "Prime + 17.74% to Prime + 20.74%", which stays one APR."""
    words = ["Prime", "+", "17.74%", "to", "Prime", "+", "20.74%"]
    doc = with_probabilities(
        make_doc([[[(w, OTHER, 0.9, 99.0) for w in words]]]),
        {"17.74%": {PURCHASES: 0.3, ANNUAL: 0.5}, "20.74%": {PURCHASES: 0.9}},
    )
    found = detect(doc, CONFIG, votes=uniform_rows())
    assert [(d.class_name, d.text) for d in found] == [
        ("APR - Purchases", "Prime + 17.74% to Prime + 20.74%")
    ]


def test_a_fee_starts_at_its_amount_whatever_the_model_tagged_before_it() -> None:
    """As on Amex's Optima agreement: the model also tags the row label's "Fee" as the annual
    fee; the value is "$49", not "Fee $49"."""
    row = [("Annual", OTHER, 0.9, 99.0), ("Fee", ANNUAL, 0.6, 99.0), ("$49", ANNUAL, 0.8, 99.0)]
    doc = with_probabilities(make_doc([[row]]), {"Fee": {ANNUAL: 0.6}, "$49": {ANNUAL: 0.8}})
    assert [d.text for d in detect(doc, CONFIG, value_grammar=False)] == ["Fee $49"]
    found = detect(doc, CONFIG, votes=uniform_rows())
    assert [d.text for d in found] == ["Fee", "$49"]
    field = build_result(found, CONFIG)["Fields"]["Fee - Annual"]
    assert field["Value"] == "$49"  # "Fee" is no amount: rejected, not selected


def test_an_amount_inside_a_fee_sentence_from_the_line_above_stays_in_it() -> None:
    """As on Chase's agreement: "None to $795; each authorized user:" / "none to $195 per
    year." is one statement of the annual fee, not two values competing."""
    first = ["Annual", "Fee", "None", "to", "$795;", "each", "authorized", "user:"]
    second = ["none", "to", "$195", "per", "year.", "Then"]
    doc = with_probabilities(
        make_doc(
            [[[(w, OTHER, 0.9, 99.0) for w in first], [(w, OTHER, 0.9, 99.0) for w in second]]]
        ),
        {
            "None": {ANNUAL: 0.6},
            "$795;": {ANNUAL: 0.6},
            "none": {ANNUAL: 0.7},
            "$195": {ANNUAL: 0.7},
        },
    )
    found = detect(doc, CONFIG)
    assert [d.text for d in found] == ["None to $795; each authorized user: none to $195 per year."]


@pytest.mark.parametrize(
    "line",
    [
        "3. $30,300 minus $300 equals $30,000",  # Amex's worked minimum-payment example
        "a. 1% multiplied by $20,000 equals $200",
        "The DPR is 15.99% divided by 365 days equals 0.0438%",
    ],
)
def test_a_calculations_operands_are_no_fee_or_rate(line: str) -> None:
    """The tagger calls every number of a worked example a fee or an APR; the operators beside
    them say it is a calculation. The same amount stated as a term stays a fee."""
    texts = line.split()
    numbers = [t for t in texts if t[:1] in "$" or t.endswith("%")]
    classes = {t: ANNUAL if t[:1] == "$" else PURCHASES for t in numbers}
    row = [(t, classes.get(t, OTHER), 0.9, 99.0) for t in texts]
    doc = with_probabilities(make_doc([[row]]), {t: {c: 0.9} for t, c in classes.items()})
    assert detect(doc, CONFIG) == []
    assert detect(doc, CONFIG, value_grammar=False) != []  # the tagger's own calls
    term = [(t, ANNUAL if t == "$300" else OTHER, 0.9, 99.0)
            for t in ("Annual", "Fee", "$300", "per", "year")]  # fmt: skip
    doc = with_probabilities(make_doc([[term]]), {"$300": {ANNUAL: 0.9}})
    assert [d.text for d in detect(doc, CONFIG)] == ["$300"]


@pytest.mark.parametrize(
    "line",
    [
        "(APR) 13.99% to 27.99% (DPR) 0.038328% to 0.076684%",  # Bank of America's table
        "(daily periodic rate currently 0.05135% to 0.07806%). Maximum APR 29.99%",  # Chase
        "(tasa periódica diaria actual de 0.05135% a 0.07874%). APR máxima del 29.99%",
    ],
)
def test_a_periodic_rate_or_a_rates_cap_is_no_apr(line: str) -> None:
    """A daily periodic rate and the cap of a variable APR are rates, but not the agreement's
    APR: the tagger called them purchase APRs on issuers it never saw. The rates right after
    "(APR)" stay the APR."""
    texts = line.split()
    rates = [t for t in texts if "%" in t]
    row = [(t, PURCHASES if t in rates else OTHER, 0.9, 99.0) for t in texts]
    doc = with_probabilities(make_doc([[row]]), {t: {PURCHASES: 0.9} for t in rates})
    kept = [d.text for d in detect(doc, CONFIG)]
    assert kept == (["13.99% to 27.99%"] if line.startswith("(APR)") else [])
    assert len(detect(doc, CONFIG, value_grammar=False)) >= 1  # the tagger's own calls
