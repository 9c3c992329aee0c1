"""The store against a real `chroma run` server on loopback (REPORTQA_CHROMA_URL), and several stores sharing it
and one Postgres database (REPORTQA_DB_URL), as on several machines."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings

from ingest.settings import Settings
from ingest.store import Store
from tests.bench import chroma_server
from tests.conftest import ROOT
from tests.reportgen import AGENCIES, random_spec, render
from tests.test_crash import dump
from tests.test_store import _chunks, _fact, _report
from tests.test_writes import Gate
from tests.test_writes import _report as _report_of


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory) -> Iterator[str]:
    with chroma_server(tmp_path_factory.mktemp("chroma")) as url:
        yield url


def test_ingest_and_query_through_server(tmp_path, chroma_url: str) -> None:
    settings = Settings(home=tmp_path, embed_model="fake", chroma_url=chroma_url, collection="server_test")
    store = Store(settings, embeddings=DeterministicFakeEmbedding(size=16))
    report = _report()
    assert store.put(report, [_fact(report)], [], _chunks(report, "服务器文本")) == "added"
    assert [c.text for c, _ in store.search("服务器文本")] == ["服务器文本"]
    assert store.count_vectors() == 1
    assert store.remove(report.id)
    assert store.count_vectors() == 0


# -- several machines: one Postgres and one `chroma run` server ------------------------------------------------


def _machine(home: Path, postgres_url: str, chroma_url: str, collection: str,
             embeddings: Embeddings | None = None) -> Store:
    """One machine's store: a home of its own, the shared database and server (a collection per test)."""
    settings = Settings(home=home, embed_model="fake", db_url=postgres_url, chroma_url=chroma_url,
                        collection=collection)
    return Store(settings, embeddings=embeddings or DeterministicFakeEmbedding(size=16))


def test_two_ingesters_neither_lose_nor_duplicate_a_report(tmp_path: Path, postgres_url: str,
                                                           chroma_url: str) -> None:
    """Two `reportqa ingest`s (tests/test_crash.py's child: the real pipeline, the fake embedding) with homes of
    their own, as on two machines, ingest the same reports at once, one from each end."""
    formats = ("html", "md", "txt", "docx", "html", "md")
    files = [render(random_spec(AGENCIES[11 * i + 5], 2020 + i % 3), fmt, tmp_path / "corpus" / f"r{i}.{fmt}")
             for i, fmt in enumerate(formats)]
    env = {**os.environ, "REPORTQA_DB_URL": postgres_url, "REPORTQA_CHROMA_URL": chroma_url,
           "REPORTQA_COLLECTION": "ingesters", "PYTHONPATH": str(ROOT)}
    children = [subprocess.Popen([sys.executable, "-m", "tests.test_crash", str(tmp_path / f"machine{n}"),
                                  *map(str, order), "--out", str(tmp_path / f"machine{n}.json")],
                                 cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                for n, order in enumerate((files, files[::-1]))]
    for child in children:
        _, err = child.communicate()
        assert child.returncode == 0, err[-3000:]

    store = _machine(tmp_path / "reader", postgres_url, chroma_url, "ingesters")
    state = dump(store)
    assert len(state["reports"]) == len(files)
    for report_id, got in state["reports"].items():
        assert got["stored_fact_rows"] == got["facts"] > 0, report_id
        assert len(got["stored_chunks"]) == got["chunks"] == got["vectors"], report_id
    assert state["orphan_facts"] == state["orphan_chunks"] == 0
    assert state["vectors_total"] == sum(r["chunks"] for r in state["reports"].values())
    assert store.orphaned_reports() == [] and store.recover() == 0


def test_recover_on_one_machine_keeps_what_another_is_writing(tmp_path: Path, postgres_url: str,
                                                               chroma_url: str) -> None:
    """Machine A is half-way through a report's vectors; machine B's recover() (every ingest starts with one)
    keeps them, and A's commit finds them all."""
    reached, release = threading.Event(), threading.Event()
    held = Gate(size=16, at=2, action=lambda: (reached.set(), release.wait()))
    a = _machine(tmp_path / "a", postgres_url, chroma_url, "recover", held)
    b = _machine(tmp_path / "b", postgres_url, chroma_url, "recover")
    report, chunks = _report_of("某某市甲局", "a" * 64, 200)
    statuses: list[str] = []
    writer = threading.Thread(target=lambda: statuses.append(a.put(report, [], [], chunks)))
    writer.start()
    try:
        assert reached.wait(60), "machine A never reached its second batch"
        assert b.orphaned_reports() == [] and b.recover() == 0
        assert b.count_vectors() > 0
    finally:
        release.set()
        writer.join()
    assert statuses == ["added"]
    assert b.count_vectors() == 200 and b.reports()[0].chunks == 200



def test_a_killed_writer_stops_holding_its_version(tmp_path: Path, postgres_url: str, chroma_url: str) -> None:
    """The server lets go of a writer's advisory lock when its process dies, so recover() then sweeps its version."""
    store = _machine(tmp_path / "b", postgres_url, chroma_url, "killed")
    script = ("import sys, time; from tests.test_chroma_server import _machine; from pathlib import Path\n"
              "store = _machine(Path(sys.argv[1]), sys.argv[2], sys.argv[3], 'killed')\n"
              "with store._writers.writing('r@1'):\n    print('held', flush=True); time.sleep(600)")
    child = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "a"), postgres_url, chroma_url], cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline() == "held\n"
    assert store._writers.busy("r@1")
    child.kill()
    child.wait()
    for _ in range(600):  # the server notices the closed connection at once, and ends its session soon after
        if not store._writers.busy("r@1"):
            break
        time.sleep(0.05)
    assert not store._writers.busy("r@1")
