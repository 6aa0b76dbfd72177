"""Training on long weakly-labelled documents: few negative pages, a schedule within budget."""

from __future__ import annotations

from fieldwise.annotate.dataset import LabeledPage
from fieldwise.annotate.word_labels import WordLabel
from fieldwise.model.schedule import Horizon
from fieldwise.model.train import with_few_negatives
from fieldwise.textract.geometry import Box


def _page(key: str, classes: list[int]) -> LabeledPage:
    n = len(classes)
    return LabeledPage(
        key=key,
        page_num=1,
        words=["w"] * n,
        boxes=[Box(0, 0, 0.1, 0.1)] * n,
        line_index=[0] * n,
        confidences=[99.0] * n,
        block_ids=[str(i) for i in range(n)],
        labels=tuple(WordLabel(c, None, False) for c in classes),
    )


def test_negative_pages_are_thinned_reproducibly_and_labelled_pages_all_kept() -> None:
    pages = [_page(f"p{i}", [0, 2] if i % 5 == 0 else [2, 2]) for i in range(50)]
    kept = with_few_negatives(pages, 0.5, other_id=2, seed=1)
    labelled = [p for p in pages if p.class_ids[0] == 0]
    assert len(labelled) == 10 and all(p in kept for p in labelled)
    assert len(kept) == 15
    assert [p.key for p in kept] == [p.key for p in with_few_negatives(pages, 0.5, 2, seed=1)]
    assert [p.key for p in kept] != [p.key for p in with_few_negatives(pages, 0.5, 2, seed=2)]
    assert [p.key for p in kept] == sorted((p.key for p in kept), key=lambda k: int(k[1:]))
    nothing_labelled = [_page("a", [2]), _page("b", [2])]
    assert with_few_negatives(nothing_labelled, 0.25, 2, 0) == nothing_labelled


def test_a_shorter_horizon_still_warms_up_and_decays_to_zero() -> None:
    horizon = Horizon(total=1000, warmup=0.1)
    assert horizon.factor(0) == 1 / 100 and horizon.factor(99) == 1.0
    horizon.total = 300  # the budget fits fewer steps than the epochs asked for
    assert horizon.factor(200) == 100 / 200
    assert horizon.factor(300) == 0.0 and horizon.factor(400) == 0.0


def test_a_budget_known_during_the_warm_up_shortens_the_warm_up_too() -> None:
    # 30 epochs of 100 steps asked for; after 10 steps the budget is seen to allow 3 epochs
    horizon = Horizon(total=3000, warmup=0.1)
    horizon.fit(affordable=300, cap=3000, step=10)
    assert (horizon.total, horizon.warm) == (300, 30)
    assert horizon.factor(29) == 1.0 and horizon.factor(165) == 0.5 and horizon.factor(300) == 0
    horizon.fit(affordable=400, cap=3000, step=100)  # measured again, past the warm-up
    assert (horizon.total, horizon.warm) == (400, 30)
    horizon.fit(affordable=50_000, cap=3000, step=200)  # never past the epochs asked for
    assert horizon.total == 3000
    horizon.fit(affordable=0, cap=3000, step=250)  # nor before the step it is at
    assert horizon.total == 251 and horizon.factor(250) > 0


def test_a_budget_that_fits_every_epoch_changes_nothing() -> None:
    horizon = Horizon(total=3000, warmup=0.1)
    horizon.fit(affordable=9000, cap=3000, step=10)
    assert (horizon.total, horizon.warm) == (3000, 300)


def test_option_changes_are_typed_and_unknown_names_refused() -> None:
    import pytest

    from fieldwise.model.train import TrainOptions, changed_options

    options = changed_options(TrainOptions(), ["row_context=true", "lr=3e-4", "epochs=7"])
    assert options.row_context is True and options.lr == 3e-4 and options.epochs == 7
    assert changed_options(options, ["row_context=no"]).row_context is False
    assert changed_options(TrainOptions(), []) == TrainOptions()
    assert changed_options(TrainOptions(), ["dropout=0.2"]).dropout == 0.2
    with pytest.raises(ValueError, match="no training option 'speed'"):
        changed_options(TrainOptions(), ["speed=11"])
    with pytest.raises(ValueError, match="not a int"):
        changed_options(TrainOptions(), ["epochs=many"])
    assert changed_options(TrainOptions(), ["metric=focus_acc"]).metric == "focus_acc"
    with pytest.raises(ValueError, match="not a StopMetric"):
        changed_options(TrainOptions(), ["metric=loss"])


def test_benchmarks_keep_every_repeated_set(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``--set a=1 --set b=2`` used to keep only ``b=2``, silently training another recipe."""
    import importlib.util
    import sys
    from pathlib import Path

    for name in ("funsd", "credit_cards"):
        path = Path(__file__).parents[1] / "benchmarks" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        argv = [name, "--set", "dropout=0.2", "lr=2e-4", "--set", "epochs=7"]
        monkeypatch.setattr(sys, "argv", argv)
        assert module.parse_args().set == ["dropout=0.2", "lr=2e-4", "epochs=7"]
        monkeypatch.setattr(sys, "argv", [name])
        assert module.parse_args().set == []


def test_rare_labels_weigh_more_and_weights_are_capped() -> None:
    import numpy as np

    from fieldwise.model.encode import IGNORE, Window
    from fieldwise.model.objective import MAX_CLASS_WEIGHT, label_weights

    def window(labels: list[int]) -> Window:
        n = len(labels)
        zeros = np.zeros(n, dtype=np.int64)
        return Window(zeros, np.zeros((n, 4), np.int64), np.zeros((n, 1), np.float32),
                      np.zeros((n, 1), np.int64), zeros, np.ones(n, bool),
                      np.asarray(labels, dtype=np.int64))  # fmt: skip

    windows = [window([3] * 400 + [0] * 100 + [1] * 4 + [IGNORE] * 50)]
    assert label_weights(windows, 4, 0.0) is None
    weights = label_weights(windows, 4, 0.5)
    assert weights is not None
    assert weights.tolist() == [2.0, 10.0, 1.0, 1.0]  # sqrt(400/100), sqrt(400/4); 2 unseen
    capped = label_weights(windows, 4, 1.0)
    assert capped is not None and capped[1] == MAX_CLASS_WEIGHT and capped[0] == 4.0


def test_weighted_loss_weighs_tokens_not_the_smoothing() -> None:
    import torch

    from fieldwise.model.encode import IGNORE
    from fieldwise.model.objective import WeightedLoss

    logits = torch.randn(6, 3)
    labels = torch.tensor([0, 1, 2, 2, IGNORE, 1])
    plain = torch.nn.CrossEntropyLoss(ignore_index=IGNORE, label_smoothing=0.1)
    assert torch.allclose(WeightedLoss(None, 0.1)(logits, labels), plain(logits, labels))
    ones = WeightedLoss(torch.ones(3), 0.1)(logits, labels)
    assert torch.allclose(ones, plain(logits, labels))  # equal weights: the plain loss
    per_token = torch.nn.CrossEntropyLoss(reduction="none", label_smoothing=0.1)(
        logits[[0, 1, 2, 3, 5]], labels[[0, 1, 2, 3, 5]]
    )
    weights = torch.tensor([1.0, 5.0, 1.0, 1.0, 5.0])
    expected = (per_token * weights).sum() / weights.sum()
    got = WeightedLoss(torch.tensor([1.0, 5.0, 1.0]), 0.1)(logits, labels)
    assert torch.allclose(got, expected)
