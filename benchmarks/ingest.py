"""Benchmark fieldwise ingest against the plain tools a user would otherwise script.

What it measures, all in one run (W = --workers parallel processes on both sides):

1. Text layer only: fieldwise ``ocr=text, write_images=False`` vs ``pdftotext -bbox`` per PDF.
2. Full ingest: fieldwise ``ocr=auto`` with 150-dpi page images and thumbnails vs
   ``pdftoppm -r 150 -png`` + ``pdftotext -bbox`` per PDF.
3. Agreement of run 1's words with pdftotext's: word recall and box IoU, per page.
4. OCR: fieldwise ``ocr=tesseract`` on FUNSD images vs one bare tesserocr call per page,
   with the same upscaling to 200 dpi that fieldwise applies (so the engine does the same work).
5. OCR word F1 against the FUNSD gold words (alphanumeric tokens, micro over pages).
6. Peak memory of each configuration.

Every configuration runs in a fresh subprocess (this script with a hidden ``--_measure NAME``)
so its peak memory is its own, and each writes into a fresh temporary folder. Prints a table
(ratio = fieldwise / baseline) and writes the raw numbers as JSON to
benchmarks/results/ingest.json (git-ignored) or ``--out``. A full run takes ~4 min on 2 cores.

Run from the repository root::

    .venv/bin/python benchmarks/ingest.py --quick          # smoke run: 5 PDFs, 5 FUNSD pages
    .venv/bin/python benchmarks/ingest.py --workers 2 --out /tmp/ingest.json
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import html
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

# fieldwise is imported inside the functions that need it, so that a baseline's measuring process
# stays a bare Python: a tool it starts inherits its peak RSS (Linux ru_maxrss survives exec).
# fieldwise.ingest.ocr.tesseract in particular loads libtesseract, whose OpenMP runtime reads
# OMP_THREAD_LIMIT once, when loaded; fieldwise's own workers set it before that.
if TYPE_CHECKING:
    from fieldwise.textract.geometry import Box

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"word_recall": 0.99, "median_iou": 0.7, "ocr_overhead": 0.10, "ocr_f1": 0.85}
_BBOX_TAG = re.compile(
    r'<page width="([\d.]+)" height="([\d.]+)"|'
    r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">(.*?)</word>'
)

# --------------------------------------------------------------------------- inputs


def pdf_files(args: argparse.Namespace) -> list[Path]:
    files = sorted(args.pdfs.glob("*.pdf"))  # the folder also holds README, CSV, JSON files
    return files[:5] if args.quick else files


def funsd_images(args: argparse.Namespace) -> list[Path]:
    count = 5 if args.quick else args.funsd_pages
    return sorted((args.funsd / "images").glob("*.png"))[:count]


# --------------------------------------------------------------------------- measurements
# Each runs in its own process and returns raw numbers; ``seconds`` is wall time around the
# work only (interpreter start and imports excluded, worker pool start included on both sides).

FIELDWISE = {  # name: (inputs, OCR mode, other IngestOptions besides workers)
    "fw-text": (pdf_files, "text", {"write_images": False}),
    "fw-full": (pdf_files, "auto", {"dpi": 150, "write_images": True}),
    "fw-ocr": (funsd_images, "tesseract", {"write_images": True}),
}


def measure_fieldwise(name: str, args: argparse.Namespace, out: Path) -> dict:
    from fieldwise.ingest.options import IngestOptions, OcrMode
    from fieldwise.ingest.runner import ingest

    inputs, mode, options = FIELDWISE[name]
    options = IngestOptions(ocr=OcrMode(mode), workers=args.workers, **options)
    started = time.perf_counter()
    report = ingest(list(inputs(args)), out, options)
    seconds = time.perf_counter() - started
    failures = [f"{f.raw_ref}: {f.reason}" for f in report.failures]
    return {"pages": report.pages, "words": report.words, "seconds": seconds, "failures": failures}


def pdftotext_bbox(pdf: Path, out: Path) -> int:
    """``pdftotext -bbox`` into ``out/<stem>.html``; the number of pages it wrote."""
    target = out / f"{pdf.stem}.html"
    subprocess.run(["pdftotext", "-bbox", pdf, target], check=True, stderr=subprocess.DEVNULL)
    return target.read_text(encoding="utf-8", errors="replace").count("<page ")


def pdftoppm_and_pdftotext(pdf: Path, out: Path) -> int:
    """150-dpi PNG pages with ``pdftoppm``, then words; the number of pages rendered."""
    (out / pdf.stem).mkdir()
    subprocess.run(["pdftoppm", "-r", "150", "-png", pdf, out / pdf.stem / "p"], check=True)
    pdftotext_bbox(pdf, out)
    return len(list((out / pdf.stem).glob("*.png")))


def measure_poppler(name: str, args: argparse.Namespace, out: Path) -> dict:
    """Run the poppler tool(s) once per PDF, ``workers`` processes at a time."""
    work = pdftotext_bbox if name == "base-text" else pdftoppm_and_pdftotext
    pdfs = pdf_files(args)
    started = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:  # threads that each wait on a process
        pages = sum(pool.map(lambda pdf: work(pdf, out), pdfs))
    return {"pages": pages, "seconds": time.perf_counter() - started}


_API = None  # one tesserocr API per baseline worker process


def _init_tesseract() -> None:
    global _API
    os.environ["OMP_THREAD_LIMIT"] = "1"  # before libtesseract loads, as fieldwise's workers do
    import tesserocr

    from fieldwise.ingest.ocr.tesseract import find_tessdata

    _API = tesserocr.PyTessBaseAPI(path=find_tessdata(), lang="eng")


def bare_ocr(task: tuple[Path, Path]) -> int:
    """The bare engine on one image, upscaled exactly as fieldwise does; words to JSON."""
    import tesserocr
    from PIL import Image

    from fieldwise.ingest.ocr.base import MIN_OCR_DPI, estimated_dpi

    image_path, out = task
    image = Image.open(image_path)
    dpi = estimated_dpi(image)
    if dpi < MIN_OCR_DPI * 0.95:  # fieldwise's rule (ocr/base.py) for scans under 200 dpi
        scale = MIN_OCR_DPI / dpi
        size = (round(image.width * scale), round(image.height * scale))
        image = image.resize(size, Image.Resampling.BICUBIC)
    _API.SetImage(image)
    _API.Recognize()
    words = []
    for item in tesserocr.iterate_level(_API.GetIterator(), tesserocr.RIL.WORD):
        try:
            text = item.GetUTF8Text(tesserocr.RIL.WORD)
        except RuntimeError:  # an empty word
            continue
        box = item.BoundingBox(tesserocr.RIL.WORD)
        words.append({"text": text, "box": box, "conf": item.Confidence(tesserocr.RIL.WORD)})
    (out / f"{image_path.stem}.json").write_text(json.dumps(words))
    return 1


def measure_bare_ocr(name: str, args: argparse.Namespace, out: Path) -> dict:
    import multiprocessing

    tasks = [(image, out) for image in funsd_images(args)]
    started = time.perf_counter()
    with multiprocessing.Pool(args.workers, initializer=_init_tesseract) as pool:
        pages = sum(pool.map(bare_ocr, tasks, chunksize=1))
        pool.close()
        pool.join()  # reaped, so the workers count in RUSAGE_CHILDREN
    return {"pages": pages, "seconds": time.perf_counter() - started}


MEASURES = {  # run in this order; both sides of a comparison run back to back
    "fw-text": measure_fieldwise,
    "base-text": measure_poppler,
    "fw-full": measure_fieldwise,
    "base-full": measure_poppler,
    "fw-ocr": measure_fieldwise,
    "base-ocr": measure_bare_ocr,
}


def measure_in_child(args: argparse.Namespace) -> None:
    """The ``--_measure`` mode: run one configuration, print its numbers as one JSON line."""
    result = MEASURES[args._measure](args._measure, args, Path(args._dir))
    # Peak memory = the largest resident set of any single process doing the work. For fieldwise
    # that is this process (it calls ingest() as a user's program would) or any of its reaped
    # workers; for a baseline only the tools' processes (pdftotext, pdftoppm, the tesserocr pool),
    # not this harness. ru_maxrss of RUSAGE_CHILDREN is a max over children, not a sum; in KiB.
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if args._measure in FIELDWISE:
        peak_kib = max(peak_kib, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    result["peak_mib"] = peak_kib / 1024
    print(json.dumps(result))


def measure(name: str, args: argparse.Namespace, out: Path) -> dict:
    """Run ``--_measure name`` in a fresh Python process writing into ``out``."""
    forwarded = {
        "--_measure": name,
        "--_dir": out,
        "--pdfs": args.pdfs,
        "--funsd": args.funsd,
        "--funsd-pages": args.funsd_pages,
        "--workers": args.workers,
    }
    command = [sys.executable, __file__, *(str(v) for kv in forwarded.items() for v in kv)]
    done = subprocess.run(command + ["--quick"] * args.quick, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"measurement {name} failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {name:<10} {result['pages']:>4} pages {result['seconds']:7.1f} s", file=sys.stderr)
    return result


# --------------------------------------------------------------------------- quality


def fieldwise_pages(out: Path) -> dict[str, list[list[tuple[str, Box]]]]:
    """Source file stem → pages → (word text, box) from an ingest output folder."""
    from fieldwise.textract import TextractDocument

    documents = {}
    for line in (out / "documents.manifest.jsonl").read_text().splitlines():
        entry = json.loads(line)
        doc = TextractDocument.load(out / entry["textract-ref"])
        pages = [[(w.text, w.box) for w in page.words] for page in doc.pages]
        documents[Path(entry["source-path"]).stem] = pages
    return documents


def pdftotext_pages(path: Path) -> list[list[tuple[str, Box]]]:
    """Pages → (word text, box in page fractions) from ``pdftotext -bbox`` XHTML."""
    from fieldwise.textract.geometry import Box

    pages: list[list[tuple[str, Box]]] = []
    width = height = 1.0
    for m in _BBOX_TAG.finditer(path.read_text(encoding="utf-8", errors="replace")):
        if m.group(1):
            width, height = float(m.group(1)), float(m.group(2))
            pages.append([])
        else:
            x0, y0, x1, y1 = (float(v) for v in m.group(3, 4, 5, 6))
            box = Box(x0 / width, y0 / height, x1 / width, y1 / height)
            pages[-1].append((html.unescape(m.group(7)), box))
    return pages


def compare_page(ours: list, reference: list) -> tuple[int, list[float]]:
    """Words in common (multiset of texts) and each reference word's best same-text IoU."""
    common = Counter(t for t, _ in ours) & Counter(t for t, _ in reference)
    boxes = defaultdict(list)
    for text, box in ours:
        boxes[text].append(box)
    ious = [max(box.iou(b) for b in boxes[t]) for t, box in reference if boxes[t]]
    return sum(common.values()), ious


