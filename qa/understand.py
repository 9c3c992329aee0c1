"""Question (and the conversation before it) → `Query`: agencies, years, metric, operation.

Follow-ups are resolved deterministically: each earlier question of the conversation is parsed on
its own, in order, and a later question replaces only the slots it names (那2022年呢 changes the
year, 按自然人分呢 the column, "and Pingtan?" the agency); everything else carries over.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache

from ingest.normalize import fold
from qa import glossary
from qa.agencies import AgencyIndex
from qa.compose import content_words
from qa.metrics import DEFAULT_ROW, Metric, MetricMatcher
from qa.model import Operation, Query
from qa.text import en_tokens, language

_ZH_DIGITS = {"〇": "0", "零": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7",
              "八": "8", "九": "9"}
_YEAR = r"(?:19[89]\d|20\d\d)"
_ZH_YEAR = re.compile(r"[〇零一二三四五六七八九]{4}(?=年)")
_RANGE = re.compile(
    rf"(?:from |between )?({_YEAR})\s*年?(?:度)?\s*(?:-|–|—|~|～|至|到|to|through|until|and)\s*({_YEAR})"
)
_RANGE_CUE = re.compile(r"(?:至|到|-|–|—|~|～|to|through|until|between|from)")
_SINGLE = re.compile(rf"(?<!\d)({_YEAR})(?!\d)")
_RELATIVE = (
    (re.compile(r"今年|本年度(?!办理)|this year|latest year|最近一年|最新"), 0),
    (re.compile(r"去年|(?<!from )(?<!over )(?<!of )(?<!of the )(?:last|previous) year"), -1),
    (re.compile(r"前年|the year before last"), -2),
)
_CUES: dict[Operation, re.Pattern[str]] = {
    "trend": re.compile(r"趋势|历年|逐年|各年|每年|历史|近几年|trend|over the years|each year|every year|by year|"
                        r"all years|year by year|history"),
    "rank": re.compile(r"排名|排序|最多|最少|最高|最低|哪个(?:机关|单位|部门|地区)|哪家|\brank|\bmost\b|highest|"
                       r"lowest|\bleast\b|which agenc|\btop\b"),
    "total": re.compile(r"合计|总和|加起来|所有(?:机关|单位|部门)|全部(?:机关|单位|部门)|各(?:机关|单位|部门)|"
                        r"altogether|all agencies|across agencies|combined|\bsum\b"),
    "compare": re.compile(r"比较|对比|相比|比上年|变化|增加|减少|增长|下降|多了|少了|相差|差异|差多少|\bvs\.?\b|versus|"
                          r"compar|difference|change|increase|decrease|\bmore than\b|fewer|\bthan\b"),
}
_NARRATIVE = re.compile(
    r"问题|措施|改进|如何|怎么|怎样|做了|开展|平台|培训|举措|介绍|说明|为什么|原因|经验|成效|计划|下一步|总体|"
    r"处理费|主要|工作|哪些|什么|problem|measure|improv|how did|what did|what does|describe|explain|why|platform|"
    r"training|plan|work|overall|summar|\bhow\b(?! many| much)"
)
# Numbers a report states in prose, not in a table (report-format.md): fees charged to applicants
# (信息处理费, section 六) and how much was published proactively (section 一).
_PROSE_NUMBERS = re.compile(r"处理费|processing fee|主动公开.{0,8}(?:条|信息)|多少条|proactively publish|items of "
                            r"government information|information items")
_QUANTITY = re.compile(r"多少|几[个件项次]|数量|金额|how many|how much|number of|count|amount")
_FOLLOW_COLUMN = re.compile(r"^(?:那|那么|按|and|what about|how about|by)\b|呢[?？]?$", re.IGNORECASE)


@dataclass(frozen=True)
class _Said:
    """What one question says by itself; None means it does not say."""

    agencies: tuple[str, ...] | None = None
    candidates: tuple[str, ...] = ()
    unknown: str = ""
    years: tuple[int, ...] | None = None
    offsets: tuple[int, ...] = ()
    year_range: bool = False
    metric: Metric | None = None
    column: str | None = None  # a column named without a row (按自然人分呢)
    operation: Operation | None = None
    narrative: bool = False
    quantity: bool = False


@cache
def _default_matcher() -> MetricMatcher:
    return MetricMatcher()


def understand(
    question: str,
    history: Sequence[str] = (),
    agencies: Sequence[str] | AgencyIndex = (),
    *,
    matcher: MetricMatcher | None = None,
) -> Query:
    """Parse `question` in the context of the earlier questions `history` (oldest first).

    Args:
        agencies: the agencies in the store, or an AgencyIndex built from them (cheaper when reused).
        matcher: a MetricMatcher; one with embeddings adds the embedding fallback for metrics.
    """
    index = agencies if isinstance(agencies, AgencyIndex) else AgencyIndex(tuple(agencies))
    matcher = matcher or _default_matcher()
    state: _Said | None = None
    for text in (*history, question):
        said = _parse(text, index, matcher)
        state = said if state is None else _merge(state, said, text, matcher)
    assert state is not None
    return _query(question, state)


def years_in(text: str) -> tuple[tuple[int, ...], tuple[int, ...], bool]:
    """(years, offsets relative to the latest report, whether a range was given) named in `text`."""
    text = _ZH_YEAR.sub(lambda m: "".join(_ZH_DIGITS[c] for c in m.group()), fold(text))
    if m := _RANGE.search(text):
        first, last = sorted((int(m.group(1)), int(m.group(2))))
        # "2023 and 2024" / "2023和2024" are two years; "2019-2024" / "2019至2024" is every year between.
        if _RANGE_CUE.search(m.group()) and last - first <= 30:
            return tuple(range(first, last + 1)), (), True
    years = tuple(dict.fromkeys(int(y) for y in _SINGLE.findall(text)))
    offsets = tuple(offset for pattern, offset in _RELATIVE if pattern.search(text))
    return years, offsets, False


def _parse(text: str, index: AgencyIndex, matcher: MetricMatcher) -> _Said:
    norm = fold(text)
    agencies = index.match(norm)
    rest = norm
    for start, end in sorted(agencies.spans, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    rest = _SINGLE.sub(" ", rest)
    years, offsets, year_range = years_in(norm)
    prose = bool(_PROSE_NUMBERS.search(rest))
    metric = None if prose else matcher.match(rest)
    things = glossary.things_named(rest)
    if metric and things and len(things) >= len(matcher.explained_words(metric, rest)):
        # "new-media accounts" shares "new" with 本年新收, but more of its words name things only prose reports.
        metric = None
    quantity = bool(_QUANTITY.search(rest)) and not prose
    narrative = _asks_narrative(rest, metric, matcher)
    if metric is None and not narrative and not things and len(content_words(rest)) >= 2:
        metric = matcher.match_by_embedding(rest)
    operation = next((op for op, cue in _CUES.items() if cue.search(rest)), None)
    named = agencies.agencies or agencies.candidates or agencies.unknown
    return _Said(
        agencies=agencies.agencies if named else None,
        candidates=agencies.candidates,
        unknown=agencies.unknown,
        years=years if years or offsets else None,
        offsets=offsets,
        year_range=year_range,
        metric=metric,
        operation=operation,
        narrative=narrative and not quantity,
        quantity=quantity,
    )


def _asks_narrative(text: str, metric: Metric | None, matcher: MetricMatcher) -> bool:
    """A narrative cue, unless it is one word of a label said with others ("measures" in "administrative
    coercive measures" names the row; "what measures did they take" asks for the narrative)."""
    said = matcher.label_words(metric, text) if metric else frozenset()
    for m in _NARRATIVE.finditer(text):
        cue = {m.group(), *en_tokens(m.group())}
        if not (cue & said and said - cue):
            return True
    return False


def _merge(before: _Said, now: _Said, text: str, matcher: MetricMatcher) -> _Said:
    """Slots `now` names replace those of `before`; the rest carry over."""
    metric = now.metric
    if before.metric and (metric is None or _FOLLOW_COLUMN.search(fold(text))):
        # 按自然人分呢: a bare column keeps the row asked before.
        column = matcher.match_column(fold(text), before.metric.table)
        if column and (metric is None or (metric.table == before.metric.table and metric.row in (
                before.metric.row, _default_row(metric)))):
            metric = matcher.with_column(before.metric, column)
    if metric is None and not now.narrative:
        metric = before.metric
    agencies_named = now.agencies is not None
    years_named = now.years is not None
    operation = now.operation
    if operation is None and not years_named:
        operation = before.operation
    return replace(
        now,
        agencies=now.agencies if agencies_named else before.agencies,
        candidates=now.candidates if agencies_named else before.candidates,
        unknown=now.unknown if agencies_named else before.unknown,
        years=now.years if years_named else before.years,
        offsets=now.offsets if years_named else before.offsets,
        year_range=now.year_range if years_named else before.year_range,
        metric=metric,
        operation=operation,
        narrative=now.narrative or (metric is None and before.narrative),
    )


def _default_row(metric: Metric) -> str:
    return DEFAULT_ROW.get(metric.table, "")


def _operation(said: _Said) -> Operation:
    years = said.years or ()
    agencies = said.agencies or ()
    if said.operation in ("rank", "total") and len(agencies) <= 1 and not said.candidates:
        return said.operation if not agencies else "value"
    if (said.year_range and len(years) > 2) or said.operation == "trend":
        return "trend"
    if len(years) + len(said.offsets) >= 2 or len(agencies) >= 2 or said.operation == "compare":
        return "compare"
    return "value"


def _query(question: str, said: _Said) -> Query:
    metric = said.metric
    return Query(
        question=question,
        language="en" if language(question) == "en" else "zh",
        agencies=said.agencies or (),
        years=said.years or (),
        table=metric.table if metric else None,
        row=metric.row if metric else None,
        column=metric.column if metric else None,
        operation=_operation(said),
        narrative=said.narrative or metric is None,
        candidates=said.candidates,
        unknown_agency=said.unknown,
        year_offsets=said.offsets,
        rows=metric.rows if metric else (),
        columns=metric.columns if metric else (),
        quantity=said.quantity,
    )
