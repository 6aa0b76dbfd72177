"""Credit-card agreements end to end, measured the way it will be used: on unseen issuers.

Pipeline per fold (default flags throughout): the ingested shared PDFs → weak labels from the
known values (``annotate from-values``) → ``train`` on the training issuers' pages → predict and
build fields for the held-out issuers' documents → field-level precision/recall/F1 against
``gold_fields.json``. Folds leave one issuer group out: American Express (23 files), Chase (9),
and every other issuer together (11 files, 8 issuers) — a model never sees the template it is
scored on. Prints a table per fold, per field and overall; writes
benchmarks/results/credit_cards.json.

Run from the repository root (after ``make run`` has ingested the PDFs)::

    .venv/bin/python benchmarks/credit_cards.py --max-minutes 10
    .venv/bin/python benchmarks/credit_cards.py --quick    # smoke: 2 minutes per fold
    .venv/bin/python benchmarks/credit_cards.py --reuse    # re-score the fold models in --work
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path, PurePosixPath

from rich.console import Console

from fieldwise.annotate.dataset import load_labeled_pages
from fieldwise.annotate.from_values import label_from_values
from fieldwise.annotate.from_values import load_gold as load_known_values
from fieldwise.annotate.manifest import Manifest
from fieldwise.commands.fields import print_confidence_curve, print_fields_report
from fieldwise.fields.config import load_fields
from fieldwise.fields.evaluate import Counts, FieldsReport, confidence_curve, evaluate_fields
from fieldwise.fields.evaluate import load_gold as load_gold_values
from fieldwise.fields.run import document_result
from fieldwise.fields.votes import fit_votes, load_votes, missing_votes
from fieldwise.ingest.options import IngestOptions
from fieldwise.ingest.runner import ingest
from fieldwise.model.artifacts import (
    class_documents,
    load_info,
    save_info,
    trained_class_names,
)
from fieldwise.model.links import LINKS_FILE, fit_links, save_links
from fieldwise.model.predict import Tagger
from fieldwise.model.train import (
    TrainOptions,
    add_changes_argument,
    changed_options,
    split_validation,
    train,
)
from fieldwise.textract.document import TextractDocument

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data" / "pdfs"
FOLDS = {"amex": {"amex"}, "chase": {"chase"}}  # everything else is the third fold, "others"
console = Console()


def issuer_group(file_name: str) -> str:
    issuer = file_name.split("__", 1)[0]
    return next((fold for fold, issuers in FOLDS.items() if issuer in issuers), "others")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=REPO / ".fieldwise" / "pdfs")
    parser.add_argument("--work", type=Path, default=REPO / ".fieldwise" / "bench-cc")
    parser.add_argument("--fields", type=Path, default=REPO / "examples/credit-cards/fields.yaml")
    parser.add_argument("--max-minutes", type=float, default=TrainOptions().max_minutes)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep a fold's finished model in --work (its metrics.json) instead of training: "
        "re-scores field building and decoding on the same predictions",
    )
    parser.add_argument("--folds", nargs="*", default=["amex", "chase", "others"])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/credit_cards.json")
    add_changes_argument(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    minutes = 2.0 if args.quick else args.max_minutes
    options = changed_options(TrainOptions(max_minutes=minutes), args.set)

    started = time.perf_counter()
    pdfs = sorted(SHARED.glob("*.pdf"))
    ingest(pdfs, args.store, IngestOptions())  # a no-op when `make run` already ingested them
    fields = load_fields(args.fields)
    known = load_known_values(SHARED / "gold_fields.json", [f.name for f in fields.fields])
    weak = label_from_values(known, Manifest.load(args.store / "pages.manifest.jsonl"), fields)
    pages = load_labeled_pages(weak.manifest, fields)
    gold = load_gold_values(SHARED / "gold_fields.json")
    file_of = {  # a page's document (its textract-ref, as in page keys) → original file name
        r.data["textract-ref"]: PurePosixPath(r.data["raw-ref"]).name for r in weak.manifest.pages
    }
    console.print(f"{len(pages)} labelled pages from {len(set(file_of.values()))} documents")

    results: dict[str, dict] = {}
    overall = Counts()
    per_field: dict[str, Counts] = defaultdict(Counts)
    every_result: dict[str, dict] = {}  # all folds' documents, each scored by a model blind to it
    for fold in args.folds:
        test_docs = {
            name: weak.manifest.resolve(ref)
            for ref, name in file_of.items()
            if issuer_group(name) == fold
        }
        train_pages = [p for p in pages if issuer_group(file_of[p.document]) != fold]
        fit, val = split_validation(train_pages, 0.1)
        out = args.work / fold
        fold_started = time.perf_counter()
        if args.reuse and (out / "metrics.json").exists():
            metrics = json.loads((out / "metrics.json").read_text())
            best_f1, train_minutes, reused = metrics["best_entity_f1"], metrics["minutes"], True
            epochs = metrics["epochs_run"]
            console.print(f"fold {fold}: reusing the model in {out}")
            if missing_votes(out, fields):  # folders trained before a vote existed
                fit_votes(out, train_pages, fields)
            if not (out / LINKS_FILE).exists():  # nor before the boundary model
                save_links(out, fit_links(fit))
            info = load_info(out)[0]
            if info.class_documents is None:  # nor before the folder counted its fields' documents
                info.trained_classes = trained_class_names(fit, fields)
                info.class_documents = class_documents(fit, fields)
                save_info(out, info)
        else:
            trained = train(fit, val, fields, out, options, resume=False)
            best_f1, epochs = trained.best_f1, trained.epochs_run
            train_minutes, reused = (time.perf_counter() - fold_started) / 60, False
        tagger = Tagger.load(out)
        votes = load_votes(out, fields)
        fold_results = {}
        for name, path in sorted(test_docs.items()):
            doc = TextractDocument.load(path)
            _, fold_results[name] = document_result(doc, tagger, fields, votes=votes)
        report = evaluate_fields(gold, fold_results)
        every_result.update(fold_results)
        overall.add(report.overall)
        for field_name, counts in report.per_field.items():
            per_field[field_name].add(counts)
        results[fold] = {
            "test_documents": len(test_docs),
            "train_pages": len(fit),
            "validation_pages": len(val),
            "train_minutes": round(train_minutes, 2),
            "epochs": epochs,  # what the budget allowed on this machine
            "best_validation_entity_f1": best_f1,
            "reused_model": reused,
            **report.to_json(),
        }
        console.print(
            f"fold {fold}: {len(test_docs)} test documents, F1 {report.overall.f1:.3f} "
            f"(P {report.overall.precision:.3f}, R {report.overall.recall:.3f}), "
            f"trained {train_minutes:.1f} min, {epochs} epochs"
        )

    print_fields_report(
        FieldsReport(overall, dict(per_field)),
        "credit cards, issuers unseen in training (leave one group out)",
    )
    curve = confidence_curve(gold, every_result)
    print_confidence_curve(curve)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "folds": results,
                "overall": overall.to_json(),
                "per_field": {k: v.to_json() for k, v in sorted(per_field.items())},
                "confidence_curve": curve,
                "max_minutes_per_fold": minutes,
                "train_option_changes": args.set,
                "seconds": round(time.perf_counter() - started, 1),
            },
            indent=2,
        )
    )
    console.print(f"written {args.out}")


if __name__ == "__main__":
    main()
