"""Store plumbing with real SQLite or Postgres + embedded Chroma and a deterministic fake embedding."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa
from langchain_core.embeddings import DeterministicFakeEmbedding

from ingest.errors import IndexMismatch
from ingest.model import CellRef, Chunk, Fact, Line, Report, Section, Violation
from ingest.settings import Settings
from ingest.store import Store


def _report(content_hash: str = "a" * 64, year: int = 2021) -> Report:
    line = Line("存在的主要问题：公开渠道有待拓宽。", "存在的主要问题：公开渠道有待拓宽。", 0)
    return Report(
        agency="某某市某某局", year=year, title=f"某某市某某局{year}年政府信息公开工作年度报告",
        source="r.txt", source_format="txt", content_hash=content_hash, lines=(line,),
        sections=(Section(("五、存在的主要问题及改进情况",), "problems", (line,)),), tables=(),
    )


def _fact(report: Report, raw: str = "3") -> Fact:
    return Fact(report.id, report.agency, report.year, "2021", "enforcement", "penalty", "decisions",
                "行政处罚", "本年处理决定数量", raw, float(raw), "件", "number", ref=CellRef(report.source, row=7))


def _chunks(report: Report, text: str) -> list[Chunk]:
    return [Chunk(f"{report.id}:0", text, report.id, report.agency, report.year, "五、存在的主要问题及改进情况",
                  "problems", "text", report.source)]


@pytest.fixture
def store(tmp_path, db_url: str) -> Store:
    settings = Settings(home=tmp_path, embed_model="fake", db_url=db_url)
    return Store(settings, embeddings=DeterministicFakeEmbedding(size=16))


def test_put_is_idempotent_and_replaces(store: Store) -> None:
    report = _report()
    assert store.put(report, [_fact(report)], [], _chunks(report, "旧文本")) == "added"
    assert store.put(report, [_fact(report)], [], _chunks(report, "旧文本")) == "unchanged"
    assert store.count_vectors() == 1

    new = replace(report, content_hash="b" * 64)
    assert store.put(new, [_fact(new, "5")], [], _chunks(new, "新文本")) == "replaced"
    assert [f.raw for f in store.facts(agency="某某市某某局", year=2021)] == ["5"]
    assert store.count_vectors() == 1
    assert [c.text for c, _ in store.search("新文本", k=3)] == ["新文本"]


def test_fact_round_trip_keeps_provenance(store: Store) -> None:
    report = _report()
    fact = replace(_fact(report), status="ambiguous", value=None, candidates=(1.0, 2.0), note="2")
    violation = Violation(report.id, "requests", "一+二 = （七）总计+四", "total", 5.0, 4.0)
    store.put(report, [fact], [violation], _chunks(report, "x"))
    assert store.facts(report_id=report.id, table="enforcement") == [fact]
    assert store.violations(report.id) == [violation]
    assert store.reports()[0].violations == 1


def test_remove_deletes_everything(store: Store) -> None:
    report = _report()
    store.put(report, [_fact(report)], [], _chunks(report, "文本"))
    generation = store.generation()
    assert store.remove(report.id)
    assert store.generation() != generation
    assert (store.reports(), store.facts(), store.chunks(), store.count_vectors()) == ([], [], [], 0)
    assert not store.remove(report.id)


def test_uncommitted_version_is_invisible_and_recovered(store: Store) -> None:
    """Vectors written by an ingest that died before its commit are never searched, then dropped."""
    from langchain_core.indexing import index

    report = _report()
    store.put(report, [_fact(report)], [], _chunks(report, "已提交"))
    crashed = replace(report, content_hash="c" * 64)
    doc = _chunks(crashed, "未提交")[0].to_langchain()
    doc.metadata["version"] = f"{crashed.id}@{'c' * 16}"
    with store._db() as db:
        db.execute(sa.text("INSERT INTO pending VALUES (:version)"), {"version": doc.metadata["version"]})
    index([doc], store._record_manager, store._chroma, cleanup=None, source_id_key="version", key_encoder="sha256")

    assert [c.text for c, _ in store.search("未提交", k=5)] == ["已提交"]
    assert store.recover() == 1
    assert store.count_vectors() == 1


def test_other_embedding_model_is_refused(tmp_path, db_url: str) -> None:
    fake = DeterministicFakeEmbedding(size=16)
    report = _report()
    Store(Settings(home=tmp_path, embed_model="fake", db_url=db_url), embeddings=fake).put(
        report, [], [], _chunks(report, "x"))
    with pytest.raises(IndexMismatch, match="reportqa ingest"):
        Store(Settings(home=tmp_path, embed_model="other", db_url=db_url), embeddings=fake).search("x")


def test_other_embedding_runtime_is_refused(tmp_path) -> None:
    """An index records the runtime that built it; indexes from before that were built by torch."""
    fake = DeterministicFakeEmbedding(size=16)
    report = _report()
    settings = Settings(home=tmp_path, embed_model="multilingual-e5-small", embed_runtime="torch")
    Store(settings, embeddings=fake).put(report, [], [], _chunks(report, "x"))
    with pytest.raises(IndexMismatch, match="REPORTQA_EMBED_RUNTIME=torch"):
        Store(replace(settings, embed_runtime="openvino"), embeddings=fake).search("x")


def test_a_chunk_found_dense_and_by_words_is_one_hit(store: Store) -> None:
    """The indexing API gives a vector an id of its own; fusion still counts the chunk once, with both ranks."""
    from qa.retrieve import RRF_K, HybridRetriever

    report = _report()
    texts = ["公开渠道有待拓宽", "本年度主动公开信息", "依申请公开办理及时"]
    chunks = [replace(_chunks(report, text)[0], id=f"{report.id}:{i}") for i, text in enumerate(texts)]
    store.put(report, [], [], chunks)
    hits = HybridRetriever(store).search("公开渠道有待拓宽", k=5, report_ids=[report.id])
    assert sorted(c.id for c, _ in hits) == [c.id for c in chunks]
    best = next(score for c, score in hits if c.text == texts[0])
    assert best > 1 / (RRF_K + 1)  # a BM25 rank and a dense rank added up
