"""The store: a SQL database for reports, facts, violations and chunk texts; Chroma for the vectors.

The database is a SQLite file in the home, or Postgres (`REPORTQA_DB_URL`) when several machines ingest into one
store (with a `chroma run` server, `REPORTQA_CHROMA_URL`); one SQLAlchemy code path serves both.

A report becomes visible in one database commit. Its vectors are written before that commit under a
version tag (`report_id@content_hash`) and every search is restricted to the committed versions, so
a crash mid-ingest never shows half a report, and the previous version stays answerable until the
new one is committed. Vectors go through LangChain's indexing API with a SQL record manager (in the same
database), which skips chunks already embedded when an interrupted ingest is re-run.

Writes overlap: a put embeds holding no lock and takes the database's commit lock only to commit (SQLite's write
lock, a Postgres advisory lock), so a removal or a reader never waits for a long embedding, and two ingesters
committing one report, in one process or on two machines, neither lose nor duplicate it: the second finds it
committed, or replaces it whole. A put that is cancelled, interrupted (Ctrl-C) or fails drops the vectors it
wrote, leaving the store as it was; `recover()` sweeps vectors no committed report owns (a crash, a lost
database) and nobody is writing (`_Writers`: across machines on Postgres, within the process on SQLite, whose
embedded index one process writes at a time).

Storage trouble raises `StoreError`, one line naming the path and the remedy: an uncreatable or unwritable
home, a damaged database, a database lost beside its index (`repair` is `reportqa check --repair`). A store
nobody may write is opened read-only: reading works, writing says why it cannot.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import weakref
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime
from functools import cached_property, partial
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

import sqlalchemy as sa
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from sqlalchemy.dialects import postgresql, sqlite

from ingest.errors import Cancelled, IndexMismatch, StoreError
from ingest.format.template import Template
from ingest.model import CellRef, Chunk, Fact, Report, Violation
from ingest.runtime import runtime
from ingest.settings import Settings

PutStatus = Literal["added", "unchanged", "replaced"]

_META = sa.MetaData()


def _rowid() -> sa.Column:
    # SQLite's implicit row id (insertion order), declared so that Postgres has the same column to sort by; on
    # SQLite an INTEGER primary key is that row id, so stores written before it was declared read the same.
    return sa.Column("rowid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)


_REPORTS = sa.Table(
    "reports", _META, sa.Column("id", sa.Text, primary_key=True), sa.Column("agency", sa.Text),
    sa.Column("year", sa.Integer),
    *(sa.Column(name, sa.Text) for name in ("title", "source", "source_format", "template", "publish_date",
                                            "content_hash")),
    *(sa.Column(name, sa.Integer) for name in ("chunks", "facts", "violations")),
    *(sa.Column(name, sa.Text) for name in ("ingested_at", "agency_source", "year_source")),
)
_FACTS = sa.Table(
    "facts", _META, _rowid(),
    *(sa.Column(name, sa.Text) for name in ("report_id", "agency")), sa.Column("year", sa.Integer),
    *(sa.Column(name, sa.Text) for name in ("template", "tbl", "row", "col", "row_label", "column_label", "raw")),
    sa.Column("value", sa.Float),
    *(sa.Column(name, sa.Text) for name in ("unit", "kind", "status", "candidates", "note", "source")),
    *(sa.Column(name, sa.Integer) for name in ("page", "table_index", "cell_row", "cell_col", "cell_offset")),
    sa.Column("cell_box", sa.Text), sa.Column("confidence", sa.Float),
    # One cell across agencies (rankings), and one table of one report (a fact answer), at any corpus size.
    sa.Index("facts_lookup", "tbl", "row", "col", "agency", "year"),
    sa.Index("facts_report_table", "agency", "year", "tbl"),
    sa.Index("facts_report", "report_id"),
)
_VIOLATIONS = sa.Table(
    "violations", _META, _rowid(), *(sa.Column(name, sa.Text) for name in ("report_id", "tbl", "rule", "at")),
    sa.Column("expected", sa.Float), sa.Column("found", sa.Float),
)
_CHUNKS = sa.Table(
    "chunks", _META, _rowid(), *(sa.Column(name, sa.Text) for name in ("id", "text", "report_id", "agency")),
    sa.Column("year", sa.Integer), *(sa.Column(name, sa.Text) for name in ("section", "section_key", "kind", "source")),
    sa.Column("page", sa.Integer), sa.Index("chunks_report", "report_id"),
)
# OCR'd pages as read (JPEG): what an OCR'd cell's box points into, to show the cell as printed.
_PAGE_IMAGES = sa.Table(
    "page_images", _META, sa.Column("report_id", sa.Text), sa.Column("page", sa.Integer),
    sa.Column("image", sa.LargeBinary), sa.Index("page_images_report", "report_id", "page"),
)
_PENDING = sa.Table("pending", _META, sa.Column("version", sa.Text, primary_key=True))
_GENERATION = sa.Table("meta", _META, sa.Column("key", sa.Text, primary_key=True), sa.Column("value", sa.Text))
# Columns added since the first stores were written: a store without them gets them on open (empty).
_ADDED_COLUMNS = {_REPORTS: ("agency_source", "year_source"), _FACTS: ("cell_box", "confidence")}
# Tables a report's rows live in, with the column naming the report.
_REPORT_ROWS = ((_REPORTS, "id"), (_FACTS, "report_id"), (_VIOLATIONS, "report_id"), (_CHUNKS, "report_id"),
                (_PAGE_IMAGES, "report_id"))
# Postgres advisory lock taken by every committing transaction (the two-key space, apart from the versions' keys).
_COMMIT_LOCK = (0x52515141, 1)
# Chunks embedded between two looks at a cancel flag: a few seconds of work on two cores. Prefetching takes
# bigger slices, since one call for several reports pads less (pipeline.READ_AHEAD).
_BATCH = 64
_AHEAD_BATCH = 256
_EXACT_VERSIONS = 50  # searches of up to this many reports (dozens of chunks each) are scored exactly (Store._scored)


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
    """One store per `$REPORTQA_HOME` (and `$REPORTQA_DB_URL`); safe for many threads, reading and writing."""

    def __init__(self, settings: Settings | None = None, embeddings: Embeddings | None = None) -> None:
        self.settings = settings or Settings()
        self.read_only = _open_home(self.settings)
        self._embeddings = embeddings
        self._engine = _engine(self.settings, self.read_only)
        postgres = self._engine.dialect.name == "postgresql"
        self._writers: _Writers = _PostgresWriters(self._engine) if postgres else _LocalWriters()
        if not self.read_only:
            with self._db(write=True) as db:
                _META.create_all(db)
                _add_columns(db)

    # -- reading ---------------------------------------------------------------------------------

    def reports(self) -> list[ReportInfo]:
        with self._db() as db:
            rows = db.execute(sa.select(*(_REPORTS.c[f.name] for f in fields(ReportInfo)))).all()
        # Sorted here, not by the database: Postgres collations order Chinese otherwise than SQLite's bytes.
        return sorted((ReportInfo(*row) for row in rows), key=lambda r: (r.agency, r.year))

    def report_with_hash(self, content_hash: str) -> ReportInfo | None:
        """The committed report read from a file with these bytes, if any."""
        columns = (_REPORTS.c[f.name] for f in fields(ReportInfo))
        with self._db() as db:
            row = db.execute(sa.select(*columns).where(_REPORTS.c.content_hash == content_hash).limit(1)).first()
        return ReportInfo(*row) if row else None

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
        query = sa.select(*_columns(_FACTS)).where(
            *(_FACTS.c[name] == value for name, value in filters.items() if value is not None)
        )
        with self._db() as db:
            rows = db.execute(query.order_by(_FACTS.c.rowid)).all()
        return [_fact_from_row(r) for r in rows]

    def page_image(self, report_id: str, page: int) -> bytes | None:
        """An OCR'd page of a report as it was read (JPEG), or None for a page read from text."""
        t = _PAGE_IMAGES
        with self._db() as db:
            return db.execute(sa.select(t.c.image).where(t.c.report_id == report_id, t.c.page == page)).scalar()

    def violations(self, report_id: str | None = None) -> list[Violation]:
        query = sa.select(*_columns(_VIOLATIONS)).order_by(_VIOLATIONS.c.rowid)
        if report_id:
            query = query.where(_VIOLATIONS.c.report_id == report_id)
        with self._db() as db:
            return [Violation(*r) for r in db.execute(query)]

    def chunks(self, report_ids: Iterable[str] | None = None) -> list[Chunk]:
        query = sa.select(*_columns(_CHUNKS)).order_by(_CHUNKS.c.rowid)
        if report_ids is not None:
            query = query.where(_CHUNKS.c.report_id.in_(list(report_ids)))
        with self._db() as db:
            return [Chunk(*r) for r in db.execute(query)]

    def search(
        self, query: str, k: int = 5, report_ids: Sequence[str] | None = None
    ) -> list[tuple[Chunk, float]]:
        """Dense search over committed reports (or only `report_ids`): (chunk, cosine similarity), best first.

        Over every report, the search is not filtered by the committed versions (a filter naming 10^5 of them
        costs Chroma more than the search): it fetches more than `k` and drops the hits of versions not committed
        (a put in flight, what a crash left), filtering only when too few are left."""
        if report_ids is None:
            pool = 2 * k + 10
            found = self._chroma.similarity_search_with_score(query, k=pool)
            committed = self._versions({doc.metadata["report_id"] for doc, _ in found})
            kept = [(doc, distance) for doc, distance in found if doc.metadata.get("version") in committed]
            if len(kept) >= k or len(found) < pool:
                return [(_chunk_from_document(doc), 1.0 - distance) for doc, distance in kept[:k]]
        versions = sorted(self._versions(report_ids))
        if not versions:
            return []
        if len(versions) <= _EXACT_VERSIONS:
            return self._scored(query, k, versions)
        where = {"version": versions[0]} if len(versions) == 1 else {"version": {"$in": versions}}
        found = self._chroma.similarity_search_with_score(query, k=k, filter=where)
        # The collection uses cosine distance; report similarity (1 = same direction).
        return [(_chunk_from_document(doc), 1.0 - distance) for doc, distance in found]

    def _scored(self, query: str, k: int, versions: Sequence[str]) -> list[tuple[Chunk, float]]:
        """The `k` chunks of a few versions most similar to `query`, scored exactly: their vectors are fetched by
        id (the record manager lists a version's ids) and compared here. Chroma's metadata filter costs 0.3 s
        at 3×10^5 vectors (BENCHMARKS.md, Scale: 10^5 reports); a few reports' dozens of vectors cost
        milliseconds, with no HNSW approximation."""
        import numpy as np

        keys = self._record_manager.list_keys(group_ids=list(versions))
        if not keys:
            return []
        got = self._chroma._collection.get(ids=keys, include=["embeddings", "metadatas", "documents"])
        wanted = set(versions)
        rows = [i for i, m in enumerate(got["metadatas"]) if m and m.get("version") in wanted]
        if not rows:
            return []
        vectors = np.asarray(got["embeddings"], dtype=np.float32)[rows]
        asked = np.asarray(self._prefetched.embed_query(query), dtype=np.float32)
        # cosine, as the collection's space is: the model's vectors are normalized, other embeddings may not be
        scores = vectors @ asked / np.maximum(np.linalg.norm(vectors, axis=1) * np.linalg.norm(asked), 1e-12)
        best = np.argsort(-scores, kind="stable")[:k]
        return [(_chunk_from_document(Document(page_content=got["documents"][rows[i]], id=got["ids"][rows[i]],
                                               metadata=got["metadatas"][rows[i]])), float(scores[i]))
                for i in best]

    def _versions(self, report_ids: Iterable[str] | None) -> set[str]:
        """The committed versions of the given reports (of all when None)."""
        query = sa.select(_REPORTS.c.id, _REPORTS.c.content_hash)
        if report_ids is not None:
            query = query.where(_REPORTS.c.id.in_(list(report_ids)))
        with self._db() as db:
            return {_version(i, h) for i, h in db.execute(query)}

    def generation(self) -> int:
        """Changes whenever committed contents change (callers rebuild caches such as BM25 on it)."""
        with self._db() as db:
            value = db.execute(sa.select(_GENERATION.c.value).where(_GENERATION.c.key == "generation")).scalar()
        return int(value or 0)

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

        Embedding runs outside any lock; setting `cancel` stops it between batches with `Cancelled`.
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
            with self._db(write=True) as db:
                old = self._current_hash(report.id, db)
                if old == report.content_hash:  # another writer committed the same bytes meanwhile
                    db.execute(_PENDING.delete().where(_PENDING.c.version == version))
                    return "unchanged"
                self._delete_rows(db, report.id)
                info = ReportInfo(
                    report.id, report.agency, report.year, report.title, report.source, report.source_format,
                    report.template, report.publish_date, report.content_hash, len(chunks), len(facts),
                    len(violations), datetime.now(UTC).isoformat(timespec="seconds"), report.agency_source,
                    report.year_source,
                )
                _insert(db, _REPORTS, [astuple(info)])
                _insert(db, _FACTS, map(_fact_to_row, facts))
                _insert(db, _PAGE_IMAGES, [(report.id, page, image) for page, image in report.page_images])
                _insert(db, _VIOLATIONS, map(astuple, violations))
                _insert(db, _CHUNKS, map(astuple, chunks))
                db.execute(_PENDING.delete().where(_PENDING.c.version == version))
                if old is not None:
                    self._retire(db, _version(report.id, old))
                self._bump(db)
        if old is not None:
            self._drop_unowned(_version(report.id, old))
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
        with self._db(write=True) as db:
            old = self._current_hash(report_id, db)
            if old is None:
                return False
            self._delete_rows(db, report_id)
            self._retire(db, _version(report_id, old))
            self._bump(db)
        self._drop_unowned(_version(report_id, old))
        self.recover()
        return True

    def recover(self) -> int:
        """Drop the vectors no committed report owns: versions a crash left uncommitted or half-retired, or whose
        rows were lost with the database; versions being written (by any process) are kept. Returns how many."""
        self.require_writable()
        return sum(self._drop_unowned(version) for version in self._orphans())

    def orphaned_reports(self) -> list[str]:
        """"report_id (source)" of every version whose vectors no committed report owns (what recover drops)."""
        return sorted({f"{report_id} ({source})" for report_id, source in self._orphans().values()})

    def count_vectors(self) -> int:
        return self._chroma._collection.count()

    # -- internals -------------------------------------------------------------------------------

    @contextmanager
    def _db(self, *, write: bool = False) -> Iterator[sa.Connection]:
        """One transaction. `write`: one that reads what it then changes, so it holds the store's commit lock
        (SQLite: BEGIN IMMEDIATE; Postgres: an advisory lock), serializing it with every other process's."""
        try:
            with self._engine.connect() as db:
                if write:
                    db = db.execution_options(reportqa_write=True)  # seen by _engine's BEGIN on SQLite
                with db.begin():
                    if write and db.dialect.name == "postgresql":
                        db.execute(sa.select(sa.func.pg_advisory_xact_lock(*_COMMIT_LOCK)))
                    yield db
        except sa.exc.DBAPIError as err:
            raise _storage_error(self.settings, err) from err

    @contextmanager
    def _writing(self, version: str) -> Iterator[None]:
        """Hold `version` as being written (recover() keeps it) and list it as pending (a crash leaves it to
        recover()); on any failure, Ctrl-C or cancel included, drop what was written of it unless another
        writer still needs it."""
        try:
            with self._writers.writing(version):
                with self._db() as db:
                    db.execute(_dialect_insert(db, _PENDING).values(version=version).on_conflict_do_nothing())
                yield
        except BaseException:
            # Another writer of the same bytes may still need them; a failure here is finished by recover().
            with suppress(Exception):
                self._drop_unowned(version)
            raise

    def _index(self, docs: Sequence, cancel: threading.Event | None) -> None:
        from langchain_core.indexing import index

        for start in range(0, len(docs), _BATCH):
            _check(cancel)
            index(docs[start : start + _BATCH], self._record_manager, self._chroma, cleanup=None,
                  source_id_key="version", key_encoder="sha256")

    def _orphans(self) -> dict[str, tuple[str, str]]:
        """Version -> (report id, source) of the vectors and pending versions that no committed report owns and
        nobody is writing."""
        keep = self._versions(None)
        where = {"version": {"$nin": sorted(keep)}} if keep else None
        found = self._chroma.get(where=where, include=["metadatas"])
        orphans = {m["version"]: (m.get("report_id", "?"), m.get("source", "?"))
                   for m in found["metadatas"] if m and "version" in m}
        with self._db() as db:
            pending = [v for v in db.execute(sa.select(_PENDING.c.version)).scalars() if v not in keep]
        for version in pending:
            orphans.setdefault(version, (version.rpartition("@")[0], "?"))
        return {version: owner for version, owner in orphans.items() if not self._writers.busy(version)}

    def _current_hash(self, report_id: str, db: sa.Connection | None = None) -> str | None:
        query = sa.select(_REPORTS.c.content_hash).where(_REPORTS.c.id == report_id)
        if db is not None:
            return db.execute(query).scalar()
        with self._db() as own:
            return own.execute(query).scalar()

    @staticmethod
    def _delete_rows(db: sa.Connection, report_id: str) -> None:
        for table, key in _REPORT_ROWS:
            db.execute(table.delete().where(table.c[key] == report_id))

    @staticmethod
    def _bump(db: sa.Connection) -> None:
        generation = sa.cast(sa.cast(_GENERATION.c.value, sa.Integer) + 1, sa.Text)
        db.execute(_dialect_insert(db, _GENERATION).values(key="generation", value="1")
                   .on_conflict_do_update(index_elements=["key"], set_={"value": generation}))

    @staticmethod
    def _retire(db: sa.Connection, version: str) -> None:
        """List a version whose vectors are about to be dropped, in the transaction that uncommits it,
        so that recover() finishes the drop if the process dies first."""
        db.execute(_dialect_insert(db, _PENDING).values(version=version).on_conflict_do_nothing())

    def _drop_unowned(self, version: str) -> int:
        """Drop a version's vectors unless it is committed or someone is writing it; returns how many. Holding it
        meanwhile makes a put of the same version wait, then write every vector itself."""
        with self._writers.dropping(version) as free:
            if not free or version in self._versions(None):
                return 0
            return self._drop_vectors(version)

    def _drop_vectors(self, version: str) -> int:
        """Delete a version's vectors (found in the index and in the record manager, either may have lost
        track of them) and its pending row; returns how many vectors."""
        keys = sorted(set(self._chroma.get(where={"version": version}, include=[])["ids"])
                      | set(self._record_manager.list_keys(group_ids=[version])))
        for start in range(0, len(keys), 1000):  # under Chroma's largest batch
            self._chroma.delete(ids=keys[start : start + 1000])
            self._record_manager.delete_keys(keys[start : start + 1000])
        with self._db() as db:
            db.execute(_PENDING.delete().where(_PENDING.c.version == version))
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
        from langchain_classic.indexes._sql_record_manager import UpsertionRecord

        # Its table is made here rather than by create_schema(), which would use a connection of its own: under
        # the commit lock, two processes opening a new database at once do not both create it.
        with self._db(write=True) as db:
            UpsertionRecord.metadata.create_all(db)
        return SQLRecordManager(f"chroma/{self.settings.collection}", engine=self._engine)

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


