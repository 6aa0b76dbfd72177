"""Segment decoding: exact against brute force, and what it does differently from Viterbi."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fieldwise.model.scheme import Scheme, decode_tags, viterbi_bio
from fieldwise.model.segments import segment_labels

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
    answer, question = [0.02, 0.02, 0.9, 0.06], [0.02, 0.55, 0.38, 0.05]
    class_probs = np.array([answer, answer, question, answer, answer])
    bio = np.zeros((5, 7))
    for c in range(3):  # the tagger's B-/I- opinion: each word an entity of its own
        bio[:, 2 * c] = class_probs[:, c]
    bio[:, 6] = class_probs[:, 3]
    links = np.full(4, 0.9)
    assert segment_labels(class_probs, links) == [4, 5, 5, 5, 5]
    assert viterbi_bio(bio, 4, links=links) != [4, 5, 5, 5, 5]  # Viterbi cuts it up
    tags = decode_tags(bio, Scheme.bio, NAMES, links=links, decoder="segments")
    assert tags == ["B-answer"] + ["I-answer"] * 4


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
