"""A naive RAG over the same store, scored side by side with the engine (`reportqa eval --baseline`).

What a tutorial pipeline does: each report's text cut into fixed-size windows, embedded with the
same model into an in-memory vector store, dense top-k with no agency/year filter, and the answer
is the first number of the best window (or the window itself). It never refuses and cannot cite a
table cell: the gap to the engine is what structured facts and filters buy.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from collections.abc import Sequence
from itertools import groupby

from langchain_core.documents import Document
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_text_splitters import CharacterTextSplitter

from ingest.model import Chunk
from qa.evaluate import numbers
from qa.model import Answer, Citation

# Questions that ask for a count or an amount get a number back; others get the passage.
_ASKS_NUMBER = re.compile(r"多少|几|数量|总数|金额|how (many|much)|number of|amount|count", re.IGNORECASE)
_YEAR_LIKE = range(1990, 2100)  # the one filter on "first number": a heading's 2021年 is not an answer


class NaiveRAG:
    """Fixed-size chunks, dense top-k via the store's embeddings, answer = first number of the best chunk."""

    def __init__(self, store, *, chunk_chars: int = 300, k: int = 5) -> None:
        self.k = k
        self._vectors = InMemoryVectorStore(embedding=store.embeddings)
        self._vectors.add_documents(_windows(store.chunks(), chunk_chars))

    def answer(self, question: str, history: Sequence[str] = ()) -> Answer:
        """History is ignored: a naive pipeline embeds the question as it comes."""
        start = time.perf_counter()
        found = self._vectors.similarity_search(question, k=self.k)
        citations = [_citation(doc) for doc in found]
        best = found[0].page_content if found else ""
        value = None
        if _ASKS_NUMBER.search(question):
            value = next((_plain(n) for n in numbers(best) if not (n == int(n) and int(n) in _YEAR_LIKE)), None)
        kind = "fact" if value is not None else "narrative"
        return Answer(question=question, answer=value if value is not None else best, kind=kind, value=value,
                      citations=citations, latency_ms=(time.perf_counter() - start) * 1000)


def _windows(chunks: Sequence[Chunk], size: int) -> list[Document]:
    """Each report's text (chunk texts without their heading line, in order) cut every `size` characters.

    A window keeps the report's metadata and the section where it starts, for citations.
    """
    splitter = CharacterTextSplitter(separator="", chunk_size=size, chunk_overlap=0, add_start_index=True,
                                     strip_whitespace=False)
    docs: list[Document] = []
    for report_id, group in groupby(chunks, key=lambda c: c.report_id):
        parts = list(group)
        first = parts[0]
        title = f"{first.agency}{first.year}年政府信息公开工作年度报告\n"
        text, starts, sections = title, [], []
        for c in parts:
            starts.append(len(text))
            sections.append(c.section)
            text += c.text.split("\n", 1)[-1] + "\n"
        meta = {"report_id": report_id, "agency": first.agency, "year": first.year, "source": first.source}
        for doc in splitter.create_documents([text], [meta]):
            at = max(0, bisect_right(starts, doc.metadata["start_index"]) - 1)
            doc.metadata["section"] = sections[at] if sections else ""
            docs.append(doc)
    return docs


def _citation(doc: Document) -> Citation:
    m = doc.metadata
    return Citation(report_id=m["report_id"], agency=m["agency"], year=m["year"], source=m["source"],
                    section=m["section"], snippet=doc.page_content)


def _plain(number) -> str:
    return format(number.normalize(), "f") if number != int(number) else str(int(number))


__all__ = ["NaiveRAG"]
