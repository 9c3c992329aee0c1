"""Question (and the conversation before it) → `Query`: agencies, years, the quantities asked, the operation.

Follow-ups are resolved deterministically: each earlier question of the conversation is parsed on its own, in
order, and a later question replaces only the slots it names (那2022年呢 changes the year, 按自然人分呢 the
column, "and Pingtan?" the agency); everything else carries over.

Every content word of a question must be accounted for — by an agency, a year, a row or column, or later by a
sentence of the report. The words nothing explains are kept in `Query.unaccounted`, so that a question about a
quantity no table holds ("平均办理天数", "satisfaction rate") is not answered with the nearest cell.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache

from ingest.names import place_words_before
from ingest.normalize import fold
from qa import glossary, indicators
from qa.agencies import AgencyIndex, AgencyMatch
from qa.compose import content_words, topic_sections
from qa.metrics import Metric, MetricMatcher
from qa.model import Ask, Operation, Query
from qa.text import en_tokens, language, zh_nouns

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
    "compare": re.compile(r"比较|对比|相比|比上年|变化|增加|减少|增长|下降|多了|少了|相差|差异|差多少|多多少|少多少|"
                          r"多还是少|增减|\bvs\.?\b|versus|compar|difference|change|increase|decrease|\bmore than\b|"
                          r"fewer|\bthan\b|\bmore or\b|\b(?:go |went |gone )?up or down\b|"
                          r"\b(?:go|went|gone) (?:up|down)\b|"
                          r"\b(?:rise|rose|risen|fall|fell|fallen|grow|grew|grown|drop|dropped)\b"),
}
# What a comparison of two agencies is measured against comes right after these: "A 比 B", "A than B", "与 B 相比".
_BASE_CUE = re.compile(r"(?<![对相])比(?!较|例|率)|\bthan\b|(?:与|和|同|跟)(?=[^，,。？?]{0,20}?相比)")
_BASE_REACH = 12  # characters between the cue and the agency it introduces
_NARRATIVE = re.compile(
    r"问题|措施|改进|如何|怎么|怎样|做了|开展|平台|培训|举措|介绍|说明|为什么|原因|经验|成效|计划|下一步|总体|"
    r"处理费|主要|工作|哪些|什么|problem|measure|improv|how did|what did|what does|describe|explain|why|platform|"
    r"training|plan|work|overall|summar|\bhow\b(?! many| much)"
)
# Numbers a report states in prose, not in a table (report-format.md): fees charged to applicants
# (信息处理费, section 六) and how much was published proactively (section 一).
_PROSE_NUMBERS = re.compile(r"处理费|processing fee|主动公开.{0,8}(?:条|信息)|多少条|proactively publish|items of "
                            r"government information|information items")
_QUANTITY = re.compile(r"多少|几[个件项次篇条]|数量|金额|[^\s]率|比例|how many|how much|how large|how big|how high|"
                       r"number of|count|amount|\brate\b|percentage|ratio")
# A question about a whole row or block, not one number ("行政复议的结果如何", "how were the requests handled").
_BREAKDOWN = re.compile(r"如何|怎样|怎么样|情况|分布|构成|breakdown|how (?:were|was|did)|\boutcomes?\b|\bresults?\b")
# Plans for a year are told in the report of the year before ("what did X plan to improve for 2026").
_AHEAD = re.compile(r"计划|打算|下一步|今后|明年|plan|next year|intend|going to|\bwill\b")
# A share of a whole ("予以公开的占比"): the tables print counts, so it is a quantity no cell holds (a change
# between two years as a percentage is computed instead, see `_PERCENT`).
_RATIO = re.compile(r"占比|比例|比重|所占|百分比")
# The change asked as a share of the base ("增长了百分之多少", "by what percentage").
_PERCENT = re.compile(r"百分之|百分比|增长率|增幅|降幅|percentage|percent")
# Whether a report contradicts itself: answered from the audit's findings (qa/audit.py), not from a cell.
_AUDIT = re.compile(r"不一致|一致吗|是否一致|矛盾|对不上|不吻合|不相符|有出入|勾稽|inconsisten|contradict|discrepan|"
                    r"mismatch|(?:do not|don't|doesn't|does not) add up")
_FOLLOW_COLUMN = re.compile(r"^(?:那|那么|按|and|what about|how about|by)\b|呢[?？]?$", re.IGNORECASE)
# Several quantities in one question: clauses of their own ("收到多少申请？其中自然人多少？"), or names joined
# before 分别 / respectively ("予以公开和不予公开分别是多少").
_CLAUSES = re.compile(r"[？?；;]|，?其中|以及|,?\s*\band how (?:many|much)\b|,?\s*\band what\b")
_EACH = re.compile(r"分别|各(?:是|为|有)多少|respectively|\beach\b")
_JOINED = re.compile(r"[和与及、，,]|\band\b|\bor\b")
# Words every question about these reports says: they name no quantity of their own.
_SUBJECT_WORDS = ("政府 信息 政府信息 公开 信息公开 政府信息公开 政务公开 申请 报告 年度 年报 工作 情况 部门 单位 机关 "
                  "全年 本年 当年 一年 多少 几件 数量 件数 总数 总量 数目 数字 个数 合计 总计 一共 共计 案件 案件数 "
                  "决定 次数 件次")
_SUBJECT_ZH = frozenset(_SUBJECT_WORDS.split())
_REASONS = ("原因", "理由", "缘由", *en_tokens("reason reasons grounds"))
# What every question is about, in English: it explains nothing.
_SUBJECT_EN = frozenset(en_tokens("government information disclosure"))
_FILLER_EN = frozenset(en_tokens(
    "how many much did does do was were is are has have had the a an of in on for by to from with its their it "
    "this that these those there what which who total number count amount year annual report reported according "
    "receive received get got make made file filed submit submitted handle handled process processed give given "
    "issue issued take taken end there government information disclosure request requests application "
    "applications public more fewer less or than change changed compared through via into out about per "
    "hand handed during within between"))


@dataclass(frozen=True)
class _Said:
    """What one question says by itself; None means it does not say."""

    agencies: tuple[str, ...] | None = None
    candidates: tuple[str, ...] = ()
    unknown: str = ""
    misprints: tuple[tuple[str, str], ...] = ()
    years: tuple[int, ...] | None = None
    offsets: tuple[int, ...] = ()
    year_range: bool = False
    metrics: tuple[Metric, ...] = ()
    operation: Operation | None = None
    narrative: bool = False
    quantity: bool = False
    percent: bool = False
    ahead: bool = False
    base_agency: str | None = None  # what a comparison of two agencies is measured against (A 比 B: B)
    unaccounted: tuple[str, ...] = ()
    content: tuple[str, ...] = ()
    topic: tuple[str, ...] = ()
    indicator: str = ""  # a catalogue key (qa/indicators.py)
    lowest: bool = False
    audit: bool = False


# A ranking that asks for the bottom of the order ("哪个部门纠错率最低", "the lowest correction rate").
_LOWEST = re.compile(r"最低|最少|最小|倒数|lowest|least|smallest|fewest|\bbottom\b|\bworst\b")


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
    """(years in the order named, offsets relative to the latest report, whether a range was given)."""
    text = _ZH_YEAR.sub(lambda m: "".join(_ZH_DIGITS[c] for c in m.group()), fold(text))
    if m := _RANGE.search(text):
        first, last = sorted((int(m.group(1)), int(m.group(2))))
        # "2023 and 2024" / "2023和2024" are two years; "2019-2024" / "2019至2024" is every year between.
        if _RANGE_CUE.search(m.group()) and last - first <= 30:
            return tuple(range(first, last + 1)), (), True
    years = tuple(dict.fromkeys(int(y) for y in _SINGLE.findall(text)))
    # "requests received this year" beside "in 2023" is a label's wording, not a second year.
    offsets = () if years else tuple(offset for pattern, offset in _RELATIVE if pattern.search(text))
    return years, offsets, False


def _parse(text: str, index: AgencyIndex, matcher: MetricMatcher) -> _Said:
    norm = fold(text)
    agencies = index.match(norm)
    rest = _without(norm, agencies)
    years, offsets, year_range = years_in(norm)
    rest = _SINGLE.sub(" ", rest)
    # An indicator (实质公开率, correction rate) is computed from several cells: its name explains its words, and
    # no single cell is looked for (qa/indicators.py).
    named = indicators.named(rest)
    if named:
        rest = rest[: named.start] + " " + rest[named.end :]
    operation = next((op for op, cue in _CUES.items() if cue.search(rest)), None)
    if len(years) + len(offsets) >= 2 or len(agencies.agencies) >= 2:
        # "change from 2023 to 2025": the comparison's words name no column (本年增/减 is not asked)
        rest = _CUES["compare"].sub(" ", rest)
    prose = bool(_PROSE_NUMBERS.search(rest))
    metrics = () if prose or named else _metrics(rest, matcher)
    things = glossary.things_named(rest)
    # "satisfaction rate" shares "public" with 要求提供公开出版物, and "new-media accounts" shares "new" with
    # 本年新收: when more of a question's words name something else, no cell answers it (not even a near one).
    elsewhere = bool(metrics) and (_mostly_unexplained(rest, metrics[0], matcher) or (
        bool(things) and len(things) >= len(matcher.explained_words(metrics[0], rest))))
    if elsewhere:
        metrics = ()
    quantity = bool(_QUANTITY.search(rest))
    narrative = _asks_narrative(rest, metrics[0] if metrics else None, matcher) and not named
    comparing = len(years) + len(offsets) >= 2 or len(agencies.agencies) >= 2
    if comparing and metrics:
        narrative = False  # "how did X change from 2021 to 2023" compares a cell, it asks for no paragraph
    if (len(metrics) == 1 and not quantity and not comparing and _BREAKDOWN.search(rest)
            and (parts := matcher.breakdown(metrics[0]))):
        metrics, narrative = parts, False  # 行政复议的结果如何: the block's cells, not a paragraph
    if not metrics and not named and not elsewhere and not narrative and not things and len(content_words(rest)) >= 2:
        found = matcher.match_by_embedding(rest)
        metrics = (found,) if found else ()
    said_agency = agencies.agencies or agencies.candidates or agencies.unknown
    return _Said(
        agencies=agencies.agencies if said_agency else None,
        candidates=agencies.candidates,
        unknown=agencies.unknown,
        misprints=agencies.misprints,
        years=years if years or offsets else None,
        offsets=offsets,
        year_range=year_range,
        metrics=metrics,
        operation=operation,
        narrative=narrative and not quantity,
        quantity=quantity or bool(named),
        percent=bool(_PERCENT.search(rest)),
        ahead=bool(_AHEAD.search(rest)),
        base_agency=_base_agency(norm, agencies),
        unaccounted=tuple(w for w in _unaccounted(_without_cues(rest), metrics, matcher)
                          if not any(w in name for name in (*agencies.agencies, *agencies.candidates))
                          and not (named and _RATIO.search(w)))  # an indicator is a ratio: 比例 says so
        + tuple(m.group() for m in _RATIO.finditer(rest) if not comparing and not named),
        content=tuple(sorted(content_words(rest))),
        topic=topic_sections(norm),
        indicator=named.key if named else "",
        lowest=bool(_LOWEST.search(rest)),
        audit=bool(_AUDIT.search(rest)),
    )


def _without(text: str, agencies: AgencyMatch) -> str:
    """The question with the agency names blanked out, so their words name no metric (Social *Affairs* Bureau),
    and with them the places written before a name that leaves them out (金华 of 金华义乌卫健局)."""
    for start, end in sorted(agencies.spans, reverse=True):
        start -= len(place_words_before(text[:start]))
        text = text[:start] + " " + text[end:]
    return text


def _metrics(text: str, matcher: MetricMatcher) -> tuple[Metric, ...]:
    """The quantities `text` asks for: one, or one per clause when it asks several. A clause that names only a
    column keeps the row of the clause before it (其中自然人多少), and one that names only a row its column."""
    whole = matcher.match(text)
    clauses = [c for c in _CLAUSES.split(text) if c.strip()]
    if len(clauses) < 2 and (each := _EACH.search(text)):
        head = text[: each.start()]
        clauses = [c for c in _JOINED.split(head) if c.strip()]
    if len(clauses) < 2:
        return (whole,) if whole else ()
    out: list[Metric] = []
    for clause in clauses:
        metric = matcher.match(clause)
        if metric is None:
            continue
        if out and metric.table == out[-1].table:
            if not metric.row_named:
                metric = matcher.with_column(replace(out[-1], column=metric.column), metric.column)
            elif not metric.column_named and out[-1].column_named:
                metric = matcher.with_column(metric, out[-1].column)
        if metric not in out:
            out.append(metric)
    return tuple(out) if len(out) > 1 else ((whole,) if whole else ())


def _without_cues(text: str) -> str:
    """The question without the words that say what to do (历年, 比较, 排名): they ask for no quantity."""
    for cue in _CUES.values():
        text = cue.sub(" ", text)
    return text


def _mostly_unexplained(text: str, metric: Metric, matcher: MetricMatcher) -> bool:
    """An English question whose content words the metric explains fewer of than it leaves unexplained asks
    about something else ("agricultural subsidy notices published" is not 本年新公开数量)."""
    text = _PERCENT.sub(" ", _without_cues(text))
    explained = matcher.phrase_words(metric)
    words = {w for w in en_tokens(text) if w not in _SUBJECT_EN and (w not in _FILLER_EN or w in explained)}
    return len(words - explained) > len(explained & words)


def _unaccounted(text: str, metrics: tuple[Metric, ...], matcher: MetricMatcher) -> tuple[str, ...]:
    """Nouns (Chinese) and glossary words (English) of the question no row, column or table title explains.

    Only words that can be looked for in a report count: a Chinese noun as printed, an English word through the
    glossary's renderings. Verbs and English words outside the glossary are how a question is phrased, not
    what it asks for."""
    # The members of a group are its reasons (不予公开 … 主要是什么原因): the breakdown answers "why".
    explained: set[str] = set(_REASONS) if any(len(m.rows) > 1 or len(m.columns) > 1 for m in metrics) else set()
    for metric in metrics:
        explained |= matcher.explained_words(metric, text) | matcher.label_words(metric, text)
        explained |= matcher.phrase_words(metric)
        for phrase in matcher.phrases(metric):  # a label said whole is accounted for, however jieba cuts it
            text = text.replace(phrase, " ")
    zh = [w for w in zh_nouns(text) if w not in _SUBJECT_ZH and not any(w in e or e in w for e in explained)]
    # English participles (closed, published, handled) say what was done to the things counted, not what they are.
    nouns = " ".join(w for w in re.findall(r"[a-z]+", text) if not w.endswith(("ed", "ing")))
    en = [w for w in en_tokens(nouns) if w not in _FILLER_EN and w not in explained and glossary.chinese_for(w)]
    return tuple(dict.fromkeys((*zh, *en)))


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
    metrics = now.metrics
    if before.metrics and (not metrics or _FOLLOW_COLUMN.search(fold(text))):
        # 按自然人分呢: a bare column keeps the rows asked before.
        prior = before.metrics[0]
        column = matcher.match_column(fold(text), prior.table)
        if column and (not metrics or (metrics[0].table == prior.table and not metrics[0].row_named)):
            metrics = tuple(matcher.with_column(m, column) for m in before.metrics)
    if not metrics and not now.narrative:
        metrics = before.metrics
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
        misprints=now.misprints if agencies_named else before.misprints,
        years=now.years if years_named else before.years,
        offsets=now.offsets if years_named else before.offsets,
        year_range=now.year_range if years_named else before.year_range,
        metrics=metrics,
        operation=operation,
        narrative=now.narrative or (not metrics and before.narrative),
        # 那2023年呢 after an indicator question asks for the same indicator
        indicator=now.indicator or (before.indicator if not now.metrics and not now.narrative else ""),
        lowest=now.lowest or (before.lowest and not now.metrics and not now.indicator),
    )


def _operation(said: _Said) -> Operation:
    years = said.years or ()
    agencies = said.agencies or ()
    if said.operation in ("rank", "total") and len(agencies) <= 1:
        return said.operation if not agencies else "value"  # among the candidates a vague name fits, if any
    if said.operation == "trend" or (said.year_range and len(years) > 2 and said.operation != "compare"):
        return "trend"
    if len(years) + len(said.offsets) >= 2 or len(agencies) >= 2 or said.operation == "compare":
        return "compare"
    return "value"


def _base_agency(text: str, agencies: AgencyMatch) -> str | None:
    """The agency a comparison is measured against: the one named right after 比 / than / 与…相比."""
    for cue in _BASE_CUE.finditer(text):
        for agency, start in zip(agencies.agencies, agencies.starts, strict=True):
            if 0 <= start - cue.end() <= _BASE_REACH:
                return agency
    return None


def _compare_order(said: _Said, operation: Operation) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Years and agencies with the minuend first: a change over years is later − earlier, whatever order the
    question names them in ("change from 2023 to 2025", "2019年比2025年少多少"); two agencies are A − B
    ("A 比 B 多多少", "与 B 相比，A"), the first named when no cue says otherwise."""
    years = said.years or ()
    agencies = said.agencies or ()
    if operation != "compare":
        return years, agencies
    if len(years) >= 2 and (said.year_range or len(years) == 2):
        years = (max(years), min(years))
    if len(agencies) == 2 and said.base_agency == agencies[0]:
        agencies = (agencies[1], agencies[0])
    return years, agencies


def _query(question: str, said: _Said) -> Query:
    operation = _operation(said)
    years, agencies = _compare_order(said, operation)
    asks = tuple(Ask(m.table, m.row, m.column, m.rows if len(m.rows) > 1 else (),
                     m.columns if len(m.columns) > 1 else ()) for m in said.metrics)
    return Query(
        question=question,
        language="en" if language(question) == "en" else "zh",
        agencies=agencies,
        years=years,
        asks=asks,
        operation=operation,
        narrative=said.narrative,
        candidates=said.candidates,
        unknown_agency=said.unknown,
        misprints=said.misprints,
        year_offsets=said.offsets,
        quantity=said.quantity,
        percent=said.percent,
        ahead=said.ahead,
        unaccounted=said.unaccounted,
        content=said.content,
        topic=said.topic,
        indicator=said.indicator,
        lowest=said.lowest,
        audit=said.audit,
    )
