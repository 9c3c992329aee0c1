"""Scale benchmark (`make bench-scale`, `python -m tests.bench_scale`): latency with 10^5 reports in the store.

Issue #14 asks for fact answers under 20 ms (p50) with 10^5 reports' cells in the store (2×10^7 rows) and narrative
answers under 150 ms with 3×10^5 chunks in Chroma. Ingesting that many reports would take weeks of embedding on
this machine, so the store is filled directly: a few generated reports go through the real pipeline into a scratch
store (facts, chunks and their real vectors), then their rows are copied into the measured store once per report
under a new agency name, and their vectors with a little noise. Everything is measured through the product's own
path (`Engine.answer`), plus the layers under it (`Store.facts`, the agency index, a raw Chroma query).

The measured store is built from `Settings`, so its database is whatever the settings name (a SQLite file in the
home by default); `--db-url` (or `$REPORTQA_DB_URL`) points it at another database (Postgres).
Results are spliced into BENCHMARKS.md as one section.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import astuple, dataclass, fields, replace
from itertools import islice, product
from pathlib import Path

for _name, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("GRADIO_ANALYTICS_ENABLED", "False"),
                      ("ANONYMIZED_TELEMETRY", "False")):
    os.environ.setdefault(_name, _value)

import numpy as np  # noqa: E402  (after the offline switches above)
from langchain_core.embeddings import Embeddings  # noqa: E402

from ingest.model import Chunk  # noqa: E402
from ingest.pipeline import ingest  # noqa: E402
from ingest.settings import Settings  # noqa: E402
from ingest.store import ReportInfo, Store, _fact_to_row, _version  # noqa: E402
from qa.agencies import AgencyIndex  # noqa: E402
from qa.retrieve import HybridRetriever  # noqa: E402
from tests.bench import OUT, Latency, _log, machine, splice  # noqa: E402
from tests.golden import zh_metric  # noqa: E402
from tests.reportgen import YEARS, random_spec, render  # noqa: E402

HEADING = "## Scale: 10^5 reports (fact and narrative latency), {backend}"
# The facts table's columns in the order `_fact_to_row` gives them (named in every INSERT, so a database whose
# table orders them otherwise still loads).
FACT_COLUMNS = ("report_id", "agency", "year", "template", "tbl", "row", "col", "row_label", "column_label", "raw",
                "value", "unit", "kind", "status", "candidates", "note", "source", "page", "table_index",
                "cell_row", "cell_col", "cell_offset", "cell_box", "confidence")
REPORT_COLUMNS = tuple(f.name for f in fields(ReportInfo))
CHUNK_COLUMNS = tuple(f.name for f in fields(Chunk))
NARRATIVE = ("{agency}{year}年政府信息公开工作存在哪些问题？", "{agency}{year}年在平台建设方面做了什么？",
             "{agency}{year}年主动公开了哪些信息？")
_BATCH = 50_000  # rows per INSERT batch and commit
_NOISE = 0.01  # per-dimension noise on copied vectors: cosine ≈ 0.98 to the vector copied


# -- names --------------------------------------------------------------------------------------------

_CITY = "安宁泰和兴华昌隆丰庆阳平康永乐嘉"
_CITY2 = "州江山源城川原林德远"
_COUNTY = "东西南北中上下新清云金石桂松柏梅"
_COUNTY2 = "溪河湖台桥岭口坪坝湾港滨沙田"
_DEPARTMENTS = (
    "人民政府", "人民政府办公室", "发展和改革局", "教育局", "科学技术局", "工业和信息化局", "公安局", "民政局",
    "司法局", "财政局", "人力资源和社会保障局", "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局", "水利局",
    "农业农村局", "商务局", "文化广电和旅游局", "卫生健康委员会", "退役军人事务局", "应急管理局", "审计局",
    "市场监督管理局", "统计局", "医疗保障局", "林业局", "城市管理局", "行政审批局", "数据资源管理局",
)


def agency_names(n: int, seed: int = 0) -> list[str]:
    """`n` distinct agency names shaped like real ones (常州市武进区生态环境局): fictional cities and their counties
    or districts, each with the usual departments. The city and county stems come from disjoint characters, so no
    name is another's place with a different level."""
    cities = [a + b for a, b in product(_CITY, _CITY2)]
    counties = [a + b for a, b in product(_COUNTY, _COUNTY2)]
    places = [f"{c}市" for c in cities] + [f"{c}市{k}{'区' if i % 3 else '县'}"
                                           for c in cities for i, k in enumerate(counties)]
    names = [p + d for p, d in product(places, _DEPARTMENTS)]
    if n > len(names):
        raise ValueError(f"at most {len(names)} agency names, asked for {n}")
    return random.Random(seed).sample(names, n)


