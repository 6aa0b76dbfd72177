"""``extract``: documents in, fields out — ingest (or reuse), predict, build each result.

Per document the store folder gains ``enriched.json`` (Textract JSON whose WORDs carry the
model's predictions) and ``result.json``; the run writes ``OUT/results.jsonl`` (one line per
document: ``raw-ref`` and its result) and ``OUT/results.csv`` (one row per document, one
column per field). A document that fails is reported with the reason; the others go on.

Example::

    report = extract_documents([Path("agreements/")], Path("models/cc"), Path("out"))
    [d.result["Confidence"] for d in report.documents]
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import orjson

from fieldwise.fields.config import FieldConfig
from fieldwise.fields.detections import detect
from fieldwise.fields.evaluate import predicted_values
from fieldwise.fields.extract import DEFAULT_REVIEW_THRESHOLD, build_result
from fieldwise.fields.votes import Votes, load_votes, missing_votes
from fieldwise.ingest.options import IngestOptions
from fieldwise.ingest.runner import IngestReport, ingest
from fieldwise.ingest.store import META, TEXTRACT, DocumentRecord, Failure, Store
from fieldwise.textract.document import TextractDocument
from fieldwise.textract.schema import ResponseDict

if TYPE_CHECKING:
    from fieldwise.model.predict import Tagger

RESULTS = "results.jsonl"
RESULTS_CSV = "results.csv"
ENRICHED = "enriched.json"
RESULT = "result.json"


@dataclass
class ExtractedDocument:
    doc_id: str
    raw_ref: str
    result: dict[str, Any]


@dataclass
class ExtractReport:
    ingest: IngestReport
    documents: list[ExtractedDocument] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # what a user should know about the run


def document_result(
    doc: TextractDocument,
    tagger: Tagger,
    config: FieldConfig,
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD,
    votes: Votes | None = None,
) -> tuple[TextractDocument, dict[str, Any]]:
    """``doc`` enriched with the model's predictions, and the fields built from them
    (``votes``: the model folder's, ``load_votes``)."""
    from fieldwise.model.predict import enrich

    # enrich() copies the validated blocks and only adds prediction keys: no need to validate again
    enriched = TextractDocument(cast(ResponseDict, enrich(doc, tagger)), doc.source)
    detections = detect(enriched, config, votes=votes)
    untrained = tagger.info.untrained_classes
    kinds = votes.value_kinds if votes is not None else None
    return enriched, build_result(detections, config, review_threshold, untrained, kinds)


def extract_documents(
    inputs: list[Path],
    model_dir: Path,
    out_dir: Path,
    fields: FieldConfig | None = None,
    options: IngestOptions | None = None,
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD,
    backend: str = "torch",
    on_document: Callable[[int, int, str], None] | None = None,
) -> ExtractReport:
    """Ingest ``inputs`` into ``out_dir`` (reusing what is there), then predict and build fields."""
    from fieldwise.model.artifacts import (  # torch loads only when extracting
        MIN_FIELD_DOCUMENTS,
        check_fields_match,
        reported_untrained,
    )
    from fieldwise.model.predict import Tagger

    started = time.perf_counter()
    tagger = Tagger.load(model_dir, backend=backend)
    model_fields = tagger.loaded.fields
    if fields is not None:
        check_fields_match(model_fields.class_names, fields, "--fields")
    config = fields or model_fields
    votes = load_votes(Path(model_dir), config)
    report = ExtractReport(ingest(list(inputs), out_dir, options or IngestOptions()))
    if missing := missing_votes(Path(model_dir), config):
        report.notes.append(
            f"{model_dir} has no {', '.join(missing)} (trained before these votes existed): "
            "their fields are classed by the tagger alone; train it again to add them"
        )
    if untrained := reported_untrained(tagger.info, config):
        report.notes.append(
            f"{model_dir} was trained on fewer than {MIN_FIELD_DOCUMENTS} documents labelled "
            f"with {', '.join(untrained)}: these fields are reported empty (NotTrained); "
            "label them on more documents and train again"
        )
    report.failures += report.ingest.failures
    store = Store(out_dir)
    for number, doc_id in enumerate(report.ingest.doc_ids, start=1):
        folder = store.folder(doc_id)
        record = DocumentRecord.load(folder / META)
        if on_document:
            on_document(number, len(report.ingest.doc_ids), record.file_name)
        raw_ref = f"documents/{doc_id}/{record.file_name}"
        try:
            doc = TextractDocument.load(folder / TEXTRACT)
            enriched, result = document_result(doc, tagger, config, review_threshold, votes)
            enriched.save(folder / ENRICHED)
            (folder / RESULT).write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
        except (ValueError, OSError) as exc:
            report.failures.append(Failure(record.source_path, str(exc), "extract"))
            continue
        report.documents.append(ExtractedDocument(doc_id, raw_ref, result))
    write_results(out_dir, report.documents, config)
    report.seconds = time.perf_counter() - started
    return report


def write_results(out_dir: Path, documents: list[ExtractedDocument], config: FieldConfig) -> None:
    """``results.jsonl`` and ``results.csv`` for this run's documents."""
    with (out_dir / RESULTS).open("wb") as out:
        for d in documents:
            out.write(orjson.dumps({"raw-ref": d.raw_ref, "result": d.result}) + b"\n")
    names = [f.name for f in config.fields if not f.ignore]
    with (out_dir / RESULTS_CSV).open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["raw-ref", "confidence", "review", *names])
        for d in documents:
            fields = d.result["Fields"]
            writer.writerow(
                [
                    d.raw_ref,
                    f"{d.result['Confidence']:.3f}",
                    "yes" if d.result["Review"]["Required"] else "no",
                    *(" | ".join(predicted_values(fields.get(n))) for n in names),
                ]
            )
