"""Segment decoding: exact against brute force, and what it does differently from Viterbi."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fieldwise.model.scheme import Scheme, decode_tags
from fieldwise.model.segments import blend_links, segment_labels

NAMES = ["header", "question", "answer", "other"]


def _segments(path: tuple[int, ...], other: int) -> list[tuple[int, int, int]] | None:
    """(start, end, class) runs of a BIO label path; "other" words one by one; None if invalid."""
    runs: list[tuple[int, int, int]] = []
    for i, label in enumerate(path):
        if label == 2 * other:
            runs.append((i, i + 1, other))
        elif label % 2 == 0:
            runs.append((i, i + 1, label // 2))
        elif not runs or runs[-1][2] != label // 2 or runs[-1][2] == other:
            return None  # I- without its B-
        else:
            runs[-1] = (runs[-1][0], i + 1, runs[-1][2])
    return runs


def _score(runs, class_probs, links, lines) -> float:  # type: ignore[no-untyped-def]
    """The objective the module docstring states, written out the slow way."""
    other = class_probs.shape[1] - 1
    total = 0.0
    for k, (start, end, cls) in enumerate(runs):
        if cls == other:
            total += np.log(class_probs[start, other])
        else:
            total += (end - start) * np.log(class_probs[start:end, cls].mean())
            total += np.log(links[start : end - 1]).sum()
        if k > 0 and (cls != other or runs[k - 1][2] != other):
            if lines is not None and lines[start - 1] == lines[start]:
                return -np.inf  # a LINE is never split
            total += np.log1p(-links[start - 1])
    return float(total)


@pytest.mark.parametrize("seed", range(40))
def test_segments_find_the_best_labelling_that_brute_force_finds(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, classes = int(rng.integers(1, 6)), 3
    class_probs = rng.dirichlet(np.ones(classes), size=n)
    links = rng.uniform(0.02, 0.98, size=n - 1)
    lines = sorted(rng.integers(0, 3, size=n).tolist()) if seed % 2 else None
    best, best_path = -np.inf, None
    for path in itertools.product(range(2 * classes - 1), repeat=n):
        runs = _segments(path, classes - 1)
        if runs is not None and (score := _score(runs, class_probs, links, lines)) > best:
            best, best_path = score, list(path)
    assert segment_labels(class_probs, links, lines) == best_path


def test_one_doubtful_word_does_not_split_an_answer() -> None:
    """Word 2 of a five-word answer looks like a question to the tagger (0.7), so word 3 looks
    like an answer beginning anew: Viterbi's product of word probabilities cuts the answer in
    three, the segment's mean keeps it whole."""
    columns = ["B-header", "I-header", "B-question", "I-question", "B-answer", "I-answer", "O"]
    rows = [
        {"B-answer": 0.9, "O": 0.1},
        {"I-answer": 0.9, "O": 0.1},
        {"B-question": 0.7, "I-answer": 0.23, "O": 0.07},
        {"B-answer": 0.6, "I-answer": 0.3, "O": 0.1},
        {"I-answer": 0.9, "O": 0.1},
    ]
    bio = np.array([[row.get(c, 0.0) for c in columns] for row in rows])
    links = np.full(4, 0.7)
    whole = ["B-answer"] + ["I-answer"] * 4
    assert decode_tags(bio, Scheme.bio, NAMES, links=links, decoder="segments") == whole
    assert decode_tags(bio, Scheme.bio, NAMES, links=links) != whole  # Viterbi cuts it up


def test_the_boundary_model_cuts_two_entities_of_one_class_apart() -> None:
    class_probs = np.array([[0.01, 0.9, 0.04, 0.05]] * 4)
    assert segment_labels(class_probs, np.array([0.9, 0.05, 0.9])) == [2, 3, 2, 3]
    assert segment_labels(class_probs, np.array([0.9, 0.95, 0.9])) == [2, 3, 3, 3]


def test_lines_stay_whole_and_long_entities_are_cut_at_the_cap() -> None:
    class_probs = np.array([[0.01, 0.9, 0.04, 0.05]] * 2 + [[0.01, 0.04, 0.9, 0.05]] * 2)
    links = np.array([0.9, 0.9, 0.9])
    # one line: the answer may not begin inside it, so the line is one entity
    assert segment_labels(class_probs, links, [0, 0, 0, 0]) in ([2, 3, 3, 3], [4, 5, 5, 5])
    assert segment_labels(class_probs, links, [0, 0, 1, 1]) == [2, 3, 4, 5]
    long = np.array([[0.01, 0.9, 0.04, 0.05]] * 10)
    path = segment_labels(long, np.full(9, 0.99), max_words=4)
    assert [label % 2 for label in path].count(0) == 3  # 10 words: three entities of ≤ 4
    assert {label // 2 for label in path} == {1}
    assert segment_labels(np.zeros((0, 4)), np.zeros(0)) == []


def test_without_links_decoding_stays_viterbi() -> None:
    probs = np.array([[0.1, 0.1, 0.6, 0.1, 0.05, 0.0, 0.05]])
    assert decode_tags(probs, Scheme.bio, NAMES, decoder="segments") == ["B-question"]


def test_the_taggers_begin_or_go_on_opinion_moves_an_unsure_boundary() -> None:
    """Two question words, the boundary model undecided (0.5): the tagger's B- on the second
    word makes two entities, its I- one; with weight 0 the boundary model alone decides."""
    begins = np.array([[0.0, 0.0, 0.9, 0.0, 0.0, 0.0, 0.1], [0.0, 0.0, 0.8, 0.1, 0.0, 0.0, 0.1]])
    goes_on = begins.copy()
    goes_on[1, 2:4] = [0.1, 0.8]
    unsure = np.array([0.5])
    assert blend_links(begins, unsure)[0] < 0.5 < blend_links(goes_on, unsure)[0]
    assert blend_links(begins, unsure, weight=0.0)[0] == 0.5
    assert blend_links(begins, np.zeros(0)).shape == (0,)
    two = ["B-question", "B-question"]
    one = ["B-question", "I-question"]
    assert decode_tags(begins, Scheme.bio, NAMES, links=unsure, decoder="segments") == two
    assert decode_tags(goes_on, Scheme.bio, NAMES, links=unsure, decoder="segments") == one
    sure = np.array([0.99])  # a boundary model that is sure outweighs the tagger
    assert decode_tags(begins, Scheme.bio, NAMES, links=sure, decoder="segments") == one
