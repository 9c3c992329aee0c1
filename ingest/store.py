"""The store: SQLite for reports, facts, violations and chunk texts; Chroma for the vectors.

A report becomes visible in one SQLite commit. Its vectors are written before that commit under a
version tag (`report_id@content_hash`) and every search is restricted to the committed versions, so
a crash mid-ingest never shows half a report, and the previous version stays answerable until the
new one is committed. Vectors go through LangChain's indexing API with a SQL record manager, which
skips chunks already embedded when an interrupted ingest is re-run.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime
from functools import cached_property
from typing import Literal
from urllib.parse import urlparse

from langchain_core.embeddings import Embeddings

from ingest.errors import IndexMismatch
from ingest.format.template import Template
from ingest.model import CellRef, Chunk, Fact, Report, Violation
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
    """One store per `$REPORTQA_HOME`; safe for many reading threads while one thread writes."""

    def __init__(self, settings: Settings | None = None, embeddings: Embeddings | None = None) -> None:
        self.settings = settings or Settings()
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self._embeddings = embeddings
        self._write_lock = threading.Lock()
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

    def put(
        self, report: Report, facts: Sequence[Fact], violations: Sequence[Violation], chunks: Sequence[Chunk]
    ) -> PutStatus:
        """Make `report` the committed version for its (agency, year), atomically."""
        from langchain_core.indexing import index

        with self._write_lock:
            old = self._current_hash(report.id)
            if old == report.content_hash:
                return "unchanged"
            version = _version(report.id, report.content_hash)
            with self._db() as db:
                db.execute("INSERT OR IGNORE INTO pending VALUES (?)", (version,))
            docs = []
            for c in chunks:
                doc = c.to_langchain()
                doc.metadata["version"] = version
                docs.append(doc)
            index(docs, self._record_manager, self._chroma, cleanup=None, source_id_key="version", key_encoder="sha256")
            with self._db() as db:
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

    def embed_ahead(self, texts: Sequence[str]) -> None:
        """Embed the chunks of the next few puts in one call; those puts then find them cached.

        Holds one batch at a time. A put whose chunks are not cached embeds them itself, so a cache
        miss (another writer, a failed prefetch) only costs time.
        """
        cache = self._prefetched.document_embedding_store
        cache.mdelete(list(cache.yield_keys()))
        if texts:
            self._prefetched.embed_documents(list(texts))

    def remove(self, report_id: str) -> bool:
        """Delete a report's facts, chunks and vectors; False when it is not in the store."""
        with self._write_lock:
            old = self._current_hash(report_id)
            if old is None:
                return False
            with self._db() as db:
                self._delete_rows(db, report_id)
                self._retire(db, _version(report_id, old))
                self._bump(db)
            self._drop_vectors(_version(report_id, old))
            return True

    def recover(self) -> int:
        """Drop vectors of versions a crash left behind: never committed, or replaced or removed but not yet
        dropped; returns how many."""
        with self._write_lock, self._db() as db:
            committed = {_version(i, h) for i, h in db.execute("SELECT id, content_hash FROM reports")}
            stale = [v for (v,) in db.execute("SELECT version FROM pending") if v not in committed]
        for version in stale:
            self._drop_vectors(version)
        return len(stale)

    def count_vectors(self) -> int:
        return self._chroma._collection.count()

    # -- internals -------------------------------------------------------------------------------

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # A connection per operation: sqlite3 connections must not cross threads, and opening
        # one is cheaper than the locking a shared one would need.
        db = sqlite3.connect(self.settings.db_path, timeout=60)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            with db:
                yield db
        finally:
            db.close()

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

    def _drop_vectors(self, version: str) -> None:
        keys = self._record_manager.list_keys(group_ids=[version])
        if keys:
            self._chroma.delete(ids=keys)
            self._record_manager.delete_keys(keys)
        with self._db() as db:
            db.execute("DELETE FROM pending WHERE version = ?", (version,))

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
            client = chromadb.PersistentClient(path=str(self.settings.chroma_dir), settings=chroma_settings)
        model = self.settings.embed_model
        try:
            existing = client.get_collection(self.settings.collection, embedding_function=None)
        except Exception:  # chromadb raises NotFoundError (or ValueError in older clients) when absent
            existing = None
        if existing is not None and (existing.metadata or {}).get("embed_model", model) != model:
            raise IndexMismatch(
                f"the index at {self.settings.home} was built with {existing.metadata['embed_model']!r}, "
                f"not {model!r}: re-run `reportqa ingest` with a fresh REPORTQA_HOME or the same model"
            )
        return Chroma(
            client=client,
            collection_name=self.settings.collection,
            embedding_function=self._prefetched,
            collection_metadata={"embed_model": model, "hnsw:space": "cosine"},
        )


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


__all__ = ["PutStatus", "ReportInfo", "Store"]
