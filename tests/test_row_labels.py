"""The row-label vote (fields.row_labels): learned on some issuers, read on another's table."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import numpy as np
import pytest

from fieldwise.annotate.dataset import LabeledPage, load_labeled_pages
from fieldwise.annotate.from_values import FromValuesResult
from fieldwise.fields.config import FieldConfig
from fieldwise.fields.row_labels import ROW_LABELS_FILE, fit_row_labels, page_expressions
from fieldwise.fields.votes import fit_votes, load_votes
from fieldwise.fields.word_vote import WordVote
from tests.test_value_spans import CONFIG as SMALL_CONFIG


def pages_by_issuer(
    weak_labels: FromValuesResult, card_fields: FieldConfig
) -> tuple[list[LabeledPage], dict[str, LabeledPage]]:
    """(pages of every issuer but American Express, {Amex page key: page})."""
    file_of = {
        r.data["textract-ref"]: PurePosixPath(r.data["raw-ref"]).name
        for r in weak_labels.manifest.pages
    }
    others, amex = [], {}
    for page in load_labeled_pages(weak_labels.manifest, card_fields):
        name = file_of[page.key.rsplit("#", 1)[0]]
        if name.startswith("amex__"):
            amex[f"{name}#{page.page_num}"] = page
        else:
            others.append(page)
    return others, amex


def test_learned_on_other_issuers_it_reads_the_amex_rate_table(
    weak_labels: FromValuesResult, card_fields: FieldConfig, tmp_path: Path
) -> None:
    """The tagger trained on these issuers calls Amex's penalty APR a cash-advance APR (its
    P(penalty) was 0.05); the row label alone says penalty, and the same for each row."""
    others, amex = pages_by_issuer(weak_labels, card_fields)
    assert ROW_LABELS_FILE in fit_votes(tmp_path, others, card_fields)
    votes = load_votes(tmp_path, card_fields).rows
    assert votes is not None and sum(votes.examples) > 1000
    page = amex["amex__amex-blue-cash-everyday.pdf#1"]
    names = card_fields.class_names
    read = [
        (
            " ".join(page.words[i] for i in found.words),
            names[int(np.argmax(votes.likelihood(found.label)))],
        )
        for found in page_expressions(page)
    ]
    rates = [r for r in read if r[0].startswith("Prime Rate")]
    assert rates == [
        ("Prime Rate + 12.74% to Prime Rate + 21.74%", "APR - Purchases"),
        ("Prime Rate + 12.74% to Prime Rate + 21.74%", "APR - Balance Transfers"),
        ("Prime Rate + 21.99%", "APR - Cash Advances"),
        ("Prime Rate + 26.74%", "APR - Penalty"),
    ]
    fees = [r for r in read if r[0].startswith(("Up to $", "None", "2.7%"))][:5]
    assert fees == [
        ("None", "Fee - Annual"),
        ("2.7%", "Fee - Foreign Transaction"),
        ("2.7%", "Fee - Foreign Transaction"),
        ("Up to $40.", "Fee - Late Payment"),
        ("Up to $40.", "Fee - Returned Payment"),
    ]
    # Amex's cash-advance fee, "Either $10 or 5% of the amount of each cash advance" (no field:
    # "other"), is written like a balance-transfer fee; its row label says what it is, and with
    # the regression the vote leans further to "other" (odds 12.5 against naive Bayes's 9.0)
    fee, bt = names.index("other"), names.index("Fee - Balance Transfer")
    delta = amex["amex__amex-delta-gold.pdf#1"]
    label = next(f.label for f in page_expressions(delta) if delta.words[f.words[0]] == "Either")
    assert set(label) == {"cash", "advance"}
    bayes = fit_row_labels(others, card_fields)
    naive = WordVote(bayes.class_names, bayes.log_probs, bayes.unknown, bayes.examples)
    assert votes.likelihood(label)[fee] / votes.likelihood(label)[bt] > 1.2 * (
        naive.likelihood(label)[fee] / naive.likelihood(label)[bt]
    )


def test_the_regression_is_fitted_beside_naive_bayes_and_averaged_with_it() -> None:
    from fieldwise.fields import parse_fields

    config = parse_fields([{"name": "transfer fee"}, {"name": "annual fee"}])
    examples = (
        [(["balance", "transfer"], 0)] * 10
        + [(["annual", "fee"], 1)] * 10
        + [(["cash", "advance"], 2)] * 3
        + [([f"word{i}", f"more{i}", "advance"], 2) for i in range(200)]
    )
    naive = WordVote.fit(examples, config)
    both = WordVote.fit(examples, config, discriminative=True)
    assert naive.weights is None and both.weights is not None
    assert both.log_probs == naive.log_probs  # the naive-Bayes half is unchanged
    for words in (["cash", "advance"], ["balance", "transfer"], ["annual"], []):
        mean = np.sqrt(naive.likelihood(words) * both._posterior(words))
        assert both.likelihood(words) == pytest.approx(mean / mean.sum())
    assert int(np.argmax(both.likelihood(["balance", "transfer"]))) == 0
    assert int(np.argmax(both.likelihood(["cash", "advance"]))) == 2
    # a class without examples gets the uniform share from the regression
    lonely = WordVote.fit([(["a"], 0), (["b"], 2)], config, discriminative=True)
    assert np.isinf(lonely.bias[1]) and lonely._posterior(["a"])[1] == pytest.approx(1 / 3)


def test_values_under_a_heading_are_labelled_by_it(
    weak_labels: FromValuesResult, card_fields: FieldConfig
) -> None:
    """Bank of America and U.S. Bank head each table row with its label and put the rates
    lower and to the right ("Annual Percentage Rate (APR) for / Purchases", then
    "Prime + 17.74% to Prime + 20.74%" / "(APR) 24.99% to 27.99%"): those cells take the
    heading's words. Rows labelled where they stand (Amex) and prose take none."""
    file_of = {
        r.data["textract-ref"]: PurePosixPath(r.data["raw-ref"]).name
        for r in weak_labels.manifest.pages
    }
    by_name = {
        f"{file_of[p.key.rsplit('#', 1)[0]]}#{p.page_num}": p
        for p in load_labeled_pages(weak_labels.manifest, card_fields)
    }

    def labels(name: str, page: int) -> list[tuple[str, set[str]]]:
        found = by_name[f"{name}#{page}"]
        return [
            (" ".join(found.words[i] for i in e.words), set(e.label))
            for e in page_expressions(found)
        ]

    boa = labels("bank-of-america__boa-secured.pdf", 2)
    assert boa[0][0] == "Prime + 17.74% to Prime + 20.74%"
    assert {"annual", "percentage", "purchases"} <= boa[0][1]
    assert boa[3][0] == "24.99% to 27.99%" and "purchases" in boa[3][1]
    transfers = [label for _, label in boa if "transfers" in label]
    assert len(transfers) >= 3 and all("purchases" not in label for label in transfers)
    usb = labels("us-bank__usb-flex-rewards.pdf", 1)
    assert usb[0][0] == "Prime + 5.24% to 23.74%" and "purchases" in usb[0][1]
    amex = dict(labels("amex__amex-blue-cash-everyday.pdf", 1))
    assert (
        {"penalty"}
        <= amex["Prime Rate + 26.74%"]
        <= {"penalty", "apr", "and", "when", "it", "applies"}
    )


