"""The store-free half of an ingest: one file read, its tables recognised, its text chunked.

Kept apart from the store and the embedding model so that worker processes (ingest.workers) can run it
without importing torch or opening Chroma; everything it returns pickles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from ingest import readers
from ingest.checks import check
from ingest.chunking import chunk
from ingest.doubt import doubt
from ingest.errors import Cancelled, IngestError
from ingest.format import infer
from ingest.format.schema import BY_KEY
from ingest.format.template import Template
from ingest.model import Chunk, Fact, Report, Violation
from ingest.readers.scan import Progress
from ingest.tables.extract import extract_facts

Status = Literal["added", "unchanged", "replaced", "error", "cancelled"]
T = TypeVar("T")


class Flag(Protocol):
    """What a cancel needs: threading.Event in one process, multiprocessing's Event across them."""

    def is_set(self) -> bool: ...


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
class Job:
    """One file to prepare and the hints it is read with: all a worker process is given."""

    path: Path
    agency: str | None
    year: int | None
    source_name: str | None  # replaces the file name shown in citations (uploads are stored under generated names)
    chunk_chars: int


@dataclass(frozen=True)
class Prepared:
    """A file read, extracted and chunked, waiting for its commit."""

    path: Path
    report: Report
    facts: list[Fact]
    violations: list[Violation]
    chunks: list[Chunk]


def prepare(job: Job, pages: Progress | None = None) -> Prepared:
    """Read, extract and chunk one file; `pages` hears of every page OCR'd (done, total)."""
    report = readers.read(job.path, agency=job.agency, year=job.year, progress=pages)
    if job.source_name:
        report = replace(report, source=job.source_name)
    facts = doubt(extract_facts(report))
    report = replace(report, template=_template(facts))
    return Prepared(job.path, report, facts, check(facts), chunk(report, facts, job.chunk_chars))


def guarded(path: Path, cancel: Flag | None, step: Callable[..., T], *args) -> T | FileResult:
    """Run one step for one file (unless cancelled); its failure becomes that file's error result.

    Failures become results here, not exceptions, also because an exception may not survive the trip back from
    a worker process (IngestError does not unpickle) and one that fails to would break the whole pool."""
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


def _template(facts: list[Fact]) -> Template | None:
    """The report's format version: Table 2's headers tell the versions apart best (Table 3 of many 2021
    reports keeps the 2019 single 其他处理 row), so its facts decide, then the majority."""
    proactive = [f.template for f in facts if BY_KEY[f.table].section == "proactive"]
    return infer.majority(proactive or [f.template for f in facts])
