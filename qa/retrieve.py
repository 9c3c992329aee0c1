"""Hybrid passage retrieval: dense (Chroma, multilingual e5) + BM25 over jieba tokens, fused by RRF.

BM25 uses rank_bm25 directly rather than LangChain's BM25Retriever: the retriever has no metadata
filter, and answers must be restricted to the reports a question names before ranking, not after.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from rank_bm25 import BM25Okapi

from ingest.model import Chunk
from ingest.normalize import fold
from ingest.store import Store
from qa.text import en_tokens, zh_tokens

_KEPT = 256  # indexes of named report sets kept, oldest dropped first: a few MB
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

    @classmethod
    def of(cls, chunks: list[Chunk]) -> _Index:
        return cls(chunks, [fold(c.text) for c in chunks], BM25Okapi([tokens(c.text) for c in chunks]) if chunks
                   else None)

    @cached_property
    def by_content(self) -> dict[tuple[str, str], Chunk]:
        return {(c.report_id, c.text): c for c in self.chunks}

    def scored(self, words: list[str]) -> list[Chunk]:
        """Chunks with any of `words`, best BM25 score first."""
        if self.bm25 is None:
            return []
        ranked = sorted(zip(self.chunks, self.bm25.get_scores(words), strict=True), key=lambda pair: -pair[1])
        return [chunk for chunk, score in ranked if score > 0]


class HybridRetriever:
    """BM25 over the chunks of a store at one generation, plus the store's dense search.

    A question that names reports is answered from those reports' chunks alone, indexed on first use: its cost
    does not grow with the store (issue #14: BM25 over 3×10^5 chunks took minutes to build after every ingest).
    Only a question that names none builds the index of every chunk."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._all: _Index | None = None
        self._reports: dict[tuple[str, ...], _Index] = {}

    def _index(self, report_ids: Sequence[str] | None) -> _Index:
        with self._lock:
            if report_ids is None:
                if self._all is None:
                    self._all = _Index.of(self.store.chunks())
                return self._all
            key = tuple(dict.fromkeys(report_ids))
            if key not in self._reports:
                if len(self._reports) >= _KEPT:
                    del self._reports[next(iter(self._reports))]
                self._reports[key] = _Index.of(self.store.chunks(key))
            return self._reports[key]

    def section(self, key: str, report_ids: Sequence[str]) -> list[Chunk]:
        """Every chunk of one standard section of the given reports (a topic's sure candidates)."""
        return [c for c in self._index(report_ids).chunks if c.section_key == key]

    def text(self, report_ids: Sequence[str] | None) -> str:
        """The whole text of the given reports (all when None), in matching form: where a question's words are
        looked for before they are said to be absent."""
        return "\n".join(self._index(report_ids).norms)

    def containing(self, forms: Sequence[Sequence[str]], report_ids: Sequence[str] | None) -> list[Chunk]:
        """Chunks of the given reports that print, for each entry of `forms`, one of its forms (matching form)."""
        index = self._index(report_ids)
        return [c for c, norm in zip(index.chunks, index.norms, strict=True)
                if all(any(f in norm for f in alt) for alt in forms)]

    def search(self, query: str, k: int, report_ids: Sequence[str] | None = None) -> list[tuple[Chunk, float]]:
        """Top `k` chunks of `report_ids` (all when None), best first, with their fused score."""
        pool = k * 4
        if report_ids is not None and not report_ids:
            return []
        index = self._index(report_ids)
        # A dense hit carries the id the indexing API gave its vector; the same chunk read from the store's table
        # carries the chunk's own: one chunk, so that fusion adds its two ranks up.
        dense = [index.by_content.get((c.report_id, c.text), c)
                 for c, _ in self.store.search(query, k=pool, report_ids=report_ids)]
        sparse = index.scored(tokens(query))[:pool]
        fused: dict[str, float] = {}
        by_id: dict[str, Chunk] = {}
        for ranking in (dense, sparse):
            for rank, chunk in enumerate(ranking):
                fused[chunk.id] = fused.get(chunk.id, 0.0) + 1.0 / (RRF_K + rank + 1)
                by_id[chunk.id] = chunk
        best = sorted(fused, key=lambda cid: -fused[cid])[:k]
        return [(by_id[cid], fused[cid]) for cid in best]