def test_without_label_words_the_vote_is_uniform_and_unknown_words_do_not_decide() -> None:
    votes = WordVote(
        ("A", "B", "other"),
        {"penalty": (np.log(0.5), np.log(0.1), np.log(0.1))},
        (np.log(0.01),) * 3,
        (2, 1, 5),
    )
    assert votes.likelihood([]) == pytest.approx([1 / 3] * 3)
    assert votes.likelihood(["never", "seen"]) == pytest.approx([1 / 3] * 3)
    assert votes.likelihood(["penalty"]) == pytest.approx([5 / 7, 1 / 7, 1 / 7])


def test_saved_votes_round_trip_and_bad_files_name_themselves(
    weak_labels: FromValuesResult, card_fields: FieldConfig, tmp_path: Path
) -> None:
    others, _ = pages_by_issuer(weak_labels, card_fields)
    fitted = fit_row_labels(others[:40], card_fields)
    fitted.save(tmp_path / ROW_LABELS_FILE)
    assert load_votes(tmp_path, card_fields).rows == fitted
    assert load_votes(tmp_path / "elsewhere", card_fields).rows is None  # older model folders
    with pytest.raises(ValueError, match=r"row_labels\.json: made for classes"):
        load_votes(tmp_path, SMALL_CONFIG)
    (tmp_path / ROW_LABELS_FILE).write_text('{"class_names": [', encoding="utf-8")
    with pytest.raises(ValueError, match=r"row_labels\.json: not a word-vote file"):
        load_votes(tmp_path, card_fields)
    broken = json.loads(json.dumps({"class_names": card_fields.class_names, "examples": []}))
    (tmp_path / ROW_LABELS_FILE).write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(ValueError, match="not a word-vote file"):
        load_votes(tmp_path, card_fields)


def test_fields_without_rates_or_fees_get_no_vote(tmp_path: Path) -> None:
    from fieldwise.fields import parse_fields

    forms = parse_fields([{"name": "question"}, {"name": "answer"}])
    assert fit_votes(tmp_path, [], forms) == []
    assert not (tmp_path / ROW_LABELS_FILE).exists()
