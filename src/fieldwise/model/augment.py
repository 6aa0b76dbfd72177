"""Training-time augmentation of a batch: what a model should not memorise, it does not see.

* ``shift_layout``: forms of one kind sit at different places on different scans, so each
  window's layout moves by a random offset (the same for all its words).
* ``mask_tokens``: documents of an unseen issuer word things differently, so a share of the
  word pieces is hidden behind ``[MASK]``; the model must also lean on the layout and the
  neighbours, not only on strings it saw ("American Express" as the issuer).
* ``swap_numbers``: one issuer's penalty APR is always "26.74%", so a model learns the number
  instead of the row it sits in; a share of the number pieces is swapped for other numbers.

Example::

    shift_layout(batch, 0.05, generator)
    mask_tokens(batch, 0.1, tokenizer.mask_token_id, special_ids, generator)
"""

from __future__ import annotations

from typing import Any

import torch

from fieldwise.model.encode import IGNORE


def shift_layout(batch: dict[str, torch.Tensor], shift: float, generator: torch.Generator) -> None:
    """Translate every window's page layout by up to ``shift`` of the page, in place."""
    size = batch["bbox"].shape[0]
    offsets = (torch.rand((size, 2), generator=generator) * 2 - 1) * shift
    words = (batch["labels"] != IGNORE).unsqueeze(-1)
    xy = offsets.repeat(1, 2)  # (dx, dy, dx, dy)
    moved = (batch["bbox"] + (xy * 1000).round().long().unsqueeze(1)).clamp(0, 1000)
    batch["bbox"] = torch.where(words, moved, batch["bbox"])
    feats = batch["features"]
    absolute = (feats[..., :8] + xy.repeat(1, 2).unsqueeze(1)).clamp(0, 1)
    feats[..., :8] = torch.where(words, absolute, feats[..., :8])


def maskable(batch: dict[str, torch.Tensor], special_ids: set[int]) -> torch.Tensor:
    """Where a batch holds real word pieces: not padding, not [CLS]/[SEP] or other specials."""
    ids = batch["input_ids"]
    return batch["attention_mask"].bool() & ~torch.isin(ids, torch.tensor(sorted(special_ids)))


def mask_tokens(
    batch: dict[str, torch.Tensor],
    share: float,
    mask_id: int,
    special_ids: set[int],
    generator: torch.Generator,
) -> None:
    """Replace ``share`` of the real word pieces (not padding or special tokens) by ``mask_id``,
    in place. Labels, boxes and row context stay: the model still learns every word's class."""
    ids = batch["input_ids"]
    hide = (torch.rand(ids.shape, generator=generator) < share) & maskable(batch, special_ids)
    batch["input_ids"] = torch.where(hide, torch.full_like(ids, mask_id), ids)


def number_pieces(tokenizer: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Vocabulary ids of all-digit word pieces: those that start a word ("26") and those that
    continue one ("##74"), so a swap keeps how a number is split."""
    starts, continues = [], []
    for piece, index in tokenizer.get_vocab().items():
        if piece.isdigit() and piece.isascii():
            starts.append(index)
        elif piece.startswith("##") and piece[2:].isdigit() and piece[2:].isascii():
            continues.append(index)
    return torch.tensor(sorted(starts)), torch.tensor(sorted(continues))


def swap_numbers(
    batch: dict[str, torch.Tensor],
    share: float,
    pieces: tuple[torch.Tensor, torch.Tensor],
    generator: torch.Generator,
) -> None:
    """Replace ``share`` of the all-digit word pieces by random ones of the same kind (word
    start or continuation), in place; labels and layout stay."""
    ids = batch["input_ids"]
    for pool in pieces:
        if pool.numel() == 0:
            continue
        chosen = torch.isin(ids, pool) & (torch.rand(ids.shape, generator=generator) < share)
        random_ids = pool[torch.randint(len(pool), ids.shape, generator=generator)]
        ids = torch.where(chosen, random_ids, ids)
    batch["input_ids"] = ids


def mask_and_special_ids(tokenizer: Any) -> tuple[int, set[int]]:
    """The id that hides a word piece ([MASK], else [UNK]) and the ids never to hide."""
    mask_id = tokenizer.mask_token_id
    if mask_id is None:
        mask_id = tokenizer.unk_token_id
    return int(mask_id), set(tokenizer.all_special_ids) - {mask_id}
