"""Label schemes: word classes ↔ model labels, and decoding model output back into entities.

``io`` gives the model one label per class (the original design's scheme); ``bio`` gives each
field a ``B-`` and an ``I-`` label and "other" the single ``O``, so that two neighbouring
entities of one class stay apart. Label ids are ordered ``B-c0, I-c0, B-c1, I-c1, …, O``: the
last label is always "other", as the last class is.

Example::

    names = label_names(Scheme.bio, ["header", "question", "answer", "other"])
    names[-1]                      # "O"
    decode_tags(probs, Scheme.bio, 4)   # BIO tags, BIO-valid by Viterbi
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Literal

import numpy as np

from fieldwise.annotate.word_labels import WordLabel
from fieldwise.model.segments import blend_links, segment_labels

#: How BIO probabilities become tags: Viterbi over labels, or the best segmentation
#: (:mod:`fieldwise.model.segments`); ``train`` keeps whichever scores better on validation.
Decoder = Literal["viterbi", "segments"]
DECODERS: tuple[Decoder, ...] = ("viterbi", "segments")


class Scheme(StrEnum):
    io = "io"
    bio = "bio"


def num_labels(scheme: Scheme, num_classes: int) -> int:
    """How many outputs the classifier head has for ``num_classes`` classes (other included)."""
    return num_classes if scheme is Scheme.io else 2 * (num_classes - 1) + 1


def label_names(scheme: Scheme, class_names: Sequence[str]) -> list[str]:
    if scheme is Scheme.io:
        return list(class_names)
    names = [f"{p}-{c}" for c in class_names[:-1] for p in ("B", "I")]
    return [*names, "O"]


def word_label_ids(labels: Sequence[WordLabel], scheme: Scheme, num_classes: int) -> list[int]:
    """The model label id of each word."""
    other = num_classes - 1
    if scheme is Scheme.io:
        return [label.class_id for label in labels]
    out_id = 2 * other
    return [
        out_id if lab.class_id == other else 2 * lab.class_id + (0 if lab.begins else 1)
        for lab in labels
    ]


def class_probabilities(probs: np.ndarray, scheme: Scheme, num_classes: int) -> np.ndarray:
    """(words, labels) → (words, classes): ``B-x`` and ``I-x`` add up to class x."""
    if scheme is Scheme.io:
        return probs
    fields = probs[:, :-1].reshape(len(probs), num_classes - 1, 2).sum(axis=2)
    return np.concatenate([fields, probs[:, -1:]], axis=1)


def _allowed(num_classes: int) -> np.ndarray:
    """allowed[prev, next] for BIO label ids: I-x only after B-x or I-x."""
    n = num_labels(Scheme.bio, num_classes)
    allowed = np.ones((n, n), dtype=bool)
    for c in range(num_classes - 1):
        inside = 2 * c + 1
        allowed[:, inside] = False
        allowed[2 * c, inside] = allowed[inside, inside] = True
    return allowed


def _within_line(num_classes: int) -> np.ndarray:
    """allowed[prev, next] inside one LINE: the entity (or O) of the line's first word goes on."""
    n = num_labels(Scheme.bio, num_classes)
    allowed = np.zeros((n, n), dtype=bool)
    for c in range(num_classes - 1):
        allowed[2 * c, 2 * c + 1] = allowed[2 * c + 1, 2 * c + 1] = True
    allowed[n - 1, n - 1] = True
    return allowed


def _link_columns(num_classes: int, links: np.ndarray) -> np.ndarray:
    """What the link probabilities add per word, folded into the columns of the transitions.

    Going on with an entity (any label into ``I-``) weighs in log *p*, starting one right after
    another (an entity label into ``B-``) log (1 − *p*). Both are constant down a column except
    for the ``O`` row into ``B-``, which must not pay the restart: so each word's column adds
    go onto the scores after the max, and only that one row is corrected before it (the
    label ids of ``B-`` are the even ones below ``O``) — no n × n work per word."""
    n = num_labels(Scheme.bio, num_classes)
    link = np.clip(np.asarray(links, dtype=np.float64), 1e-4, 1 - 1e-4)
    columns = np.zeros((len(link), n))
    columns[:, 1 : n - 1 : 2] = np.log(link)[:, None]  # into I-
    columns[:, 0 : n - 1 : 2] = np.log1p(-link)[:, None]  # into B-
    return columns


