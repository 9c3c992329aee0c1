"""Files -> reports -> facts + chunks -> store, each file on its own.

A bad file gets an error result naming it and the reason; the others are still ingested, and the
store is never changed for the bad one (Store.put is atomic per report). Reading, table recognition and
chunking of the next files (ingest.prepare) run in worker processes while the current ones are embedded.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from functools import partial
from pathlib import Path

from ingest import readers
from ingest.errors import IngestError
from ingest.format.layout import PARTS, expected_cells
from ingest.format.schema import BY_KEY
from ingest.model import Fact
from ingest.prepare import FileResult, Job, Prepared, guarded
from ingest.store import Store
from ingest.workers import Outcome, PageProgress, Preparer

# Files read ahead of their commits so that their chunks are embedded in one call: sentence-transformers
# sorts a call's texts by length, and one call for several reports pads far less than one per report
# (measured on the shared corpus: 21.6 s instead of 31.1 s for the same 459 chunks). With workers, the next
# batch is prepared while this one is embedded: at most two batches are in memory.
READ_AHEAD = 8


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and the report files (by known extension) inside given folders, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in readers.READERS and not p.name.startswith(".")
            )
        else:
            found.append(path)
    return found


def ingest(
    paths: Iterable[Path],
    store: Store,
    *,
    agency: str | None = None,
    year: int | None = None,
    progress: Callable[[FileResult], None] | None = None,
    source_name: str | None = None,
    pages: PageProgress | None = None,
    cancel: threading.Event | None = None,
    workers: int = 1,
) -> list[FileResult]:
    """Ingest files and folders into `store`; returns one result per file, in order.

    `source_name` replaces the file name shown in citations (uploads are stored under generated names);
    `pages` hears of every page OCR'd (file, pages done, pages to do): OCR takes seconds a page; with workers
    it is called from a thread of its own.
    Setting `cancel` (from another thread) stops the ingest: the file being embedded and those after it are
    "cancelled" and the store is unchanged for them; files committed before stay.
    `workers` > 1 prepares files in that many processes (seconds to start the first time; a script calling this
    needs the `if __name__ == "__main__":` guard multiprocessing asks for); 1 prepares each file in this process,
    as its batch comes.
    """
    store.recover()
    results = []
    files = expand(paths)
    job = partial(Job, agency=agency, year=year, source_name=source_name, chunk_chars=store.settings.chunk_chars)
    with Preparer(min(workers, len(files)), pages, cancel) as preparer:
        for result in _ingest_each(files, store, job, preparer, cancel):
            results.append(result)
            if progress:
                progress(result)
    return results


def _ingest_each(
    files: list[Path], store: Store, job: Callable[[Path], Job], preparer: Preparer, cancel: threading.Event | None
) -> Iterator[FileResult]:
    """Commit batch after batch, the next batch submitted before this one is waited for and embedded."""
    batches = [files[start : start + READ_AHEAD] for start in range(0, len(files), READ_AHEAD)]

    def submit(batch: list[Path]) -> list[FileResult | Outcome]:
        # Unchanged and unreadable files are told apart here, so that no worker reads them.
        return [guarded(path, cancel, _committed, job(path), store) or preparer.submit(job(path)) for path in batch]

    ahead = submit(batches[0]) if batches else []
    if preparer.parallel and not all(isinstance(o, FileResult) for o in ahead):
        # Load the model (seconds) while the workers read the first batch, rather than after; one that fails to
        # load fails each put, saying why.
        with suppress(Exception):
            store.embeddings  # noqa: B018  (the model loads on first use)
    for following in [*batches[1:], None]:
        current, ahead = ahead, (submit(following) if following else [])
        prepared = [o if isinstance(o, FileResult) else o() for o in current]
        # Only a speed-up: when it fails (or is cancelled), each put embeds its own chunks and a bad one fails
        # alone (or sees the cancel itself).
        with suppress(Exception):
            store.embed_ahead([c.text for p in prepared if isinstance(p, Prepared) for c in p.chunks], cancel)
        for p in prepared:
            yield guarded(p.path, cancel, _commit, p, store, cancel) if isinstance(p, Prepared) else p


def _committed(job: Job, store: Store) -> FileResult | None:
    """The file's "unchanged" result when the same bytes are committed (read with the same hints); None to read
    it. Raises when it cannot be read at all."""
    path, agency, year = job.path, job.agency, job.year
    if not path.is_file():
        raise IngestError(str(path), "no such file")
    if path.stat().st_size > store.settings.max_upload_mb * 1024 * 1024:
        raise IngestError(path.name, f"file is larger than {store.settings.max_upload_mb} MB")
    with path.open("rb") as file:
        known = store.report_with_hash(hashlib.file_digest(file, "sha256").hexdigest())
    if known is not None and agency in (None, known.agency) and year in (None, known.year):
        # The same bytes are already committed: skip reading, extracting and embedding.
        return FileResult(str(path), "unchanged", known.id, f"{known.agency} {known.year}", known.chunks, known.facts)
    return None


def _commit(p: Prepared, store: Store, cancel: threading.Event | None) -> FileResult:
    """Put one prepared report into the store, atomically, and say what happened."""
    report, facts, violations = p.report, p.facts, p.violations
    status = store.put(report, facts, violations, p.chunks, cancel=cancel)
    notes = [f"{report.agency} {report.year}"]
    if not facts:
        notes.append("no standard tables found: prose only")
    elif missing := _missing_tables(facts):
        notes.append(f"tables not found: {'、'.join(missing)}")
    if violations:
        notes.append(f"{len(violations)} identity violation(s)")
    ambiguous = sum(f.status == "ambiguous" for f in facts)
    if ambiguous:
        notes.append(f"{ambiguous} ambiguous cell(s)")
    return FileResult(str(p.path), status, report.id, "; ".join(notes), len(p.chunks), len(facts))


def _missing_tables(facts: list[Fact]) -> list[str]:
    """Titles of the standard tables that no fact was read from, counting only tables that every
    template the facts show has (a mixed report is not missing the 2019-only 第二十条第（九）项)."""
    found = {f.table for f in facts}
    templates = {f.template for f in facts}
    return [
        BY_KEY[part].title
        for part in PARTS
        if part not in found and all(expected_cells(part, t) for t in templates)
    ]