def agreement(fw_out: Path, base_out: Path) -> dict:
    """Word recall and box IoU of fieldwise's text-layer words against pdftotext's."""
    fieldwise = fieldwise_pages(fw_out)
    common = total = 0
    ious: list[float] = []
    per_pdf = {}
    for path in sorted(base_out.glob("*.html")):
        reference, ours = pdftotext_pages(path), fieldwise.get(path.stem, [])
        doc_common = doc_total = 0
        for number, ref_words in enumerate(reference):
            hits, page_ious = compare_page(ours[number] if number < len(ours) else [], ref_words)
            doc_common, doc_total = doc_common + hits, doc_total + len(ref_words)
            ious += page_ious
        per_pdf[path.stem] = {
            "recall": doc_common / max(doc_total, 1),
            "words": doc_total,
            "pages": len(ours),
            "pages_pdftotext": len(reference),
        }
        common, total = common + doc_common, total + doc_total
    return {
        "word_recall": common / max(total, 1),
        "words_pdftotext": total,
        "median_iou": statistics.median(ious) if ious else 0.0,
        "share_iou_05": sum(v >= 0.5 for v in ious) / max(len(ious), 1),
        "matched_words": len(ious),
        "per_pdf": per_pdf,
    }


def tokens(texts: Iterable[str]) -> Counter:
    """Alphanumeric tokens: FUNSD splits "Wave(s)" into "Wave", "(s)"; OCR splits at spaces."""
    return Counter(tok for text in texts for tok in re.findall(r"\w+", text))


