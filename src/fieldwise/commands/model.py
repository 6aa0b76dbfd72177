"""``fieldwise train``, ``evaluate``, ``predict`` and ``export-onnx``: the word classifier's CLI."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fieldwise.commands.common import console, fail
from fieldwise.model.scheme import Scheme, StopMetric

BACKENDS = ("torch", "onnx", "onnx-int8")


def _backend(value: str) -> str:
    if value not in BACKENDS:
        raise typer.BadParameter(f"expected one of {', '.join(BACKENDS)}")
    return value


def _metrics_table(report: dict[str, Any], title: str) -> Table:
    table = Table(title=title)
    for column in ("class", "precision", "recall", "F1", "entities"):
        table.add_column(column, justify="left" if column == "class" else "right")
    for name, v in sorted(report["per_class"].items()):
        table.add_row(
            name, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"])
        )
    table.add_row(
        "[bold]micro",
        f"{report['entity_precision']:.3f}",
        f"{report['entity_recall']:.3f}",
        f"[bold]{report['entity_f1']:.3f}",
        str(sum(v["support"] for v in report["per_class"].values())),
    )
    return table


def train_command(
    train: Annotated[Path, typer.Option("--train", help="Labelled page manifest (JSON Lines).")],
    fields: Annotated[Path, typer.Option(help="Field configuration (YAML/JSON).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write.")],
    validation: Annotated[
        Path | None, typer.Option(help="Validation manifest (default: hold out 10% of documents).")
    ] = None,
    scheme: Annotated[Scheme, typer.Option(help="Label scheme.")] = Scheme.bio,
    epochs: Annotated[
        int, typer.Option(min=1, help="Most epochs (the learning rate decays over them).")
    ] = 60,
    max_minutes: Annotated[float, typer.Option(min=0.1, help="Time budget in minutes.")] = 45.0,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same model).")] = 0,
    metric: Annotated[
        StopMetric,
        typer.Option(
            help="Validation metric that picks the best epoch and stops training: entity F1 "
            "(seqeval), word accuracy, or accuracy over words of a field (not 'other')."
        ),
    ] = StopMetric.entity_f1,
    patience: Annotated[
        int, typer.Option(min=1, help="Epochs without a better validation metric before stopping.")
    ] = 8,
    base_model: Annotated[
        Path | None,
        typer.Option(
            help="Local Hugging Face checkpoint folder: BERT-like or LayoutLM (built as LayoutLM "
            "v1), LiLT or LayoutLMv3 (kept as they are; LayoutLMv3 without its image branch). "
            "Default: MiniLM-L6."
        ),
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue from OUT/checkpoint.pt if there.")] = True,
    attr: Annotated[str, typer.Option(help="Manifest attribute holding the labels.")] = "label",
) -> None:
    """Train the layout-aware word classifier on labelled pages; keep the best epoch.

    The defaults are the measured best recipe (see README). Writes HF-format weights, tokenizer,
    fields.yaml, fieldwise.json (scheme, window, command) and metrics.json to OUT.

    Example: `fieldwise train --train out/funsd/pages.manifest.jsonl --fields
    out/funsd/fields.yaml --out models/funsd --max-minutes 45`

    Stop on word accuracy instead, after 4 epochs without a better one: `fieldwise train
    --train T.jsonl --fields F.yaml --out models/acc --metric acc --patience 4`

    From a local LiLT checkpoint: `fieldwise train --train T.jsonl --fields F.yaml --out
    models/lilt --base-model ~/checkpoints/lilt-roberta-en-base`
    """
    from fieldwise.annotate.dataset import load_labeled_pages
    from fieldwise.fields.config import load_fields
    from fieldwise.model.train import TrainOptions, split_validation
    from fieldwise.model.train import train as run_training

    try:
        config = load_fields(fields)
        pages = load_labeled_pages(train, config, attr)
        if not pages:
            raise ValueError(f"{train}: no page has labels under {attr!r}")
        if validation is not None:
            val_pages = load_labeled_pages(validation, config, attr)
        else:
            pages, val_pages = split_validation(pages, TrainOptions().validation_share)
    except ValueError as exc:
        raise fail(exc) from None
    options = TrainOptions(
        scheme=scheme,
        epochs=epochs,
        max_minutes=max_minutes,
        seed=seed,
        metric=metric,
        patience=patience,
        base_model=str(base_model) if base_model else None,
    )
    console.print(f"training on {len(pages)} pages, validating on {len(val_pages)}")
    command = shlex.join(["fieldwise", *sys.argv[1:]])
    columns = (
        TextColumn("[bold]train"),
        BarColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("", total=None)

        def show(kind: str, info: dict[str, Any]) -> None:
            if kind == "step":
                bar.update(
                    task,
                    completed=info["step"],
                    total=info["steps"],
                    description=f"epoch {info['epoch'] + 1}/{epochs} loss {info['loss']:.3f}",
                )
            elif kind == "epoch":
                shown = ""
                if "entity_f1" in info:  # validated this epoch
                    also = f"  {metric} {info[metric]:.3f}" if metric != "entity_f1" else ""
                    shown = (
                        f"val F1 {info['entity_f1']:.3f} ({info['decoder']}){also}; "
                        f"best {metric} {info['best_score']:.3f}"
                    )
                console.print(
                    f"epoch {info['epoch']:>3}  loss {info['loss']:.4f}  {shown}  "
                    f"{info['minutes']:.1f} min"
                )

        try:
            result = run_training(pages, val_pages, config, out, options, command, show, resume)
        except ValueError as exc:
            raise fail(exc) from None
    by_metric = "" if metric is StopMetric.entity_f1 else f", {metric} {result.best_score:.4f}"
    console.print(
        f"best epoch {result.best_epoch} (val entity F1 {result.best_f1:.4f}{by_metric}), "
        f"{result.epochs_run} epochs in {result.minutes:.1f} min, stopped by {result.stopped}; "
        f"model: {out}"
    )
    _warn_untrained(out)


def _warn_untrained(out: Path) -> None:
    """Name the fields labelled on too few documents: extract reports them NotTrained."""
    from fieldwise.model.artifacts import MIN_FIELD_DOCUMENTS, load_info, reported_untrained

    info, config = load_info(out)
    if untrained := reported_untrained(info, config):
        counts = info.class_documents or {}
        listed = ", ".join(f"{c} ({counts.get(c, 0)})" for c in untrained)
        console.print(
            f"[yellow]fields labelled on fewer than {MIN_FIELD_DOCUMENTS} training documents "
            f"(documents in brackets) are reported NotTrained: {listed}"
        )


def evaluate_command(
    model: Annotated[Path, typer.Option(help="Model folder from `fieldwise train`.")],
    manifest: Annotated[Path, typer.Option(help="Labelled page manifest.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Report JSON to write.")],
    backend: Annotated[
        str, typer.Option(callback=_backend, help="torch, onnx or onnx-int8.")
    ] = "torch",
    attr: Annotated[str, typer.Option(help="Manifest attribute holding the labels.")] = "label",
) -> None:
    """Entity precision/recall/F1 per class (seqeval) and the original token metrics.

    Writes REPORT.json and REPORT.confusion.png beside it.

    Example: `fieldwise evaluate --model models/funsd --manifest val/pages.manifest.jsonl
    --out reports/funsd.json`
    """
    from fieldwise.model.evaluate import evaluate_manifest, write_report
    from fieldwise.model.predict import Tagger

    try:
        tagger = Tagger.load(model, backend)
        report = evaluate_manifest(tagger, manifest, attr)
    except ValueError as exc:
        raise fail(exc) from None
    png = write_report(report, out)
    console.print(_metrics_table(report, f"{model} on {manifest} ({report['pages']} pages)"))
    console.print(
        f"acc {report['acc']:.4f}  focus_acc {report['focus_acc']:.4f}  "
        f"{report['pages_per_second']} pages/s ({backend}); report: {out}, {png}"
    )


def predict_command(
    textract: Annotated[Path, typer.Argument(help="Textract JSON to enrich.")],
    model: Annotated[Path, typer.Option(help="Model folder from `fieldwise train`.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Enriched Textract JSON to write.")],
    target_page_num: Annotated[
        int | None, typer.Option(min=1, help="Enrich only this page (1-based).")
    ] = None,
    target_page_only: Annotated[bool, typer.Option(help="Output only the target page.")] = False,
    backend: Annotated[
        str, typer.Option(callback=_backend, help="torch, onnx or onnx-int8.")
    ] = "torch",
) -> None:
    """Add PredictedClass, PredictedClassConfidence and ClassificationProbabilities to each WORD.

    Example: `fieldwise predict --model models/funsd out/documents/1a2b/textract.json --out
    enriched.json --target-page-num 1`
    """
    from fieldwise.model.predict import Tagger, enrich
    from fieldwise.textract import TextractDocument, TextractFormatError

    try:
        tagger = Tagger.load(model, backend)
        doc = TextractDocument.load(textract)
        enriched = enrich(doc, tagger, target_page_num, target_page_only)
    except (ValueError, TextractFormatError) as exc:
        raise fail(exc) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(json.dumps(enriched).encode())
    words = sum(1 for b in enriched["Blocks"] if "PredictedClass" in b)
    console.print(f"{words} words classified → {out}")


def export_onnx_command(
    model: Annotated[Path, typer.Argument(help="Model folder from `fieldwise train`.")],
    int8: Annotated[bool, typer.Option(help="Also write an int8-quantised copy.")] = False,
    manifest: Annotated[
        Path | None,
        typer.Option(help="Labelled manifest on which to report the F1 each backend reaches."),
    ] = None,
    calibrate: Annotated[
        Path | None,
        typer.Option(
            help="Pages manifest (labels not needed) on which to measure the activation ranges"
            " that int8 smooths by and to sample the windows its weights are rounded on; `train`"
            " saves both itself, this is for older folders."
        ),
    ] = None,
) -> None:
    """Export the model to ONNX (MODEL/model.onnx, with --int8 also MODEL/model.int8.onnx).

    int8 first smooths the encoder's inputs by the activation ranges `train` measured on its
    pages (MODEL/activation_ranges.safetensors), then rounds the weights with GPTQ on 64 of its
    training windows (MODEL/calibration_windows.safetensors; 16 s in all on 2 cores). With
    --manifest, evaluates PyTorch and each export on it and prints the F1 each loses.

    Example: `fieldwise export-onnx models/funsd --int8 --manifest val/pages.manifest.jsonl`
    """
    from fieldwise.model.evaluate import evaluate_manifest
    from fieldwise.model.gptq import CALIBRATION_FILE
    from fieldwise.model.onnx import export_onnx
    from fieldwise.model.predict import Tagger
    from fieldwise.model.smoothing import RANGES_FILE

    try:
        if calibrate is not None:
            from fieldwise.model.smoothing import calibrate_folder

            console.print(f"wrote {calibrate_folder(model, calibrate)}")
        written = export_onnx(model, int8)
    except ValueError as exc:
        raise fail(exc) from None
    for path in written.paths:
        console.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    if written.gptq_matrices:
        console.print(
            f"int8: {written.gptq_matrices} of {written.int8_matrices} weight matrices rounded"
            " by GPTQ"
        )
    if int8 and not (model / RANGES_FILE).is_file():
        console.print(
            f"[yellow]{model}: no {RANGES_FILE}, so int8 quantised the inputs unsmoothed;"
            " `--calibrate PAGES.jsonl` measures them (smaller int8 loss)"
        )
    elif int8 and not (model / CALIBRATION_FILE).is_file():
        console.print(
            f"[yellow]{model}: no {CALIBRATION_FILE}, so int8 rounded each weight to the"
            " nearest level; `--calibrate PAGES.jsonl` samples them (smaller int8 loss)"
        )
    if manifest is None:
        return
    table = Table(title=f"{model} on {manifest}")
    for column in ("backend", "entity F1", "Δ F1 vs torch", "pages/s"):
        table.add_column(column, justify="left" if column == "backend" else "right")
    base = None
    for name in ["torch", "onnx"] + (["onnx-int8"] if int8 else []):
        report = evaluate_manifest(Tagger.load(model, name), manifest)
        base = report["entity_f1"] if base is None else base
        table.add_row(
            name,
            f"{report['entity_f1']:.4f}",
            f"{report['entity_f1'] - base:+.4f}",
            f"{report['pages_per_second']}",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the model commands to the root ``fieldwise`` app."""
    app.command("train")(train_command)
    app.command("evaluate")(evaluate_command)
    app.command("predict")(predict_command)
    app.command("export-onnx")(export_onnx_command)
