"""Consolidate labelling jobs: many Ground Truth output manifests → one attribute, checked.

Each job writes its boxes under its own attribute (the job name, e.g. ``augmentation-1``) and
its refs under the storage prefix it ran against (``s3://DOC-EXAMPLE-BUCKET/…``). Consolidation
finds each line's label attribute, moves it (and its ``-metadata``) to one attribute, rewrites
refs by prefix to where the files are now, unifies class ids by class name, and checks that
every image, Textract JSON and page number exists. A page labelled by several jobs keeps the
last job's labels (a later job is a correction), and the report counts them.

Example::

    result = consolidate([Path("job1.manifest"), Path("job2.manifest")],
                         maps=[("s3://bucket/data/", "/srv/data/")])
    result.problems     # [] when every referenced file exists
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from fieldwise.annotate.manifest import (
    REFS,
    BoxAnnotation,
    BoxLabels,
    Manifest,
    ManifestError,
    PageRecord,
    map_prefix,
    rebase_refs,
)


@dataclass(frozen=True, slots=True)
class Problem:
    source: str  # "job.manifest:12"
    reason: str


@dataclass
class ConsolidateResult:
    pages: list[PageRecord]
    class_names: dict[int, str]
    problems: list[Problem] = field(default_factory=list)
    jobs: dict[str, int] = field(default_factory=dict)  # job manifest → pages read
    relabelled: int = 0  # pages labelled by more than one job (the last one kept)


def label_attribute(data: dict[str, Any]) -> str | None:
    """The attribute a Ground Truth job wrote its boxes under (the one with ``-metadata``)."""
    for key, value in data.items():
        if key.endswith("-metadata") or key in REFS or key == "page-num":
            continue
        if isinstance(value, dict) and "annotations" in value and f"{key}-metadata" in data:
            return key
    return None


def _unify(labels: BoxLabels, names: dict[str, int], where: str) -> BoxLabels:
    """Renumber a page's classes so one name has one id across all jobs."""
    annotations = []
    for a in labels.annotations:
        name = labels.class_map.get(a.class_id)
        if name is None:
            raise ValueError(f"{where}: class id {a.class_id} has no name in its class-map")
        class_id = names.get(name)
        if class_id is None:  # keep the job's id unless another name already has it
            taken = set(names.values())
            class_id = a.class_id if a.class_id not in taken else max(taken) + 1
            names[name] = class_id
        annotations.append(BoxAnnotation(class_id, a.left, a.top, a.width, a.height, a.entity))
    return BoxLabels(labels.width, labels.height, tuple(annotations), {}, labels.depth)


class RefChecker:
    """Checks the files manifest lines point at; each Textract JSON is read once, not per page."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._pages: dict[Path, int | None] = {}  # Textract file → page count (None: not Textract)

    def page_count(self, path: Path) -> int | None:
        if path not in self._pages:
            try:
                self._pages[path] = int(
                    orjson.loads(path.read_bytes())["DocumentMetadata"]["Pages"]
                )
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                self._pages[path] = None
        return self._pages[path]

    def missing(self, data: dict[str, Any]) -> list[str]:
        """What is missing among the files a line points at (empty when all exist)."""
        problems = []
        for key in ("source-ref", "textract-ref"):
            ref = data.get(key)
            if not isinstance(ref, str):
                problems.append(f"no {key}")
                continue
            if "://" in ref:
                problems.append(f"{key} {ref} is a URI that no --map-prefix maps to a local path")
                continue
            path = self.base / ref  # an absolute ref stays absolute
            if not path.is_file():
                problems.append(f"{key} {ref} does not exist")
            elif key == "textract-ref":
                pages = self.page_count(path)
                if pages is None:
                    problems.append(f"textract-ref {ref} is not Textract JSON")
                elif not 1 <= int(data.get("page-num", 1)) <= pages:
                    problems.append(f"page-num {data.get('page-num')} not in 1..{pages} of {ref}")
        return problems


def consolidate(
    jobs: Sequence[Path],
    out_dir: Path,
    attr: str = "label",
    maps: Sequence[tuple[str, str]] = (),
    class_names: Sequence[str] | None = None,
) -> ConsolidateResult:
    """Merge job manifests into pages with labels under ``attr``; refs relative to ``out_dir``.

    ``class_names`` (e.g. a field configuration's) fixes the class ids; otherwise the jobs'
    ids are kept where they agree on names, and a name met under a taken id gets a new id.
    Malformed lines raise ``ManifestError``.
    """
    names: dict[str, int] = {n: i for i, n in enumerate(class_names or [])}
    fixed = class_names is not None
    by_key: dict[tuple[str, int], tuple[PageRecord, BoxLabels | None]] = {}
    result = ConsolidateResult([], {})
    checker = RefChecker(out_dir)
    for job in jobs:
        manifest = Manifest.load(job)
        result.jobs[str(job)] = len(manifest)
        for number, record in enumerate(manifest.pages, start=1):
            where = f"{job}:{number}"
            data = map_prefix(record.data, maps)
            data = rebase_refs(data, manifest.base, out_dir)
            job_attr = label_attribute(data)
            labels = None
            if job_attr is not None:
                try:
                    parsed = PageRecord(data).labels(job_attr)
                    assert parsed is not None
                    before = len(names)
                    labels = _unify(parsed, names, where)
                    if fixed and len(names) > before:
                        unknown = list(names)[before:]
                        raise ValueError(f"{where}: classes {unknown} are not in the fields")
                except ValueError as exc:
                    raise ManifestError(str(job), number, str(exc)) from None
                data = {
                    k: v for k, v in data.items() if k not in (job_attr, f"{job_attr}-metadata")
                }
            key = (
                str(data.get("textract-ref") or data.get("source-ref")),
                int(data.get("page-num", 1)),
            )
            if key in by_key and labels is not None and by_key[key][1] is not None:
                result.relabelled += 1
            if labels is not None or key not in by_key:
                by_key[key] = (PageRecord(data), labels)
            for reason in checker.missing(data):
                result.problems.append(Problem(where, reason))
    result.class_names = dict(sorted((i, n) for n, i in names.items()))
    for record, labels in by_key.values():
        if labels is not None:
            named = BoxLabels(
                labels.width, labels.height, labels.annotations, result.class_names, labels.depth
            )
            record = record.with_labels(attr, named, job_name="consolidated")
        result.pages.append(record)
    return result
