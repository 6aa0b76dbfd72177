"""End to end on real FUNSD forms: a smoke training run, resume, predict/enrich, ONNX parity.

The training run is tiny (a few steps on a few pages, short windows) so it stays in the default
test run; full training runs are ``slow`` (tests/test_model_slow.py).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from fieldwise.annotate.dataset import LabeledPage, load_labeled_pages
from fieldwise.fields.config import FieldConfig, load_fields
from fieldwise.model.encode import EncodeOptions, encode_page
from fieldwise.model.train import TrainOptions, train

SMOKE = TrainOptions(
    epochs=2,
    batch_size=4,
    patience=5,
    encode=EncodeOptions(max_length=128, stride=32),
    row_context=True,  # exercised here whatever the default: ONNX must match with it too
)


@pytest.fixture(scope="module")
def pages(funsd_import: Path) -> tuple[FieldConfig, list[LabeledPage]]:
    fields = load_fields(funsd_import / "fields.yaml")
    return fields, load_labeled_pages(funsd_import / "pages.manifest.jsonl", fields)[:8]


@pytest.fixture(scope="module")
def smoke_model(pages, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    fields, labelled = pages
    out = tmp_path_factory.mktemp("model")
    result = train(labelled[:4], labelled[6:], fields, out, SMOKE, command="pytest smoke")
    assert result.epochs_run == 2
    return out


def test_smoke_training_writes_a_complete_model_folder(smoke_model: Path) -> None:
    for name in ("config.json", "model.safetensors", "tokenizer.json", "fields.yaml",
                 "fieldwise.json", "metrics.json", "command.txt", "links.json",
                 "activation_ranges.safetensors", "calibration_windows.safetensors"):  # fmt: skip
        assert (smoke_model / name).is_file(), name
    assert not (smoke_model / "checkpoint.pt").exists()  # removed once training ends
    metrics = json.loads((smoke_model / "metrics.json").read_text())
    assert len(metrics["history"]) == 2
    assert metrics["history"][1]["loss"] < metrics["history"][0]["loss"]
    info = json.loads((smoke_model / "fieldwise.json").read_text())
    assert info["scheme"] == "bio" and info["command"] == "pytest smoke"
    assert info["label_names"][-1] == "O"
    assert info["trained_classes"] == ["header", "question", "answer"]
    assert info["class_documents"] == {"header": 4, "question": 4, "answer": 4}  # 4 forms
    best = metrics["history"][metrics["best_epoch"] - 1]
    assert info["decoder"] == best["decoder"] == metrics["decoder"]


def test_validation_scores_both_decoders_and_reports_the_better(smoke_model: Path, pages) -> None:  # type: ignore[no-untyped-def]
    from fieldwise.model.evaluate import evaluate_pages
    from fieldwise.model.predict import Tagger
    from fieldwise.model.train import evaluate_model

    tagger = Tagger.load(smoke_model)
    loaded, val = tagger.loaded, pages[1][6:]
    scores = {}
    for decoder in ("viterbi", "segments"):
        tagger.info = loaded.info.model_copy(update={"decoder": decoder})
        scores[decoder] = evaluate_pages(tagger, val)["entity_f1"]
    report = evaluate_model(loaded.model, loaded.tokenizer, val, loaded.info, loaded.links)
    assert report["entity_f1"] == pytest.approx(max(scores.values()))
    assert scores[report["decoder"]] == pytest.approx(report["entity_f1"])


def test_resume_continues_from_the_checkpoint(pages, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Stopped after epoch 1 then resumed = the same weights as an uninterrupted run."""
    import torch
    from safetensors.torch import load_file

    fields, labelled = pages
    one = TrainOptions(**{**SMOKE.__dict__, "epochs": 2, "patience": 99})
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    train(labelled[:2], [], fields, straight, one)
    # an interruption after epoch 1: run 1 epoch of the same schedule, keep the checkpoint
    events: list[str] = []

    class Stop(Exception):
        pass

    def stop_after_first_epoch(kind: str, info: dict) -> None:  # type: ignore[type-arg]
        events.append(kind)
        if kind == "epoch":
            raise Stop

    with pytest.raises(Stop):
        train(labelled[:2], [], fields, interrupted, one, progress=stop_after_first_epoch)
    assert "epoch" in events
    assert (interrupted / "checkpoint.pt").exists()
    # a checkpoint written before `metric` was an option resumes as made with its default
    state = torch.load(interrupted / "checkpoint.pt", weights_only=False)
    del state["options"]["metric"], state["best_score"]
    torch.save(state, interrupted / "checkpoint.pt")
    resumed = train(labelled[:2], [], fields, interrupted, one)
    assert resumed.epochs_run == 2
    a = load_file(str(straight / "model.safetensors"))
    b = load_file(str(interrupted / "model.safetensors"))
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


