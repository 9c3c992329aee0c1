"""What the QA stages produce: the parsed question, citations, and the answer as tagged events.

`qa.answer_stream()` yields `AnswerEvent`s; `qa.answer()` collects them into an `Answer`. The CLI
(`reportqa ask --json`), the evaluator and the web chat all consume these same records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

AnswerKind = Literal["fact", "compare", "trend", "rank", "narrative", "refusal", "clarify"]
Operation = Literal["value", "compare", "trend", "rank", "total"]


@dataclass(frozen=True)
class Query:
    """The slots understood from a question (and the conversation before it)."""

    question: str
    language: Literal["zh", "en"]
    agencies: tuple[str, ...] = ()  # canonical agency names found in the store
    years: tuple[int, ...] = ()
    table: str | None = None  # schema keys (ingest/format/schema.py)
    row: str | None = None
    column: str | None = None
    operation: Operation = "value"
    narrative: bool = False  # no table cell answers it: retrieve passages instead
    candidates: tuple[str, ...] = ()  # one agency mention fits several: ask which
    unknown_agency: str = ""  # the question names an agency the store does not hold
    year_offsets: tuple[int, ...] = ()  # 今年 = 0, 去年 = -1: relative to the latest report
    rows: tuple[str, ...] = ()  # the cells summed when the metric is a group (不予公开, 行政诉讼)
    columns: tuple[str, ...] = ()
    quantity: bool = False  # asks for a number (多少, how many): no table metric means no answer


@dataclass(frozen=True)
class Citation:
    """One source of an answer; row/column are the standard labels in Simplified Chinese."""

    report_id: str
    agency: str
    year: int
    source: str
    section: str
    table: str = ""
    row: str = ""
    column: str = ""
    cell: str = ""  # raw cell text as printed
    page: int | None = None
    snippet: str = ""
    table_key: str = ""  # schema keys, for evaluation and for highlighting the cell in the UI
    row_key: str = ""
    column_key: str = ""
    status: str = "ok"  # the fact's status: ok | ambiguous | inconsistent


@dataclass(frozen=True)
class AnswerEvent:
    """One piece of a streamed answer: text to show, a citation, or a computed value."""

    channel: Literal["text", "citation", "value", "kind", "chart"]
    text: str = ""
    citation: Citation | None = None
    points: tuple[tuple[str, float], ...] = ()  # for "chart": (label, value) in display order


@dataclass
class Answer:
    question: str
    answer: str
    kind: AnswerKind
    value: str | None = None
    citations: list[Citation] = field(default_factory=list)
    chart: tuple[tuple[str, float], ...] = ()
    latency_ms: float = 0.0

    def to_json(self) -> dict:
        """The `reportqa ask --json` object."""
        data = asdict(self)
        data["chart"] = [list(p) for p in self.chart]
        return data
