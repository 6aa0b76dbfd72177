"""`train --base-model PATH` on LiLT and LayoutLMv3 checkpoints, on real FUNSD forms.

No such weights install offline, so each test writes a small checkpoint exactly as Hugging Face
saves one (``LiltForTokenClassification`` / ``LayoutLMv3ForTokenClassification`` with their
image branch, a byte-level BPE tokenizer learned from the forms' words) and trains, saves,
reloads, predicts and exports it the way a user's local checkpoint would go.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from tokenizers import ByteLevelBPETokenizer
from transformers import (
    LayoutLMv3Config,
    LayoutLMv3ForTokenClassification,
    LayoutLMv3TokenizerFast,
    LiltConfig,
    LiltForTokenClassification,
    RobertaTokenizerFast,
)

from fieldwise.annotate.dataset import LabeledPage, load_labeled_pages
from fieldwise.fields.config import FieldConfig, load_fields
from fieldwise.model.build import ModelBuildError, build_model
from fieldwise.model.encode import EncodeOptions, _word_tokens, encode_page
from fieldwise.model.taggers import LayoutLMv3Tagger, LiltTagger
from fieldwise.model.train import TrainOptions, train

SMOKE = TrainOptions(epochs=1, batch_size=4, encode=EncodeOptions(max_length=128, stride=32))
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


@pytest.fixture(scope="module")
def forms(funsd_import: Path) -> tuple[FieldConfig, list[LabeledPage]]:
    fields = load_fields(funsd_import / "fields.yaml")
    return fields, load_labeled_pages(funsd_import / "pages.manifest.jsonl", fields)[:8]


@pytest.fixture(scope="module")
def bpe_files(forms, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    """vocab.json and merges.txt of a byte-level BPE learned from the forms' words."""
    words = [" ".join(page.words) for page in forms[1]]
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(words, vocab_size=800, min_frequency=1, special_tokens=SPECIALS)
    folder = tmp_path_factory.mktemp("bpe")
    bpe.save_model(str(folder))
    return folder


def _sizes(vocab: int) -> dict[str, int]:
    return {"vocab_size": vocab, "hidden_size": 48, "num_hidden_layers": 2,
            "num_attention_heads": 2, "intermediate_size": 96, "pad_token_id": 1,
            "max_position_embeddings": 514}  # fmt: skip


def _lilt_base(bpe: Path, folder: Path) -> Path:
    tokenizer = RobertaTokenizerFast(vocab=str(bpe / "vocab.json"), merges=str(bpe / "merges.txt"))
    config = LiltConfig(**_sizes(len(tokenizer)), channel_shrink_ratio=4, num_labels=5)
    torch.manual_seed(0)
    LiltForTokenClassification(config).save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


def _layoutlmv3_base(bpe: Path, folder: Path) -> Path:
    tokenizer = LayoutLMv3TokenizerFast(
        vocab=str(bpe / "vocab.json"), merges=str(bpe / "merges.txt")
    )
    config = LayoutLMv3Config(
        **_sizes(len(tokenizer)), coordinate_size=8, shape_size=8, input_size=32, num_labels=5
    )
    torch.manual_seed(0)
    LayoutLMv3ForTokenClassification(config).save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


