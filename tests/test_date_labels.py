"""The date-label vote (fields.date_labels): which date is the effective date, learned from the
words before the dates of other issuers' agreements."""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath

import numpy as np
import pytest

from fieldwise.annotate.dataset import LabeledPage, load_labeled_pages
from fieldwise.annotate.from_values import FromValuesResult
from fieldwise.fields.config import FieldConfig
from fieldwise.fields.date_labels import DATE_LABELS_FILE, fit_date_labels, page_dates
from fieldwise.fields.date_spans import date_expressions
from fieldwise.fields.detections import detect
from fieldwise.fields.votes import Votes, fit_votes, load_votes, missing_votes
from fieldwise.fields.word_calls import PREDICTED_CLASS, PREDICTED_CONFIDENCE, PROBABILITIES
from fieldwise.textract.document import TextractDocument

DATE = "Agreement Effective Date"


@pytest.fixture(scope="module")
def labelled(
    weak_labels: FromValuesResult, card_fields: FieldConfig
) -> list[tuple[str, LabeledPage]]:
    """(file name, page) for every labelled page of the shared agreements."""
    file_of = {
        r.data["textract-ref"]: PurePosixPath(r.data["raw-ref"]).name
        for r in weak_labels.manifest.pages
    }
    pages = load_labeled_pages(weak_labels.manifest, card_fields)
    return [(file_of[page.key.rsplit("#", 1)[0]], page) for page in pages]


@pytest.fixture(scope="module")
def without_chase(
    labelled: list[tuple[str, LabeledPage]],
    card_fields: FieldConfig,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """A folder with every vote fitted on the agreements of every issuer but Chase."""
    folder = tmp_path_factory.mktemp("votes")
    others = [page for name, page in labelled if not name.startswith("chase__")]
    assert DATE_LABELS_FILE in fit_votes(folder, others, card_fields)
    return folder


def textract_of(weak_labels: FromValuesResult, store: Path, file_name: str) -> Path:
    return next(
        store / r.data["textract-ref"]
        for r in weak_labels.manifest.pages
        if PurePosixPath(r.data["raw-ref"]).name == file_name
    )


def tagged(
    path: Path, config: FieldConfig, date: float, other: float, called: str
) -> TextractDocument:
    """The document as a tagger that reads only a date's shape would leave it: every date's
    words P(date field) = ``date``, P(other) = ``other`` and the decoded class ``called``;
    every other word "other" at 0.95."""
    doc = TextractDocument.load(path)
    n, date_id, other_id = config.num_classes, config.class_id(DATE), config.other_id
    in_dates: set[str] = set()
    for page in doc.pages:
        for line in page.lines:
            for start, end in date_expressions([w.text for w in line.words]):
                in_dates |= {str(w.block["Id"]) for w in line.words[start:end]}
    for block in doc.blocks:
        if block.get("BlockType") != "WORD":
            continue
        probs = np.full(n, 0.05 / (n - 1))
        probs[other_id] = 0.95
        cid = other_id
        if str(block["Id"]) in in_dates:
            probs = np.full(n, (1.0 - date - other) / (n - 2))
            probs[date_id], probs[other_id] = date, other
            cid = config.class_id(called) if called != "other" else other_id
        block[PROBABILITIES] = probs.tolist()
        block[PREDICTED_CLASS] = cid
        block[PREDICTED_CONFIDENCE] = float(probs[cid])
    return doc


def effective_dates(doc: TextractDocument, config: FieldConfig, votes: Votes) -> list[str]:
    return [d.text for d in detect(doc, config, votes=votes) if d.class_name == DATE]


def test_the_prime_rates_date_is_no_effective_date(
    weak_labels: FromValuesResult,
    card_fields: FieldConfig,
    pdfs_ingested: Path,
    without_chase: Path,
) -> None:
    """Chase states no effective date; a tagger trained on other issuers called the prime
    rate's date ("… Prime Rate as of September 30, 2025.", P 0.37 against 0.23 for "other")
    the effective date in five Chase agreements. The words before it say otherwise."""
    votes = load_votes(without_chase, card_fields)
    assert votes.dates is not None and votes.dates.examples[card_fields.class_id(DATE)] >= 20
    path = textract_of(weak_labels, pdfs_ingested, "chase__chase-sapphire-reserve.pdf")
    doc = tagged(path, card_fields, 0.37, 0.23, DATE)
    assert effective_dates(doc, card_fields, Votes()) == ["September 30, 2025."]
    assert effective_dates(doc, card_fields, votes) == []


def test_learned_on_other_issuers_it_finds_the_amex_date(
    weak_labels: FromValuesResult,
    card_fields: FieldConfig,
    pdfs_ingested: Path,
    labelled: list[tuple[str, LabeledPage]],
) -> None:
    """A tagger trained on the other issuers gave Amex's "As of: 10/08/2025" P 0.16 and decoded
    it "other" in three agreements; the words before it ("As of") make it the field."""
    others = [page for name, page in labelled if not name.startswith("amex__")]
    votes = Votes(dates=fit_date_labels(others, card_fields))
    name = "amex__amex-optima-card-from-american-express-cardmember-agreement.pdf"
    doc = tagged(textract_of(weak_labels, pdfs_ingested, name), card_fields, 0.16, 0.13, "other")
    assert effective_dates(doc, card_fields, Votes()) == []
    assert effective_dates(doc, card_fields, votes)[0] == "10/08/2025"
    first_page = next(page for file_name, page in labelled if file_name == name)
    labels = {
        " ".join(first_page.words[i] for i in d.words): d.label for d in page_dates(first_page)
    }
    assert labels["10/08/2025"][-2:] == ("as", "of")


def test_a_folder_without_the_vote_is_named_and_still_works(
    weak_labels: FromValuesResult,
    card_fields: FieldConfig,
    pdfs_ingested: Path,
    without_chase: Path,
    tmp_path: Path,
) -> None:
    """Model folders trained before the vote existed lack its file: field building goes on
    with the tagger's own date calls, and extract names the file it misses."""
    for vote in without_chase.iterdir():
        if vote.name != DATE_LABELS_FILE:
            shutil.copy(vote, tmp_path / vote.name)
    assert missing_votes(tmp_path, card_fields) == [DATE_LABELS_FILE]
    votes = load_votes(tmp_path, card_fields)
    assert votes.dates is None and votes.rows is not None
    path = textract_of(weak_labels, pdfs_ingested, "chase__chase-sapphire-reserve.pdf")
    doc = tagged(path, card_fields, 0.37, 0.23, DATE)
    assert effective_dates(doc, card_fields, votes) == ["September 30, 2025."]
