"""Writes that overlap, stop half-way or leave vectors behind: a removal while an upload embeds, a cancelled
or interrupted (Ctrl-C) ingest, vectors whose rows were lost. The embedding is LangChain's deterministic fake,
wrapped so a test can hold it mid-ingest (`Gate`) and act while it waits."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from langchain_core.embeddings import DeterministicFakeEmbedding

from ingest.errors import Cancelled
from ingest.model import Chunk, Report, Section
from ingest.pipeline import ingest
from ingest.settings import Settings
from ingest.store import Store
from tests.reportgen import AGENCIES, random_spec, render


class Gate(DeterministicFakeEmbedding):
    """The fake embedding; its `at`-th call to embed documents runs `action` first (block, cancel, raise)."""

    at: int = 0
    calls: int = 0
    action: object = None

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        if self.calls == self.at and self.action is not None:
            self.action()
        return super().embed_documents(texts)


@pytest.fixture
def gate() -> Gate:
    return Gate(size=16)


@pytest.fixture
def store(tmp_path: Path, gate: Gate, db_url: str) -> Store:
    return Store(Settings(home=tmp_path / "store", embed_model="fake", db_url=db_url), embeddings=gate)


def _report(agency: str, content_hash: str, n_chunks: int) -> tuple[Report, list[Chunk]]:
    report = Report(agency=agency, year=2022, title=f"{agency}2022年政府信息公开工作年度报告", source=f"{agency}.txt",
                    source_format="txt", content_hash=content_hash, lines=(),
                    sections=(Section(("五、存在的主要问题及改进情况",), "problems", ()),), tables=())
    chunks = [Chunk(f"{report.id}:{i}", f"{agency} {content_hash[:4]} 第{i}段：公开渠道有待拓宽。", report.id, agency,
                    2022, "五、存在的主要问题及改进情况", "problems", "text", report.source) for i in range(n_chunks)]
    return report, chunks


def _pending(store: Store) -> list[str]:
    with store._db() as db:
        return list(db.execute(sa.text("SELECT version FROM pending")).scalars())


def test_remove_does_not_wait_for_a_large_ingest(store: Store, gate: Gate) -> None:
    """The upload's embedding is held after its first batch: the removal of another report finishes meanwhile,
    and its sweep of orphaned vectors keeps the upload's half-written ones."""
    small, small_chunks = _report("某某市甲局", "a" * 64, 3)
    big, big_chunks = _report("某某市乙局", "b" * 64, 300)
    store.put(small, [], [], small_chunks)
    embedding, release = threading.Event(), threading.Event()
    gate.at, gate.calls = 2, 0
    gate.action = lambda: (embedding.set(), release.wait())
    statuses: list[str] = []
    upload = threading.Thread(target=lambda: statuses.append(store.put(big, [], [], big_chunks)))
    upload.start()
    assert embedding.wait(60), "the upload never reached its second batch"
    waited: list[float] = []

    def remove() -> None:
        began = time.perf_counter()
        assert store.remove(small.id)
        waited.append(time.perf_counter() - began)

    removal = threading.Thread(target=remove)
    removal.start()
    removal.join(60)  # a bound on a deadlock, not a speed limit: before the fix it waited for `release`
    assert waited and upload.is_alive() and not statuses, "the removal waited for the upload"
    assert [r.id for r in store.reports()] == []
    release.set()
    upload.join()
    removal.join()
    assert statuses == ["added"]
    assert [r.id for r in store.reports()] == [big.id]
    assert store.count_vectors() == 300 and _pending(store) == []
    print(f"\nremove during a 300-chunk ingest took {1000 * waited[0]:.0f} ms")


