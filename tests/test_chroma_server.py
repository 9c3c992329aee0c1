"""The store against a real `chroma run` server on loopback (REPORTQA_CHROMA_URL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from ingest.settings import Settings
from ingest.store import Store
from tests.bench import chroma_server
from tests.test_store import _chunks, _fact, _report


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
