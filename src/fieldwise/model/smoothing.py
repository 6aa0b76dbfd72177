"""Smoothing activations before int8: each encoder input's large channels move into the weights.

Dynamic int8 quantisation scales a matrix product's input by its largest value in the call. A
few hidden channels of a BERT-like encoder run many times larger than the rest (in a trained
FUNSD model, the feed-forward inputs' largest channel is 7–14 times the median one), so the rest
are rounded coarsely. SmoothQuant (Xiao et al., 2023) divides the input's channel j by s_j and
multiplies the weight's column j by s_j, which leaves the product unchanged in exact arithmetic,
with s_j = max|x_j|^α / max|W_·j|^(1−α). The input maxima are measured on training pages when
``train`` saves a model (``activation_ranges.safetensors``), or by ``export-onnx --calibrate``.

Measured on five FUNSD models (α = 0.9; AVX2 machine, 2026-11-24): int8's word classes disagree
with fp32 on 0.36–0.81% of the words of all 149 forms instead of 0.54–1.31%, the mean largest
probability change per word falls from 0.0093–0.0177 to 0.0057–0.0114, and the F1 lost on all
149 forms from 0.19 to 0.12 points on average (on the 15 held-out forms from 0.75 to 0.49). The
extra multiplications cost about 2% of int8's speed. α = 0.5, SmoothQuant's default for
language models, did worse than no smoothing (the weights are quantised per output channel, so
columns scaled up widen their rows' ranges); 0.7–1.0 all did better, 0.9 best.

Example::

    ranges = measure_ranges(model, windows)        # once, on training windows
    save_ranges(folder, ranges)
    smoothed = smooth_for_int8(fresh_fp32_model, load_ranges(folder))   # then export, quantise
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from fieldwise.model.encode import Window, collate
from fieldwise.model.predict import TorchBackend

RANGES_FILE = "activation_ranges.safetensors"
ALPHA = 0.9
#: Windows measured: enough to meet every large channel (they are the same channels on every
#: page), few enough to cost seconds.
CALIBRATION_WINDOWS = 64


@dataclass
class ActivationRanges:
    """Per encoder linear layer, each input channel's largest absolute value; and which layers
    read one and the same input (query, key and value), so that they share one scaling."""

    peaks: dict[str, torch.Tensor]
    groups: list[list[str]]


def encoder_linears(model: nn.Module) -> dict[str, nn.Linear]:
    """The linear layers inside the encoder's layers: the ones int8 quantises."""
    return {
        name: module
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and ".encoder.layer." in name
    }


def sample_windows(windows: Sequence[Window], limit: int = CALIBRATION_WINDOWS) -> list[Window]:
    """``limit`` windows spread evenly over ``windows`` (so that long documents do not fill the
    sample): the ones int8 calibrates on."""
    step = max(1, len(windows) / max(1, limit))
    return [windows[int(i * step)] for i in range(min(limit, len(windows)))]


def measure_ranges(
    model: nn.Module, windows: Sequence[Window], limit: int = CALIBRATION_WINDOWS
) -> ActivationRanges:
    """The ranges over ``limit`` windows spread evenly over ``windows``."""
    sample = sample_windows(windows, limit)
    peaks: dict[str, torch.Tensor] = {}
    # the first window's inputs, held (so that no freed tensor's memory is reused) and compared
    # by identity: layers given the same tensor read the same input
    readers: list[tuple[torch.Tensor, list[str]]] = []

    def record(name: str, inputs: torch.Tensor) -> None:
        x = inputs.detach().float().abs().reshape(-1, inputs.shape[-1]).amax(0)
        if name not in peaks:
            shared = [names for tensor, names in readers if tensor is inputs]
            if shared:
                shared[0].append(name)
            else:
                readers.append((inputs, [name]))
        peaks[name] = torch.maximum(peaks[name], x) if name in peaks else x

    batches = (collate([window]) for window in sample)
    read_linear_inputs(model, encoder_linears(model), batches, record)
    return ActivationRanges(peaks, [names for _, names in readers])


def read_linear_inputs(
    model: nn.Module,
    linears: dict[str, nn.Linear],
    batches: Iterable[dict[str, np.ndarray]],
    record: Callable[[str, torch.Tensor], None],
) -> None:
    """Run the batches through the model as it is exported (fp32, evaluation mode) and hand
    ``record`` each of ``linears``' inputs with the layer's name (int8 calibration)."""
    handles = [
        module.register_forward_pre_hook(lambda _m, inputs, name=name: record(name, inputs[0]))
        for name, module in linears.items()
    ]
    backend = TorchBackend(model)
    try:
        for batch in batches:
            backend(batch)
    finally:
        for handle in handles:
            handle.remove()


