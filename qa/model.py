"""What the QA stages produce, in one file: the parsed question, the planned result, citations, the answer.

`understand()` turns a question into a `Query`; `plan()` turns a query into one typed `Result` (a fact, a
comparison, a series, a ranking, a group of cells, passages, a refusal or a question back), computed from the
store's cells; `render()` phrases a result in the user's language as tagged `AnswerEvent`s; `Engine.answer()`
collects them into an `Answer`. The CLI (`reportqa ask --json`), the evaluator and the web chat consume these.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from ingest.model import Chunk, Fact

AnswerKind = Literal["fact", "compare", "trend", "rank", "indicator", "narrative", "refusal", "clarify", "audit"]
Operation = Literal["value", "compare", "trend", "rank", "total"]
Language = Literal["zh", "en"]


@dataclass(frozen=True)
class Ask:
    """One quantity a question asks for: a standard cell, or a group of cells that add up (不予公开, 行政诉讼)."""

    table: str  # schema keys (ingest/format)
    row: str
    column: str
    rows: tuple[str, ...] = ()  # the member rows of a group row; () for a plain row
    columns: tuple[str, ...] = ()  # the member columns of a group column

    @property
    def cells(self) -> tuple[tuple[str, str], ...]:
        return tuple((r, c) for r in self.rows or (self.row,) for c in self.columns or (self.column,))

    @property
    def is_group(self) -> bool:
        return len(self.cells) > 1


@dataclass(frozen=True)
class Query:
    """The slots understood from a question (and the conversation before it)."""

    question: str
    language: Language
    agencies: tuple[str, ...] = ()  # canonical agency names found in the store, in the order named
    years: tuple[int, ...] = ()  # in the order named
    asks: tuple[Ask, ...] = ()  # the quantities asked for; several for "予以公开和不予公开分别是多少"
    operation: Operation = "value"
    narrative: bool = False  # asks for prose (问题, 措施, how did): passages, whatever cell its words name
    candidates: tuple[str, ...] = ()  # one agency mention fits several: ask which
    unknown_agency: str = ""  # the question names an agency the store does not hold
    misprints: tuple[tuple[str, str], ...] = ()  # (as asked, as the store prints it)
    year_offsets: tuple[int, ...] = ()  # 今年 = 0, 去年 = -1: relative to the latest report
    quantity: bool = False  # asks for a number (多少, how many)
    percent: bool = False  # asks for a change as a percentage of the base (增长了百分之多少)
    ahead: bool = False  # asks about plans: a year named is planned for in the report of the year before
    unaccounted: tuple[str, ...] = ()  # content words no agency, year, row or column explains
    content: tuple[str, ...] = ()  # the words a relevant sentence should share (agency names left out)
    topic: tuple[str, ...] = ()  # the standard sections the question's topic is reported in (问题 → problems)
    indicator: str = ""  # an indicator of qa/indicators.py's catalogue (实质公开率, correction rate): its key
    lowest: bool = False  # a ranking asks for the lowest (最低, lowest) rather than the highest
    audit: bool = False  # asks whether a report contradicts itself (有没有数据前后不一致的地方): qa/audit.py

    @property
    def ask(self) -> Ask | None:
        return self.asks[0] if self.asks else None


@dataclass(frozen=True)
class Citation:
    """One source of an answer. Row and column are labelled as the report's template prints them (Simplified
    Chinese), with the schema keys beside them."""

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
    snippet: str = ""  # the original text (scraped glosses and Traditional characters kept)
    table_key: str = ""  # schema keys, for evaluation and for highlighting the cell in the UI
    row_key: str = ""
    column_key: str = ""
    status: str = "ok"  # the fact's status: ok | ambiguous | inconsistent


# -- planned results: what the answer says, before it is phrased -----------------------------------------------


@dataclass(frozen=True)
class Reading:
    """The cells one ask needs from one report, and what they add up to."""

    agency: str
    year: int
    ask: Ask
    facts: tuple[Fact, ...]
    value: float | None  # None: blank, not applicable, text, ambiguous, or missing
    blank: bool = False  # every cell is blank in the report
    ambiguous: bool = False
    inconsistent: bool = False
    computed: bool = False  # a group total the report does not print, added up from its printed parts
    missing: tuple[tuple[str, str], ...] = ()  # cells of the ask the report does not have

    @property
    def found(self) -> bool:
        return bool(self.facts)


@dataclass(frozen=True)
class FactResult:
    readings: tuple[Reading, ...]  # one per ask (several asks: "分别是多少")
    defaulted_year: bool = False  # no year was asked: the latest report answered


@dataclass(frozen=True)
class Comparison:
    """`first` − `second` in the question's own order ("A 比 B 多多少", "change from B to A")."""

    first: Reading
    second: Reading

    @property
    def difference(self) -> float | None:
        if self.first.value is None or self.second.value is None:
            return None
        return self.first.value - self.second.value

    @property
    def percent(self) -> float | None:
        diff = self.difference
        return None if diff is None or not self.second.value else diff / self.second.value * 100