# -- templates: a few reports through the real pipeline -----------------------------------------------


@dataclass(frozen=True)
class Template:
    """One generated report as the pipeline stored it: what every copy of it repeats."""

    report: ReportInfo
    facts: list[tuple]  # `_fact_to_row` rows
    chunks: list[Chunk]
    vectors: np.ndarray  # one row per chunk, as embedded at ingest


def templates(home: Path, embeddings: Embeddings | None = None) -> list[Template]:
    """One generated report per year, ingested (read, extracted, chunked, embedded) into a scratch store."""
    files = [render(random_spec(f"宝鸡市渭滨区{'教育局' if y % 2 else '民政局'}", y, seed=y), "html",
                    home / "files" / f"{y}.html") for y in YEARS]
    store = Store(_settings(home / "store", ""), embeddings=embeddings)
    failed = [r for r in ingest(files, store) if r.status == "error"]
    if failed:
        raise RuntimeError(f"template reports failed to ingest: {failed}")
    # The vectors as stored (no re-embedding); Chroma keys them by a content hash, so they are matched by text.
    found = store._chroma._collection.get(include=["embeddings", "documents", "metadatas"])
    vector = {(m["report_id"], text): v
              for m, text, v in zip(found["metadatas"], found["documents"], found["embeddings"], strict=True)}
    out = []
    for report in store.reports():
        chunks = store.chunks([report.id])
        out.append(Template(report, [_fact_to_row(f) for f in store.facts(report_id=report.id)], chunks,
                            np.asarray([vector[report.id, c.text] for c in chunks], dtype=np.float32)))
    return out


# -- population ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Copy:
    """One report of the measured store: a template's content under another agency."""

    agency: str
    template: Template

    @property
    def report_id(self) -> str:
        return f"{self.agency}:{self.template.report.year}"

    @property
    def info(self) -> ReportInfo:
        t = self.template.report
        content_hash = hashlib.sha256(self.report_id.encode()).hexdigest()
        return replace(t, id=self.report_id, agency=self.agency, title=t.title.replace(t.agency, self.agency),
                       source=f"{self.report_id}.html", content_hash=content_hash)

    def facts(self) -> Iterator[tuple]:
        rid, source, year = self.report_id, f"{self.report_id}.html", self.template.report.year
        for row in self.template.facts:
            yield (rid, self.agency, year, *row[3:16], source, *row[17:])

    def chunks(self) -> list[Chunk]:
        t = self.template.report
        return [replace(c, id=f"{self.report_id}:{i}", text=c.text.replace(t.agency, self.agency),
                        report_id=self.report_id, agency=self.agency, section=c.section.replace(t.agency, self.agency),
                        source=f"{self.report_id}.html") for i, c in enumerate(self.template.chunks)]


def copies(n: int, made: Sequence[Template], seed: int = 0) -> list[Copy]:
    """`n` reports, each of a distinct agency, the templates (so the years) taken in turn."""
    return [Copy(agency, made[i % len(made)]) for i, agency in enumerate(agency_names(n, seed))]