def test_predict_enriches_words_and_loads_in_trp(smoke_model: Path, funsd_import: Path) -> None:
    trp = pytest.importorskip("trp")
    from fieldwise.model.predict import Tagger, enrich
    from fieldwise.textract import TextractDocument

    tagger = Tagger.load(smoke_model)
    textract = sorted((funsd_import / "documents").glob("*/textract.json"))[0]
    doc = TextractDocument.load(textract)
    enriched = enrich(doc, tagger)
    assert doc.dumps() == textract.read_bytes()  # the input is left as it was
    words = [b for b in enriched["Blocks"] if b["BlockType"] == "WORD"]
    assert words and all("PredictedClass" in w for w in words)
    for w in words:
        probs = w["ClassificationProbabilities"]
        assert len(probs) == 4 and sum(probs) == pytest.approx(1.0, abs=1e-4)
        assert 0 <= w["PredictedClass"] <= 3
        assert w["PredictedClassConfidence"] == pytest.approx(probs[w["PredictedClass"]])
    again = TextractDocument.loads(json.dumps(enriched))
    assert again.page_count == doc.page_count
    assert len(trp.Document(enriched).pages) == 1
    # original values unchanged
    original = {b["Id"]: b for b in doc.blocks}
    for block in enriched["Blocks"]:
        for key, value in original[block["Id"]].items():
            assert block[key] == value


def test_target_page_runs_the_model_on_that_page_only(
    smoke_model: Path, funsd_import: Path
) -> None:
    from fieldwise.model.predict import Tagger, enrich
    from fieldwise.textract import TextractDocument

    tagger = Tagger.load(smoke_model)
    paths = sorted((funsd_import / "documents").glob("*/textract.json"))[:3]
    doc = TextractDocument.merge([TextractDocument.load(p) for p in paths])
    seen: list[int] = []
    original = tagger.predict_pages

    def spy(pages, batch_size=8):  # type: ignore[no-untyped-def]
        seen.extend(p.page_num for p in pages)
        return original(pages, batch_size)

    tagger.predict_pages = spy  # type: ignore[method-assign]
    enriched = enrich(doc, tagger, target_page_num=2)
    assert seen == [2]
    pages_with_predictions = {b["Page"] for b in enriched["Blocks"] if "PredictedClass" in b}
    assert pages_with_predictions == {2}
    assert enriched["DocumentMetadata"]["Pages"] == 3
    only = enrich(doc, tagger, target_page_num=2, target_page_only=True)
    assert only["DocumentMetadata"]["Pages"] == 1
    assert {b.get("Page", 1) for b in only["Blocks"]} == {1}
    assert all("PredictedClass" in b for b in only["Blocks"] if b["BlockType"] == "WORD")
    with pytest.raises(ValueError, match="out of range"):
        enrich(doc, tagger, target_page_num=9)