class _Writers(ABC):
    """Who is writing which version, so that nobody drops vectors a writer still needs.

    A writer holds its version shared from before its first vector until after its commit. Whoever drops a
    version's vectors (a failed put, a replacement retiring the old version, recover()) first takes it
    exclusively, or leaves it alone when it cannot; a put of that version starting meanwhile waits, then writes
    every vector itself (the record manager no longer lists them)."""

    @abstractmethod
    def writing(self, version: str) -> AbstractContextManager[None]: ...

    @abstractmethod
    def dropping(self, version: str) -> AbstractContextManager[bool]:
        """Hold `version` exclusively if nobody writes it: yields whether it could."""

    def busy(self, version: str) -> bool:
        with self.dropping(version) as free:
            return not free


class _LocalWriters(_Writers):
    """The writers of this process: a SQLite store with an embedded index is written by one process at a time."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._writing: Counter[str] = Counter()
        self._dropping: set[str] = set()

    @contextmanager
    def writing(self, version: str) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: version not in self._dropping)
            self._writing[version] += 1
        try:
            yield
        finally:
            with self._changed:
                self._writing[version] -= 1

    @contextmanager
    def dropping(self, version: str) -> Iterator[bool]:
        with self._changed:
            free = not self._writing[version] and version not in self._dropping
            if free:
                self._dropping.add(version)
        try:
            yield free
        finally:
            if free:
                with self._changed:
                    self._dropping.discard(version)
                    self._changed.notify_all()


class _PostgresWriters(_Writers):
    """The writers on every machine sharing the database, as session advisory locks on the versions, each held on a
    connection of its own. Postgres releases a lock with its connection, so a writer that crashed (its process
    killed, its machine gone once TCP keepalive notices) stops protecting its version and recover() drops it; no
    heartbeat, clock or grace period to tune."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    @contextmanager
    def writing(self, version: str) -> Iterator[None]:
        with self._engine.connect() as db:
            db.execution_options(isolation_level="AUTOCOMMIT")
            db.execute(sa.select(sa.func.pg_advisory_lock_shared(_lock_key(version))))
            try:
                yield
            finally:
                db.execute(sa.select(sa.func.pg_advisory_unlock_shared(_lock_key(version))))

    @contextmanager
    def dropping(self, version: str) -> Iterator[bool]:
        with self._engine.connect() as db:
            db.execution_options(isolation_level="AUTOCOMMIT")
            free = bool(db.execute(sa.select(sa.func.pg_try_advisory_lock(_lock_key(version)))).scalar())
            try:
                yield free
            finally:
                if free:
                    db.execute(sa.select(sa.func.pg_advisory_unlock(_lock_key(version))))


