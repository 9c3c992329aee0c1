"""Hybrid passage retrieval: dense (Chroma, multilingual e5) + BM25 over jieba tokens, fused by RRF.

BM25 uses rank_bm25 directly rather than LangChain's BM25Retriever: the retriever has no metadata
filter, and answers must be restricted to the reports a question names before ranking, not after.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rank_bm25 import BM25Okapi

from ingest.model import Chunk
from ingest.normalize import fold
from ingest.store import Store
from qa.text import en_tokens, zh_tokens

RRF_K = 60  # the constant of reciprocal rank fusion (Cormack et al.), as LangChain's EnsembleRetriever uses


def tokens(text: str) -> list[str]:
    """What BM25 indexes and queries with: jieba search-mode words and English word stems."""
    text = fold(text)
    return [*zh_tokens(text), *en_tokens(text)]


@dataclass(frozen=True)
class _Index:
    chunks: list[Chunk]
    norms: list[str]  # each chunk's text in matching form
    bm25: BM25Okapi | None
    by_report: dict[str, list[int]]  # report id → positions of its chunks in `chunks`


class HybridRetriever:
    """BM25 index over every chunk of a store at one generation, plus the store's dense search."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._index: _Index | None = None

    def _bm25(self) -> _Index:
        """Built on first use, so questions answered from tables never pay for it."""
        with self._lock:
            if self._index is None:
                chunks = self.store.chunks()
                by_report: dict[str, list[int]] = defaultdict(list)
                for i, c in enumerate(chunks):
                    by_report[c.report_id].append(i)
                bm25 = BM25Okapi([tokens(c.text) for c in chunks]) if chunks else None
                self._index = _Index(chunks, [fold(c.text) for c in chunks], bm25, dict(by_report))
            return self._index

    def section(self, key: str, report_ids: Sequence[str]) -> list[Chunk]:
        """Every chunk of one standard section of the given reports (a topic's sure candidates)."""
        index = self._bm25()
        return [index.chunks[i] for r in report_ids for i in index.by_report.get(r, ())
                if index.chunks[i].section_key == key]

    def text(self, report_ids: Sequence[str] | None) -> str:
        """The whole text of the given reports (all when None), in matching form: where a question's words are
        looked for before they are said to be absent."""
        index = self._bm25()
        ids = range(len(index.chunks)) if report_ids is None else [
            i for r in dict.fromkeys(report_ids) for i in index.by_report.get(r, ())]
        return "\n".join(index.norms[i] for i in ids)

    def containing(self, forms: Sequence[Sequence[str]], report_ids: Sequence[str] | None) -> list[Chunk]:
        """Chunks of the given reports that print, for each entry of `forms`, one of its forms (matching form)."""
        index = self._bm25()
        ids = range(len(index.chunks)) if report_ids is None else [
            i for r in dict.fromkeys(report_ids) for i in index.by_report.get(r, ())]
        return [index.chunks[i] for i in ids if all(any(f in index.norms[i] for f in alt) for alt in forms)]

    def search(self, query: str, k: int, report_ids: Sequence[str] | None = None) -> list[tuple[Chunk, float]]:
        """Top `k` chunks of `report_ids` (all when None), best first, with their fused score."""
        pool = k * 4
        wanted = report_ids is None or len(report_ids) > 0
        dense = [c for c, _ in self.store.search(query, k=pool, report_ids=report_ids)] if wanted else []
        sparse: list[Chunk] = []
        index = self._bm25()
        if index.bm25 is not None:
            words = tokens(query)
            if report_ids is None:
                ids: list[int] = list(range(len(index.chunks)))
                scores = list(index.bm25.get_scores(words))
            else:
                # Only the named reports' chunks are scored: a filtered question costs the same at any corpus size.
                ids = [i for r in dict.fromkeys(report_ids) for i in index.by_report.get(r, ())]
                scores = index.bm25.get_batch_scores(words, ids) if ids else []
            ranked = sorted(zip(ids, scores, strict=True), key=lambda pair: -pair[1])
            sparse = [index.chunks[i] for i, score in ranked if score > 0][:pool]
        fused: dict[str, float] = {}
        by_id: dict[str, Chunk] = {}
        for ranking in (dense, sparse):
            for rank, chunk in enumerate(ranking):
                fused[chunk.id] = fused.get(chunk.id, 0.0) + 1.0 / (RRF_K + rank + 1)
                by_id[chunk.id] = chunk
        best = sorted(fused, key=lambda cid: -fused[cid])[:k]
        return [(by_id[cid], fused[cid]) for cid in best]