def f1(predicted: dict[str, Counter], funsd: Path) -> dict:
    """Micro precision/recall/F1 of token multisets against FUNSD's gold words, over pages."""
    hit = pred = gold = 0
    for stem, ours in predicted.items():
        form = json.loads((funsd / "annotations" / f"{stem}.json").read_text())["form"]
        truth = tokens(word["text"] for entry in form for word in entry["words"])
        hit += sum((ours & truth).values())
        pred, gold = pred + sum(ours.values()), gold + sum(truth.values())
    p, r = hit / max(pred, 1), hit / max(gold, 1)
    f1 = 2 * p * r / max(p + r, 1e-9)
    return {"precision": p, "recall": r, "f1": f1, "pages": len(predicted)}


def ocr_f1(funsd: Path, fw_out: Path, base_out: Path) -> dict:
    fw = {
        stem: tokens(t for page in pages for t, _ in page)
        for stem, pages in fieldwise_pages(fw_out).items()
    }
    base = {
        p.stem: tokens(w["text"] for w in json.loads(p.read_text()))
        for p in base_out.glob("*.json")
    }
    return {"fieldwise": f1(fw, funsd), "baseline": f1(base, funsd)}


# --------------------------------------------------------------------------- report


def row(label: str, fw: float, base: float | None, digits: int, check: tuple = ("", None)) -> tuple:
    """One table row: measurement, fieldwise, baseline, ratio fieldwise/baseline, target, ok."""
    cells = [f"{fw:.{digits}f}", "" if base is None else f"{base:.{digits}f}"]
    ratio = f"{fw / base:.2f}" if base else ""
    target, ok = check
    return (label, *cells, ratio, target, "" if ok is None else "yes" if ok else "[red]NO[/red]")


def goal(key: str, value: float) -> tuple[str, bool]:
    """(target text, met?) for a quality measure where higher is better."""
    return f"≥ {TARGETS[key]}", value >= TARGETS[key]