def _lock_key(version: str) -> int:
    """A version's advisory lock key: Postgres takes a signed 64-bit number."""
    return int.from_bytes(hashlib.sha256(version.encode()).digest()[:8], "big", signed=True)


def _engine(settings: Settings, read_only: bool) -> sa.Engine:
    if settings.db_url:
        url = sa.make_url(settings.db_url)
        if url.drivername == "postgresql":  # SQLAlchemy's default there is psycopg2; psycopg (3) is what is installed
            url = url.set(drivername="postgresql+psycopg")
        return sa.create_engine(url)
    # A connection per operation, closed after it (no pool): the last one closed folds the WAL into the file.
    engine = sa.create_engine(f"sqlite:///{settings.db_path}", poolclass=sa.NullPool,
                              creator=partial(_connect_sqlite, settings.db_path, read_only))

    @sa.event.listens_for(engine, "begin")
    def begin(db: sa.Connection) -> None:
        # sqlite3's own BEGIN comes only before a change (_connect_sqlite turns it off): this one also covers the
        # reads before it, and a write takes the database's write lock before reading what it will change.
        db.exec_driver_sql("BEGIN IMMEDIATE" if db.get_execution_options().get("reportqa_write") else "BEGIN")

    return engine


def _connect_sqlite(path: Path, read_only: bool) -> sqlite3.Connection:
    if read_only:
        # immutable: WAL mode would otherwise need a -shm file beside the database, which cannot be made
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, isolation_level=None,
                               check_same_thread=False)
    db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def _columns(table: sa.Table) -> list[sa.Column]:
    """A table's columns in the order of the record stored in it (rowid is the database's)."""
    return [c for c in table.columns if c.name != "rowid"]