@pytest.mark.parametrize("stop", ["cancel", "ctrl-c"])
def test_a_stopped_replacement_leaves_the_store_as_it_was(store: Store, gate: Gate, stop: str) -> None:
    old, old_chunks = _report("某某市甲局", "a" * 64, 5)
    store.put(old, [], [], old_chunks)
    before = (store.reports(), store.chunks(), store.count_vectors(), store.generation())
    new, new_chunks = _report("某某市甲局", "c" * 64, 200)
    cancel = threading.Event()
    gate.at, gate.calls = 2, 0  # after the first batch of the new version is in the index

    def interrupt() -> None:
        raise KeyboardInterrupt

    gate.action = cancel.set if stop == "cancel" else interrupt
    with pytest.raises(Cancelled if stop == "cancel" else KeyboardInterrupt):
        store.put(new, [], [], new_chunks, cancel=cancel)
    assert (store.reports(), store.chunks(), store.count_vectors(), store.generation()) == before
    assert _pending(store) == []
    assert {c.report_id for c, _ in store.search("公开渠道", k=10)} == {old.id}


def test_cancelled_ingest_keeps_what_was_committed(store: Store, tmp_path: Path) -> None:
    files = [render(random_spec(AGENCIES[i], 2022), "html", tmp_path / f"r{i}.html") for i in range(3)]
    cancel = threading.Event()
    results = ingest(files, store, cancel=cancel, progress=lambda _: cancel.set())
    assert [r.status for r in results] == ["added", "cancelled", "cancelled"]
    assert "store is unchanged" in results[1].message
    assert [r.agency for r in store.reports()] == [AGENCIES[0]]
    assert store.count_vectors() == store.reports()[0].chunks and _pending(store) == []


def test_ctrl_c_during_cli_ingest_leaves_the_store_as_it_was(store: Store, gate: Gate, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C lands in the model's encode (where an ingest spends its time): the file being ingested leaves
    nothing behind, the one before it stays, and the command says so."""
    import ui.cli

    monkeypatch.setattr(ui.cli, "_store", lambda: store)
    first = render(random_spec(AGENCIES[0], 2022), "html", tmp_path / "first.html")
    second = render(random_spec(AGENCIES[1], 2022), "html", tmp_path / "second.html")
    assert ingest([first], store)[0].status == "added"
    before = (store.reports(), store.count_vectors())

    def interrupt() -> None:
        raise KeyboardInterrupt

    gate.at, gate.calls, gate.action = 1, 0, interrupt
    outcome = CliRunner().invoke(ui.cli.cli, ["ingest", str(second)])
    assert outcome.exit_code == 130, outcome.output
    assert "interrupted" in outcome.output and "as it was" in outcome.output, outcome.output
    assert (store.reports(), store.count_vectors()) == before
    assert _pending(store) == []


def test_vectors_whose_rows_were_lost_are_swept_by_remove(store: Store) -> None:
    """A database restored from before a report was added leaves that report's vectors behind, listed nowhere."""
    kept, kept_chunks = _report("某某市甲局", "a" * 64, 3)
    lost, lost_chunks = _report("某某市乙局", "b" * 64, 4)
    gone, gone_chunks = _report("某某市丙局", "d" * 64, 2)
    for report, chunks in ((kept, kept_chunks), (lost, lost_chunks), (gone, gone_chunks)):
        store.put(report, [], [], chunks)
    with store._db() as db:
        store._delete_rows(db, lost.id)
    assert store.orphaned_reports() == [f"{lost.id} ({lost.source})"]
    assert store.remove(gone.id)
    assert store.count_vectors() == 3
    assert store.orphaned_reports() == []


def test_same_bytes_written_twice_at_once_are_one_version(store: Store, gate: Gate) -> None:
    """Two puts of the same report overlap (two users upload one file): one adds it, the other finds it."""
    report, chunks = _report("某某市甲局", "a" * 64, 100)
    embedding, release = threading.Event(), threading.Event()
    gate.at, gate.calls = 1, 0
    gate.action = lambda: (embedding.set(), release.wait())
    statuses: list[str] = []
    first = threading.Thread(target=lambda: statuses.append(store.put(report, [], [], chunks)))
    first.start()
    assert embedding.wait(60)
    second = store.put(replace(report), [], [], chunks)
    release.set()
    first.join()
    assert sorted([second, *statuses]) == ["added", "unchanged"]
    assert store.count_vectors() == 100 and _pending(store) == []
