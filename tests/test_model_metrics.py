"""Evaluation metrics against hand-computed values."""

from __future__ import annotations

import pytest

from fieldwise.model.metrics import confusion_matrix, entity_scores, evaluate_tags, token_metrics

NAMES = ["header", "question", "answer", "other"]


def test_entity_scores_by_hand() -> None:
    gold = [["B-question", "I-question", "B-answer", "O", "B-header"]]
    # question right, answer right but too long (wrong span), header missed
    pred = [["B-question", "I-question", "B-answer", "I-answer", "O"]]
    scores = entity_scores(gold, pred)
    assert scores["entity_precision"] == pytest.approx(1 / 2)  # 1 of 2 predicted
    assert scores["entity_recall"] == pytest.approx(1 / 3)  # 1 of 3 gold
    assert scores["entity_f1"] == pytest.approx(2 * 0.5 * (1 / 3) / (0.5 + 1 / 3))
    assert scores["per_class"]["question"]["f1"] == 1.0
    assert scores["per_class"]["answer"]["f1"] == 0.0
    assert scores["per_class"]["header"]["support"] == 1


def test_token_metrics_by_hand() -> None:
    other = 3
    gold = [[1, 2, 3, 3], [3, 3]]
    pred = [[1, 1, 3, 2], [3, 3]]
    m = token_metrics(gold, pred, other)
    assert m["n_examples"] == 2
    assert m["acc"] == pytest.approx((2 / 4 + 1.0) / 2)
    # page 1 focus words: indexes 0, 1, 3 → 1 right of 3; page 2 has no focus word
    assert m["n_focus_examples"] == 1
    assert m["focus_acc"] == pytest.approx(1 / 3)
    assert m["focus_else_acc_minus_one"] == pytest.approx(1 / 3)


def test_focus_else_acc_minus_one_when_focus_is_zero() -> None:
    m = token_metrics([[1, 3]], [[3, 3]], 3)
    assert m["focus_acc"] == 0.0
    assert m["focus_else_acc_minus_one"] == pytest.approx(0.5 - 1)


def test_confusion_and_report() -> None:
    assert confusion_matrix([[0, 1, 3]], [[0, 2, 3]], 4).tolist() == [
        [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1]
    ]  # fmt: skip
    report = evaluate_tags([["B-header", "O"]], [["B-header", "O"]], NAMES)
    assert report["entity_f1"] == 1.0 and report["acc"] == 1.0
    assert report["class_names"] == NAMES
