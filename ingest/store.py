"""The store: SQLite for reports, facts, violations and chunk texts; Chroma for the vectors.

A report becomes visible in one SQLite commit. Its vectors are written before that commit under a
version tag (`report_id@content_hash`) and every search is restricted to the committed versions, so
a crash mid-ingest never shows half a report, and the previous version stays answerable until the
new one is committed. Vectors go through LangChain's indexing API with a SQL record manager, which
skips chunks already embedded when an interrupted ingest is re-run.

Writes overlap: a put embeds outside the write lock and takes it only to commit, so a removal or a reader
never waits for a long embedding. A put that is cancelled, interrupted (Ctrl-C) or fails drops the vectors
it wrote, leaving the store as it was; `recover()` sweeps vectors no committed report owns (a crash, a lost
database). One process writes a store at a time.

Storage trouble raises `StoreError`, one line naming the path and the remedy: an uncreatable or unwritable
home, a damaged database, a database lost beside its index (`repair` is `reportqa check --repair`). A store
nobody may write is opened read-only: reading works, writing says why it cannot.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from langchain_core.embeddings import Embeddings

from ingest.errors import Cancelled, IndexMismatch, StoreError
from ingest.format.template import Template
from ingest.model import CellRef, Chunk, Fact, Report, Violation
from ingest.runtime import runtime
from ingest.settings import Settings

PutStatus = Literal["added", "unchanged", "replaced"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    id TEXT PRIMARY KEY, agency TEXT, year INTEGER, title TEXT, source TEXT, source_format TEXT,
    template TEXT, publish_date TEXT, content_hash TEXT, chunks INTEGER, facts INTEGER,
    violations INTEGER, ingested_at TEXT, agency_source TEXT, year_source TEXT);
CREATE TABLE IF NOT EXISTS facts (
    report_id TEXT, agency TEXT, year INTEGER, template TEXT, tbl TEXT, row TEXT, col TEXT,
    row_label TEXT, column_label TEXT, raw TEXT, value REAL, unit TEXT, kind TEXT, status TEXT,
    candidates TEXT, note TEXT, source TEXT, page INTEGER, table_index INTEGER, cell_row INTEGER,
    cell_col INTEGER, cell_offset INTEGER);
-- One cell across agencies (rankings), and one table of one report (a fact answer), at any corpus size.
CREATE INDEX IF NOT EXISTS facts_lookup ON facts (tbl, row, col, agency, year);
CREATE INDEX IF NOT EXISTS facts_report_table ON facts (agency, year, tbl);
CREATE INDEX IF NOT EXISTS facts_report ON facts (report_id);
CREATE TABLE IF NOT EXISTS violations (
    report_id TEXT, tbl TEXT, rule TEXT, at TEXT, expected REAL, found REAL);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT, text TEXT, report_id TEXT, agency TEXT, year INTEGER, section TEXT, section_key TEXT,
    kind TEXT, source TEXT, page INTEGER);
CREATE INDEX IF NOT EXISTS chunks_report ON chunks (report_id);
-- OCR'd pages as read (JPEG): what an OCR'd cell's box points into, to show the cell as printed.
CREATE TABLE IF NOT EXISTS page_images (report_id TEXT, page INTEGER, image BLOB);
CREATE INDEX IF NOT EXISTS page_images_report ON page_images (report_id, page);
CREATE TABLE IF NOT EXISTS pending (version TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""
# Columns added since the first stores were written: a store without them gets them on open (empty).
_ADDED_COLUMNS = {"reports": ("agency_source TEXT", "year_source TEXT"),
                  "facts": ("cell_box TEXT", "confidence REAL")}
# Chunks embedded between two looks at a cancel flag: a few seconds of work on two cores. Prefetching takes
# bigger slices, since one call for several reports pads less (pipeline.READ_AHEAD).
_BATCH = 64
_AHEAD_BATCH = 256


@dataclass(frozen=True)
class ReportInfo:
    """One ingested report, as `reportqa list` shows it."""

    id: str
    agency: str
    year: int
    title: str
    source: str
    source_format: str
    template: Template | None
    publish_date: str | None
    content_hash: str
    chunks: int
    facts: int
    violations: int
    ingested_at: str
    agency_source: str | None = None  # the evidence that named the agency (Report.agency_source)
    year_source: str | None = None


def _version(report_id: str, content_hash: str) -> str:
    return f"{report_id}@{content_hash[:16]}"


class Store:
    """One store per `$REPORTQA_HOME`; safe for many threads, reading and writing."""

    def __init__(self, settings: Settings | None = None, embeddings: Embeddings | None = None) -> None:
        self.settings = settings or Settings()
        self.read_only = _open_home(self.settings)
        self._embeddings = embeddings
        self._write_lock = threading.Lock()
        self._in_flight: Counter[str] = Counter()  # versions being written here; touched under _write_lock
        if not self.read_only:
            with self._db() as db:
                db.executescript(_SCHEMA)
                _add_columns(db)

    # -- reading ---------------------------------------------------------------------------------

    def reports(self) -> list[ReportInfo]:
        with self._db() as db:
            rows = db.execute(
                f"SELECT {', '.join(f.name for f in fields(ReportInfo))} FROM reports ORDER BY agency, year"
            ).fetchall()
        return [ReportInfo(*row) for row in rows]

    def report_with_hash(self, content_hash: str) -> ReportInfo | None:
        """The committed report read from a file with these bytes, if any."""
        return next((r for r in self.reports() if r.content_hash == content_hash), None)

    def agencies(self) -> list[str]:
        return sorted({r.agency for r in self.reports()})

    def facts(
        self,
        *,
        report_id: str | None = None,
        agency: str | None = None,
        year: int | None = None,
        table: str | None = None,
        row: str | None = None,
        column: str | None = None,
    ) -> list[Fact]:
        filters = {"report_id": report_id, "agency": agency, "year": year, "tbl": table, "row": row, "col": column}
        where = [f"{name} = ?" for name, value in filters.items() if value is not None]
        sql = "SELECT * FROM facts" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY rowid"
        with self._db() as db:
            rows = db.execute(sql, [v for v in filters.values() if v is not None]).fetchall()
        return [_fact_from_row(r) for r in rows]

    def page_image(self, report_id: str, page: int) -> bytes | None:
        """An OCR'd page of a report as it was read (JPEG), or None for a page read from text."""
        with self._db() as db:
            row = db.execute("SELECT image FROM page_images WHERE report_id = ? AND page = ?",
                             (report_id, page)).fetchone()
        return row[0] if row else None

    def violations(self, report_id: str | None = None) -> list[Violation]:
        sql = "SELECT * FROM violations" + (" WHERE report_id = ?" if report_id else "") + " ORDER BY rowid"
        with self._db() as db:
            rows = db.execute(sql, [report_id] if report_id else []).fetchall()
        return [Violation(*r) for r in rows]

    def chunks(self, report_ids: Iterable[str] | None = None) -> list[Chunk]:
        with self._db() as db:
            if report_ids is None:
                rows = db.execute("SELECT * FROM chunks ORDER BY rowid").fetchall()
            else:
                ids = list(report_ids)
                marks = ",".join("?" * len(ids))
                rows = db.execute(f"SELECT * FROM chunks WHERE report_id IN ({marks}) ORDER BY rowid", ids).fetchall()
        return [Chunk(*r) for r in rows]

    def search(
        self, query: str, k: int = 5, report_ids: Sequence[str] | None = None
    ) -> list[tuple[Chunk, float]]:
        """Dense search over committed reports (or only `report_ids`): (chunk, cosine similarity), best first."""
        versions = [
            _version(r.id, r.content_hash)
            for r in self.reports()
            if report_ids is None or r.id in report_ids
        ]
        if not versions:
            return []
        where = {"version": versions[0]} if len(versions) == 1 else {"version": {"$in": versions}}
        found = self._chroma.similarity_search_with_score(query, k=k, filter=where)
        # The collection uses cosine distance; report similarity (1 = same direction).
        return [(_chunk_from_document(doc), 1.0 - distance) for doc, distance in found]

    def generation(self) -> int:
        """Changes whenever committed contents change (callers rebuild caches such as BM25 on it)."""
        with self._db() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    # -- writing ---------------------------------------------------------------------------------

    def require_writable(self) -> None:
        """Raise StoreError, saying why, when the store cannot be changed."""
        if self.read_only:
            raise StoreError(
                f"the store at {self.settings.home} is read-only: make it writable to ingest or remove reports "
                "(list, facts, check and ask work on it as it is)"
            )

    def put(
        self, report: Report, facts: Sequence[Fact], violations: Sequence[Violation], chunks: Sequence[Chunk],
        *, cancel: threading.Event | None = None,
    ) -> PutStatus:
        """Make `report` the committed version for its (agency, year), atomically.

        Embedding runs outside the write lock; setting `cancel` stops it between batches with `Cancelled`.
        Cancelled, interrupted or failed, the put drops what it wrote and the store is as it was."""
        self.require_writable()
        if self._current_hash(report.id) == report.content_hash:
            return "unchanged"
        version = _version(report.id, report.content_hash)
        docs = []
        for c in chunks:
            doc = c.to_langchain()
            doc.metadata["version"] = version
            docs.append(doc)
        with self._writing(version):
            self._index(docs, cancel)
            with self._write_lock:
                old = self._current_hash(report.id)
                with self._db() as db:
                    if old == report.content_hash:  # another writer committed the same bytes meanwhile
                        db.execute("DELETE FROM pending WHERE version = ?", (version,))
                        return "unchanged"
                    self._delete_rows(db, report.id)
                    info = ReportInfo(
                        report.id, report.agency, report.year, report.title, report.source, report.source_format,
                        report.template, report.publish_date, report.content_hash, len(chunks), len(facts),
                        len(violations), datetime.now(UTC).isoformat(timespec="seconds"), report.agency_source,
                        report.year_source,
                    )
                    columns = [f.name for f in fields(ReportInfo)]
                    db.execute(
                        f"INSERT INTO reports ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                        astuple(info),
                    )
                    db.executemany(f"INSERT INTO facts VALUES ({','.join('?' * 24)})", map(_fact_to_row, facts))
                    db.executemany("INSERT INTO page_images VALUES (?,?,?)",
                                   [(report.id, page, image) for page, image in report.page_images])
                    db.executemany("INSERT INTO violations VALUES (?,?,?,?,?,?)", map(astuple, violations))
                    db.executemany(f"INSERT INTO chunks VALUES ({','.join('?' * 10)})", map(astuple, chunks))
                    db.execute("DELETE FROM pending WHERE version = ?", (version,))
                    if old is not None:
                        self._retire(db, _version(report.id, old))
                    self._bump(db)
        if old is not None:
            self._drop_vectors(_version(report.id, old))
        return "added" if old is None else "replaced"

    def embed_ahead(self, texts: Sequence[str], cancel: threading.Event | None = None) -> None:
        """Embed the chunks of the next few puts ahead of them; those puts then find them cached.

        Holds one batch of puts at a time. A put whose chunks are not cached embeds them itself, so a cache
        miss (another writer, a failed prefetch) only costs time. `cancel` stops it between slices.
        """
        cache = self._prefetched.document_embedding_store
        cache.mdelete(list(cache.yield_keys()))
        texts = list(texts)
        for start in range(0, len(texts), _AHEAD_BATCH):
            _check(cancel)
            self._prefetched.embed_documents(texts[start : start + _AHEAD_BATCH])

    def remove(self, report_id: str) -> bool:
        """Delete a report's facts, chunks and vectors, and any orphaned vectors; False when it is not in the
        store. Never waits for a put's embedding, only for its commit."""
        self.require_writable()
        with self._write_lock:
            old = self._current_hash(report_id)
            if old is None:
                return False
            with self._db() as db:
                self._delete_rows(db, report_id)
                self._retire(db, _version(report_id, old))
                self._bump(db)
        self._drop_vectors(_version(report_id, old))
        self.recover()
        return True

    def recover(self) -> int:
        """Drop the vectors no committed report owns: versions a crash left uncommitted or half-retired, or whose
        rows were lost with the database; versions this process is still writing are kept. Returns how many."""
        self.require_writable()
        with self._write_lock:
            orphans = self._orphans()
            return sum(self._drop_vectors(version) for version in orphans)

    def orphaned_reports(self) -> list[str]:
        """"report_id (source)" of every version whose vectors no committed report owns (what recover drops)."""
        with self._write_lock:
            return sorted({f"{report_id} ({source})" for report_id, source in self._orphans().values()})

    def count_vectors(self) -> int:
        return self._chroma._collection.count()

    # -- internals -------------------------------------------------------------------------------

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # A connection per operation: sqlite3 connections must not cross threads, and opening
        # one is cheaper than the locking a shared one would need.
        try:
            if self.read_only:
                # immutable: WAL mode would otherwise need a -shm file beside the database, which cannot be made
                db = sqlite3.connect(f"{self.settings.db_path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
            else:
                db = sqlite3.connect(self.settings.db_path, timeout=60)
            try:
                if not self.read_only:
                    db.execute("PRAGMA journal_mode=WAL")
                with db:
                    yield db
            finally:
                db.close()
        except sqlite3.DatabaseError as err:
            raise _storage_error(self.settings, err) from err

    @contextmanager
    def _writing(self, version: str) -> Iterator[None]:
        """Register `version` as being written (recover() keeps it) and listed as pending (a crash leaves it
        to recover()); on any failure, Ctrl-C or cancel included, drop what was written of it."""
        with self._write_lock:
            self._in_flight[version] += 1
            with self._db() as db:
                db.execute("INSERT OR IGNORE INTO pending VALUES (?)", (version,))
        try:
            yield
        except BaseException:
            with self._write_lock:
                self._in_flight[version] -= 1
                # Another writer of the same bytes may still need them; a failure here is finished by recover().
                if not self._in_flight[version] and version not in self._committed():
                    with suppress(Exception):
                        self._drop_vectors(version)
            raise
        with self._write_lock:
            self._in_flight[version] -= 1

    def _index(self, docs: Sequence, cancel: threading.Event | None) -> None:
        from langchain_core.indexing import index

        for start in range(0, len(docs), _BATCH):
            _check(cancel)
            index(docs[start : start + _BATCH], self._record_manager, self._chroma, cleanup=None,
                  source_id_key="version", key_encoder="sha256")

    def _committed(self) -> set[str]:
        with self._db() as db:
            return {_version(i, h) for i, h in db.execute("SELECT id, content_hash FROM reports")}

    def _orphans(self) -> dict[str, tuple[str, str]]:
        """Version -> (report id, source) of the vectors and pending versions nothing committed or in flight
        owns. Called under the write lock, so no put registers between the look and the drop."""
        keep = self._committed() | {v for v, n in self._in_flight.items() if n}
        where = {"version": {"$nin": sorted(keep)}} if keep else None
        found = self._chroma.get(where=where, include=["metadatas"])
        orphans = {m["version"]: (m.get("report_id", "?"), m.get("source", "?"))
                   for m in found["metadatas"] if m and "version" in m}
        with self._db() as db:
            pending = [v for (v,) in db.execute("SELECT version FROM pending") if v not in keep]
        for version in pending:
            orphans.setdefault(version, (version.rpartition("@")[0], "?"))
        return orphans

    def _current_hash(self, report_id: str) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT content_hash FROM reports WHERE id = ?", (report_id,)).fetchone()
        return row[0] if row else None

    @staticmethod
    def _delete_rows(db: sqlite3.Connection, report_id: str) -> None:
        for table, key in (("reports", "id"), ("facts", "report_id"), ("violations", "report_id"),
                           ("chunks", "report_id"), ("page_images", "report_id")):
            db.execute(f"DELETE FROM {table} WHERE {key} = ?", (report_id,))

    @staticmethod
    def _bump(db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO meta VALUES ('generation', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    @staticmethod
    def _retire(db: sqlite3.Connection, version: str) -> None:
        """List a version whose vectors are about to be dropped, in the transaction that uncommits it,
        so that recover() finishes the drop if the process dies first."""
        db.execute("INSERT OR IGNORE INTO pending VALUES (?)", (version,))

    def _drop_vectors(self, version: str) -> int:
        """Delete a version's vectors (found in the index and in the record manager, either may have lost
        track of them) and its pending row; returns how many vectors."""
        keys = sorted(set(self._chroma.get(where={"version": version}, include=[])["ids"])
                      | set(self._record_manager.list_keys(group_ids=[version])))
        for start in range(0, len(keys), 1000):  # under Chroma's largest batch
            self._chroma.delete(ids=keys[start : start + 1000])
            self._record_manager.delete_keys(keys[start : start + 1000])
        with self._db() as db:
            db.execute("DELETE FROM pending WHERE version = ?", (version,))
        return len(keys)

    @cached_property
    def embeddings(self) -> Embeddings:
        if self._embeddings is None:
            from ingest.embeddings import load_embeddings

            self._embeddings = load_embeddings(self.settings)
        return self._embeddings

    @cached_property
    def _prefetched(self):
        from langchain_classic.embeddings import CacheBackedEmbeddings
        from langchain_core.stores import InMemoryByteStore

        return CacheBackedEmbeddings.from_bytes_store(
            self.embeddings, InMemoryByteStore(), namespace=self.settings.embed_model, key_encoder="sha256"
        )

    @cached_property
    def _record_manager(self):
        from langchain_classic.indexes import SQLRecordManager

        manager = SQLRecordManager(
            f"chroma/{self.settings.collection}", db_url=f"sqlite:///{self.settings.db_path}"
        )
        manager.create_schema()
        return manager

    @cached_property
    def _chroma(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if self.settings.chroma_url:
            url = urlparse(self.settings.chroma_url)
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1", port=url.port or 8000, ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        else:
            path = _snapshot(self) if self.read_only else self.settings.chroma_dir
            client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        model, engine = self.settings.embed_model, runtime(self.settings)
        try:
            existing = client.get_collection(self.settings.collection, embedding_function=None)
        except Exception:  # chromadb raises NotFoundError (or ValueError in older clients) when absent
            existing = None
        if existing is not None and (existing.metadata or {}).get("embed_model", model) != model:
            raise IndexMismatch(
                f"the index at {self.settings.home} was built with {existing.metadata['embed_model']!r}, "
                f"not {model!r}: re-run `reportqa ingest` with a fresh REPORTQA_HOME or the same model"
            )
        # Indexes from before the runtime was recorded were all built by torch.
        built_by = (existing.metadata or {}).get("embed_runtime", "torch") if existing is not None else engine
        if built_by != engine:
            raise IndexMismatch(
                f"the index at {self.settings.home} was built with {model!r} on {built_by}, not on {engine}: re-run "
                f"`reportqa ingest` with a fresh REPORTQA_HOME or set REPORTQA_EMBED_RUNTIME={built_by}"
            )
        return Chroma(
            client=client,
            collection_name=self.settings.collection,
            embedding_function=_Deferred(lambda: self._prefetched),
            collection_metadata={"embed_model": model, "embed_runtime": engine, "hnsw:space": "cosine"},
        )


class _Deferred(Embeddings):
    """The store's embeddings, loaded on their first use: opening the index to count, delete or sweep
    vectors never loads the model."""

    def __init__(self, load: Callable[[], Embeddings]) -> None:
        self._load = load

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._load().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._load().embed_query(text)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled")


def _open_home(settings: Settings) -> bool:
    """Create the home if needed and say whether it is read-only; refuse a database lost beside its index."""
    home, db_path = settings.home, settings.db_path
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StoreError(f"cannot create the store folder {home} ({err.strerror}): set REPORTQA_HOME to a folder "
                         "you can write") from err
    index = settings.chroma_dir / "chroma.sqlite3"
    lost = "missing" if not db_path.exists() else "empty (0 bytes)" if db_path.stat().st_size == 0 else ""
    if lost and not settings.chroma_url and index.exists():
        raise StoreError(
            f"the fact database {db_path} is {lost} but its vector index {settings.chroma_dir} is not: the database "
            f"was lost or overwritten. Restore {db_path.name} from a backup, or run `reportqa check --repair` to drop "
            "the orphaned vectors, then re-ingest the reports"
        )
    return not os.access(home, os.W_OK) or (db_path.exists() and not os.access(db_path, os.W_OK))


def _storage_error(settings: Settings, err: sqlite3.DatabaseError) -> StoreError:
    """One line for a failing SQLite call: what is wrong with which file, and what to do."""
    path, text = settings.db_path, str(err)
    if "malformed" in text or "not a database" in text:
        return StoreError(f"the fact database {path} is damaged ({text}): restore it from a backup, or run "
                          "`reportqa check --repair` to set it aside, then re-ingest the reports")
    if "readonly" in text or "unable to open" in text:
        return StoreError(f"cannot write the store at {settings.home} ({text}): make it writable, or set "
                          "REPORTQA_HOME to a folder you can write")
    if "locked" in text:
        return StoreError(f"the fact database {path} is locked by another process ({text}): try again when it is "
                          "done")
    return StoreError(f"the fact database {path} cannot be used ({text}): run `reportqa check --repair`, or "
                      "restore it from a backup")


def _snapshot(store: Store) -> Path:
    """A private writable copy of a read-only store's vector index (Chroma cannot open a read-only folder),
    removed with the store."""
    copy = Path(tempfile.mkdtemp(prefix="reportqa-index-")) / "chroma"
    weakref.finalize(store, shutil.rmtree, copy.parent, True)
    if store.settings.chroma_dir.is_dir():
        shutil.copytree(store.settings.chroma_dir, copy, copy_function=shutil.copyfile)
        for folder in (copy, *(p for p in copy.rglob("*") if p.is_dir())):
            folder.chmod(0o700)
    return copy


def repair(settings: Settings) -> list[str]:
    """`reportqa check --repair`: set a damaged or emptied database aside (an empty one takes its place) and drop
    every vector no committed report owns; returns what was done, one line each."""
    done = []
    db_path = settings.db_path
    if settings.home.is_dir() and not os.access(settings.home, os.W_OK):
        raise StoreError(f"the store at {settings.home} is read-only: make it writable to repair it")
    if db_path.exists() and not _readable(db_path):
        aside = db_path.with_name(f"{db_path.name}.damaged-{datetime.now(UTC):%Y%m%d%H%M%S}")
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{db_path}{suffix}").exists():
                Path(f"{db_path}{suffix}").rename(f"{aside}{suffix}")
        done.append(f"set the damaged database aside as {aside}; the store starts empty")
    if settings.home.is_dir() and not db_path.exists():
        with closing(sqlite3.connect(db_path)) as db:  # an empty database beside the index: no longer "lost"
            db.executescript(_SCHEMA)
    store = Store(settings)
    lost = store.orphaned_reports()
    dropped = store.recover()
    if dropped or lost:
        done.append(f"dropped {dropped} orphaned vectors" + (f"; re-ingest: {', '.join(lost)}" if lost else ""))
    return done or ["nothing to repair"]


def _readable(db_path: Path) -> bool:
    if db_path.stat().st_size == 0:
        return False
    db = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)  # opening reads nothing yet
    try:
        return db.execute("PRAGMA quick_check").fetchone() == ("ok",)
    except sqlite3.DatabaseError:
        return False
    finally:
        db.close()


def _add_columns(db: sqlite3.Connection) -> None:
    for table, columns in _ADDED_COLUMNS.items():
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for column in columns:
            if column.split()[0] not in present:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")


def _fact_to_row(f: Fact) -> tuple:
    r = f.ref
    return (f.report_id, f.agency, f.year, f.template, f.table, f.row, f.column, f.row_label, f.column_label,
            f.raw, f.value, f.unit, f.kind, f.status, json.dumps(list(f.candidates)), f.note,
            r.source, r.page, r.table_index, r.row, r.col, r.offset, json.dumps(r.box) if r.box else None,
            r.confidence)


def _fact_from_row(r: tuple) -> Fact:
    return Fact(
        report_id=r[0], agency=r[1], year=r[2], template=r[3], table=r[4], row=r[5], column=r[6],
        row_label=r[7], column_label=r[8], raw=r[9], value=r[10], unit=r[11], kind=r[12], status=r[13],
        candidates=tuple(json.loads(r[14])), note=r[15],
        ref=CellRef(source=r[16], page=r[17], table_index=r[18], row=r[19], col=r[20], offset=r[21],
                    box=tuple(json.loads(r[22])) if r[22] else None, confidence=r[23]),
    )


def _chunk_from_document(doc) -> Chunk:
    m = doc.metadata
    page = m.get("page", -1)
    return Chunk(
        id=doc.id or "", text=doc.page_content, report_id=m["report_id"], agency=m["agency"], year=m["year"],
        section=m["section"], section_key=m["section_key"], kind=m["kind"], source=m["source"],
        page=None if page == -1 else page,
    )


__all__ = ["PutStatus", "ReportInfo", "Store", "repair"]
