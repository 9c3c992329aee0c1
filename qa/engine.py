"""The question-answering engine: understand → plan (typed result from cells or passages) → render.

One Engine serves many threads (web users). What it derives from the store — the report list, the agency name
index, the BM25 index — is rebuilt under a lock whenever `Store.generation()` changes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence

from langchain_core.language_models import BaseChatModel

from ingest.store import Store
from qa import compose
from qa.agencies import AgencyIndex
from qa.metrics import MetricMatcher
from qa.model import Answer, AnswerEvent, NarrativeResult, Query
from qa.plan import Corpus, plan
from qa.render import passage_citation, render
from qa.retrieve import HybridRetriever
from qa.understand import understand


class Engine:
    """Answers questions over one store; thread-safe."""

    def __init__(self, store: Store, llm: BaseChatModel | None = None) -> None:
        self.store = store
        self.llm = llm
        self._lock = threading.Lock()
        self._corpus: Corpus | None = None
        self._matcher: MetricMatcher | None = None

    def answer_stream(self, question: str, history: Sequence[str] = (), *, agency: str | None = None,
                      year: int | None = None) -> Iterator[AnswerEvent]:
        """Answer `question` (after the earlier questions `history`) as a stream of tagged events."""
        corpus = self._current()
        query = understand(question, history, corpus.index, matcher=self._metric_matcher())
        result = plan(query, corpus, self.store, agency=agency, year=year)
        if isinstance(result, NarrativeResult) and self.llm is not None:
            yield from self._phrased(result, query)
        else:
            yield from render(result, query)

    def answer(self, question: str, history: Sequence[str] = (), *, agency: str | None = None,
               year: int | None = None) -> Answer:
        """The whole answer at once (the CLI's and the evaluator's form)."""
        start = time.perf_counter()
        text: list[str] = []
        result = Answer(question=question, answer="", kind="refusal")
        for event in self.answer_stream(question, history, agency=agency, year=year):
            if event.channel == "text":
                text.append(event.text)
            elif event.channel == "kind":
                result.kind = event.text  # type: ignore[assignment]
            elif event.channel == "value":
                result.value = event.text
            elif event.channel == "citation" and event.citation:
                result.citations.append(event.citation)
            elif event.channel == "chart":
                result.chart = event.points
        result.answer = "".join(text)
        result.latency_ms = round((time.perf_counter() - start) * 1000, 1)
        return result

    def _phrased(self, result: NarrativeResult, query: Query) -> Iterator[AnswerEvent]:
        """Narrative passages phrased by the chat model (never numbers of its own); the extractive answer when
        the model fails part-way, and the extracted citations either way."""
        yield AnswerEvent("kind", "narrative")
        if result.value:
            yield AnswerEvent("value", result.value)
        streamed = False
        try:
            for piece in compose.phrase_with_llm(self.llm, query.question, result.passages, query.language == "zh"):
                streamed = True
                yield AnswerEvent("text", piece)
        except Exception:  # a failing LLM server must not lose the answer: fall back to the passages
            if streamed:
                yield AnswerEvent("text", "\n")
        if not streamed:
            yield from (e for e in render(result, query) if e.channel == "text")
        for p in result.passages:
            yield AnswerEvent("citation", citation=passage_citation(p))

    def _current(self) -> Corpus:
        generation = self.store.generation()
        corpus = self._corpus
        if corpus is not None and corpus.generation == generation:
            return corpus
        with self._lock:
            if self._corpus is None or self._corpus.generation != generation:
                reports = tuple(self.store.reports())
                agencies = sorted({r.agency for r in reports})
                # A new year's reports of the same agencies keep the index (its build takes seconds at 10^5 names).
                index = (self._corpus.index if self._corpus is not None and self._corpus.agencies == agencies
                         else AgencyIndex(agencies))
                self._corpus = Corpus(generation, reports, index, HybridRetriever(self.store))
            return self._corpus

    def _metric_matcher(self) -> MetricMatcher:
        with self._lock:
            if self._matcher is None:
                self._matcher = MetricMatcher(lambda: self.store.embeddings)
            return self._matcher
