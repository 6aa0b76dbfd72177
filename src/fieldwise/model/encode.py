"""Pages → model inputs (sub-word tokens in overlapping windows) and window outputs → words.

A page is tokenised word by word; each sub-token carries its word's 0–1000 box and layout
features. Pages longer than ``max_length`` are cut into windows that overlap by ``stride``
tokens and start at a word boundary. Word probabilities are the mean of the probabilities of
the word's sub-tokens over every window that holds them (only first sub-tokens when the model
was trained on first sub-tokens only).

Example::

    encoded = encode_page(page, tokenizer, EncodeOptions(max_length=512, stride=128))
    batch = collate(encoded.windows)
    probs = merge_windows(encoded, [softmax(logits) for logits in window_outputs])
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from transformers import PreTrainedTokenizerBase

from fieldwise.annotate.dataset import PageWords
from fieldwise.model.features import (
    NUM_FEATURES,
    ROW_CONTEXT_WORDS,
    normalized_boxes,
    row_context,
    word_features,
)

IGNORE = -100
#: A garbage "word" (a long OCR smear) must not fill a window on its own.
MAX_TOKENS_PER_WORD = 24


@dataclass(frozen=True, slots=True)
class EncodeOptions:
    max_length: int = 512  # tokens per window, [CLS] and [SEP] included
    stride: int = 128  # tokens shared by consecutive windows
    label_all_tokens: bool = True  # train and merge on every sub-token, not just the first
    row_context: bool = False  # give each token its row's opening words (models that use them)


@dataclass(frozen=True, slots=True)
class Window:
    input_ids: np.ndarray  # (T,) int64
    bbox: np.ndarray  # (T, 4) int64, 0–1000
    features: np.ndarray  # (T, NUM_FEATURES) float32
    context_ids: (
        np.ndarray | None
    )  # (T, ROW_CONTEXT_WORDS): first tokens of the row's opening words
    token_words: np.ndarray  # (T,) word index, -1 for [CLS]/[SEP]
    use: np.ndarray  # (T,) bool: token trained on and merged
    labels: np.ndarray | None  # (T,) int64, IGNORE where not trained


@dataclass(frozen=True, slots=True)
class EncodedPage:
    n_words: int
    windows: list[Window]


def _word_tokens(words: Sequence[str], tokenizer: PreTrainedTokenizerBase) -> list[list[int]]:
    if not words:
        return []
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None and _space_before_words(backend):
        words = [" " + w for w in words]
    if backend is not None and backend.padding is None and backend.truncation is None:
        # what a fast tokenizer's __call__ does for a batch of texts, without its overhead
        ids = [e.ids for e in backend.encode_batch(list(words), add_special_tokens=False)]
    else:
        ids = tokenizer(list(words), add_special_tokens=False)["input_ids"]
    unk = tokenizer.unk_token_id
    return [(t or [unk])[:MAX_TOKENS_PER_WORD] for t in ids]


def _space_before_words(backend: Any) -> bool:
    """Byte-level BPE (RoBERTa, LiLT, LayoutLMv3) spells a word differently at the start of a
    text ("Date") and after a space ("ĠDate"). Page words are words inside a text, so they get a
    space first when the tokenizer does not add one itself (LayoutLMv3's does, RoBERTa's not)."""
    pre = backend.pre_tokenizer
    if pre is None:
        return False
    state = json.loads(pre.__getstate__())
    parts = state.get("pretokenizers", [state])
    return any(p.get("type") == "ByteLevel" and not p.get("add_prefix_space") for p in parts)


def _window_starts(word_of_token: np.ndarray, body: int, stride: int) -> list[int]:
    n = len(word_of_token)
    if n <= body:
        return [0]
    step = max(body - stride, 1)
    starts, start = [0], 0
    while start + body < n:
        start = min(start + step, n - body)
        # back up to the first sub-token of the word; if that makes no progress, the next word
        snapped = int(np.searchsorted(word_of_token, word_of_token[start]))
        if snapped <= starts[-1]:
            snapped = int(np.searchsorted(word_of_token, word_of_token[start] + 1))
        start = snapped
        starts.append(start)
    return starts


def encode_page(
    page: PageWords,
    tokenizer: PreTrainedTokenizerBase,
    options: EncodeOptions,
    word_labels: Sequence[int] | None = None,
) -> EncodedPage:
    """Windows of model inputs for one page (with token labels when ``word_labels`` is given)."""
    n = len(page.words)
    if word_labels is not None and len(word_labels) != n:
        raise ValueError(f"{page.key}: {len(word_labels)} labels for {n} words")
    if options.max_length < 8 or options.stride >= options.max_length - 2:
        raise ValueError(f"bad window: max_length {options.max_length}, stride {options.stride}")
    per_word = _word_tokens(page.words, tokenizer)
    ids = np.fromiter((t for toks in per_word for t in toks), dtype=np.int64)
    word_of = np.repeat(np.arange(n), [len(t) for t in per_word]).astype(np.int64)
    first = np.r_[True, word_of[1:] != word_of[:-1]] if n else np.zeros(0, dtype=bool)
    use = np.ones_like(first) if options.label_all_tokens else first
    boxes, feats = normalized_boxes(page)[word_of], word_features(page)[word_of]
    context = None
    if options.row_context:  # quadratic in the page's words: only for models that read it
        firsts = np.asarray([t[0] for t in per_word] + [0], dtype=np.int64)  # [-1] → 0, padding
        context = firsts[row_context(page)][word_of]
    labels = None if word_labels is None else np.asarray(word_labels, dtype=np.int64)[word_of]
    body = options.max_length - 2
    windows = []
    for start in _window_starts(word_of, body, options.stride) if n else []:
        sl = slice(start, start + body)
        size = len(ids[sl])
        windows.append(
            Window(
                input_ids=np.r_[tokenizer.cls_token_id, ids[sl], tokenizer.sep_token_id],
                bbox=np.r_[[[0, 0, 0, 0]], boxes[sl], [[1000, 1000, 1000, 1000]]],
                features=np.r_[
                    np.zeros((1, NUM_FEATURES)), feats[sl], np.zeros((1, NUM_FEATURES))
                ].astype(np.float32),
                context_ids=None
                if context is None
                else np.r_[_no_context, context[sl], _no_context],
                token_words=np.r_[-1, word_of[sl], -1],
                use=np.r_[False, use[sl], False],
                labels=None
                if labels is None
                else np.r_[IGNORE, np.where(use[sl], labels[sl], IGNORE), IGNORE],
            )
        )
        assert len(windows[-1].input_ids) == size + 2
    return EncodedPage(n, windows)


_no_context = np.zeros((1, ROW_CONTEXT_WORDS), dtype=np.int64)


def collate(windows: Sequence[Window], pad_id: int = 0) -> dict[str, np.ndarray]:
    """Pad windows to the longest: ``input_ids``, ``bbox``, ``attention_mask``, ``features``
    (and ``labels`` when every window has them)."""
    length = max(len(w.input_ids) for w in windows)
    batch = len(windows)
    out: dict[str, np.ndarray] = {
        "input_ids": np.full((batch, length), pad_id, dtype=np.int64),
        "bbox": np.zeros((batch, length, 4), dtype=np.int64),
        "attention_mask": np.zeros((batch, length), dtype=np.int64),
        "features": np.zeros((batch, length, NUM_FEATURES), dtype=np.float32),
        "context_ids": np.zeros((batch, length, ROW_CONTEXT_WORDS), dtype=np.int64),
    }
    with_labels = all(w.labels is not None for w in windows)
    if with_labels:
        out["labels"] = np.full((batch, length), IGNORE, dtype=np.int64)
    for i, w in enumerate(windows):
        t = len(w.input_ids)
        out["input_ids"][i, :t] = w.input_ids
        out["bbox"][i, :t] = w.bbox
        out["attention_mask"][i, :t] = 1
        out["features"][i, :t] = w.features
        if w.context_ids is not None:
            out["context_ids"][i, :t] = w.context_ids
        if with_labels:
            out["labels"][i, :t] = w.labels
    return out


def merge_windows(encoded: EncodedPage, window_probs: Sequence[np.ndarray]) -> np.ndarray:
    """(words, labels): per-word mean of token probabilities over sub-tokens and windows."""
    if len(window_probs) != len(encoded.windows):
        raise ValueError(f"{len(window_probs)} outputs for {len(encoded.windows)} windows")
    n_labels = window_probs[0].shape[-1] if window_probs else 1
    total = np.zeros((encoded.n_words, n_labels), dtype=np.float64)
    count = np.zeros(encoded.n_words, dtype=np.float64)
    for window, probs in zip(encoded.windows, window_probs, strict=True):
        mask = window.use
        np.add.at(total, window.token_words[mask], probs[: len(mask)][mask])
        np.add.at(count, window.token_words[mask], 1.0)
    if encoded.n_words and count.min() == 0:
        raise ValueError("a word is in no window")  # cannot happen: windows cover every token
    return (total / np.maximum(count, 1.0)[:, None]).astype(np.float32)
