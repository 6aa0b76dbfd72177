"""Evaluation: entity F1 (seqeval over word-level BIO tags) and the original design's word metrics.

``entity_f1`` is the standard FUNSD metric: a predicted entity counts only when its words and
its type equal a gold entity's. The original cloud design's metrics are kept by name:
``acc`` (mean per-page word accuracy), ``focus_acc`` (the same over words where the gold or the
predicted class is not "other", averaged over the ``n_focus_examples`` pages that have such
words) and ``focus_else_acc_minus_one`` (``focus_acc`` if positive, else ``acc - 1``). The
original counted sub-tokens; here each word counts once, as the words are what gets labelled.

Example::

    report = evaluate_tags(gold_tags, pred_tags, class_names)
    report["entity_f1"], report["per_class"]["question"]["f1"]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

from fieldwise.model.scheme import tag_class_ids


def entity_scores(gold: list[list[str]], pred: list[list[str]]) -> dict[str, Any]:
    """Micro precision/recall/F1 and the same per class, from BIO tags per page."""
    report = classification_report(gold, pred, output_dict=True, zero_division=0)
    per_class = {
        name: {
            "precision": float(v["precision"]),
            "recall": float(v["recall"]),
            "f1": float(v["f1-score"]),
            "support": int(v["support"]),
        }
        for name, v in report.items()
        if "avg" not in name
    }
    return {
        "entity_precision": float(precision_score(gold, pred, zero_division=0)),
        "entity_recall": float(recall_score(gold, pred, zero_division=0)),
        "entity_f1": float(f1_score(gold, pred, zero_division=0)),
        "per_class": per_class,
    }


def token_metrics(
    gold: Sequence[Sequence[int]], pred: Sequence[Sequence[int]], other_id: int
) -> dict[str, float | int]:
    """The original design's ``acc``/``focus_acc`` family over word class ids, one page each."""
    accs, focus_accs = [], []
    for g, p in zip(gold, pred, strict=True):
        g_arr, p_arr = np.asarray(g), np.asarray(p)
        if len(g_arr) == 0:
            continue
        accs.append(float((g_arr == p_arr).mean()))
        focus = (g_arr != other_id) | (p_arr != other_id)
        if focus.any():
            focus_accs.append(float((g_arr[focus] == p_arr[focus]).mean()))
    n = len(accs)
    acc = sum(accs) / n if n else 0.0
    focus_acc = sum(focus_accs) / len(focus_accs) if focus_accs else 0.0
    return {
        "n_examples": n,
        "acc": acc,
        "n_focus_examples": len(focus_accs),
        "focus_acc": focus_acc,
        "focus_else_acc_minus_one": focus_acc if focus_acc > 0 else acc - 1,
    }


def confusion_matrix(
    gold: Sequence[Sequence[int]], pred: Sequence[Sequence[int]], num_classes: int
) -> np.ndarray:
    """Word counts, rows = gold class, columns = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    for g, p in zip(gold, pred, strict=True):
        np.add.at(matrix, (np.asarray(g, dtype=np.int64), np.asarray(p, dtype=np.int64)), 1)
    return matrix


def evaluate_tags(
    gold_tags: list[list[str]], pred_tags: list[list[str]], class_names: Sequence[str]
) -> dict[str, Any]:
    """Every metric of a report from gold and predicted BIO tags per page."""
    gold_ids = [tag_class_ids(t, class_names) for t in gold_tags]
    pred_ids = [tag_class_ids(t, class_names) for t in pred_tags]
    report = entity_scores(gold_tags, pred_tags)
    report.update(token_metrics(gold_ids, pred_ids, len(class_names) - 1))
    report["confusion"] = confusion_matrix(gold_ids, pred_ids, len(class_names)).tolist()
    report["class_names"] = list(class_names)
    return report


def save_confusion_png(
    matrix: Sequence[Sequence[int]], class_names: Sequence[str], path: Path
) -> None:
    """A row-normalised confusion matrix with counts, for a report's reader."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = np.asarray(matrix, dtype=np.float64)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = 1.2 + 0.9 * len(class_names)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    for (i, j), value in np.ndenumerate(counts):
        color = "white" if shares[i, j] > 0.6 else "black"
        ax.text(j, i, f"{int(value)}", ha="center", va="center", color=color, fontsize=8)
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
