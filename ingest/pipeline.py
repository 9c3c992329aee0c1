"""Files -> reports -> facts + chunks -> store, one file at a time, each file on its own.

A bad file gets an error result naming it and the reason; the others are still ingested, and the
store is never changed for the bad one (Store.put is atomic per report).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from ingest import readers
from ingest.checks import check
from ingest.chunking import chunk
from ingest.doubt import doubt
from ingest.errors import Cancelled, IngestError
from ingest.format import infer
from ingest.format.layout import PARTS, expected_cells
from ingest.format.schema import BY_KEY
from ingest.format.template import Template
from ingest.model import Chunk, Fact, Report, Violation
from ingest.store import Store
from ingest.tables.extract import extract_facts

Status = Literal["added", "unchanged", "replaced", "error", "cancelled"]
PageProgress = Callable[[Path, int, int], None]  # file, pages OCR'd, pages to OCR

# Files read ahead of their commits so that their chunks are embedded in one call: sentence-transformers
# sorts a call's texts by length, and one call for several reports pads far less than one per report
# (measured on the shared corpus: 21.6 s instead of 31.1 s for the same 459 chunks).
READ_AHEAD = 8


@dataclass(frozen=True)
class FileResult:
    """What happened to one file: the line `reportqa ingest` prints for it."""

    path: str
    status: Status
    report_id: str | None
    message: str
    chunks: int = 0
    facts: int = 0


@dataclass(frozen=True)
class _Prepared:
    """A file read, extracted and chunked, waiting for its commit."""

    path: Path
    report: Report
    facts: list[Fact]
    violations: list[Violation]
    chunks: list[Chunk]


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
) -> list[FileResult]:
    """Ingest files and folders into `store`; returns one result per file, in order.

    `source_name` replaces the file name shown in citations (uploads are stored under generated names);
    `pages` hears of every page OCR'd (file, pages done, pages to do): OCR takes seconds a page.
    Setting `cancel` (from another thread) stops the ingest: the file being embedded and those after it are
    "cancelled" and the store is unchanged for them; files committed before stay.
    """
    store.recover()
    results = []
    for result in _ingest_each(expand(paths), store, agency, year, source_name, pages, cancel):
        results.append(result)
        if progress:
            progress(result)
    return results


def _ingest_each(
    files: list[Path], store: Store, agency: str | None, year: int | None, source_name: str | None,
    pages: PageProgress | None, cancel: threading.Event | None,
) -> Iterator[FileResult]:
    for start in range(0, len(files), READ_AHEAD):
        prepared = [_guarded(path, cancel, _prepare, path, store, agency, year, source_name, pages)
                    for path in files[start : start + READ_AHEAD]]
        # Only a speed-up: when it fails (or is cancelled), each put embeds its own chunks and a bad one fails
        # alone (or sees the cancel itself).
        with suppress(Exception):
            store.embed_ahead([c.text for p in prepared if isinstance(p, _Prepared) for c in p.chunks], cancel)
        for p in prepared:
            yield _guarded(p.path, cancel, _commit, p, store, cancel) if isinstance(p, _Prepared) else p


def _guarded(
    path: Path, cancel: threading.Event | None, step: Callable[..., _Prepared | FileResult], *args
) -> _Prepared | FileResult:
    """Run one step for one file (unless cancelled); its failure becomes that file's error result."""
    try:
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")
        return step(*args)
    except Cancelled:
        return FileResult(str(path), "cancelled", None, "cancelled: the store is unchanged for this file")
    except IngestError as err:
        return FileResult(str(path), "error", None, err.reason)
    except Exception as err:  # one broken file must never stop the others
        return FileResult(str(path), "error", None, f"unexpected {type(err).__name__}: {err}")


def _prepare(
    path: Path, store: Store, agency: str | None, year: int | None, source_name: str | None,
    pages: PageProgress | None,
) -> _Prepared | FileResult:
    """Read, extract and chunk one file (or recognise it as already committed)."""
    if not path.is_file():
        raise IngestError(str(path), "no such file")
    if path.stat().st_size > store.settings.max_upload_mb * 1024 * 1024:
        raise IngestError(path.name, f"file is larger than {store.settings.max_upload_mb} MB")
    with path.open("rb") as file:
        known = store.report_with_hash(hashlib.file_digest(file, "sha256").hexdigest())
    if known is not None and agency in (None, known.agency) and year in (None, known.year):
        # The same bytes are already committed: skip reading, extracting and embedding.
        return FileResult(str(path), "unchanged", known.id, f"{known.agency} {known.year}", known.chunks, known.facts)
    on_page = (lambda done, total: pages(path, done, total)) if pages else None
    report = readers.read(path, agency=agency, year=year, progress=on_page)
    if source_name:
        report = replace(report, source=source_name)
    facts = doubt(extract_facts(report))
    report = replace(report, template=_template(facts))
    chunks = chunk(report, facts, store.settings.chunk_chars)
    return _Prepared(path, report, facts, check(facts), chunks)


def _commit(p: _Prepared, store: Store, cancel: threading.Event | None) -> FileResult:
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


def _template(facts: list[Fact]) -> Template | None:
    """The report's format version: Table 2's headers tell the versions apart best (Table 3 of many 2021
    reports keeps the 2019 single 其他处理 row), so its facts decide, then the majority."""
    proactive = [f.template for f in facts if BY_KEY[f.table].section == "proactive"]
    return infer.majority(proactive or [f.template for f in facts])


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