def _insert(db: sa.Connection, table: sa.Table, rows: Iterable[tuple]) -> None:
    names = [c.name for c in _columns(table)]
    values = [dict(zip(names, row, strict=True)) for row in rows]
    if values:
        db.execute(table.insert(), values)


def _dialect_insert(db: sa.Connection, table: sa.Table):
    """An INSERT that can take ON CONFLICT, which SQLite and Postgres both have but SQLAlchemy spells per dialect."""
    return (sqlite.insert if db.dialect.name == "sqlite" else postgresql.insert)(table)


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
    """Create the home if needed and say whether it is read-only; refuse a SQLite database lost beside its index."""
    home, db_path = settings.home, settings.db_path
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StoreError(f"cannot create the store folder {home} ({err.strerror}): set REPORTQA_HOME to a folder "
                         "you can write") from err
    if settings.db_url:  # the home holds at most the embedded index
        return not settings.chroma_url and not os.access(home, os.W_OK)
    index = settings.chroma_dir / "chroma.sqlite3"
    lost = "missing" if not db_path.exists() else "empty (0 bytes)" if db_path.stat().st_size == 0 else ""
    if lost and not settings.chroma_url and index.exists():
        raise StoreError(
            f"the fact database {db_path} is {lost} but its vector index {settings.chroma_dir} is not: the database "
            f"was lost or overwritten. Restore {db_path.name} from a backup, or run `reportqa check --repair` to drop "
            "the orphaned vectors, then re-ingest the reports"
        )
    return not os.access(home, os.W_OK) or (db_path.exists() and not os.access(db_path, os.W_OK))


