"""Run a trained model: word probabilities per page, and Textract JSON enriched with them.

A backend turns a padded batch (numpy arrays) into logits; :class:`TorchBackend` runs the
PyTorch weights, ``fieldwise.model.onnx.OnnxBackend`` an exported ONNX file. :class:`Tagger`
does the rest the same way for both: windows, softmax, merging per word, BIO decoding (with
the folder's entity-boundary model, :mod:`fieldwise.model.links`, when it has one).

Enrichment adds to each WORD ``PredictedClass`` (int; the last id is "other"),
``PredictedClassConfidence`` (0–1) and ``ClassificationProbabilities`` (one per class), and a BIO
model's ``PredictedEntityStart`` where it begins an entity (fields split detections there). As in
the original contract, ``target_page_num`` enriches only that page (the others are passed
through untouched and the model never sees them) and ``target_page_only`` also drops the other
pages' blocks from the output.

Example::

    tagger = Tagger.load("models/funsd")
    enriched = enrich(TextractDocument.load("doc/textract.json"), tagger, target_page_num=1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
import torch

from fieldwise.annotate.dataset import PageWords, page_words
from fieldwise.fields.word_calls import (
    ENTITY_START,
    PREDICTED_CLASS,
    PREDICTED_CONFIDENCE,
    PROBABILITIES,
)
from fieldwise.model.artifacts import LoadedModel, ModelInfo, load_model_folder
from fieldwise.model.encode import EncodedPage, collate, encode_page, merge_windows
from fieldwise.model.links import LinkModel
from fieldwise.model.runtime import setup_threads
from fieldwise.model.scheme import Scheme, class_probabilities, decode_tags, tag_class_ids
from fieldwise.textract.document import TextractDocument


class Backend(Protocol):
    batch_size: int  # windows per call that run fastest on this backend

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """Logits (batch, tokens, labels) for a collated batch."""
        ...


class TorchBackend:
    """PyTorch inference (fp32, or bf16 autocast where the CPU supports it and it is asked)."""

    batch_size = 8

    def __init__(self, model: torch.nn.Module, bf16: bool = False) -> None:
        self.model = model
        self.bf16 = bf16

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        self.model.eval()
        inputs = {k: torch.from_numpy(batch[k]) for k in ("input_ids", "bbox", "attention_mask")}
        with (
            torch.inference_mode(),
            torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16),
        ):
            logits = self.model(
                **inputs,
                features=torch.from_numpy(batch["features"]),
                context_ids=torch.from_numpy(batch["context_ids"]),
            )
        return logits.float().numpy()


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def window_probabilities(
    backend: Backend, encoded: Sequence[EncodedPage], batch_size: int | None = None
) -> list[np.ndarray]:
    """Word probabilities (words, labels) per page; windows batched by length to pad little,
    ``batch_size`` per call (default: the backend's fastest)."""
    batch_size = batch_size or backend.batch_size
    items = [(p, w) for p, page in enumerate(encoded) for w in range(len(page.windows))]
    items.sort(key=lambda pw: len(encoded[pw[0]].windows[pw[1]].input_ids))
    outputs: dict[tuple[int, int], np.ndarray] = {}
    for start in range(0, len(items), batch_size):
        chunk = items[start : start + batch_size]
        windows = [encoded[p].windows[w] for p, w in chunk]
        probs = _softmax(backend(collate(windows)))
        for (p, w), window, prob in zip(chunk, windows, probs, strict=True):
            outputs[(p, w)] = prob[: len(window.input_ids)]
    return [
        merge_windows(page, [outputs[(p, w)] for w in range(len(page.windows))])
        if page.windows
        else np.zeros((0, 1), dtype=np.float32)
        for p, page in enumerate(encoded)
    ]


@dataclass(frozen=True)
class PagePrediction:
    tags: list[str]  # BIO per word (decoded)
    class_ids: list[int]  # per word, the decoded entity's class
    class_probs: np.ndarray  # (words, classes)


def page_links(page: PageWords, info: ModelInfo, links: LinkModel | None) -> np.ndarray | None:
    """The boundary model's link probabilities for a page, where the model decodes with them
    (BIO models whose folder has one); None otherwise."""
    return links.probabilities(page) if links is not None and info.scheme is Scheme.bio else None


def decode_page(
    prob: np.ndarray, page: PageWords, info: ModelInfo, pairs: np.ndarray | None
) -> list[str]:
    """BIO tags of a page's words: the folder's decoder, lines kept whole if the model was
    trained so, boundaries weighed with ``pairs`` (:func:`page_links`) when given."""
    lines = page.line_index if info.keep_lines else None
    return decode_tags(prob, info.scheme, info.class_names, lines, pairs, info.decoder)


class Tagger:
    """A model plus the way it was trained to be fed: pages in, word classes out."""

    def __init__(self, loaded: LoadedModel, backend: Backend | None = None) -> None:
        setup_threads()
        self.loaded = loaded
        self.info: ModelInfo = loaded.info
        self.backend: Backend = backend or TorchBackend(loaded.model)

    @classmethod
    def load(cls, path: str | Path, backend: str = "torch") -> Tagger:
        """``backend``: ``torch``, ``onnx`` (MODEL/model.onnx) or ``onnx-int8``."""
        loaded = load_model_folder(path)
        if backend == "torch":
            return cls(loaded)
        from fieldwise.model.onnx import OnnxBackend, onnx_path

        return cls(loaded, OnnxBackend(onnx_path(Path(path), int8=backend == "onnx-int8")))

    def predict_pages(
        self, pages: Sequence[PageWords], batch_size: int | None = None
    ) -> list[PagePrediction]:
        """Decoded predictions per page; ``batch_size``: windows per call
        (``window_probabilities``)."""
        encoded = [encode_page(p, self.loaded.tokenizer, self.info.encode_options) for p in pages]
        probs = window_probabilities(self.backend, encoded, batch_size)
        names = self.info.class_names
        out = []
        for page, prob in zip(pages, probs, strict=True):
            if not page.words:
                out.append(PagePrediction([], [], np.zeros((0, len(names)), dtype=np.float32)))
                continue
            tags = decode_page(
                prob, page, self.info, page_links(page, self.info, self.loaded.links)
            )
            cls_probs = class_probabilities(prob, self.info.scheme, len(names))
            out.append(PagePrediction(tags, tag_class_ids(tags, names), cls_probs))
        return out


def enrich(
    doc: TextractDocument,
    tagger: Tagger,
    target_page_num: int | None = None,
    target_page_only: bool = False,
) -> dict[str, Any]:
    """A copy of ``doc``'s JSON whose WORDs carry the model's predictions.

    Only what changes is copied: the block list and the enriched WORD blocks; everything else
    (the other blocks, geometry) is shared with ``doc``, which is left as it was. A full copy
    by JSON round trip cost 1.0 ms of a FUNSD page's ~40 ms (this: 0.1 ms)."""
    if target_page_only and target_page_num is None:
        raise ValueError("target_page_only needs target_page_num")
    if target_page_num is not None and not 1 <= target_page_num <= doc.page_count:
        raise ValueError(
            f"{doc.source}: target page {target_page_num} out of range 1..{doc.page_count}"
        )
    if target_page_only and target_page_num is not None:
        doc, target_page_num = doc.cut_page(target_page_num), 1
    numbers = [target_page_num] if target_page_num else list(range(1, doc.page_count + 1))
    pages = [page_words(doc, n) for n in numbers]
    predictions = tagger.predict_pages(pages)
    blocks = cast(list[dict[str, Any]], list(doc.blocks))  # the same dicts, until one changes
    place = {block["Id"]: i for i, block in enumerate(blocks)}
    out: dict[str, Any] = {**doc.data, "Blocks": blocks}
    for page, prediction in zip(pages, predictions, strict=True):
        rows = prediction.class_probs.astype(np.float64).tolist()  # one conversion per page
        for index, block_id in enumerate(page.block_ids):
            probs = rows[index]
            cid = int(prediction.class_ids[index])
            block = dict(blocks[place[block_id]])
            blocks[place[block_id]] = block
            block[PREDICTED_CLASS] = cid
            block[PREDICTED_CONFIDENCE] = probs[cid]
            block[PROBABILITIES] = probs
            if prediction.tags and prediction.tags[index].startswith("B-"):
                block[ENTITY_START] = True  # where a BIO model starts a new entity
    return out
