"""The word classifier on each supported backbone: LayoutLM v1, LiLT and LayoutLMv3.

Every tagger adds the same three things to its backbone: a zero-initialised projection of the
layout features (:mod:`fieldwise.model.features`) onto the word embeddings, the optional row
context (the words that open the token's visual row), and a token-classification head. The
backbone reads the result with the word boxes (0–1000): LayoutLM adds 2-D position tables to
it, LiLT runs a separate layout stream beside the text, LayoutLMv3 adds 2-D tables and
relative-position attention biases. LayoutLMv3's image branch is not built: fieldwise feeds
words and boxes, not page pixels.

All of them save and load in Hugging Face format; :func:`tagger_class` picks the class from a
folder's ``model_type``, so a folder trained on any backbone loads the same way.

Example::

    model = tagger_class("lilt").from_pretrained("models/lilt-funsd")
    logits = model(input_ids, bbox, attention_mask, features, context_ids)  # (batch, tokens, L)
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn
from transformers import (
    LayoutLMConfig,
    LayoutLMModel,
    LayoutLMv3Config,
    LayoutLMv3Model,
    LiltConfig,
    LiltModel,
    PretrainedConfig,
    PreTrainedModel,
)
from transformers.models.layoutlm.modeling_layoutlm import LayoutLMPreTrainedModel
from transformers.models.layoutlmv3.modeling_layoutlmv3 import LayoutLMv3PreTrainedModel
from transformers.models.lilt.modeling_lilt import LiltPreTrainedModel

#: LayoutLM's 2-D position tables: new (zero-initialised) when the base is a text-only BERT.
LAYOUTLM_TABLES = ("x_position_embeddings", "y_position_embeddings", "h_position_embeddings",
                   "w_position_embeddings")  # fmt: skip


class LayoutTagger(PreTrainedModel):
    """What every backbone's tagger shares; the concrete classes below say which backbone.

    ``config.num_layout_features``: the layout-feature count (0 = none);
    ``config.row_context``: whether the row context is read."""

    #: the backbone's attribute name, which is also its weights' key prefix in a checkpoint
    backbone_name: ClassVar[str]
    #: whether the backbone is also given the token ids beside the embeddings (see LayoutLMv3)
    reads_ids: ClassVar[bool] = False

    def _add_head(self, config: PretrainedConfig) -> None:
        self.num_labels = config.num_labels
        n_features = int(getattr(config, "num_layout_features", 0))
        hidden = int(config.hidden_size)
        self.layout_features = nn.Linear(n_features, hidden) if n_features else None
        with_context = bool(getattr(config, "row_context", False))
        self.row_context = nn.Linear(hidden, hidden) if with_context else None
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(hidden, int(config.num_labels or 0))

    @property
    def backbone(self) -> nn.Module:
        module: nn.Module = getattr(self, self.backbone_name)
        return module

    @property
    def word_embeddings(self) -> nn.Embedding:
        table: nn.Embedding = self.backbone.embeddings.word_embeddings  # type: ignore[union-attr,assignment]
        return table

    def forward(
        self,
        input_ids: torch.Tensor,
        bbox: torch.Tensor,
        attention_mask: torch.Tensor,
        features: torch.Tensor | None = None,
        context_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits (batch, tokens, labels)."""
        hidden = self.hidden_states(input_ids, bbox, attention_mask, features, context_ids)
        return self.classifier(self.dropout(hidden))

    def hidden_states(
        self,
        input_ids: torch.Tensor,
        bbox: torch.Tensor,
        attention_mask: torch.Tensor,
        features: torch.Tensor | None = None,
        context_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The encoder's last hidden states (batch, tokens, hidden), before any head."""
        table = self.word_embeddings
        embeds = table(input_ids)
        if self.layout_features is not None and features is not None:
            embeds = embeds + self.layout_features(features.to(embeds.dtype))
        if self.row_context is not None and context_ids is not None:
            # mean embedding of the words that open the token's row (padding id 0 left out)
            present = (context_ids != 0).unsqueeze(-1).to(embeds.dtype)
            summed = (table(context_ids) * present).sum(dim=2)
            embeds = embeds + self.row_context(summed / present.sum(dim=2).clamp(min=1.0))
        return self._encode(input_ids, embeds, bbox, attention_mask)

    def _encode(
        self,
        input_ids: torch.Tensor,
        embeds: torch.Tensor,
        bbox: torch.Tensor,
        attention_mask: torch.Tensor,
    ) -> torch.Tensor:
        ids = {"input_ids": input_ids} if self.reads_ids else {}
        out = self.backbone(inputs_embeds=embeds, bbox=bbox, attention_mask=attention_mask, **ids)
        hidden: torch.Tensor = out.last_hidden_state
        return hidden

    def new_parameters(self) -> list[nn.Parameter]:
        """Parameters the base checkpoint did not have (they may train at a higher rate)."""
        params = list(self.classifier.parameters())
        for module in (self.layout_features, self.row_context):
            if module is not None:
                params += list(module.parameters())
        return params


class LayoutLMTagger(LayoutTagger, LayoutLMPreTrainedModel):
    """LayoutLM v1 (BERT + 2-D position tables): the default, built from MiniLM."""

    backbone_name = "layoutlm"

    def __init__(self, config: LayoutLMConfig) -> None:
        super().__init__(config)
        self.layoutlm = LayoutLMModel(config)
        self._add_head(config)
        self.post_init()

    def new_parameters(self) -> list[nn.Parameter]:
        emb = self.layoutlm.embeddings
        return [getattr(emb, t).weight for t in LAYOUTLM_TABLES] + super().new_parameters()


class LiltTagger(LayoutTagger, LiltPreTrainedModel):
    """LiLT: a text stream (RoBERTa, XLM-R, …) and a layout stream that attend to each other."""

    backbone_name = "lilt"

    def __init__(self, config: LiltConfig) -> None:
        super().__init__(config)
        self.lilt = LiltModel(config, add_pooling_layer=False)
        self._add_head(config)
        self.post_init()


class LayoutLMv3Tagger(LayoutTagger, LayoutLMv3PreTrainedModel):
    """LayoutLMv3 on words and boxes (its image branch is not built)."""

    backbone_name = "layoutlmv3"
    # LayoutLMv3 takes its text positions and relative-position biases from the ids (with
    # embeddings alone its text-only path fails in transformers 5)
    reads_ids = True

    def __init__(self, config: LayoutLMv3Config) -> None:
        super().__init__(config)
        self.layoutlmv3 = LayoutLMv3Model(config)
        self._add_head(config)
        self.post_init()


TAGGER_CLASSES: dict[str, type[LayoutTagger]] = {
    "layoutlm": LayoutLMTagger,
    "lilt": LiltTagger,
    "layoutlmv3": LayoutLMv3Tagger,
}


def tagger_class(model_type: str) -> type[LayoutTagger]:
    """The tagger class for a saved folder's ``model_type``; a ValueError naming the known ones."""
    try:
        return TAGGER_CLASSES[model_type]
    except KeyError:
        known = ", ".join(TAGGER_CLASSES)
        raise ValueError(f"model_type {model_type!r} is no fieldwise tagger ({known})") from None