class Loader:
    """Bulk rows into the store's own tables, through whichever database its settings name.

    Indexes are dropped before a load and rebuilt after (one sort instead of 2×10^7 random index inserts); reopening
    the Store would rebuild them too, but rebuilding them here times them apart."""

    def __init__(self, url: str) -> None:
        import sqlalchemy

        self.sa = sqlalchemy
        parsed = sqlalchemy.make_url(url)
        if parsed.drivername == "postgresql":  # psycopg (3), as the store uses, not SQLAlchemy's default psycopg2
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.engine = sqlalchemy.create_engine(parsed)
        if self.engine.dialect.name == "sqlite":
            sqlalchemy.event.listen(self.engine, "connect", _bulk_pragmas)
        self.meta = sqlalchemy.MetaData()
        self.meta.reflect(self.engine, only=("facts", "reports", "chunks"))
        self.dropped: list = []

    def drop_indexes(self, table: str) -> None:
        with self.engine.begin() as conn:
            for index in list(self.meta.tables[table].indexes):
                index.drop(conn)
                self.dropped.append(index)

    def rebuild_indexes(self) -> None:
        """Recreate the dropped indexes; on Postgres also VACUUM ANALYZE, as after any bulk load: without it the
        planner has no statistics yet, and autovacuum works through the 2×10^7 new rows during the measurement."""
        with self.engine.begin() as conn:
            for index in self.dropped:
                index.create(conn)
        self.dropped = []
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> int:
        """Insert `rows` (tuples in `columns` order) in batches, one commit each; returns how many."""
        count = 0
        rows = iter(rows)
        while batch := list(islice(rows, _BATCH)):
            with self.engine.begin() as conn:
                if self.engine.dialect.name == "sqlite":  # the DB-API's executemany: 3× SQLAlchemy's on SQLite
                    marks = ",".join("?" * len(columns))
                    conn.connection.driver_connection.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", batch)
                else:  # Postgres: COPY, an order of magnitude faster than INSERTs
                    with conn.connection.driver_connection.cursor() as cursor, cursor.copy(
                            f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in batch:
                            copy.write_row(row)
            count += len(batch)
        return count

    def bump_generation(self) -> None:
        """Tell engines the contents changed, as a put does."""
        with self.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM meta WHERE key = 'generation'")
            conn.exec_driver_sql("INSERT INTO meta VALUES ('generation', '1')")

    def close(self) -> None:
        self.engine.dispose()


def _bulk_pragmas(connection, _record) -> None:
    """A benchmark fill needs no crash safety; a large page cache makes the index sorts in-memory."""
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-1000000")


@dataclass
class Filled:
    """What was put in the measured store, and how long it took."""

    reports: int = 0
    facts: int = 0
    chunks: int = 0
    chunk_reports: int = 0
    load_s: float = 0.0
    index_s: float = 0.0
    vectors_s: float = 0.0


def fill(store: Store, reports: Sequence[Copy], n_chunks: int, seed: int = 0, log: Callable[[str], None] = _log
         ) -> Filled:
    """Facts of every report, and chunks (rows and noisy vectors) of the first reports up to `n_chunks` chunks."""
    loader = Loader(store.settings.db_url or f"sqlite:///{store.settings.db_path}")
    done = Filled()
    try:
        with_text = _with_text(reports, n_chunks)
        loader.drop_indexes("facts")
        start = time.perf_counter()
        done.reports = loader.insert("reports", REPORT_COLUMNS, (
            astuple(replace(c.info, chunks=len(c.template.chunks) if i < len(with_text) else 0))
            for i, c in enumerate(reports)))
        done.facts = loader.insert("facts", FACT_COLUMNS, (row for c in reports for row in c.facts()))
        done.load_s = time.perf_counter() - start
        log(f"{done.reports} reports, {done.facts} facts loaded in {done.load_s:.0f} s")
        start = time.perf_counter()
        loader.rebuild_indexes()
        done.index_s = time.perf_counter() - start
        log(f"facts indexes rebuilt in {done.index_s:.0f} s")
        start = time.perf_counter()
        done.chunk_reports = len(with_text)
        done.chunks = add_chunks(store, loader, with_text, np.random.default_rng(seed))
        done.vectors_s = time.perf_counter() - start
        log(f"{done.chunks} chunks of {done.chunk_reports} reports stored and indexed in {done.vectors_s:.0f} s")
        loader.bump_generation()
    finally:
        loader.close()
    return done


def _with_text(reports: Sequence[Copy], n_chunks: int) -> list[Copy]:
    """The first reports whose chunks reach `n_chunks` in all."""
    out, total = [], 0
    for c in reports:
        if total >= n_chunks:
            break
        out.append(c)
        total += len(c.template.chunks)
    return out


def add_chunks(store: Store, loader: Loader, reports: Sequence[Copy], rng: np.random.Generator) -> int:
    """Chunk rows into the database and their vectors into the store's collection, as a put leaves them (ids,
    metadata, version tag), vectors copied from the template's with noise instead of embedded."""
    collection = store._chroma._collection  # the store's own collection, created with the product's metadata
    step = collection._client.get_max_batch_size()
    count = 0
    pending: list[tuple[Chunk, np.ndarray, str]] = []
    for i, c in enumerate(reports):
        version = _version(c.report_id, c.info.content_hash)
        pending += [(chunk, vector, version) for chunk, vector in zip(c.chunks(), c.template.vectors, strict=True)]
        if len(pending) >= step or i == len(reports) - 1:
            chunks = [p[0] for p in pending]
            count += loader.insert("chunks", CHUNK_COLUMNS, map(astuple, chunks))
            vectors = np.stack([p[1] for p in pending]) + rng.normal(0, _NOISE, (len(pending), len(pending[0][1])))
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            for start in range(0, len(pending), step):
                part = pending[start : start + step]
                docs = [p[0].to_langchain() for p in part]
                collection.add(ids=[hashlib.sha256(d.id.encode()).hexdigest() for d in docs],  # as a put's: hashes
                               documents=[d.page_content for d in docs],
                               metadatas=[{**d.metadata, "version": p[2]} for d, p in zip(docs, part, strict=True)],
                               embeddings=vectors[start : start + step].astype(np.float32))
            pending = []
    return count


# -- measuring ----------------------------------------------------------------------------------------


def fact_questions(reports: Sequence[Copy], n: int, rng: random.Random) -> list[tuple[Copy, str, tuple]]:
    """(report, question, the cell asked) for `n` cells with a value, of reports drawn at random."""
    out = []
    while len(out) < n:
        c = rng.choice(reports)
        cells = [r for r in c.template.facts if r[13] == "ok" and r[10] is not None]
        row = rng.choice(cells)
        out.append((c, f"{c.agency}{c.template.report.year}年{zh_metric(row[4], row[5], row[6])}是多少？", row))
    return out


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


@dataclass
class Measured:
    index_build_ms: float = 0.0
    index_match: Latency | None = None
    matched: int = 0  # questions whose agency the index found, exactly
    first_fact_ms: float = 0.0  # builds the engine's corpus (report list, agency index)
    fact: Latency | None = None
    fact_kinds: dict | None = None
    store_facts: Latency | None = None
    bm25_build_ms: float = 0.0
    narrative: Latency | None = None
    narrative_kinds: dict | None = None
    store_search: Latency | None = None
    chroma: Latency | None = None
    chroma_filtered: Latency | None = None


def measure(store: Store, reports: Sequence[Copy], with_text: int, n_questions: int, seed: int = 1,
            log: Callable[[str], None] = _log) -> Measured:
    """Warm latencies: the agency index, fact answers and the facts query under them, narrative answers and the
    searches under them."""
    from qa import Engine

    rng = random.Random(seed)
    m = Measured()
    names = sorted({c.agency for c in reports})
    m.index_build_ms, index = timed(lambda: AgencyIndex(names))
    log(f"agency index over {len(names)} names built in {m.index_build_ms:.0f} ms")
    asked = fact_questions(reports, n_questions, rng)
    times, matched = [], 0
    for c, q, _ in asked:
        ms, found = timed(lambda q=q: index.match(q))
        times.append(ms)
        matched += found.agencies == (c.agency,)
    m.index_match, m.matched = Latency.of(times), matched

    engine = Engine(store)
    m.first_fact_ms, _ = timed(lambda: engine.answer(asked[0][1]))
    log(f"first fact answer {m.first_fact_ms:.0f} ms")
    m.fact, m.fact_kinds = _answers(engine, [q for _, q, _ in asked])
    m.store_facts = Latency.of([timed(lambda c=c, r=r: store.facts(agency=c.agency, year=c.template.report.year,
                                                                      table=r[4]))[0] for c, _, r in asked])
    log(f"fact answers {m.fact} {m.fact_kinds}; Store.facts {m.store_facts}")

    texts = list(reports[:with_text])
    picked = [rng.choice(texts) for _ in range(n_questions)]
    narrative = [rng.choice(NARRATIVE).format(agency=c.agency, year=c.template.report.year) for c in picked]
    m.bm25_build_ms, _ = timed(lambda: HybridRetriever(store).text(None))  # what a question naming no report pays
    log(f"BM25 index over every chunk built in {m.bm25_build_ms:.0f} ms")
    engine.answer(narrative[0])
    m.narrative, m.narrative_kinds = _answers(engine, narrative)
    k = store.settings.top_k * 4  # the dense pool HybridRetriever asks for
    m.store_search = Latency.of([timed(lambda c=c, q=q: store.search(q, k=k, report_ids=[c.report_id]))[0]
                                 for c, q in zip(picked, narrative, strict=True)])
    collection = store._chroma._collection
    vectors = [store.embeddings.embed_query(q) for q in narrative]
    m.chroma = Latency.of([timed(lambda v=v: collection.query(query_embeddings=[v], n_results=k))[0]
                           for v in vectors])
    m.chroma_filtered = Latency.of([
        timed(lambda v=v, c=c: collection.query(query_embeddings=[v], n_results=k,
                                                where={"version": _version(c.report_id, c.info.content_hash)}))[0]
        for v, c in zip(vectors, picked, strict=True)])
    log(f"narrative answers {m.narrative} {m.narrative_kinds}; Store.search {m.store_search}; "
        f"chroma {m.chroma}, filtered {m.chroma_filtered}")
    return m


def _answers(engine, questions: Sequence[str]) -> tuple[Latency, dict[str, int]]:
    times, kinds = [], {}
    for q in questions:
        ms, answer = timed(lambda q=q: engine.answer(q))
        times.append(ms)
        kinds[answer.kind] = kinds.get(answer.kind, 0) + 1
    return Latency.of(times), kinds


# -- the section --------------------------------------------------------------------------------------


def _settings(home: Path, url: str | None) -> Settings:
    """Settings for a store in `home`; `url` overrides the database ("" = SQLite, None = as the environment says)."""
    return Settings(home=home) if url is None else Settings(home=home, db_url=url)


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def lines(filled: Filled, m: Measured, backend: str, size: int, n_templates: int) -> list[str]:
    kinds = ", ".join(f"{k} {v}" for k, v in sorted((m.fact_kinds or {}).items()))
    narrative_kinds = ", ".join(f"{k} {v}" for k, v in sorted((m.narrative_kinds or {}).items()))
    return [
        HEADING.format(backend=backend.split(" ")[0]), "",
        f"Database: {backend}. {filled.reports} reports of distinct generated agencies ({filled.facts} fact rows) "
        f"and {filled.chunks} chunks of the first {filled.chunk_reports} of them; store {size / 2**30:.1f} GB. "
        f"Filled directly (`python -m tests.bench_scale`): {n_templates} generated reports (one a year) went "
        "through the real pipeline once; every report is a copy of one under a new agency name, its cells as rows "
        "and its chunks' vectors with noise (σ = 0.01 a dimension), nothing embedded. Warm latencies of "
        f"{m.fact.n if m.fact else 0} questions each, through `Engine.answer` unless said otherwise.", "",
        "| measure | value |", "|---|---:|",
        f"| load reports + facts (indexes dropped) | {filled.load_s:.0f} s "
        f"({filled.facts / max(filled.load_s, 1e-9):,.0f} rows/s) |",
        f"| rebuild the facts indexes (Postgres: and VACUUM ANALYZE) | {filled.index_s:.0f} s |",
        f"| chunks: rows + Chroma add (HNSW) | {filled.vectors_s:.0f} s |",
        f"| agency index over {filled.reports} names: build | {m.index_build_ms / 1000:.1f} s |",
        f"| agency index: match a fact question | {m.index_match} ({m.matched} found exactly) |",
        f"| first fact answer (builds the engine's report list and agency index) | {m.first_fact_ms / 1000:.1f} s |",
        f"| **fact answer** (target p50 ≤ 20 ms) | {m.fact} ({kinds}) |",
        f"| `Store.facts(agency, year, table)` under it | {m.store_facts} |",
        f"| BM25 over every chunk: build (once, for a question naming no report) | {m.bm25_build_ms / 1000:.1f} s |",
        f"| **narrative answer** (target p50 ≤ 150 ms) | {m.narrative} ({narrative_kinds}) |",
        f"| `Store.search` (query embedding + Chroma, one report) under it | {m.store_search} |",
        f"| raw Chroma query, k=20, unfiltered | {m.chroma} |",
        f"| raw Chroma query, k=20, one report's version | {m.chroma_filtered} |",
    ]


def run(home: Path, n_reports: int, n_chunks: int, n_questions: int, url: str | None = None,
        embeddings: Embeddings | None = None, log: Callable[[str], None] = _log) -> list[str]:
    """Fill a store in `home` and measure it; the section's lines."""
    settings = _settings(home / "store", url)
    if embeddings is None:  # loaded once, for the templates' ingest and the measured store's queries
        from ingest.embeddings import load_embeddings

        embeddings = load_embeddings(settings)
    made = templates(home / "templates", embeddings)
    log(f"{len(made)} templates: {sum(len(t.facts) for t in made) / len(made):.0f} facts, "
        f"{sum(len(t.chunks) for t in made) / len(made):.0f} chunks a report")
    reports = copies(n_reports, made)
    store = Store(settings, embeddings=embeddings)
    filled = fill(store, reports, n_chunks, log=log)
    m = measure(store, reports, filled.chunk_reports, n_questions, log=log)
    backend = settings.db_url.split("://")[0].split("+")[0] if settings.db_url else "SQLite (file in the home)"
    return lines(filled, m, backend, _du(home / "store"), len(made))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_scale", description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=100_000, help="reports whose facts fill the store")
    parser.add_argument("--chunks", type=int, default=300_000, help="chunks in Chroma (of the first reports)")
    parser.add_argument("--questions", type=int, default=100, help="fact and narrative questions measured, each")
    parser.add_argument("--db-url", default=None, help="database of the measured store (default: as Settings "
                        "says, $REPORTQA_DB_URL or the SQLite file)")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="reportqa-scale-", dir=args.work) as tmp:
        section = run(Path(tmp), args.reports, args.chunks, args.questions, args.db_url)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    section += ["", f"Machine as in the Machine section above ({machine()[0][2:]}); load average at the end {load}; "
                f"the whole run took {(time.perf_counter() - started) / 60:.1f} min."]
    text = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    args.out.write_text(splice(text, section), encoding="utf-8")
    _log(f"wrote {section[0]!r} into {args.out}")


if __name__ == "__main__":
    main()