def rows(r: dict) -> list[tuple]:
    a, fw_ocr, base_ocr, f1s = r["agreement"], r["fw-ocr"], r["base-ocr"], r["ocr_f1"]
    out = []
    for key, label in (("text", "1 text layer"), ("full", "2 full ingest, 150 dpi")):
        fw, base = r[f"fw-{key}"], r[f"base-{key}"]
        rates = fw["pages"] / fw["seconds"], base["pages"] / base["seconds"]
        out.append(row(f"{label}: pages/s", *rates, 1))
        out.append(row(f"{label}: peak MiB", fw["peak_mib"], base["peak_mib"], 0))
    recall, iou = a["word_recall"], a["median_iou"]
    out.append(row("3 word recall vs pdftotext", recall, None, 4, goal("word_recall", recall)))
    out.append(row("3 median box IoU", iou, None, 3, goal("median_iou", iou)))
    out.append(row("3 share of box IoU ≥ 0.5", a["share_iou_05"], None, 3))
    per_page = fw_ocr["seconds"] / fw_ocr["pages"], base_ocr["seconds"] / base_ocr["pages"]
    overhead = per_page[0] / per_page[1] - 1
    limit = TARGETS["ocr_overhead"]
    target = f"overhead ≤ {limit:.0%} (is {overhead:+.0%})"
    out.append(row("4 OCR: s/page", *per_page, 2, (target, overhead <= limit)))
    out.append(row("4 OCR: peak MiB", fw_ocr["peak_mib"], base_ocr["peak_mib"], 0))
    fw_f1, base_f1 = f1s["fieldwise"]["f1"], f1s["baseline"]["f1"]
    out.append(row("5 OCR word F1, FUNSD", fw_f1, base_f1, 3, goal("ocr_f1", fw_f1)))
    return out


def print_report(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"fieldwise ingest vs baselines ({results['machine']['workers']} workers)")
    for column in ("measurement", "fieldwise", "baseline", "ratio", "target", "ok"):
        table.add_column(column, justify="left" if column == "measurement" else "right")
    for cells in rows(results):
        table.add_row(*cells)
    console = Console()
    console.width = max(console.width, 110)  # no wrapping when piped into a file
    console.print(table)
    low = {k: v for k, v in results["agreement"]["per_pdf"].items() if v["recall"] < 0.99}
    for name, v in sorted(low.items(), key=lambda kv: kv[1]["recall"]):
        console.print(f"  word recall {v['recall']:.4f} of {v['words']} words: {name}")
    for name in FIELDWISE:
        for failure in results[name]["failures"]:
            console.print(f"[red]{name} failure:[/red] {failure}")


def _tessdata_model() -> dict:
    """Which English model OCR read with: the accurate one `make install` adds, or Debian's."""
    from fieldwise.ingest.ocr.tesseract import find_tessdata

    model = Path(find_tessdata()) / "eng.traineddata"
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    return {"path": str(model), "bytes": model.stat().st_size, "sha256": digest}


def run_all(args: argparse.Namespace) -> dict:
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="fieldwise-bench-") as tmp:
        folders = {name: Path(tmp) / name for name in MEASURES}
        for name, folder in folders.items():
            folder.mkdir()
            results[name] = measure(name, args, folder)
        results["agreement"] = agreement(folders["fw-text"], folders["base-text"])
        results["ocr_f1"] = ocr_f1(args.funsd, folders["fw-ocr"], folders["base-ocr"])
    results["targets"] = TARGETS
    results["machine"] = {
        "cpu_count": os.cpu_count(),
        "workers": args.workers,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "tessdata": _tessdata_model(),
    }
    results["date"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    results["quick"] = args.quick
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure fieldwise ingest against pdftotext, pdftoppm and bare tesserocr.",
        epilog="example: .venv/bin/python benchmarks/ingest.py --quick --workers 2",
    )
    data = REPO.parent / "shared" / "data"
    parser.add_argument("--pdfs", type=Path, default=data / "pdfs", help="folder of PDFs")
    parser.add_argument(
        "--funsd",
        type=Path,
        default=data / "funsd" / "training_data",
        help="FUNSD folder with images/ and annotations/",
    )
    parser.add_argument(
        "--funsd-pages", type=int, default=149, help="first N FUNSD images (default: all 149)"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true", help="smoke run: 5 PDFs, 5 FUNSD pages")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "ingest.json")
    parser.add_argument("--_measure", choices=sorted(MEASURES), help=argparse.SUPPRESS)
    parser.add_argument("--_dir", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    args.pdfs, args.funsd = args.pdfs.resolve(), args.funsd.resolve()
    if args._measure:
        measure_in_child(args)
        return
    results = run_all(args)
    print_report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
