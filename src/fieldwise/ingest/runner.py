"""Ingest a set of files: plan documents, run page tasks in parallel, write each document whole.

Example::

    report = ingest(["../shared/data/pdfs"], Path("out"), IngestOptions(workers=2))
    print(report.documents_done, report.pages, report.failures)

A document is written only when all of its pages succeeded (into a working folder renamed at
the end), so an interrupted or failed run never leaves half a document behind; the next run
skips what is complete and redoes the rest.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from fieldwise.ingest.discovery import discover
from fieldwise.ingest.errors import IngestError
from fieldwise.ingest.filetypes import detect_kind
from fieldwise.ingest.images import image_page_count
from fieldwise.ingest.options import IngestOptions
from fieldwise.ingest.pages import PageResult, PageTask, run_page_task
from fieldwise.ingest.pdf import open_pdf
from fieldwise.ingest.store import TEXTRACT, DocumentRecord, Failure, Store, safe_name, sha256_of
from fieldwise.ingest.textract_input import find_textract, load_textract
from fieldwise.textract.build import join_page_json
from fieldwise.textract.document import TextractDocument


@dataclass
class Progress:
    pages_done: int
    pages_total: int
    document: str


@dataclass
class IngestReport:
    documents_done: int = 0
    documents_skipped: int = 0
    pages: int = 0
    words: int = 0
    text_sources: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    doc_ids: list[str] = field(default_factory=list)  # this run's documents, new or already there


@dataclass
class _Plan:
    """One document on its way through the run."""

    path: Path
    record: DocumentRecord
    work: Path
    textract: TextractDocument | None = None
    pending: int = 0
    pages: list[PageResult] = field(default_factory=list)
    failed: bool = False


def ingest(
    inputs: list[str | Path],
    out_dir: Path,
    options: IngestOptions | None = None,
    textract_dir: Path | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> IngestReport:
    """Ingest ``inputs`` (files or folders) into ``out_dir``; bad files are reported, not raised."""
    options = options or IngestOptions()
    started = time.perf_counter()
    store = Store(out_dir)
    report = IngestReport()
    files, missing = discover(inputs)
    report.failures += [Failure(m.path, m.reason, "detect") for m in missing]
    plans = list(_plan_documents(files, store, options, textract_dir, report))
    total = sum(p.record.pages for p in plans)
    done = 0
    for plan, result in _run_tasks(plans, options):
        if isinstance(result, IngestError):
            if not plan.failed:
                report.failures.append(Failure(str(plan.path), result.reason, result.stage))
            plan.failed = True
        else:
            plan.pages.extend(result)
            done += len(result)
            if on_progress:
                on_progress(Progress(done, total, plan.path.name))
        plan.pending -= 1
        if plan.pending == 0:
            _finish_document(plan, store, report)
    store.write_manifests(report.failures)
    report.seconds = time.perf_counter() - started
    return report


def _plan_documents(
    files: list[Path],
    store: Store,
    options: IngestOptions,
    textract_dir: Path | None,
    report: IngestReport,
) -> Iterator[_Plan]:
    seen: set[str] = set()
    for path in files:
        try:
            kind = detect_kind(path)
            sha = sha256_of(path)
            doc_id = sha[:16]
            if doc_id in seen or (store.is_complete(doc_id) and not options.force):
                report.documents_skipped += 1
                if doc_id not in seen:
                    report.doc_ids.append(doc_id)
                    seen.add(doc_id)
                continue
            seen.add(doc_id)
            pages = _count_pages(path, kind, options)
            textract = None
            if textract_dir is not None:
                found = find_textract(textract_dir, path)
                if found is None:
                    raise IngestError(f"no Textract JSON for it in {textract_dir}", "textract")
                textract = load_textract(found, pages)
            work = store.start(doc_id)
            name = safe_name(path.name)
            _copy_original(path, work / name)
        except IngestError as exc:
            report.failures.append(Failure(str(path), exc.reason, exc.stage))
            continue
        except OSError as exc:
            report.failures.append(Failure(str(path), f"cannot read or copy: {exc}", "open"))
            continue
        record = DocumentRecord(
            doc_id, sha, kind, name, str(path), pages, images=options.write_images
        )
        yield _Plan(path, record, work, textract)


def _count_pages(path: Path, kind: str, options: IngestOptions) -> int:
    if kind == "pdf":
        with open_pdf(path) as pdf:
            return len(pdf)
    return image_page_count(path, options.max_pixels)


def _copy_original(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _tasks(plan: _Plan, options: IngestOptions) -> list[PageTask]:
    numbers = list(range(1, plan.record.pages + 1))
    size = max(1, options.pages_per_task)
    return [
        PageTask(
            str(plan.path),
            plan.record.kind,
            tuple(numbers[i : i + size]),
            str(plan.work),
            options,
            plan.record.sha256,
            read_text=plan.textract is None,
        )
        for i in range(0, len(numbers), size)
    ]


def _run_tasks(
    plans: list[_Plan], options: IngestOptions
) -> Iterator[tuple[_Plan, list[PageResult] | IngestError]]:
    """Yield each task's result as it completes; at most ``2 × workers`` tasks in flight."""
    queue = [(plan, task) for plan in plans for task in _tasks(plan, options)]
    for plan, _ in queue:
        plan.pending += 1
    if options.workers <= 1:
        for plan, task in queue:
            yield plan, _safe_run(task)
        return
    with ProcessPoolExecutor(max_workers=options.workers, initializer=_init_worker) as pool:
        running: dict[Future[list[PageResult] | IngestError], _Plan] = {}
        position = 0
        while position < len(queue) or running:
            while position < len(queue) and len(running) < 2 * options.workers:
                plan, task = queue[position]
                running[pool.submit(_safe_run, task)] = plan
                position += 1
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                yield running.pop(future), future.result()


def _init_worker() -> None:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one core per worker; pools give parallelism


def _safe_run(task: PageTask) -> list[PageResult] | IngestError:
    try:
        return run_page_task(task)
    except IngestError as exc:
        return exc


def _finish_document(plan: _Plan, store: Store, report: IngestReport) -> None:
    pages = sorted(plan.pages, key=lambda p: p.number)
    textract, plan.pages, plan.textract = plan.textract, [], None  # the run keeps no page data
    if plan.failed:
        shutil.rmtree(plan.work, ignore_errors=True)
        return
    record = plan.record
    record.page_sizes = [[p.width, p.height] for p in pages]
    try:
        if textract is not None:
            raw = textract.dumps()
            record.text_sources = {"textract": record.pages}
            record.words = sum(1 for _ in textract.words())
        else:
            raw = join_page_json([p.blocks_json for p in pages])
            for p in pages:
                record.text_sources[p.text_source] = record.text_sources.get(p.text_source, 0) + 1
            record.words = sum(p.words for p in pages)
        (plan.work / TEXTRACT).write_bytes(raw)
        record.save(plan.work / "document.json")
        store.commit(record.doc_id, plan.work)
    except OSError as exc:
        shutil.rmtree(plan.work, ignore_errors=True)
        report.failures.append(Failure(str(plan.path), f"cannot write output: {exc}", "write"))
        return
    report.documents_done += 1
    report.doc_ids.append(record.doc_id)
    report.pages += record.pages
    report.words += record.words
    for source, count in record.text_sources.items():
        report.text_sources[source] = report.text_sources.get(source, 0) + count
