"""Names wrapped onto the next line (fields.name_spans.page_phrases, name_heads' fit) and a
product's spellings with and without its issuer's name (fields.extract)."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from fieldwise.annotate.dataset import LabeledPage, load_labeled_pages
from fieldwise.annotate.from_values import FromValuesResult
from fieldwise.fields.config import FieldConfig, Normalize
from fieldwise.fields.detections import detect
from fieldwise.fields.extract import build_result
from fieldwise.fields.name_heads import fit_name_heads
from fieldwise.fields.name_spans import is_name_head
from fieldwise.fields.votes import Votes
from fieldwise.fields.word_vote import WordVote
from fieldwise.textract import TextractDocument
from tests.test_fields_extract import make_doc
from tests.test_name_spans import CARD, CONFIG, OTHER, PROVIDER


@pytest.fixture(scope="module")
def labeled(weak_labels: FromValuesResult, card_fields: FieldConfig) -> dict[str, LabeledPage]:
    """Every shared agreement's labelled pages, by "file name#page"."""
    file_of = {
        r.data["textract-ref"]: PurePosixPath(r.data["raw-ref"]).name
        for r in weak_labels.manifest.pages
    }
    return {
        f"{file_of[page.key.rsplit('#', 1)[0]]}#{page.page_num}": page
        for page in load_labeled_pages(weak_labels.manifest, card_fields)
    }


@pytest.fixture(scope="module")
def heads_without_amex(labeled: dict[str, LabeledPage], card_fields: FieldConfig) -> WordVote:
    """The head-word vote as the Amex fold of the benchmark fits it: no Amex page."""
    return fit_name_heads(
        [p for key, p in labeled.items() if not key.startswith("amex__")], card_fields
    )


def test_a_wrapped_label_counts_once_by_its_last_word(
    labeled: dict[str, LabeledPage], card_fields: FieldConfig
) -> None:
    """ "American" / "Express National Bank" broken over lines in the Amex agreements once made
    "American" the issuer's head word 29 times; counted as one name it is "Bank"'s."""
    heads = fit_name_heads(list(labeled.values()), card_fields)
    names = card_fields.reported_ids(Normalize.name)
    provider = card_fields.class_names.index("Provider Name")
    assert heads.counts("american")[provider] <= 1
    assert not is_name_head(heads, "american", names)
    assert not is_name_head(heads, "works", names)  # "How Your Reward Program Works"
    assert is_name_head(heads, "bank", names)
    assert is_name_head(heads, "card", names)


def as_predicted(page: LabeledPage, config: FieldConfig) -> TextractDocument:
    """The real page's lines, each word called its label with 0.9 (else "other")."""
    lines = [
        [(page.words[i], page.labels[i].class_id, 0.9, 99.0) for i in indexes]
        for indexes in page.lines().values()
    ]
    doc = make_doc([lines])
    for word, (_, class_id, _, _) in zip(doc.words(), [w for ln in lines for w in ln], strict=True):
        row = [0.0] * config.num_classes
        row[class_id] = 0.9 if class_id != config.other_id else 1.0
        row[config.other_id] += 1.0 - sum(row)
        word.block["ClassificationProbabilities"] = row  # type: ignore[typeddict-unknown-key]
    return doc


def test_on_a_real_amex_page_the_wrapped_card_name_is_one_value(
    labeled: dict[str, LabeledPage], card_fields: FieldConfig, heads_without_amex: WordVote
) -> None:
    """Page 5 of the Delta SkyMiles® Blue agreement: "… on your Delta SkyMiles® Blue American" /
    "Express Card (Card Account)." Tagged right word by word, it was two card names."""
    key = next(k for k in labeled if "delta-skymiles-blue" in k and k.endswith("#5"))
    doc = as_predicted(labeled[key], card_fields)
    card = card_fields.class_names.index("Card Name")

    def cards(votes: Votes) -> list[str]:
        return [d.text for d in detect(doc, card_fields, votes=votes) if d.class_id == card]

    joined = cards(Votes(name_heads=heads_without_amex))
    assert "Delta SkyMiles® Blue American Express Card" in joined
    assert "Express Card" not in joined and "Delta SkyMiles® Blue American" not in joined
    # without the head-word vote (a model folder from before it) nothing is taken as wrapped
    apart = cards(Votes())
    assert "Express Card" in apart and "Delta SkyMiles® Blue American" in apart


def line(text: str, class_id: int) -> list[tuple[str, int, float, float]]:
    return [(w, class_id, 0.9, 99.0) for w in text.split()]


def test_headings_titles_and_lists_stay_apart(
    card_fields: FieldConfig, heads_without_amex: WordVote
) -> None:
    """Only a name inside running text on both lines is taken as wrapped."""
    provider = card_fields.class_names.index("Provider Name")
    card, other = card_fields.class_names.index("Card Name"), card_fields.other_id
    lines = [
        line("How the Reward Program Works", other),  # a heading over a title
        line("Morgan Stanley Platinum Card", card),
        line("Issuer:", other) + line("American Express National Bank", provider),
        line("Blue Cash Everyday® Card", card) + line("is issued", other),
        line("apply for the", other) + line("FIRST Classic Credit Card", card),
        line("FIRST Select Credit Card", card) + line("or any other", other),
    ]
    doc = make_doc([lines])
    for word in doc.words():
        row = [0.0] * card_fields.num_classes
        row[word.block["PredictedClass"]] = 1.0  # type: ignore[typeddict-item]
        word.block["ClassificationProbabilities"] = row  # type: ignore[typeddict-unknown-key]
    found = detect(doc, card_fields, votes=Votes(name_heads=heads_without_amex))
    assert [d.text for d in found] == [
        "Morgan Stanley Platinum Card",
        "American Express National Bank",
        "Blue Cash Everyday® Card",
        "FIRST Classic Credit Card",
        "FIRST Select Credit Card",
    ]


def test_a_products_spellings_with_and_without_its_issuers_name_are_one_value() -> None:
    lines = [
        line("American Express", PROVIDER) + line("issues the", OTHER),
        line("Delta SkyMiles® Gold Card", CARD) + line("and the", OTHER),
        line("Delta SkyMiles® Gold American Express Card", CARD) + line("or", OTHER),
        line("American Express", CARD) + line("and not the", OTHER),
        line("Delta SkyMiles® Platinum Card", CARD),
    ]
    found = detect(make_doc([lines]), CONFIG, value_grammar=False)
    cards = build_result(found, CONFIG)["Fields"]["Card Name"]["Values"]
    assert sorted(v["Value"] for v in cards) == [
        "Delta SkyMiles® Gold American Express Card",
        "Delta SkyMiles® Platinum Card",
    ]
    gold = next(v for v in cards if "Gold" in v["Value"])
    assert len(gold["Detections"]) == 3  # both spellings and the bare issuer's name
    # with no issuer found, the spellings stay apart: nothing says which words are its name
    no_issuer = [d for d in found if d.class_id != PROVIDER]
    values = build_result(no_issuer, CONFIG)["Fields"]["Card Name"]["Values"]
    assert sorted(v["Value"] for v in values) == [
        "Delta SkyMiles® Gold American Express Card",  # "American Express" a run inside it
        "Delta SkyMiles® Gold Card",
        "Delta SkyMiles® Platinum Card",
    ]
