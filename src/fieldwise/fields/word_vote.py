"""A naive-Bayes vote over words, learned from labelled examples: what field a thing is, read
from the words around or inside it (a rate's row label, a name's head word).

Per class it keeps the smoothed log-probability of each word (add-one smoothing, uniform
prior: the tagger's probabilities it is multiplied with already carry how common a class is).
``likelihood`` gives P(words | class) normalised over the classes. Saved as JSON in a model
folder beside the tagger that was trained on the same labels.

Example::

    vote = WordVote.fit([(["annual", "fee"], 10), (["late", "payment"], 12)], config)
    vote.likelihood(["annual"])          # one probability per class of ``config``
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fieldwise.fields.config import FieldConfig


@dataclass(frozen=True)
class WordVote:
    """Per class, the smoothed log-probability of each word (naive Bayes, uniform prior)."""

    class_names: tuple[str, ...]
    log_probs: dict[str, tuple[float, ...]]  # word → one per class
    unknown: tuple[float, ...]  # a word never seen in training, per class
    examples: tuple[int, ...]  # training expressions per class

    @classmethod
    def fit(cls, examples: Iterable[tuple[Sequence[str], int]], config: FieldConfig) -> WordVote:
        """Count each example's words under its class id."""
        classes = config.num_classes
        counts: dict[str, np.ndarray] = {}
        seen = np.zeros(classes, dtype=np.int64)
        for words, class_id in examples:
            seen[class_id] += 1
            for word in words:
                counts.setdefault(word, np.zeros(classes))[class_id] += 1
        vocabulary = sorted(counts)
        table = np.array([counts[t] for t in vocabulary]).reshape(len(vocabulary), classes)
        denominator = table.sum(axis=0) + len(vocabulary)  # add-one smoothing
        log_probs = np.log((table + 1) / denominator)
        return cls(
            tuple(config.class_names),
            {t: tuple(map(float, row)) for t, row in zip(vocabulary, log_probs, strict=True)},
            tuple(float(-math.log(d)) for d in denominator),
            tuple(int(n) for n in seen),
        )

    def likelihood(self, words: Sequence[str]) -> np.ndarray:
        """P(label words | class), normalised over the classes (uniform without words)."""
        total = np.zeros(len(self.class_names))
        for word in words:
            total += np.asarray(self.log_probs.get(word, self.unknown))
        total -= total.max()
        evidence = np.exp(total)
        return evidence / evidence.sum()

    def counts(self, word: str) -> np.ndarray:
        """How many training examples of each class had ``word``, recovered exactly from the
        smoothed log-probabilities (``(n + 1) / d``; ``unknown`` is ``1 / d``)."""
        if word not in self.log_probs:
            return np.zeros(len(self.class_names))
        ratio = np.exp(np.asarray(self.log_probs[word]) - np.asarray(self.unknown))
        return np.maximum(np.rint(ratio - 1.0), 0.0)

    def save(self, path: Path) -> None:
        data = {
            "format_version": 1,
            "class_names": list(self.class_names),
            "examples": list(self.examples),
            "unknown": list(self.unknown),
            "log_probs": {k: list(v) for k, v in self.log_probs.items()},
        }
        path.write_text(json.dumps(data), encoding="utf-8")

    @classmethod
    def load(cls, path: Path, config: FieldConfig) -> WordVote:
        """The saved vote; ValueError naming the file when it is unreadable or for other fields."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            loaded = cls(
                tuple(data["class_names"]),
                {k: tuple(map(float, v)) for k, v in data["log_probs"].items()},
                tuple(map(float, data["unknown"])),
                tuple(map(int, data["examples"])),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a word-vote file ({exc})") from None
        if list(loaded.class_names) != config.class_names:
            raise ValueError(f"{path}: made for classes {list(loaded.class_names)}, not these")
        if any(len(v) != len(loaded.class_names) for v in loaded.log_probs.values()):
            raise ValueError(f"{path}: rows of the wrong length")
        return loaded
