"""Entity boundaries learned from the page: does word i+1 go on the entity of word i?

A gradient-boosted tree model on :mod:`fieldwise.model.link_features`, fitted by ``train`` in
about two seconds on the training labels (every reading-order pair whose two words both lie in
labelled boxes: 1 when they are one entity, 0 when two) and saved as ``MODEL/links.json``.
Decoding multiplies it into the tagger's BIO probabilities
(:func:`fieldwise.model.scheme.viterbi_bio`): continuing an entity (``I-``) weighs in *p*,
starting a new one right after another weighs in *1 − p*. On FUNSD's 15 held-out forms this
took four trained taggers from 0.553–0.574 to 0.622–0.636 entity F1, and a tagger trained with
it scores 0.639 (README). The segment decoder (:mod:`fieldwise.model.segments`) reads the
same probabilities as the cost of keeping two words together or cutting between them.

The trees are stored as plain arrays in JSON and evaluated with numpy: nothing is unpickled
when a model folder is loaded, and scikit-learn is needed only to fit.

Example::

    save_links(model_dir, fit_links(train_pages))     # None (no file) when too few pairs
    load_links(model_dir).probabilities(page)      # (len(page.words) - 1,) in 0..1
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from fieldwise.annotate.dataset import LabeledPage, PageWords
from fieldwise.model.link_features import FEATURE_NAMES, pair_features
from fieldwise.model.link_words import WORD_FEATURE_NAMES, WordLinkStats, out_of_fold

LINKS_FILE = "links.json"
#: Fewer labelled pairs than this (or pairs of one kind only) fit no model: decoding goes on
#: with the tagger alone.
MIN_PAIRS = 50
#: The node arrays and their types, as saved.
_NODE_FIELDS = {
    "feature": np.int64, "threshold": np.float64, "missing_left": bool, "left": np.int64,
    "right": np.int64, "leaf": bool, "value": np.float64,
}  # fmt: skip


def pair_targets(page: LabeledPage) -> np.ndarray:
    """Per neighbour pair: 1 one entity, 0 two entities, -1 a word outside any labelled box.

    An entity is a box, or the boxes that share an entity number (a known value drawn one box
    per line or per word)."""
    labels = page.labels
    out = np.full(max(len(labels) - 1, 0), -1, dtype=np.int64)
    for i in range(len(labels) - 1):
        a, b = labels[i], labels[i + 1]
        if a.box_index is not None and b.box_index is not None:
            out[i] = int(a.entity == b.entity and a.class_id == b.class_id)
    return out


@dataclass(frozen=True)
class LinkModel:
    """Boosted trees as flat node arrays (all trees concatenated, ``roots`` index each tree)."""

    baseline: float
    roots: np.ndarray  # (trees,) index of each tree's root node
    feature: np.ndarray  # per node: the feature tested
    threshold: np.ndarray  # go left when the value is <= threshold
    missing_left: np.ndarray  # where NaN goes
    left: np.ndarray  # child indexes (global)
    right: np.ndarray
    leaf: np.ndarray  # bool
    value: np.ndarray  # a leaf's contribution to the log-odds
    #: the training words' link counts, read as four more features (older folders: None)
    words: WordLinkStats | None = None

    @property
    def feature_names(self) -> tuple[str, ...]:
        return FEATURE_NAMES + (WORD_FEATURE_NAMES if self.words is not None else ())

    def features(self, page: PageWords) -> np.ndarray:
        """The pairs' features in the order the trees read them."""
        base = pair_features(page)
        if self.words is None:
            return base
        return np.concatenate([base, self.words.features(page)], axis=1)

    def log_odds(self, features: np.ndarray) -> np.ndarray:
        """(pairs,) log-odds that each pair is one entity: all trees walked at once."""
        if len(features) == 0:
            return np.zeros(0)
        children, depth = self._walk
        pairs, width = features.shape
        missing = np.isnan(features)
        values = np.where(missing, 0.0, features).ravel()
        missing_flat = missing.ravel() if missing.any() else None
        row_start = (np.arange(pairs) * width)[:, None]
        node = np.broadcast_to(self.roots, (pairs, len(self.roots))).copy()
        for _ in range(depth):
            at = row_start + self.feature[node]
            go_right = ~(values[at] <= self.threshold[node])
            if missing_flat is not None:
                go_right = np.where(missing_flat[at], ~self.missing_left[node], go_right)
            node = children[2 * node + go_right]
        return self.baseline + self.value[node].sum(axis=1)

    @cached_property
    def _walk(self) -> tuple[np.ndarray, int]:
        """Children as one array (``2 * node`` left, ``2 * node + 1`` right), each leaf pointing
        back at itself so that every walk can take the same number of steps; and that number:
        the deepest tree's."""
        own = np.arange(len(self.leaf))
        depth, level = 0, self.roots
        while True:
            inner = level[~self.leaf[level]]
            if not len(inner):
                break
            depth, level = depth + 1, np.concatenate([self.left[inner], self.right[inner]])
        left, right = np.where(self.leaf, own, self.left), np.where(self.leaf, own, self.right)
        return np.stack([left, right], axis=1).ravel(), depth

    def probabilities(self, page: PageWords) -> np.ndarray:
        """(len(page.words) - 1,) probability that word i+1 continues word i's entity."""
        return 1.0 / (1.0 + np.exp(-self.log_odds(self.features(page))))

    def save(self, path: Path) -> None:
        data = {
            "features": list(self.feature_names),
            "words": None if self.words is None else self.words.to_json(),
            "baseline": self.baseline,
            "roots": self.roots.tolist(),
            **{name: getattr(self, name).tolist() for name in _NODE_FIELDS},
        }
        path.write_text(json.dumps(data), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LinkModel:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            raw_words = data.get("words")
            words = None if raw_words is None else WordLinkStats.from_json(raw_words)
            arrays = {name: np.asarray(data[name], dtype=t) for name, t in _NODE_FIELDS.items()}
            model = cls(float(data["baseline"]), np.asarray(data["roots"], dtype=np.int64),
                        **arrays, words=words)  # fmt: skip
            if data["features"] != list(model.feature_names):
                raise ValueError("made with other pair features; retrain the model")
        except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: not a links file ({exc})") from None
        return model


def fit_links(pages: Sequence[LabeledPage], seed: int = 0) -> LinkModel | None:
    """Fit the link model on labelled pages; None when they hold too few labelled pairs."""
    from sklearn.ensemble import HistGradientBoostingClassifier  # only fitting needs it

    pages = [p for p in pages if len(p.words) > 1]
    if not pages:
        return None
    targets = [pair_targets(p) for p in pages]
    y = np.concatenate(targets)
    if (y >= 0).sum() < MIN_PAIRS or len(np.unique(y[y >= 0])) < 2:
        return None
    # each training page reads word statistics of the other documents, as new pages will
    word_feats = out_of_fold(pages, targets)
    rows = [
        np.concatenate([pair_features(p), w], axis=1)
        for p, w in zip(pages, word_feats, strict=True)
    ]
    x = np.concatenate(rows)
    x, y = x[y >= 0], y[y >= 0]
    clf = HistGradientBoostingClassifier(
        max_iter=150, learning_rate=0.1, max_depth=6, early_stopping=False, random_state=seed
    ).fit(x, y)
    return _from_sklearn(clf, WordLinkStats.fit(pages, targets))


def _from_sklearn(clf: object, words: WordLinkStats | None = None) -> LinkModel:
    """The fitted trees as flat arrays (sklearn keeps them as one node record array per tree)."""
    trees = [predictors[0].nodes for predictors in clf._predictors]  # type: ignore[attr-defined]
    offsets = np.cumsum([0, *(len(t) for t in trees[:-1])])
    nodes = np.concatenate(trees)
    shift = np.concatenate([np.full(len(t), off) for t, off in zip(trees, offsets, strict=True)])
    return LinkModel(
        baseline=float(np.ravel(clf._baseline_prediction)[0]),  # type: ignore[attr-defined]
        roots=offsets.astype(np.int64),
        feature=nodes["feature_idx"].astype(np.int64),
        threshold=nodes["num_threshold"].astype(np.float64),
        missing_left=nodes["missing_go_to_left"].astype(bool),
        left=(nodes["left"] + shift).astype(np.int64),
        right=(nodes["right"] + shift).astype(np.int64),
        leaf=nodes["is_leaf"].astype(bool),
        value=nodes["value"].astype(np.float64),
        words=words,
    )


def save_links(model_dir: Path, links: LinkModel | None) -> None:
    """Write ``links.json`` into a model folder (nothing when too few pairs fitted no model)."""
    if links is not None:
        links.save(model_dir / LINKS_FILE)


def load_links(model_dir: Path) -> LinkModel | None:
    """The folder's link model, or None for folders trained before it existed."""
    path = model_dir / LINKS_FILE
    return LinkModel.load(path) if path.exists() else None