def viterbi_bio(
    probs: np.ndarray,
    num_classes: int,
    line_index: Sequence[int] | None = None,
    links: np.ndarray | None = None,
) -> list[int]:
    """The most probable BIO-valid label sequence (stops a lone ``I-`` from starting an entity).

    With ``line_index``, a LINE is never split: an entity may begin only at a line's first word.
    With ``links`` (per neighbour pair, the probability that both words are one entity:
    :mod:`fieldwise.model.links`) entity boundaries weigh the page's evidence too.
    """
    n_words, n_labels = probs.shape
    if n_words == 0:
        return []
    logp = np.log(np.clip(probs, 1e-9, 1.0))
    across = np.where(_allowed(num_classes), 0.0, -1e9)
    within = np.where(_within_line(num_classes), 0.0, -1e9)
    start = np.array([-1e9 if i % 2 == 1 and i < n_labels - 1 else 0.0 for i in range(n_labels)])
    score = logp[0] + start
    back = np.zeros((n_words, n_labels), dtype=np.int64)
    if links is not None:
        columns = _link_columns(num_classes, links)
        logp[1:] += columns  # column adds go on after the max, like each word's own evidence
    for t in range(1, n_words):
        same_line = line_index is not None and line_index[t] == line_index[t - 1]
        total = score[:, None] + (within if same_line else across)
        if links is not None:
            total[n_labels - 1, 0 : n_labels - 1 : 2] -= columns[t - 1, 0]  # O into B-: no restart
        back[t] = total.argmax(axis=0)
        score = total.max(axis=0) + logp[t]
    path = [int(score.argmax())]
    for t in range(n_words - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]


def decode_tags(
    probs: np.ndarray,
    scheme: Scheme,
    class_names: Sequence[str],
    line_index: Sequence[int] | None = None,
    links: np.ndarray | None = None,
    decoder: Decoder = "viterbi",
) -> list[str]:
    """Word-level BIO tags from word probabilities, whatever the scheme the model was trained in.

    ``io``: each run of one class is an entity. ``bio``: Viterbi over valid transitions, lines
    kept whole when ``line_index`` is given, boundaries weighed with ``links`` when given;
    ``decoder="segments"`` with ``links``: :mod:`fieldwise.model.segments` instead.
    """
    num_classes = len(class_names)
    other = num_classes - 1
    if scheme is Scheme.io:
        ids = probs.argmax(axis=1).tolist()
        tags, previous = [], other
        for cid in ids:
            if cid == other:
                tags.append("O")
            else:
                tags.append(f"{'I' if cid == previous else 'B'}-{class_names[cid]}")
            previous = cid
        return tags
    if links is not None and decoder == "segments":
        blended = blend_links(probs, links)
        path = segment_labels(class_probabilities(probs, scheme, num_classes), blended, line_index)
    else:
        path = viterbi_bio(probs, num_classes, line_index, links)
    return [
        "O" if lab == 2 * other else f"{'B' if lab % 2 == 0 else 'I'}-{class_names[lab // 2]}"
        for lab in path
    ]


def tag_class_ids(tags: Sequence[str], class_names: Sequence[str]) -> list[int]:
    """The class id of each BIO tag ("O" → other)."""
    index = {name: i for i, name in enumerate(class_names)}
    return [len(class_names) - 1 if t == "O" else index[t[2:]] for t in tags]


class StopMetric(StrEnum):
    """Validation metrics that may pick `train`'s best epoch and stop it (higher is better)."""

    entity_f1 = "entity_f1"  # seqeval over word BIO tags, micro-averaged (the FUNSD metric)
    acc = "acc"  # mean per-page share of words whose class is right
    focus_acc = "focus_acc"  # the same over words where the gold or predicted class is a field