def test_onnx_matches_pytorch(smoke_model: Path, pages) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("onnxruntime")
    from fieldwise.model.onnx import export_onnx
    from fieldwise.model.predict import Tagger, window_probabilities

    export_onnx(smoke_model, int8=True)
    _, labelled = pages
    torch_tagger = Tagger.load(smoke_model)
    onnx_tagger = Tagger.load(smoke_model, "onnx")
    encoded = [encode_page(p, torch_tagger.loaded.tokenizer, torch_tagger.info.encode_options)
               for p in labelled[:3]]  # fmt: skip
    a = window_probabilities(torch_tagger.backend, encoded)
    b = window_probabilities(onnx_tagger.backend, encoded)
    assert max(float(np.abs(x - y).max()) for x, y in zip(a, b, strict=True)) < 1e-3
    int8_tagger = Tagger.load(smoke_model, "onnx-int8")
    int8 = int8_tagger.predict_pages(labelled[:2])
    assert [len(p.tags) for p in int8] == [len(p.words) for p in labelled[:2]]
    # int8 activations are scaled by each call's range: one window per call (the ONNX default)
    # makes a page's probabilities independent of the pages predicted with it
    assert int8_tagger.backend.batch_size == 1 and torch_tagger.backend.batch_size == 8
    alone = int8_tagger.predict_pages(labelled[1:2])[0].class_probs
    assert np.array_equal(alone, int8[1].class_probs)
    batched = window_probabilities(int8_tagger.backend, encoded, batch_size=3)
    single = window_probabilities(int8_tagger.backend, encoded)
    assert any(not np.array_equal(x, y) for x, y in zip(batched, single, strict=True))


def _int8_errors(model: Path, labelled: list[LabeledPage], int8_files: list[Path]) -> list[float]:
    """Each int8 file's mean probability error against fp32 ONNX on the pages."""
    from fieldwise.model.onnx import OnnxBackend
    from fieldwise.model.predict import Tagger, window_probabilities

    tagger = Tagger.load(model, "onnx")
    encoded = [encode_page(p, tagger.loaded.tokenizer, tagger.info.encode_options)
               for p in labelled]  # fmt: skip
    reference = window_probabilities(tagger.backend, encoded)
    errors = []
    for path in int8_files:
        probs = window_probabilities(OnnxBackend(path), encoded)
        errors.append(
            float(np.mean([np.abs(a - b).mean() for a, b in zip(probs, reference, strict=True)]))
        )
    return errors