@dataclass(frozen=True)
class Series:
    readings: tuple[Reading, ...]  # one agency over years, or several agencies in one year


@dataclass(frozen=True)
class Ranking:
    year: int
    readings: tuple[Reading, ...]  # best first; only those with a value
    skipped: tuple[str, ...] = ()  # agencies without a usable value
    total: bool = False  # the sum across agencies was asked, not the order


@dataclass(frozen=True)
class Passage:
    """One extracted sentence and the chunk it came from."""

    text: str
    chunk: Chunk
    score: float


@dataclass(frozen=True)
class NarrativeResult:
    passages: tuple[Passage, ...]
    value: str | None = None  # the number the best sentence states, when the question asks for one
    unmentioned: tuple[str, ...] = ()  # question words no sentence renders ("visits (访问/浏览/点击)")


RefusalReason = Literal["empty", "filter", "unknown_agency", "no_year", "no_report", "no_cell", "not_held",
                        "nothing_relevant"]


@dataclass(frozen=True)
class Refusal:
    reason: RefusalReason
    asked: str = ""  # what was asked for, as the user said it or as a label
    available: tuple[str, ...] = ()  # what the corpus does hold instead
    readings: tuple[Reading, ...] = ()  # cells looked up and found absent (no_cell)


@dataclass(frozen=True)
class Clarify:
    candidates: tuple[str, ...]
    readings: tuple[Reading, ...] = ()  # each candidate's value, when the question was about a cell


@dataclass(frozen=True)
class IndicatorInput:
    """One term of an indicator's formula in one report: the cells it adds up and what they come to."""

    name_zh: str  # how the formula names the term (予以公开, 复议总计)
    name_en: str
    part: Literal["numerator", "denominator"]
    sign: int  # +1 added, -1 taken away
    year: int
    value: float | None
    facts: tuple[Fact, ...]  # every cell read, cited
    zeroed: tuple[Fact, ...] = ()  # blank cells a printed total proves to be 0 (an identity holds without them)
    summed: bool = False  # a total the report leaves 0 or blank while its parts are not: their sum


@dataclass(frozen=True)
class IndicatorValue:
    """One indicator of one report (qa/indicators.py), or why it cannot be computed."""

    key: str  # the catalogue key
    agency: str
    year: int
    value: float | None  # in percent; None when not computable
    numerator: float | None = None
    denominator: float | None = None
    inputs: tuple[IndicatorInput, ...] = ()
    problem: Literal["", "missing", "blank", "ambiguous", "not_number", "zero", "no_report"] = ""
    cell: str = ""  # the cell (or report) that makes it not computable, labelled as printed
    raw: str = ""  # what that cell prints
    candidates: tuple[float, ...] = ()  # the values an ambiguous cell may be
    facts: tuple[Fact, ...] = ()  # that cell, cited
    inconsistent: bool = False  # a sum identity of an input's table is broken in the report

    @property
    def computable(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class IndicatorResult:
    """An indicator for the reports asked (one agency's years, or several agencies), or ranked across agencies."""

    values: tuple[IndicatorValue, ...]  # in the order asked; a ranking: computable ones, best first
    ranking: bool = False
    lowest: bool = False  # the ranking is lowest first
    year: int | None = None  # the ranking's year
    skipped: tuple[IndicatorValue, ...] = ()  # a ranking's agencies whose indicator is not computable
    defaulted_year: bool = False


@dataclass(frozen=True)
class AuditResult:
    """The audit of one report (qa/audit.py): its findings, most serious first."""

    agency: str
    year: int
    findings: tuple  # of qa.audit.Finding (typed there: qa.audit imports this module)
    defaulted_year: bool = False  # no year was asked: the latest report was audited


Result = (FactResult | Comparison | Series | Ranking | IndicatorResult | NarrativeResult | Refusal | Clarify
          | AuditResult)


# -- the answer as it reaches the user -------------------------------------------------------------------------


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
