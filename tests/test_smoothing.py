"""Smoothing before int8 (fieldwise.model.smoothing): same fp32 outputs, query/key/value share
one scaling, ranges saved and refused when damaged or measured on another model. The int8
export itself is checked on a trained model in tests/test_model_pipeline.py."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from fieldwise.model.encode import Window, collate
from fieldwise.model.predict import TorchBackend
from fieldwise.model.smoothing import (
    ScaledInput,
    encoder_linears,
    load_ranges,
    measure_ranges,
    save_ranges,
    smooth_for_int8,
)


def _logits(model: torch.nn.Module, window: Window) -> torch.Tensor:
    return torch.from_numpy(TorchBackend(model)(collate([window])))


def test_query_key_and_value_share_a_group_and_the_outputs_stay(minilm_windows) -> None:  # type: ignore[no-untyped-def]
    model, windows = minilm_windows
    ranges = measure_ranges(model, windows, limit=8)
    layers = int(model.config.num_hidden_layers)
    assert len(ranges.peaks) == len(encoder_linears(model)) == 6 * layers
    sizes = sorted(len(g) for g in ranges.groups)
    assert sizes == [1] * (3 * layers) + [3] * layers
    for group in ranges.groups:
        if len(group) == 3:
            assert sorted(n.rsplit(".", 1)[1] for n in group) == ["key", "query", "value"]
    # MiniLM's hidden states have a few channels far larger than the rest: what int8 rounds badly
    peaks = ranges.peaks["layoutlm.encoder.layer.0.intermediate.dense"]
    assert float(peaks.max()) > 8 * float(peaks.median())

    smoothed = smooth_for_int8(copy.deepcopy(model), ranges)
    wrapped = [m for m in smoothed.modules() if isinstance(m, ScaledInput)]
    assert len(wrapped) == 6 * layers
    query = smoothed.layoutlm.encoder.layer[0].attention.self.query
    value = smoothed.layoutlm.encoder.layer[0].attention.self.value
    assert query.inverse_scale is value.inverse_scale  # one tensor: one Mul after export
    for window in windows[:3]:
        before, after = _logits(model, window), _logits(smoothed, window)
        assert torch.allclose(before, after, atol=1e-4, rtol=1e-4)


def test_ranges_round_trip_and_wrong_ranges_are_refused(minilm_windows, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, windows = minilm_windows
    assert load_ranges(tmp_path) is None  # folders trained before ranges existed
    ranges = measure_ranges(model, windows, limit=2)
    path = save_ranges(tmp_path, ranges)
    loaded = load_ranges(tmp_path)
    assert loaded is not None and loaded.groups == ranges.groups
    assert all(torch.equal(loaded.peaks[n], ranges.peaks[n]) for n in ranges.peaks)

    path.write_bytes(b"not safetensors")
    with pytest.raises(ValueError, match="activation_ranges.safetensors: not a readable"):
        load_ranges(tmp_path)
    fewer = copy.copy(ranges)
    fewer.peaks = {n: p for n, p in ranges.peaks.items() if ".layer.5." not in n}
    with pytest.raises(ValueError, match="do not fit this model"):
        smooth_for_int8(copy.deepcopy(model), fewer)
