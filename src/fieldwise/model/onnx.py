"""ONNX export and the ONNX Runtime backend: the same predictions without PyTorch at run time.

``export_onnx`` writes ``MODEL/model.onnx`` (fp32) and, with ``int8``, ``MODEL/model.int8.onnx``
(dynamic int8 quantisation of the encoder's linear layers, their inputs smoothed first where the
folder has activation ranges, see :mod:`fieldwise.model.smoothing`, and the weights rounded
by GPTQ where it has calibration windows, see :mod:`fieldwise.model.gptq`; its accuracy loss is
reported by ``fieldwise export-onnx --int8 --manifest M`` and ``benchmarks/funsd.py``).

Example::

    export_onnx(Path("models/funsd"), int8=True)
    tagger = Tagger.load("models/funsd", backend="onnx-int8")
"""

from __future__ import annotations

import copy
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fieldwise.model.artifacts import ModelFolderError, load_model_folder
from fieldwise.model.features import NUM_FEATURES, ROW_CONTEXT_WORDS
from fieldwise.model.gptq import load_calibration, write_gptq_codes
from fieldwise.model.smoothing import load_ranges, smooth_for_int8

INPUTS = ("input_ids", "bbox", "attention_mask", "features", "context_ids")
OPSET = 17


def onnx_path(folder: Path, int8: bool = False) -> Path:
    return folder / ("model.int8.onnx" if int8 else "model.onnx")


@dataclass
class OnnxExport:
    """What ``export_onnx`` wrote: the files, and how many of int8's matrices GPTQ rounded."""

    paths: list[Path] = field(default_factory=list)
    int8_matrices: int = 0  # the int8 file's matrix products, counted when GPTQ runs
    gptq_matrices: int = 0


def export_onnx(folder: Path, int8: bool = False) -> OnnxExport:
    """Export the model folder's weights to ONNX (and an int8 copy)."""
    loaded = load_model_folder(folder)
    model = loaded.model.float().eval()
    target = onnx_path(folder)
    _export(model, loaded.tokenizer.unk_token_id, target)
    written = OnnxExport([target])
    if int8:
        ranges = load_ranges(folder)
        if ranges is None:
            quantize_int8(target, onnx_path(folder, True))
        else:
            smoothed = smooth_for_int8(copy.deepcopy(model), ranges)
            with tempfile.TemporaryDirectory(prefix="fieldwise-int8-") as tmp:
                source = Path(tmp) / "smoothed.onnx"
                _export(smoothed, loaded.tokenizer.unk_token_id, source)
                merge_twin_products(source)
                quantize_int8(source, onnx_path(folder, True))
            calibration = load_calibration(folder)
            if calibration:
                written.gptq_matrices, written.int8_matrices = write_gptq_codes(
                    onnx_path(folder, True), smoothed, calibration
                )
        written.paths.append(onnx_path(folder, True))
    return written


def _export(model: Any, unk_id: int, target: Path) -> None:
    length = 16
    example = (
        torch.full((1, length), unk_id, dtype=torch.long),
        torch.zeros((1, length, 4), dtype=torch.long),
        torch.ones((1, length), dtype=torch.long),
        torch.zeros((1, length, NUM_FEATURES), dtype=torch.float32),
        torch.full((1, length, ROW_CONTEXT_WORDS), unk_id, dtype=torch.long),
    )
    dynamic = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    dynamic["logits"] = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            example,
            str(target),
            input_names=list(INPUTS),
            output_names=["logits"],
            dynamic_axes=dynamic,
            opset_version=OPSET,
            dynamo=False,
        )


def merge_twin_products(path: Path) -> int:
    """Merge the Mul nodes that multiply one input by equal constants; how many went.

    Smoothing gives the query, key and value layers one shared input scaling, but export writes
    it once per layer. Merged, int8 quantises that input once for all three, as without
    smoothing (measured: three scalings and quantisations made int8 13% slower).
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            constants[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)

    def key(name: str) -> tuple[Any, ...]:
        if name in constants:
            value = constants[name]
            return ("constant", value.dtype.str, value.shape, value.tobytes())
        return ("tensor", name)

    seen: dict[tuple[Any, ...], str] = {}
    renamed: dict[str, str] = {}
    kept = []
    for node in graph.node:  # exported graphs are in topological order
        for i, name in enumerate(node.input):
            node.input[i] = renamed.get(name, name)
        if node.op_type == "Mul" and len(node.output) == 1:
            signature = tuple(key(name) for name in node.input)
            if signature in seen:
                renamed[node.output[0]] = seen[signature]
                continue
            seen[signature] = node.output[0]
        kept.append(node)
    merged = len(graph.node) - len(kept)
    if merged:
        del graph.node[:]
        graph.node.extend(kept)
        onnx.save(model, str(path))
    return merged


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the matrix products, per output channel; the input and
    output layers and the embedding tables stay fp32.

    Measured on FUNSD validation (one model): per-tensor int8 lost 2.3 F1 points, per-channel
    1.0, per-channel with the layout-feature projection and the classifier kept fp32 0.3.
    Quantising the embedding tables too (``quantize_dynamic``'s default) was no faster (29.4
    against 29.5 model pages/s, 60 forms, same process) and on six trained models lost 0.19–1.80
    F1 points (mean 1.0) on the 15 held-out FUNSD forms, against −0.04–1.80 (mean 0.71) with
    the tables in fp32; over all 149 forms the word classes agreed with fp32 on 99.34% / 99.37%
    of words against 99.41% / 99.46% (two models). The file is 66 MB instead of 25 MB.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source), load_external_data=False).graph
    kept = ("/layout_features/", "/row_context/", "/classifier/")
    keep = [n.name for n in graph.node if n.name.startswith(kept)]
    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        nodes_to_exclude=keep,
        op_types_to_quantize=["MatMul"],
    )


class OnnxBackend:
    """Logits from an exported model with ONNX Runtime, on all cores.

    One window per call: ONNX Runtime ran fastest so on 2 cores (int8 model pages/s on 60 FUNSD
    forms: 35.6 for 1 window, 33.0 for 4, 31.6 for 8, 18.8 for 32; PyTorch flat at 20.5-21.8),
    and dynamic int8 quantisation scales each call's activations by their range, so a window's
    probabilities then never depend on which other windows shared its batch.
    """

    batch_size = 1

    def __init__(self, path: Path, threads: int | None = None) -> None:
        if not path.is_file():
            hint = " --int8" if path.name.endswith("int8.onnx") else ""
            raise ModelFolderError(f"{path}: not found; run `fieldwise export-onnx{hint}` first")
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or len(os.sched_getaffinity(0))
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.names = {i.name for i in self.session.get_inputs()}

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        feeds = {name: batch[name] for name in INPUTS if name in self.names}
        return np.asarray(self.session.run(["logits"], feeds)[0])
