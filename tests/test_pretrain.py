"""Pre-training on unlabelled pages: masking, a smoke run on real FUNSD pages, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fieldwise.annotate.dataset import load_labeled_pages, load_pages
from fieldwise.annotate.funsd import import_funsd
from fieldwise.fields.config import load_fields
from fieldwise.model.build import build_model
from fieldwise.model.encode import IGNORE
from fieldwise.model.pretrain import (
    PRETRAIN_FILE,
    MaskedLMHead,
    PretrainOptions,
    mask_for_mlm,
    pretrain,
)


@pytest.fixture(scope="module")
def few_forms(funsd_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five real FUNSD forms imported as Textract JSON with a page manifest."""
    split = tmp_path_factory.mktemp("split")
    for sub in ("images", "annotations"):
        (split / sub).mkdir()
    for image in sorted((funsd_dir / "images").glob("*.png"))[:5]:
        (split / "images" / image.name).symlink_to(image)
        name = f"{image.stem}.json"
        (split / "annotations" / name).symlink_to(funsd_dir / "annotations" / name)
    out = tmp_path_factory.mktemp("forms")
    import_funsd(split, out)
    return out


def test_masking_hides_the_share_of_real_pieces_only() -> None:
    ids = torch.randint(1000, 2000, (64, 256))
    ids[:, 0], ids[:, 199], ids[:, 200:] = 101, 102, 0  # [CLS] 198 pieces [SEP] padding
    attention = torch.ones_like(ids)
    attention[:, 200:] = 0
    batch = {"input_ids": ids.clone(), "attention_mask": attention}
    targets = mask_for_mlm(batch, 0.15, 103, {0, 101, 102}, 2000, torch.Generator().manual_seed(0))
    chosen = targets != IGNORE
    real = 64 * 198
    assert abs(chosen.sum().item() / real - 0.15) < 0.01
    assert not chosen[:, 0].any() and not chosen[:, 199:].any()  # special tokens, padding
    assert torch.equal(targets[chosen], ids[chosen])  # the targets are the original pieces
    assert torch.equal(batch["input_ids"][~chosen], ids[~chosen])  # nothing else touched
    masked = (batch["input_ids"][chosen] == 103).float().mean().item()
    kept = (batch["input_ids"][chosen] == ids[chosen]).float().mean().item()
    assert abs(masked - 0.8) < 0.03 and 0.07 < kept < 0.14  # 80% [MASK]; 10% (+ lucky) kept


def test_head_scores_against_the_tied_word_table() -> None:
    model, _ = build_model(None, num_labels=2)
    head = MaskedLMHead(model)
    assert head.words.weight is model.layoutlm.embeddings.word_embeddings.weight
    assert head(torch.zeros(3, model.config.hidden_size)).shape == (3, model.config.vocab_size)


def test_load_pages_reads_labelled_and_unlabelled_pages(few_forms: Path) -> None:
    manifest = few_forms / "pages.manifest.jsonl"
    lines = manifest.read_text().splitlines()
    unlabelled = json.loads(lines[0])
    unlabelled.pop("label")
    (few_forms / "mixed.jsonl").write_text("\n".join([json.dumps(unlabelled), *lines[1:]]) + "\n")
    fields = load_fields(few_forms / "fields.yaml")
    assert len(load_labeled_pages(few_forms / "mixed.jsonl", fields)) == 4
    pages = load_pages(few_forms / "mixed.jsonl")
    assert len(pages) == 5 and all(p.words for p in pages)


def test_pretrained_folder_is_a_base_model_with_trained_layout(
    few_forms: Path, tmp_path: Path
) -> None:
    pages = load_pages(few_forms / "pages.manifest.jsonl")
    out = tmp_path / "base"
    options = PretrainOptions(max_minutes=0.05, epochs=1, batch_size=2, validation_share=0.3)
    result = pretrain(pages, out, options, command="pytest")
    assert result.steps >= 1 and result.train_pages + result.val_pages == 5
    record = json.loads((out / PRETRAIN_FILE).read_text())
    assert record["command"] == "pytest" and record["options"]["mask_share"] == 0.15
    assert 0.0 <= record["val_accuracy"] <= 1.0
    model, tokenizer = build_model(out, num_labels=7)  # what `train --base-model` does
    table = model.layoutlm.embeddings.x_position_embeddings.weight
    assert table.abs().sum() > 0  # MiniLM starts it at zero; pre-training moved it
    assert tokenizer.mask_token_id is not None


def test_cli_names_a_missing_manifest(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    run = subprocess.run(
        [sys.executable, "-m", "fieldwise.cli", "pretrain", str(missing), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0
    assert "nope.jsonl" in run.stdout + run.stderr and "Traceback" not in run.stderr
