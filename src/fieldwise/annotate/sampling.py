"""Which pages to label next, and train/test splits that never share a document.

Sampling is reproducible (a seed), skips pages already labelled, gives first pages a share of
their own (they carry names, dates and summary tables), and spreads the rest over as many
documents as it can. Splitting is by document: pages of one document on both sides let a model
score well by remembering the document (the original design split by page and leaked).

Example::

    job = sample_pages(Manifest.load("out/pages.manifest.jsonl"), n=50, first_page_share=0.4,
                       seed=7, exclude=[Manifest.load("labelled.jsonl")])
    train, test = split_by_document(Manifest.load("labelled.jsonl"), test_share=0.1, seed=7)
    train, test = split_by_name(Manifest.load("labelled.jsonl"), ["amex__*"])
"""

from __future__ import annotations

import fnmatch
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from fieldwise.annotate.manifest import Manifest, PageRecord


def page_key(manifest: Manifest, record: PageRecord) -> tuple[str, int]:
    """A page's identity across manifests: its document's resolved path and its page number."""
    ref = record.ref("textract-ref") or record.ref("raw-ref") or record.ref("source-ref") or ""
    document = ref if "://" in ref else str(manifest.resolve(ref).resolve())
    return document, record.page_num


def _round_robin(
    pages: list[PageRecord], manifest: Manifest, rng: random.Random
) -> list[PageRecord]:
    """Pages shuffled so that consecutive picks come from different documents."""
    by_doc: dict[str, list[PageRecord]] = defaultdict(list)
    for page in pages:
        by_doc[page_key(manifest, page)[0]].append(page)
    queues = [rng.sample(group, len(group)) for _, group in sorted(by_doc.items())]
    rng.shuffle(queues)
    ordered: list[PageRecord] = []
    while queues:
        ordered.extend(q.pop() for q in queues)
        queues = [q for q in queues if q]
    return ordered


def sample_pages(
    manifest: Manifest,
    n: int,
    first_page_share: float = 0.4,
    seed: int = 0,
    exclude: Sequence[Manifest] = (),
) -> list[PageRecord]:
    """``n`` pages to label (fewer when fewer remain), in the manifest's order."""
    if n < 0 or not 0.0 <= first_page_share <= 1.0:
        raise ValueError("n must be ≥ 0 and first_page_share within 0..1")
    done = {page_key(m, p) for m in exclude for p in m.pages}
    candidates = [p for p in manifest.pages if page_key(manifest, p) not in done]
    rng = random.Random(seed)
    firsts = _round_robin([p for p in candidates if p.page_num == 1], manifest, rng)
    others = _round_robin([p for p in candidates if p.page_num != 1], manifest, rng)
    want_first = min(round(n * first_page_share), len(firsts))
    chosen = firsts[:want_first] + others[: n - want_first]
    if len(chosen) < n:  # not enough later pages: top up with first pages
        chosen += firsts[want_first : want_first + n - len(chosen)]
    picked = {id(p) for p in chosen}
    return [p for p in manifest.pages if id(p) in picked]


def split_by_document(
    manifest: Manifest, test_share: float = 0.1, seed: int = 0
) -> tuple[list[PageRecord], list[PageRecord]]:
    """(train, test) pages, whole documents; the test side as near ``test_share`` as they allow."""
    if not 0.0 < test_share < 1.0:
        raise ValueError("test_share must be between 0 and 1")
    by_doc: dict[str, list[PageRecord]] = defaultdict(list)
    for page in manifest.pages:
        by_doc[page_key(manifest, page)[0]].append(page)
    if len(by_doc) < 2:
        raise ValueError(f"{manifest.source}: needs at least two documents to split by document")
    documents = sorted(by_doc)
    random.Random(seed).shuffle(documents)
    target = test_share * len(manifest.pages)
    test_docs: set[str] = set()
    test_pages = 0
    for document in documents[:-1]:  # always leave one document for training
        size = len(by_doc[document])
        if not test_docs or abs(test_pages + size - target) < abs(test_pages - target):
            test_docs.add(document)  # only when it brings the test share closer to the target
            test_pages += size
    train = [p for p in manifest.pages if page_key(manifest, p)[0] not in test_docs]
    test = [p for p in manifest.pages if page_key(manifest, p)[0] in test_docs]
    return train, test


def split_by_name(
    manifest: Manifest, hold_out: Sequence[str]
) -> tuple[list[PageRecord], list[PageRecord]]:
    """(train, test) pages: the test side is every document whose file name matches a pattern.

    For measuring on what a model has never seen, e.g. an issuer's agreements: ``amex__*``.
    Patterns are shell globs on the document's original file name (``raw-ref``), case-sensitive.
    """
    if not hold_out:
        raise ValueError("no --hold-out pattern given")

    def held(page: PageRecord) -> bool:
        ref = page.ref("raw-ref") or page.ref("textract-ref") or page.ref("source-ref") or ""
        name = ref.rsplit("/", 1)[-1]
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in hold_out)

    train: list[PageRecord] = []
    test: list[PageRecord] = []
    for page in manifest.pages:
        (test if held(page) else train).append(page)
    if not test:
        raise ValueError(f"{manifest.source}: no document's file name matches {list(hold_out)}")
    if not train:
        raise ValueError(f"{manifest.source}: every document matches {list(hold_out)}")
    return train, test


def save_pages(pages: list[PageRecord], source: Manifest, path: Path) -> None:
    """Write ``pages`` (from ``source``) to ``path`` with refs rebased to its folder."""
    Manifest(pages, source.base, source.source).save(path)
