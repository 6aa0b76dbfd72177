"""Early stopping on a split-off share of the pages, then training again on every page.

Why: early stopping needs pages the model does not learn from, and with a hundred or so
labelled pages the tenth held out for it is a tenth of the data lost. So the first run picks
the number of epochs on the held-out share; a second run then trains afresh on all the pages
with the same learning-rate schedule (it spans ``options.epochs`` either way), stops after the
epoch the first run found best, and decodes with the decoder the first run picked.

The second run happens only when the time budget affords it (the first run did not stop on
time, and its epochs at the first run's pace, scaled by the pages, fit in what is left);
otherwise the first run's model is kept and ``metrics.json`` says why.

Example::

    pages, val = split_validation(all_pages, options.validation_share)
    result = train_and_refit(pages, val, fields, Path("models/funsd"), options)
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from fieldwise.annotate.dataset import LabeledPage
from fieldwise.fields.config import FieldConfig
from fieldwise.model.artifacts import METRICS_FILE, load_info
from fieldwise.model.train import ProgressFn, TrainOptions, TrainResult, train

#: The second run trains here and its files replace the first run's when it ends.
REFIT_DIR = "refit"
#: ``metrics.json``'s ``refit`` value between the two runs (an interrupted run resumes there).
PENDING = "pending"


def train_and_refit(
    train_pages: list[LabeledPage],
    val_pages: list[LabeledPage],
    fields: FieldConfig,
    out: Path,
    options: TrainOptions,
    command: str = "",
    progress: ProgressFn | None = None,
    resume: bool = True,
) -> TrainResult:
    """``train``, then (with ``options.refit`` and validation pages) train again on both."""
    if not options.refit or not val_pages:
        return train(train_pages, val_pages, fields, out, options, command, progress, resume)
    metrics_file = out / METRICS_FILE
    metrics = _read(metrics_file) if resume else {}
    if metrics.get("refit") == PENDING:  # the first run had finished: resume the second
        first = TrainResult(
            metrics["best_entity_f1"] or 0.0, metrics["best_epoch"], metrics["epochs_run"],
            metrics["minutes"], metrics["history"], metrics["stopped"],
            metrics.get("best_score") or 0.0,
        )  # fmt: skip
    else:
        shutil.rmtree(out / REFIT_DIR, ignore_errors=True)
        first = train(train_pages, val_pages, fields, out, options, command, progress, resume)
        metrics = _read(metrics_file)
    all_pages = [*train_pages, *val_pages]
    per_epoch = first.minutes / max(1, first.epochs_run) * len(all_pages) / len(train_pages)
    needed = first.minutes + per_epoch * first.best_epoch
    if first.stopped == "time" or needed > options.max_minutes:
        return _note(metrics_file, metrics, first, "skipped: the time budget cannot afford it")
    metrics["refit"] = PENDING
    metrics_file.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    if progress:
        progress("refit", {"pages": len(all_pages), "epochs": first.best_epoch})
    refit_dir = out / REFIT_DIR
    second = train(
        all_pages, [], fields, refit_dir, replace(options, refit=False), command, progress, resume,
        stop_after=first.best_epoch, decoder=load_info(out)[0].decoder,
    )  # fmt: skip
    for path in refit_dir.iterdir():  # the refitted model replaces the first, file by file
        path.replace(out / path.name)
    refit_dir.rmdir()
    refitted = _read(metrics_file)
    summary = {"pages": len(all_pages), "epochs": second.epochs_run, "minutes": second.minutes,
               "history": refitted["history"]}  # fmt: skip
    minutes = first.minutes + second.minutes
    metrics.update(minutes=round(minutes, 2), train_pages=len(all_pages), refit=summary)
    metrics_file.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    return replace(first, minutes=minutes)


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _note(path: Path, metrics: dict[str, Any], first: TrainResult, why: str) -> TrainResult:
    metrics["refit"] = why
    path.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    return first
