"""Label schemes and decoding, against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from fieldwise.annotate.word_labels import WordLabel
from fieldwise.model.scheme import (
    Scheme,
    class_probabilities,
    decode_tags,
    label_names,
    num_labels,
    viterbi_bio,
    word_label_ids,
)

NAMES = ["header", "question", "answer", "other"]


def test_label_names_and_counts() -> None:
    assert num_labels(Scheme.io, 4) == 4
    assert num_labels(Scheme.bio, 4) == 7
    assert label_names(Scheme.bio, NAMES) == [
        "B-header", "I-header", "B-question", "I-question", "B-answer", "I-answer", "O"
    ]  # fmt: skip
    assert label_names(Scheme.io, NAMES) == NAMES


def test_word_label_ids() -> None:
    labels = [WordLabel(1, 0, True), WordLabel(1, 0, False), WordLabel(3, None, False),
              WordLabel(2, 1, True)]  # fmt: skip
    assert word_label_ids(labels, Scheme.bio, 4) == [2, 3, 6, 4]
    assert word_label_ids(labels, Scheme.io, 4) == [1, 1, 3, 2]


def test_class_probabilities_collapse_b_and_i() -> None:
    probs = np.array([[0.1, 0.2, 0.05, 0.05, 0.3, 0.1, 0.2]])
    assert np.allclose(class_probabilities(probs, Scheme.bio, 4), [[0.3, 0.1, 0.4, 0.2]])
    assert class_probabilities(probs[:, :4], Scheme.io, 4) is not None


def test_viterbi_forbids_i_without_b() -> None:
    # word 0 prefers I-question (0.5) but may not start with I; B-question (0.3) wins the path
    probs = np.array(
        [
            [0.0, 0.0, 0.3, 0.5, 0.0, 0.0, 0.2],
            [0.0, 0.0, 0.1, 0.8, 0.0, 0.0, 0.1],
            [0.0, 0.0, 0.0, 0.1, 0.0, 0.6, 0.3],  # I-answer after question: not allowed
        ]
    )
    path = viterbi_bio(probs, 4)
    assert path[:2] == [2, 3]
    assert path[2] in (6, 3)  # O (0.3) beats I-question (0.1) and I-answer is invalid
    assert path[2] == 6
    assert decode_tags(probs, Scheme.bio, NAMES) == ["B-question", "I-question", "O"]


def test_io_decoding_turns_runs_into_entities() -> None:
    probs = np.eye(4)[[1, 1, 2, 3, 2]]
    assert decode_tags(probs, Scheme.io, NAMES) == [
        "B-question", "I-question", "B-answer", "O", "B-answer"
    ]  # fmt: skip


@pytest.mark.parametrize("n", [1, 5])
def test_viterbi_equals_argmax_when_argmax_is_valid(n: int) -> None:
    probs = np.full((n, 7), 0.01)
    probs[0, 4] = 0.9  # B-answer
    probs[1:, 5] = 0.9  # I-answer
    assert viterbi_bio(probs, 4) == [4] + [5] * (n - 1)


def test_line_constrained_viterbi_keeps_lines_whole() -> None:
    # two lines: [0, 1] and [2]; word 1 alone would prefer B-answer (a new entity mid-line)
    probs = np.array(
        [
            [0.0, 0.0, 0.7, 0.0, 0.0, 0.0, 0.3],  # B-question
            [0.0, 0.0, 0.0, 0.4, 0.6, 0.0, 0.0],  # B-answer 0.6 > I-question 0.4
            [0.0, 0.0, 0.0, 0.0, 0.9, 0.1, 0.0],  # B-answer
        ]
    )
    assert viterbi_bio(probs, 4) == [2, 4, 4]
    # keeping line 0 whole: B-question I-question (0.7*0.4=0.28) beats O O (0.3*0=0)
    assert viterbi_bio(probs, 4, line_index=[0, 0, 1]) == [2, 3, 4]
    assert decode_tags(probs, Scheme.bio, NAMES, [0, 0, 1]) == [
        "B-question", "I-question", "B-answer"
    ]  # fmt: skip
