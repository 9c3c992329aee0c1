"""Hybrid passage retrieval: dense (Chroma, multilingual e5) + BM25 over jieba tokens, fused by RRF.

BM25 uses rank_bm25 directly rather than LangChain's BM25Retriever: the retriever has no metadata
filter, and answers must be restricted to the reports a question names before ranking, not after.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from rank_bm25 import BM25Okapi

from ingest.model import Chunk
from ingest.store import Store
from qa.text import en_tokens, normalize, zh_tokens

RRF_K = 60  # the constant of reciprocal rank fusion (Cormack et al.), as LangChain's EnsembleRetriever uses


def tokens(text: str) -> list[str]:
    """What BM25 indexes and queries with: jieba search-mode words and English word stems."""
    text = normalize(text)
    return [*zh_tokens(text), *en_tokens(text)]


class HybridRetriever:
    """BM25 index over every chunk of a store at one generation, plus the store's dense search."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._index: tuple[list[Chunk], BM25Okapi | None] | None = None

    def _bm25(self) -> tuple[list[Chunk], BM25Okapi | None]:
        """Built on first use, so questions answered from tables never pay for it."""
        with self._lock:
            if self._index is None:
                chunks = self.store.chunks()
                self._index = (chunks, BM25Okapi([tokens(c.text) for c in chunks]) if chunks else None)
            return self._index

    def section(self, key: str, report_ids: Sequence[str]) -> list[Chunk]:
        """Every chunk of one standard section of the given reports (a topic's sure candidates)."""
        wanted = set(report_ids)
        return [c for c in self._bm25()[0] if c.section_key == key and c.report_id in wanted]

    def search(self, query: str, k: int, report_ids: Sequence[str] | None = None) -> list[tuple[Chunk, float]]:
        """Top `k` chunks of `report_ids` (all when None), best first, with their fused score."""
        allowed = set(report_ids) if report_ids is not None else None
        pool = k * 4
        dense = [c for c, _ in self.store.search(query, k=pool, report_ids=report_ids)] if allowed != set() else []
        sparse: list[Chunk] = []
        chunks, bm25 = self._bm25()
        if bm25 is not None:
            scores = bm25.get_scores(tokens(query))
            ranked = sorted(range(len(chunks)), key=lambda i: -scores[i])
            sparse = [chunks[i] for i in ranked
                      if scores[i] > 0 and (allowed is None or chunks[i].report_id in allowed)][:pool]
        fused: dict[str, float] = {}
        by_id: dict[str, Chunk] = {}
        for ranking in (dense, sparse):
            for rank, chunk in enumerate(ranking):
                fused[chunk.id] = fused.get(chunk.id, 0.0) + 1.0 / (RRF_K + rank + 1)
                by_id[chunk.id] = chunk
        best = sorted(fused, key=lambda cid: -fused[cid])[:k]
        return [(by_id[cid], fused[cid]) for cid in best]
