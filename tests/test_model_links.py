"""The entity-boundary model on real FUNSD forms, and how decoding weighs it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from fieldwise.annotate.dataset import LabeledPage, load_labeled_pages
from fieldwise.fields.config import load_fields
from fieldwise.model.link_features import FEATURE_NAMES, NUM_PAIR_FEATURES, pair_features
from fieldwise.model.links import LINKS_FILE, LinkModel, _from_sklearn, fit_links, pair_targets
from fieldwise.model.scheme import viterbi_bio


@pytest.fixture(scope="module")
def forms(funsd_import: Path) -> list[LabeledPage]:
    fields = load_fields(funsd_import / "fields.yaml")
    return load_labeled_pages(funsd_import / "pages.manifest.jsonl", fields)


def _pairs(pages: list[LabeledPage]) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([pair_features(p) for p in pages])
    y = np.concatenate([pair_targets(p) for p in pages])
    return x[y >= 0], y[y >= 0]


def test_pair_features_read_gaps_colons_and_lines(forms: list[LabeledPage]) -> None:
    page = forms[0]
    features = pair_features(page)
    assert features.shape == (len(page.words) - 1, NUM_PAIR_FEATURES)
    column = {name: i for i, name in enumerate(FEATURE_NAMES)}
    for i in range(len(page.words) - 1):
        row = features[i]
        assert row[column["same_line"]] == (page.line_index[i] == page.line_index[i + 1])
        assert row[column["a_colon"]] == page.words[i].endswith(":")
        a, b = page.boxes[i], page.boxes[i + 1]
        height = (a.height + b.height) / 2
        assert row[column["gap_x"]] == pytest.approx((b.left - a.right) / height, rel=1e-4)
    one_word = replace(page, words=page.words[:1], boxes=page.boxes[:1], line_index=[0])
    assert pair_features(one_word).shape == (0, NUM_PAIR_FEATURES)


def test_pair_targets_follow_the_labelled_boxes(forms: list[LabeledPage]) -> None:
    page = forms[0]
    targets = pair_targets(page)
    for i, target in enumerate(targets):
        a, b = page.labels[i], page.labels[i + 1]
        if a.box_index is None or b.box_index is None:
            assert target == -1
        else:
            assert target == int(a.box_index == b.box_index)
    assert {-1, 0, 1} <= set(targets.tolist())


def test_trees_walked_in_numpy_equal_scikit_learn(forms: list[LabeledPage]) -> None:
    x, y = _pairs(forms[:20])
    clf = HistGradientBoostingClassifier(max_iter=40, max_depth=5, random_state=0).fit(x, y)
    x[::7, 3] = np.nan  # missing values take the branch the trees learned for them
    ours = 1.0 / (1.0 + np.exp(-_from_sklearn(clf).log_odds(x)))
    assert np.allclose(ours, clf.predict_proba(x)[:, 1], atol=1e-9)


def test_fitted_links_tell_entities_apart_on_unseen_forms(
    forms: list[LabeledPage], tmp_path: Path
) -> None:
    links = fit_links(forms[:60])
    assert links is not None
    links.save(tmp_path / LINKS_FILE)
    loaded = LinkModel.load(tmp_path / LINKS_FILE)
    held_out = forms[-20:]
    x = np.concatenate([loaded.features(page) for page in held_out])
    y = np.concatenate([pair_targets(page) for page in held_out])
    x, y = x[y >= 0], y[y >= 0]
    p = 1.0 / (1.0 + np.exp(-loaded.log_odds(x)))
    majority = max(y.mean(), 1 - y.mean())
    accuracy = float(((p > 0.5) == y).mean())
    # measured 0.92 on 15 held-out forms against a majority of 0.64
    assert accuracy > majority + 0.2, (accuracy, majority)
    page = held_out[0]
    assert np.allclose(loaded.probabilities(page), links.probabilities(page))


def test_too_few_pairs_fit_nothing_and_bad_files_are_named(
    forms: list[LabeledPage], tmp_path: Path
) -> None:
    page = forms[0]
    one_word = replace(page, words=page.words[:1], boxes=page.boxes[:1], labels=page.labels[:1])
    assert fit_links([one_word]) is None
    bad = tmp_path / LINKS_FILE
    bad.write_text('{"features": ["gap"]}')
    with pytest.raises(ValueError, match="links.json: not a links file"):
        LinkModel.load(bad)


def test_decoding_weighs_the_link_probability() -> None:
    # two words the tagger reads as one question (I- at word 1 is likelier than B-)
    probs = np.array(
        [
            [0.0, 0.0, 0.9, 0.0, 0.0, 0.0, 0.1],
            [0.0, 0.0, 0.3, 0.6, 0.0, 0.0, 0.1],
        ]
    )
    assert viterbi_bio(probs, 4) == [2, 3]
    assert viterbi_bio(probs, 4, links=np.array([0.9])) == [2, 3]
    assert viterbi_bio(probs, 4, links=np.array([0.05])) == [2, 2]  # the page says: two
    # and a break the tagger saw is joined when the page says the words belong together
    split = probs.copy()
    split[1] = [0.0, 0.0, 0.55, 0.35, 0.0, 0.0, 0.1]
    assert viterbi_bio(split, 4) == [2, 2]
    assert viterbi_bio(split, 4, links=np.array([0.95])) == [2, 3]


def test_word_statistics_count_kept_and_cut_pairs_per_word(forms: list[LabeledPage]) -> None:
    from fieldwise.model.link_words import WordLinkStats, word_key

    assert word_key("Date:") == word_key("date") == "date"
    assert word_key("10/26/57") == "00/00/00" and word_key(":") == ":"
    pages = forms[:30]
    targets = [pair_targets(p) for p in pages]
    stats = WordLinkStats.fit(pages, targets)
    kept = sum(int((t == 1).sum()) for t in targets)
    cut = sum(int((t == 0).sum()) for t in targets)
    assert stats.prior == pytest.approx(kept / (kept + cut))
    assert sum(c + k for c, k in stats.as_first.values()) == kept + cut
    # "date:" closes a question, so pairs that start with it are cut far more than kept
    cut_after, kept_after = stats.as_first["date"]
    assert cut_after > kept_after
    page = forms[40]
    feats = stats.features(page)
    assert feats.shape == (len(page.words) - 1, 4)
    unseen = [
        i for i in range(len(page.words) - 1) if word_key(page.words[i]) not in stats.as_first
    ]
    prior_odds = np.log(stats.prior / (1 - stats.prior))
    assert unseen and np.allclose(feats[unseen, 0], prior_odds, atol=1e-5)
    assert np.all(feats[unseen, 1] == 0)


def test_training_pages_read_word_statistics_of_other_documents_only(
    forms: list[LabeledPage],
) -> None:
    from fieldwise.model.link_words import WordLinkStats, out_of_fold, word_key

    pages = forms[:40]
    targets = [pair_targets(p) for p in pages]
    crossed = out_of_fold(pages, targets)
    full = WordLinkStats.fit(pages, targets)
    # a word seen in one document only is unseen when that document reads the statistics
    owners: dict[str, set[int]] = {}
    for d, page in enumerate(pages):
        for i in np.flatnonzero(targets[d] >= 0):
            owners.setdefault(word_key(page.words[i]), set()).add(d)
    checked = 0
    for d, page in enumerate(pages):
        for i in range(len(page.words) - 1):
            key = word_key(page.words[i])
            if owners.get(key) == {d}:
                assert crossed[d][i, 1] == 0.0
                assert full.features(page)[i, 1] > 0.0
                checked += 1
    assert checked > 20


def test_links_files_with_and_without_word_statistics_load(
    forms: list[LabeledPage], tmp_path: Path
) -> None:
    links = fit_links(forms[:40])
    assert links is not None and links.words is not None
    links.save(tmp_path / LINKS_FILE)
    loaded = LinkModel.load(tmp_path / LINKS_FILE)
    assert np.allclose(loaded.probabilities(forms[-1]), links.probabilities(forms[-1]))
    # a folder trained before the word statistics: geometry alone, as it was fitted
    data = json.loads((tmp_path / LINKS_FILE).read_text())
    data["features"], data["words"] = list(FEATURE_NAMES), None
    (tmp_path / "old.json").write_text(json.dumps(data))
    older = LinkModel.load(tmp_path / "old.json")
    assert older.words is None and older.features(forms[-1]).shape[1] == len(FEATURE_NAMES)