def save_ranges(folder: Path, ranges: ActivationRanges) -> Path:
    from safetensors.torch import save_file

    path = folder / RANGES_FILE
    tensors = {name: peak.contiguous() for name, peak in ranges.peaks.items()}
    save_file(tensors, str(path), metadata={"groups": json.dumps(ranges.groups)})
    return path


def load_ranges(folder: Path) -> ActivationRanges | None:
    """The folder's measured ranges, or None where it has none (models trained before them)."""
    path = folder / RANGES_FILE
    if not path.is_file():
        return None
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:  # type: ignore[no-untyped-call]
            peaks = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
            groups = json.loads((handle.metadata() or {})["groups"])
    except Exception as exc:  # safetensors raises its own error types for a damaged file
        raise ValueError(f"{path}: not a readable activation-ranges file ({exc})") from None
    return ActivationRanges(peaks, groups)


def calibrate_folder(folder: Path, manifest: Path) -> Path:
    """Measure a saved model's activation ranges on a manifest's pages and save them there,
    with the sampled windows (``fieldwise.model.gptq`` rounds the int8 weights on them)."""
    from fieldwise.annotate.dataset import load_pages
    from fieldwise.model.artifacts import load_model_folder
    from fieldwise.model.encode import encode_page

    loaded = load_model_folder(folder)
    pages = load_pages(manifest)
    windows = [
        w
        for page in pages
        for w in encode_page(page, loaded.tokenizer, loaded.info.encode_options).windows
    ]
    if not windows:
        raise ValueError(f"{manifest}: no page with words to calibrate on")
    return save_int8_calibration(folder, loaded.model.float(), windows)


def save_int8_calibration(folder: Path, model: nn.Module, windows: Sequence[Window]) -> Path:
    """Save what int8 export needs from the pages, on one sample of their windows: the
    activation ranges it smooths by and the windows GPTQ rounds the weights on (``train`` and
    ``export-onnx --calibrate``); the ranges' path."""
    from fieldwise.model.gptq import save_calibration

    sample = sample_windows(windows)
    save_calibration(folder, sample)
    return save_ranges(folder, measure_ranges(model, sample))


class ScaledInput(nn.Module):
    """A linear layer whose input is first divided channel by channel (the weight compensates)."""

    def __init__(self, linear: nn.Linear, inverse_scale: torch.Tensor) -> None:
        super().__init__()
        self.linear = linear
        self.register_buffer("inverse_scale", inverse_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x * self.inverse_scale)  # type: ignore[operator]


def smooth_for_int8(model: nn.Module, ranges: ActivationRanges, alpha: float = ALPHA) -> nn.Module:
    """``model`` with every measured encoder linear layer smoothed, in place; the same outputs
    in fp32 (to rounding). Layers reading one input share one scale tensor, which export turns
    into one multiplication (:func:`fieldwise.model.onnx.merge_twin_products`). A ValueError
    when the ranges were measured on another model."""
    linears = encoder_linears(model)
    grouped = [name for group in ranges.groups for name in group]
    if sorted(grouped) != sorted(linears) or sorted(ranges.peaks) != sorted(linears):
        raise ValueError(
            f"activation ranges do not fit this model: they name {len(ranges.peaks)} layers,"
            f" the model has {len(linears)} encoder linear layers"
        )
    modules = dict(model.named_modules())
    for group in ranges.groups:
        peak = ranges.peaks[group[0]].float()
        if any(peak.shape != (linears[name].in_features,) for name in group):
            raise ValueError(f"activation ranges do not fit this model: {group[0]} {peak.shape}")
        weight_peak = torch.stack([linears[n].weight.detach().abs().amax(0) for n in group])
        weight_peak = weight_peak.amax(0).clamp(min=1e-5)
        scale = (peak.clamp(min=1e-5) ** alpha / weight_peak ** (1 - alpha)).clamp(min=1e-5)
        inverse = 1.0 / scale
        for name in group:
            with torch.no_grad():
                linears[name].weight.mul_(scale[None, :])
            parent, attribute = name.rsplit(".", 1)
            setattr(modules[parent], attribute, ScaledInput(linears[name], inverse))
    return model