def test_int8_smooths_with_the_training_ranges(smoke_model: Path, pages, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    onnx = pytest.importorskip("onnx")
    from fieldwise.model.onnx import export_onnx, quantize_int8
    from fieldwise.model.smoothing import load_ranges

    export_onnx(smoke_model, int8=True)
    ranges = load_ranges(smoke_model)
    assert ranges is not None
    graph = onnx.load(str(smoke_model / "model.int8.onnx")).graph
    ops = [n.op_type for n in graph.node]
    # query, key and value read one smoothed input: quantised once, as without smoothing
    assert ops.count("DynamicQuantizeLinear") == len(ranges.groups) < ops.count("MatMulInteger")
    plain = tmp_path / "plain.int8.onnx"
    quantize_int8(smoke_model / "model.onnx", plain)
    smoothed_error, plain_error = _int8_errors(
        smoke_model, pages[1], [smoke_model / "model.int8.onnx", plain]
    )
    print(f"int8 mean probability error: smoothed {smoothed_error:.5f}, plain {plain_error:.5f}")
    assert smoothed_error < plain_error


def test_int8_weights_are_rounded_by_gptq_on_the_training_windows(
    smoke_model: Path, pages, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    from fieldwise.model.gptq import CALIBRATION_FILE
    from fieldwise.model.onnx import export_onnx

    exported = export_onnx(smoke_model, int8=True)
    assert (exported.gptq_matrices, exported.int8_matrices) == (36, 36)
    nearest_folder = tmp_path / "nearest"  # the same folder without calibration windows
    nearest_folder.mkdir()
    for f in smoke_model.iterdir():
        if f.is_file() and f.name != CALIBRATION_FILE and not f.name.endswith(".onnx"):
            (nearest_folder / f.name).write_bytes(f.read_bytes())
    assert export_onnx(nearest_folder, int8=True).gptq_matrices == 0

    def weights(path: Path) -> dict[str, np.ndarray]:
        graph = onnx.load(str(path)).graph
        return {t.name: numpy_helper.to_array(t) for t in graph.initializer
                if t.name.endswith("_quantized")}  # fmt: skip

    gptq, nearest = (
        weights(smoke_model / "model.int8.onnx"),
        weights(nearest_folder / "model.int8.onnx"),
    )
    assert sorted(gptq) == sorted(nearest) and len(gptq) == 36  # 6 layers x 6 linear layers
    moved = [float(np.mean(gptq[n] != nearest[n])) for n in gptq]
    assert all(0 < m < 0.9 for m in moved)  # same levels, some weights one level over
    assert max(int(np.abs(gptq[n].astype(int) - nearest[n]).max()) for n in gptq) <= 16

    gptq_error, nearest_error = _int8_errors(
        smoke_model, pages[1], [smoke_model / "model.int8.onnx", nearest_folder / "model.int8.onnx"]
    )
    print(
        f"int8 mean probability error: GPTQ {gptq_error:.5f}, round-to-nearest {nearest_error:.5f}"
    )
    assert gptq_error < nearest_error


def test_cli_export_onnx_calibrates_folders_saved_without_ranges(
    smoke_model: Path, funsd_import: Path, tmp_path: Path
) -> None:
    pytest.importorskip("onnx")
    from typer.testing import CliRunner

    from fieldwise.cli import app

    old = tmp_path / "old"  # a folder from before `train` saved ranges and calibration windows
    old.mkdir()
    left_out = {"activation_ranges.safetensors", "calibration_windows.safetensors"}
    for f in smoke_model.iterdir():
        if f.is_file() and f.suffix != ".onnx" and f.name not in left_out:
            (old / f.name).write_bytes(f.read_bytes())
    runner = CliRunner()
    result = runner.invoke(app, ["export-onnx", str(old), "--int8"])
    assert result.exit_code == 0, result.output
    assert "no activation_ranges.safetensors" in " ".join(result.output.split())
    (old / "activation_ranges.safetensors").write_bytes(
        (smoke_model / "activation_ranges.safetensors").read_bytes()
    )
    result = runner.invoke(app, ["export-onnx", str(old), "--int8"])
    assert "no calibration_windows.safetensors" in " ".join(result.output.split())
    assert "rounded by GPTQ" not in " ".join(result.output.split())

    few = funsd_import / "calibrate.manifest.jsonl"  # beside the original: relative refs
    lines = (funsd_import / "pages.manifest.jsonl").read_text().splitlines()[:3]
    few.write_text("".join(f"{line}\n" for line in lines))
    result = runner.invoke(app, ["export-onnx", str(old), "--int8", "--calibrate", str(few)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "no calibration" not in output and "no activation" not in output
    assert (old / "calibration_windows.safetensors").is_file()
    unwrapped = "".join(result.output.split())  # rich may break a long path anywhere
    assert "model.int8.onnx" in unwrapped and "36of36weightmatricesroundedbyGPTQ" in unwrapped


def test_bad_model_folders_are_named(tmp_path: Path, smoke_model: Path) -> None:
    from fieldwise.model.artifacts import ModelFolderError, load_model_folder

    with pytest.raises(ModelFolderError, match="not found"):
        load_model_folder(tmp_path / "missing")
    with pytest.raises(ModelFolderError, match="fieldwise.json"):
        load_model_folder(tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in smoke_model.iterdir():
        if f.is_file():
            (broken / f.name).write_bytes(f.read_bytes())
    (broken / "links.json").write_text("[]")
    with pytest.raises(ModelFolderError, match="links.json: not a links file"):
        load_model_folder(broken)
    (broken / "fields.yaml").write_text("- name: a\n- name: b\n")
    with pytest.raises(ModelFolderError, match="differ"):
        load_model_folder(broken)


def test_cli_evaluate_predict_and_errors(
    smoke_model: Path, funsd_import: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from fieldwise.cli import app

    runner = CliRunner()
    manifest = funsd_import / "pages.manifest.jsonl"
    # the manifest's refs are relative to its folder: keep the copy beside the original
    few = funsd_import / "few.manifest.jsonl"
    few.write_text("".join(f"{line}\n" for line in manifest.read_text().splitlines()[:2]))
    report = tmp_path / "report.json"
    result = runner.invoke(
        app, ["evaluate", "--model", str(smoke_model), "--manifest", str(few), "--out", str(report)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    for key in ("entity_f1", "per_class", "n_examples", "acc", "focus_acc", "n_focus_examples",
                "focus_else_acc_minus_one"):  # fmt: skip
        assert key in data
    assert data["n_examples"] == 2
    assert (tmp_path / "report.confusion.png").stat().st_size > 1000

    textract = sorted((funsd_import / "documents").glob("*/textract.json"))[0]
    enriched = tmp_path / "enriched.json"
    result = runner.invoke(
        app, ["predict", str(textract), "--model", str(smoke_model), "--out", str(enriched)]
    )
    assert result.exit_code == 0, result.output
    assert "PredictedClass" in enriched.read_text()

    missing = tmp_path / "nope"
    result = runner.invoke(
        app, ["predict", str(textract), "--model", str(missing), "--out", str(enriched)]
    )
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "model folder not found" in output and "nope" in output

    wrong_fields = tmp_path / "fields.yaml"
    wrong_fields.write_text("- name: total\n")
    result = runner.invoke(
        app,
        ["train", "--train", str(few), "--fields", str(wrong_fields), "--out", str(tmp_path / "m")],
    )
    assert result.exit_code == 1
    assert "few.manifest.jsonl" in "".join(result.output.split())  # rich may break the path


def test_the_chosen_metric_picks_the_best_epoch_and_patience_stops(pages, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from fieldwise.model.scheme import StopMetric

    fields, labelled = pages
    options = TrainOptions(**{**SMOKE.__dict__, "epochs": 5, "patience": 1,
                              "metric": StopMetric.acc})  # fmt: skip
    result = train(labelled[:4], labelled[6:], fields, tmp_path, options)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    accs = [record["acc"] for record in metrics["history"]]
    best = accs.index(max(accs))  # the first epoch with the best accuracy
    assert metrics["metric"] == "acc" and metrics["best_epoch"] == result.best_epoch == best + 1
    assert metrics["best_score"] == result.best_score == accs[best]
    assert result.best_f1 == metrics["history"][best]["entity_f1"]
    if result.stopped == "patience":  # one epoch without a better accuracy ends it
        assert result.epochs_run == result.best_epoch + 1 < 5
    else:
        assert result.stopped == "epochs" and accs == sorted(set(accs)) and len(accs) == 5
    with pytest.raises(ValueError, match="patience must be at least 1"):
        train(labelled[:4], labelled[6:], fields, tmp_path / "p", replace(options, patience=0))


def test_cli_train_takes_the_metric_and_patience(funsd_import: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from fieldwise.cli import app

    manifest = funsd_import / "pages.manifest.jsonl"
    six = funsd_import / "six.manifest.jsonl"  # beside the original: its refs are relative
    six.write_text("".join(f"{line}\n" for line in manifest.read_text().splitlines()[:6]))
    out = tmp_path / "m"
    args = ["train", "--train", str(six), "--out", str(out), "--fields",
            str(funsd_import / "fields.yaml"), "--epochs", "2"]  # fmt: skip
    result = CliRunner().invoke(app, [*args, "--metric", "focus_acc", "--patience", "1"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["metric"] == "focus_acc" and metrics["options"]["patience"] == 1
    best = metrics["history"][metrics["best_epoch"] - 1]
    assert metrics["best_score"] == best["focus_acc"]
    assert f"focus_acc {best['focus_acc']:.4f}" in output
    held_out = metrics["validation_pages"]  # without --validation, forms picked by their hash
    assert 0 < held_out < 6 and metrics["train_pages"] == 6 - held_out
    result = CliRunner().invoke(app, [*args, "--metric", "loss"])
    assert result.exit_code == 2 and "loss" in result.output


def test_train_names_the_fields_labelled_on_too_few_documents(
    smoke_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What ``fieldwise train`` prints last: fields extract will report NotTrained, with the
    number of training documents each was labelled on (ignored fields left out)."""
    import shutil

    from fieldwise.commands.model import _warn_untrained

    folder = tmp_path / "m"
    shutil.copytree(smoke_model, folder)
    _warn_untrained(folder)
    assert "NotTrained" not in capsys.readouterr().out
    info = json.loads((folder / "fieldwise.json").read_text())
    info["trained_classes"] = ["question", "answer"]
    info["class_documents"] = {"header": 2, "question": 4, "answer": 4}
    (folder / "fieldwise.json").write_text(json.dumps(info))
    _warn_untrained(folder)
    out = " ".join(capsys.readouterr().out.split())
    assert "fewer than 3 training documents" in out and "NotTrained: header (2)" in out
