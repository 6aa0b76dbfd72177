"""Consolidating labelling jobs, sampling pages to label, and splitting by document."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fieldwise.annotate.consolidate import consolidate
from fieldwise.annotate.manifest import Manifest
from fieldwise.annotate.sampling import page_key, sample_pages, split_by_document

from .conftest import SHARED

REFERENCE = SHARED / "pdfs" / "reference_annotations" / "aws-textract-transformer-pipeline"


@pytest.fixture(scope="module")
def funsd(funsd_import: Path) -> Path:
    return funsd_import


def _as_job(funsd: Path, lines: list[int], job: str, bucket: str, tmp: Path) -> Path:
    """A Ground Truth job output like the cloud's: own attribute, s3:// refs, class-map by name."""
    manifest = Manifest.load(funsd / "pages.manifest.jsonl")
    path = tmp / f"{job}.manifest"
    with path.open("w") as out:
        for index in lines:
            data = dict(manifest.pages[index].data)
            for key in ("raw-ref", "source-ref", "textract-ref", "thumbnail-ref"):
                data[key] = f"{bucket}{data[key]}"
            data[job] = data.pop("label")
            meta = data.pop("label-metadata")
            if job == "job-b":  # another job numbered the classes differently
                remap = {0: 7, 1: 5, 2: 6}
                for box in data[job]["annotations"]:
                    box["class_id"] = remap[box["class_id"]]
                meta["class-map"] = {"7": "header", "5": "question", "6": "answer"}
            data[f"{job}-metadata"] = meta
            out.write(json.dumps(data) + "\n")
    return path


def test_jobs_merge_under_one_attribute_with_classes_by_name(funsd: Path, tmp_path: Path) -> None:
    bucket = "s3://DOC-EXAMPLE-BUCKET/prefix/"
    job_a = _as_job(funsd, [0, 1, 2], "job-a", bucket, tmp_path)
    job_b = _as_job(funsd, [2, 3], "job-b", bucket, tmp_path)
    out = tmp_path / "merged"
    result = consolidate([job_a, job_b], out, maps=[(bucket, str(funsd) + "/")])
    assert result.problems == []
    assert len(result.pages) == 4 and result.relabelled == 1
    assert result.class_names == {0: "header", 1: "question", 2: "answer"}
    original = Manifest.load(funsd / "pages.manifest.jsonl")
    for page, index in zip(result.pages, [0, 1, 2, 3], strict=True):
        assert "job-a" not in page.data and "job-b-metadata" not in page.data
        labels, before = page.labels("label"), original.pages[index].labels("label")
        assert labels is not None and before is not None
        assert [a.class_id for a in labels.annotations] == [a.class_id for a in before.annotations]
        assert (out / page.data["source-ref"]).resolve() == (
            funsd / original.pages[index].data["source-ref"]
        ).resolve()


def test_missing_files_and_pages_are_reported(funsd: Path, tmp_path: Path) -> None:
    job = _as_job(funsd, [0, 1], "job-a", "gone/", tmp_path)
    result = consolidate([job], tmp_path)
    assert len(result.pages) == 2
    assert sum("does not exist" in p.reason for p in result.problems) == 4
    lines = [json.loads(x) for x in job.read_text().splitlines()]
    lines[0].update({k: str(funsd / v[5:]) for k, v in lines[0].items() if k.endswith("-ref")})
    lines[0]["page-num"] = 3
    job.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    result = consolidate([job], tmp_path)
    assert any("page-num 3 not in 1..1" in p.reason for p in result.problems)


def test_reference_manifests_report_their_absent_files(tmp_path: Path) -> None:
    if not REFERENCE.exists():
        pytest.skip(f"shared data not found: {REFERENCE}")
    jobs = [
        REFERENCE / "augmentation-1" / "output.manifest",
        REFERENCE / "augmentation-2" / "output.manifest",
    ]
    out = tmp_path / "labels.jsonl"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "fieldwise.cli",
            "annotate",
            "consolidate",
            *map(str, jobs),
            "--out",
            str(out),
            "--map-prefix",
            f"s3://DOC-EXAMPLE-BUCKET/EXAMPLE-PREFIX/={tmp_path}/",
            "--strict",
        ],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": ""},
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "100 pages point at files that are not there" in run.stdout
    merged = Manifest.load(out)
    assert len(merged) == 100
    names = {n for p in merged for n in (p.data["label-metadata"]["class-map"].values())}
    assert len(names) == 18
    problems = (tmp_path / "labels.problems.jsonl").read_text().splitlines()
    assert len(problems) == 200 and all(
        "does not exist" in json.loads(p)["reason"] for p in problems
    )


