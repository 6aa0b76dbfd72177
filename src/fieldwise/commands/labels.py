"""``fieldwise annotate import-funsd | consolidate | sample | split``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fieldwise.annotate.consolidate import consolidate
from fieldwise.annotate.funsd import LineMode, import_funsd
from fieldwise.annotate.manifest import Manifest, ManifestError, parse_prefix_maps, write_jsonl
from fieldwise.annotate.sampling import (
    page_key,
    sample_pages,
    save_pages,
    split_by_document,
    split_by_name,
)
from fieldwise.commands.annotate import app
from fieldwise.commands.common import console, fail, progress
from fieldwise.fields import FieldConfigError, load_fields


@app.command("import-funsd")
def import_funsd_command(
    split_dir: Annotated[
        Path, typer.Argument(help="A FUNSD split folder with annotations/ and images/.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    lines: Annotated[
        LineMode, typer.Option(help="rows: OCR-like lines; entities: one entity per line.")
    ] = LineMode.rows,
) -> None:
    """Import FUNSD forms: Textract JSON, page images, a labelled manifest and fields.yaml.

    Writes `OUT/documents/<id>/` (as ingest does), `OUT/pages.manifest.jsonl` with one Ground
    Truth box per FUNSD entity under `label` (header, question, answer; FUNSD's `other` is our
    "other") and `OUT/fields.yaml`. Words are in reading order; lines are visual rows split
    at wide gaps as OCR gives them (`--lines entities`: an entity's words on one row, which
    tells a model where entities end — not for evaluation).

    Example: `fieldwise annotate import-funsd ../shared/data/funsd/training_data --out out/funsd`
    """
    with progress("import", "forms") as bar:
        task = bar.add_task("", total=None)

        def show(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=name)

        try:
            report = import_funsd(split_dir, out, on_form=show, lines=lines)
        except (ValueError, OSError) as exc:
            raise fail(exc) from None
    table = Table(title=f"FUNSD {split_dir} → {out}")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("forms", str(report.forms))
    table.add_row("words", f"{report.words:,}")
    table.add_row("entities", f"{report.entities:,}")
    table.add_row("label boxes (header/question/answer)", f"{report.labelled_boxes:,}")
    table.add_row("empty FUNSD words left out", str(report.empty_words_skipped))
    console.print(table)
    console.print(f"manifest: {out / 'pages.manifest.jsonl'}  fields: {out / 'fields.yaml'}")


def _load(path: Path) -> Manifest:
    try:
        return Manifest.load(path)
    except ManifestError as exc:
        raise fail(exc) from None


def _absolute_new_prefixes(pairs: list[str]) -> list[tuple[str, str]]:
    """OLD=NEW pairs with a relative NEW taken from the current folder."""
    try:
        maps = parse_prefix_maps(pairs)
    except ValueError as exc:
        raise fail(exc) from None
    out = []
    for old, new in maps:
        if "://" not in new and not Path(new).is_absolute():
            new = str(Path.cwd() / new) + ("/" if new.endswith("/") else "")
        out.append((old, new))
    return out


@app.command("consolidate")
def consolidate_command(
    jobs: Annotated[list[Path], typer.Argument(help="Ground Truth output manifests of the jobs.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The consolidated manifest to write.")],
    label_attr: Annotated[str, typer.Option(help="Attribute to hold the labels.")] = "label",
    map_prefix: Annotated[
        list[str] | None,
        typer.Option(help="Rewrite refs: OLD=NEW (repeatable; relative NEW is from here)."),
    ] = None,
    fields: Annotated[
        Path | None, typer.Option(help="Field configuration fixing the class ids.")
    ] = None,
    strict: Annotated[bool, typer.Option(help="Exit with code 1 if a file is missing.")] = False,
) -> None:
    """Merge labelling jobs into one manifest, rewrite refs by prefix, and check every file.

    Each job's label attribute (the one with a `-metadata`) moves to `--label-attr`; classes
    are unified by name; a page labelled twice keeps the later job's boxes. Every image,
    Textract JSON and page number is checked, and what is missing is listed.

    Example: `fieldwise annotate consolidate job1/output.manifest job2/output.manifest --out
    labels.jsonl --map-prefix s3://DOC-EXAMPLE-BUCKET/EXAMPLE-PREFIX/=data/`
    """
    names = None
    if fields is not None:
        try:
            names = load_fields(fields).class_names
        except FieldConfigError as exc:
            raise fail(exc) from None
    maps = _absolute_new_prefixes(map_prefix or [])
    try:
        result = consolidate(jobs, out.parent, label_attr, maps, names)
    except (ManifestError, ValueError) as exc:
        raise fail(exc) from None
    Manifest(result.pages, out.parent, str(out)).save(out, relative_to_new_folder=False)
    table = Table(title=f"consolidated → {out}")
    table.add_column("job")
    table.add_column("pages", justify="right")
    for job, count in result.jobs.items():
        table.add_row(job, str(count))
    table.add_row("[bold]pages written", str(len(result.pages)))
    table.add_row("pages labelled by more than one job (last kept)", str(result.relabelled))
    console.print(table)
    console.print("classes: " + ", ".join(f"{i}={n}" for i, n in result.class_names.items()))
    if result.problems:
        pages = len({p.source for p in result.problems})
        console.print(f"[yellow]{pages} pages point at files that are not there, e.g.:")
        for problem in result.problems[:6]:
            console.print(f"  {problem.source}: {problem.reason}", soft_wrap=True)
        listing = out.with_name(out.stem + ".problems.jsonl")
        write_jsonl(listing, ({"line": p.source, "reason": p.reason} for p in result.problems))
        console.print(f"all {len(result.problems)} problems: {listing}")
        if strict:
            raise typer.Exit(1)
    else:
        console.print("every image, Textract JSON and page number exists")


@app.command("sample")
def sample_command(
    pages: Annotated[Path, typer.Argument(help="A page manifest (e.g. OUT/pages.manifest.jsonl).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The job manifest to write.")],
    n: Annotated[int, typer.Option("--n", min=1, help="How many pages.")] = 100,
    first_page_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of first pages in the sample.")
    ] = 0.4,
    exclude: Annotated[
        list[Path] | None, typer.Option(help="Manifests of pages already labelled (repeatable).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same sample.")] = 0,
) -> None:
    """Pick pages to label: reproducible, first pages boosted, spread over documents.

    Example: `fieldwise annotate sample out/pages.manifest.jsonl --n 100 --first-page-share 0.4
    --exclude labels.jsonl --seed 7 --out job.jsonl`
    """
    manifest = _load(pages)
    excluded = [_load(p) for p in exclude or []]
    chosen = sample_pages(manifest, n, first_page_share, seed, excluded)
    save_pages(chosen, manifest, out)
    documents = len({page_key(manifest, p)[0] for p in chosen})
    firsts = sum(p.page_num == 1 for p in chosen)
    console.print(f"{len(chosen)} pages ({firsts} first pages) from {documents} documents → {out}")


@app.command("split")
def split_command(
    manifest_path: Annotated[Path, typer.Argument(help="A labelled page manifest.")],
    test_share: Annotated[float, typer.Option(help="Share of pages for the test side.")] = 0.1,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same split.")] = 0,
    hold_out: Annotated[
        list[str] | None,
        typer.Option(
            help="Put every document whose file name matches this glob on the test side "
            "(repeatable; replaces --test-share), e.g. to test on an unseen issuer."
        ),
    ] = None,
    train_out: Annotated[Path | None, typer.Option(help="Default: M.train.jsonl")] = None,
    test_out: Annotated[Path | None, typer.Option(help="Default: M.test.jsonl")] = None,
) -> None:
    """Split a manifest into train and test **by document** (no document on both sides).

    Example: `fieldwise annotate split labels.jsonl --test-share 0.1 --seed 7`, or
    `fieldwise annotate split labels.jsonl --hold-out 'amex__*'` to test on one issuer's files.
    """
    manifest = _load(manifest_path)
    try:
        if hold_out:
            train, test = split_by_name(manifest, hold_out)
        else:
            train, test = split_by_document(manifest, test_share, seed)
    except ValueError as exc:
        raise fail(exc) from None
    stem = manifest_path.with_suffix("")
    train_out = train_out or stem.with_name(stem.name + ".train.jsonl")
    test_out = test_out or stem.with_name(stem.name + ".test.jsonl")
    save_pages(train, manifest, train_out)
    save_pages(test, manifest, test_out)
    for name, side, path in (("train", train, train_out), ("test", test, test_out)):
        docs = len({page_key(manifest, p)[0] for p in side})
        console.print(f"{name}: {len(side)} pages from {docs} documents → {path}")
