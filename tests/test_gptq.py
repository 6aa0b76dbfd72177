"""GPTQ rounding of int8 weights (fieldwise.model.gptq): the same levels and scales as
round-to-nearest, a smaller error of the layer's output on correlated inputs, none where the
inputs are uncorrelated; calibration windows saved, reloaded and refused when damaged. The
export that uses them is checked on a trained model in tests/test_model_pipeline.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from fieldwise.model.encode import collate
from fieldwise.model.gptq import gptq_codes, input_hessians, load_calibration, save_calibration
from fieldwise.model.smoothing import encoder_linears, sample_windows


def _nearest(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    scale = weight.abs().amax(1) / 127
    return torch.clamp(torch.round(weight / scale[:, None]), -127, 127), scale


def _output_error(
    weight: torch.Tensor, codes: torch.Tensor, scale: torch.Tensor, x: torch.Tensor
) -> float:
    return float(((x @ (weight - codes.double() * scale[:, None]).T) ** 2).sum())


def test_gptq_keeps_the_levels_and_cuts_the_output_error_on_correlated_inputs() -> None:
    rng = torch.Generator().manual_seed(0)
    weight = torch.randn(24, 64, generator=rng, dtype=torch.float64)
    # inputs that share a few directions, with one channel far larger (as smoothing leaves them)
    x = torch.randn(2000, 8, generator=rng, dtype=torch.float64) @ torch.randn(
        8, 64, generator=rng, dtype=torch.float64
    )
    x += 0.1 * torch.randn(2000, 64, generator=rng, dtype=torch.float64)
    x[:, 5] *= 6
    codes, scale = gptq_codes(weight, x.T @ x)
    nearest, nearest_scale = _nearest(weight)
    assert codes.dtype == torch.int8 and codes.shape == weight.shape
    assert int(codes.abs().max()) <= 127
    assert torch.allclose(scale.double(), nearest_scale)  # the levels round-to-nearest uses
    assert not torch.equal(codes.double(), nearest)
    # every weight stays within a few levels of its nearest one
    assert float((codes.double() - nearest).abs().max()) <= 8
    gptq_error = _output_error(weight, codes, scale, x)
    nearest_error = _output_error(weight, nearest, scale, x)
    assert gptq_error < 0.2 * nearest_error  # measured: 0.02


def test_gptq_is_round_to_nearest_when_the_inputs_are_uncorrelated() -> None:
    weight = torch.randn(16, 32, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    codes, _ = gptq_codes(weight, torch.eye(32, dtype=torch.float64) * 3.0)
    assert torch.equal(codes.double(), _nearest(weight)[0])


def test_gptq_leaves_inputs_that_were_always_zero_alone() -> None:
    weight = torch.randn(8, 16, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    x = torch.randn(500, 16, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    x[:, 3] = 0
    codes, _ = gptq_codes(weight, x.T @ x)
    assert int(codes.abs().max()) <= 127 and not torch.isnan(codes.double()).any()


def test_calibration_windows_round_trip_and_feed_the_hessians(
    minilm_windows, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    model, windows = minilm_windows
    assert load_calibration(tmp_path) is None  # folders saved before calibration was kept
    sample = sample_windows(windows, limit=3)
    path = save_calibration(tmp_path, sample)
    batches = load_calibration(tmp_path)
    assert batches is not None and len(batches) == 3
    for batch, window in zip(batches, sample, strict=True):
        expected = collate([window])
        for key, value in batch.items():
            assert value.dtype == expected[key].dtype and np.array_equal(value, expected[key]), key
    hessians = input_hessians(model, batches)
    linears = encoder_linears(model)
    assert sorted(hessians) == sorted(linears)
    h = hessians["layoutlm.encoder.layer.0.intermediate.dense"]
    assert h.shape == (384, 384) and torch.allclose(h, h.T)
    assert float(torch.linalg.eigvalsh(h).min()) > -1e-6 * float(h.diagonal().max())  # XᵀX

    path.write_bytes(b"not safetensors")
    with pytest.raises(ValueError, match="calibration_windows.safetensors: not a readable"):
        load_calibration(tmp_path)