def test_sample_is_reproducible_boosts_first_pages_and_skips_labelled(
    pdf_dir: Path, tmp_path: Path
) -> None:
    manifest = Manifest.load(REPO_INGEST(pdf_dir, tmp_path))
    first = sample_pages(manifest, 30, 0.4, seed=7)
    assert [p.data for p in first] == [p.data for p in sample_pages(manifest, 30, 0.4, seed=7)]
    assert [p.data for p in first] != [p.data for p in sample_pages(manifest, 30, 0.4, seed=8)]
    assert len(first) == 30 and sum(p.page_num == 1 for p in first) == 12
    documents = {page_key(manifest, p)[0] for p in manifest}
    assert {page_key(manifest, p)[0] for p in first} == documents  # 30 picks reach all 15
    labelled = Manifest(first, manifest.base)
    second = sample_pages(manifest, 30, 0.4, seed=7, exclude=[labelled])
    assert not {page_key(manifest, p) for p in first} & {page_key(manifest, p) for p in second}
    everything = sample_pages(manifest, 10_000, 0.4, seed=1)
    assert len(everything) == len(manifest)


def REPO_INGEST(pdf_dir: Path, tmp_path: Path) -> Path:  # noqa: N802
    """A few real PDFs ingested without images (fast): a page manifest to sample from."""
    from fieldwise.ingest.options import IngestOptions
    from fieldwise.ingest.runner import ingest

    pdfs = sorted(pdf_dir.glob("*.pdf"))[::3]
    ingest(pdfs, tmp_path / "in", IngestOptions(write_images=False, workers=1))
    return tmp_path / "in" / "pages.manifest.jsonl"


def test_split_never_puts_a_document_on_both_sides(funsd: Path, tmp_path: Path) -> None:
    manifest = Manifest.load(funsd / "pages.manifest.jsonl")
    train, test = split_by_document(manifest, 0.1, seed=3)
    assert len(train) + len(test) == 149 and len(test) == 15
    pdf_like = Manifest(
        [type(p)(dict(p.data, **{"page-num": n})) for p in manifest.pages[:20] for n in (1, 2, 3)],
        manifest.base,
    )
    train, test = split_by_document(pdf_like, 0.25, seed=3)
    train_docs = {page_key(pdf_like, p)[0] for p in train}
    test_docs = {page_key(pdf_like, p)[0] for p in test}
    assert train_docs and test_docs and not train_docs & test_docs
    assert len(test) == 15
    assert split_by_document(pdf_like, 0.25, seed=3) == (train, test)


def test_split_holds_out_documents_by_file_name(pdf_dir: Path, tmp_path: Path) -> None:
    path = REPO_INGEST(pdf_dir, tmp_path)
    manifest = Manifest.load(path)
    names = {p.data["raw-ref"].rsplit("/", 1)[-1] for p in manifest}
    held_issuer = sorted(n.split("__")[0] for n in names)[0]
    run = [sys.executable, "-m", "fieldwise.cli", "annotate", "split", str(path)]
    done = subprocess.run(
        [*run, "--hold-out", f"{held_issuer}__*", "--train-out", str(tmp_path / "a.jsonl"),
         "--test-out", str(tmp_path / "b.jsonl")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "test:" in done.stdout
    train, test = Manifest.load(tmp_path / "a.jsonl"), Manifest.load(tmp_path / "b.jsonl")
    assert len(train) + len(test) == len(manifest)
    assert test.pages and all(
        p.data["raw-ref"].rsplit("/", 1)[-1].startswith(f"{held_issuer}__") for p in test
    )
    assert not any(p.data["raw-ref"].rsplit("/", 1)[-1].startswith(held_issuer) for p in train)
    nothing = subprocess.run([*run, "--hold-out", "nobody__*"], capture_output=True, text=True)
    assert nothing.returncode == 1 and "no document's file name matches" in nothing.stdout
