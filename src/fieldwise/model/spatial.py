"""Attention biases from where two words sit relative to each other on the page.

LayoutLM v1 learns layout only through absolute 2-D position tables, and a few hundred forms
are too few to teach them that "the word right of a colon" or "the line just below" matters
wherever it happens on the page. LayoutLMv2 and v3 add to every attention logit a learned bias
per head for the horizontal and the vertical distance between the two tokens, bucketed on a
log scale (small distances exactly, far ones coarsely). This module computes those biases for
LayoutLM v1: one table per axis of ``buckets × heads`` values, zero at first so that the
untrained tagger is exactly its base, shared by all layers as in LayoutLMv2.

Distances are between the tokens' left edges (x) and vertical centres (y), in the boxes' 0–1000
page units. The result also carries the padding mask, so it replaces the encoder's mask.

Example::

    bias = SpatialBias(heads=12)
    mask = bias(bbox, attention_mask)  # (batch, heads, tokens, tokens), added to the logits
"""

from __future__ import annotations

import math

import torch
from torch import nn

#: Buckets per axis (half for each direction) and the distance the last bucket starts at.
BUCKETS = 64
MAX_DISTANCE = 256


def relative_buckets(distance: torch.Tensor, buckets: int = BUCKETS,
                     max_distance: int = MAX_DISTANCE) -> torch.Tensor:  # fmt: skip
    """Bucket indices for signed distances: exact below a quarter of the buckets, log-spaced
    beyond, everything past ``max_distance`` in the last bucket of its sign (as T5 and
    LayoutLMv2 bucket them)."""
    half = buckets // 2
    offset = (distance > 0).long() * half
    magnitude = distance.abs()
    exact = half // 2
    scaled = torch.log(magnitude.float().clamp(min=1.0) / exact) / math.log(max_distance / exact)
    far = (exact + (scaled * (half - exact)).long()).clamp(max=half - 1)
    return offset + torch.where(magnitude < exact, magnitude.long(), far)


class SpatialBias(nn.Module):
    """Per-head attention biases for the tokens' horizontal and vertical distances."""

    def __init__(self, heads: int, buckets: int = BUCKETS) -> None:
        super().__init__()
        self.x_bias = nn.Embedding(buckets, heads)
        self.y_bias = nn.Embedding(buckets, heads)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """All biases zero: attention as in the base model."""
        with torch.no_grad():
            self.x_bias.weight.zero_()
            self.y_bias.weight.zero_()

    def forward(self, bbox: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The additive attention mask (batch, heads, tokens, tokens): biases plus padding."""
        left = bbox[:, :, 0]
        middle = torch.div(bbox[:, :, 1] + bbox[:, :, 3], 2, rounding_mode="floor")
        dx = relative_buckets(left.unsqueeze(1) - left.unsqueeze(2))
        dy = relative_buckets(middle.unsqueeze(1) - middle.unsqueeze(2))
        bias = (self.x_bias(dx) + self.y_bias(dy)).permute(0, 3, 1, 2)
        padding = (1.0 - attention_mask[:, None, None, :].to(bias.dtype)) * torch.finfo(
            bias.dtype
        ).min
        return bias + padding