def _storage_error(settings: Settings, err: sa.exc.DBAPIError) -> StoreError:
    """One line for a failing database call: what is wrong with which database, and what to do."""
    text = str(err.orig).strip().splitlines()[0] if str(err.orig).strip() else type(err.orig).__name__
    if settings.db_url:
        url = sa.make_url(settings.db_url).render_as_string(hide_password=True)
        return StoreError(f"the database {url} cannot be used ({text}): check REPORTQA_DB_URL and that the server "
                          "is up and lets this user in")
    path = settings.db_path
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
    every vector no committed report owns; returns what was done, one line each. A Postgres database is the
    server's to keep whole: only the vectors are swept."""
    done = []
    db_path = settings.db_path
    if settings.home.is_dir() and not os.access(settings.home, os.W_OK):
        raise StoreError(f"the store at {settings.home} is read-only: make it writable to repair it")
    if not settings.db_url and db_path.exists() and not _readable(db_path):
        aside = db_path.with_name(f"{db_path.name}.damaged-{datetime.now(UTC):%Y%m%d%H%M%S}")
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{db_path}{suffix}").exists():
                Path(f"{db_path}{suffix}").rename(f"{aside}{suffix}")
        done.append(f"set the damaged database aside as {aside}; the store starts empty")
    if not settings.db_url and settings.home.is_dir() and not db_path.exists():
        with _engine(settings, read_only=False).begin() as db:  # an empty database beside the index: not "lost"
            _META.create_all(db)
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


def _add_columns(db: sa.Connection) -> None:
    inspector = sa.inspect(db)
    for table, names in _ADDED_COLUMNS.items():
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for name in names:
            if name not in present:
                kind = table.c[name].type.compile(db.dialect)
                db.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}"))


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