@pytest.mark.parametrize(
    ("make_base", "tagger_type", "prefix"),
    [(_lilt_base, LiltTagger, "lilt"), (_layoutlmv3_base, LayoutLMv3Tagger, "layoutlmv3")],
)
def test_a_local_checkpoint_trains_saves_reloads_and_exports(  # type: ignore[no-untyped-def]
    make_base, tagger_type, prefix, forms, bpe_files, tmp_path: Path
) -> None:
    pytest.importorskip("onnxruntime")
    from safetensors.torch import load_file

    from fieldwise.model.onnx import export_onnx
    from fieldwise.model.predict import Tagger, window_probabilities

    fields, pages = forms
    base = make_base(bpe_files, tmp_path / "base")
    model, tokenizer = build_model(base, num_labels=7, row_context=True)
    assert type(model) is tagger_type
    saved = load_file(str(base / "model.safetensors"))
    # every backbone weight comes from the checkpoint; only fieldwise's additions start at zero
    for name, value in model.state_dict().items():
        if name.startswith(f"{prefix}.") and name in saved:
            assert torch.equal(value, saved[name]), name
    missing = [n for n in model.state_dict() if n.startswith(f"{prefix}.") and n not in saved]
    assert not [n for n in missing if not n.endswith("position_ids")], missing
    assert float(model.layout_features.weight.detach().abs().sum()) == 0.0  # type: ignore[union-attr]

    out = tmp_path / "model"
    options = replace(SMOKE, base_model=str(base))
    result = train(pages[:4], pages[6:], fields, out, options, command="pytest backbone")
    assert result.epochs_run == 1
    assert json.loads((out / "config.json").read_text())["model_type"] == prefix
    torch_tagger = Tagger.load(out)
    assert type(torch_tagger.loaded.model) is tagger_type
    predictions = torch_tagger.predict_pages(pages[6:])
    assert [len(p.tags) for p in predictions] == [len(p.words) for p in pages[6:]]

    exported = export_onnx(out, int8=True)
    # every int8 matrix product is rounded by GPTQ, LiLT's box projection included
    assert exported.gptq_matrices == exported.int8_matrices > 0
    onnx_tagger = Tagger.load(out, "onnx")
    encoded = [encode_page(p, torch_tagger.loaded.tokenizer, torch_tagger.info.encode_options)
               for p in pages[6:]]  # fmt: skip
    a = window_probabilities(torch_tagger.backend, encoded)
    b = window_probabilities(onnx_tagger.backend, encoded)
    assert max(float(np.abs(x - y).max()) for x, y in zip(a, b, strict=True)) < 1e-3
    int8 = Tagger.load(out, "onnx-int8").predict_pages(pages[6:])
    assert [len(p.tags) for p in int8] == [len(p.words) for p in pages[6:]]


def test_words_are_spelled_as_inside_a_text_for_byte_level_bpe(bpe_files: Path) -> None:
    """RoBERTa's BPE spells "Date" at a text's start and "ĠDate" after a space; page words are
    words inside a text, whether or not the tokenizer adds the space itself."""
    files = {"vocab": str(bpe_files / "vocab.json"), "merges": str(bpe_files / "merges.txt")}
    roberta = RobertaTokenizerFast(**files)  # adds no space
    layoutlmv3 = LayoutLMv3TokenizerFast(**files)  # adds one
    inside = roberta(" Date", add_special_tokens=False)["input_ids"]
    assert inside != roberta("Date", add_special_tokens=False)["input_ids"]
    assert _word_tokens(["Date"], roberta) == [inside]
    assert _word_tokens(["Date"], layoutlmv3) == [inside]


def test_an_unsupported_checkpoint_is_named(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(ModelBuildError, match="'gpt2' is not supported.*lilt, layoutlmv3"):
        build_model(tmp_path, num_labels=3)


def test_pretraining_a_lilt_checkpoint_gives_a_lilt_base(  # type: ignore[no-untyped-def]
    forms, bpe_files: Path, tmp_path: Path
) -> None:
    from fieldwise.model.pretrain import PretrainOptions, pretrain

    _, pages = forms
    base = _lilt_base(bpe_files, tmp_path / "lilt")
    options = PretrainOptions(max_minutes=0.05, epochs=1, batch_size=2, validation_share=0.3)
    result = pretrain(pages[:5], tmp_path / "adapted", options, base_model=base)
    assert result.steps >= 1
    model, tokenizer = build_model(tmp_path / "adapted", num_labels=7)
    assert type(model) is LiltTagger and tokenizer.mask_token == "<mask>"
    # the layout projection starts at zero and pre-training moved it
    assert float(model.layout_features.weight.detach().abs().sum()) > 0  # type: ignore[union-attr]
