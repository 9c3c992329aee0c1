"""The store against a real `chroma run` server on loopback (REPORTQA_CHROMA_URL)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from ingest.settings import Settings
from ingest.store import Store
from tests.test_store import _chunks, _fact, _report

CHROMA = Path(sys.executable).with_name("chroma")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory) -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(tmp_path_factory.mktemp("chroma")), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # wait for readiness by polling, not by a time limit on the test
            try:
                if httpx.get(f"{url}/api/v2/heartbeat").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait()


def test_ingest_and_query_through_server(tmp_path, chroma_url: str) -> None:
    settings = Settings(home=tmp_path, embed_model="fake", chroma_url=chroma_url, collection="server_test")
    store = Store(settings, embeddings=DeterministicFakeEmbedding(size=16))
    report = _report()
    assert store.put(report, [_fact(report)], [], _chunks(report, "服务器文本")) == "added"
    assert [c.text for c, _ in store.search("服务器文本")] == ["服务器文本"]
    assert store.count_vectors() == 1
    assert store.remove(report.id)
    assert store.count_vectors() == 0
