"""Planned results → the words of the answer, in the user's language, as tagged `AnswerEvent`s.

All wording lives in `MESSAGES`, one table per language with the same keys, so a phrase is changed (or a
language added) in one place. Numbers arrive computed (qa/plan.py); this module only formats them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from ingest.format import identities, schema
from ingest.normalize import bare_label, clean, simplify
from qa import indicators
from qa.facts import citation, fmt
from qa.model import (
    AnswerEvent,
    AnswerKind,
    Ask,
    AuditResult,
    Citation,
    Clarify,
    Comparison,
    FactResult,
    IndicatorResult,
    IndicatorValue,
    Language,
    NarrativeResult,
    Passage,
    Query,
    Ranking,
    Reading,
    Refusal,
    Result,
    Series,
)

MESSAGES: dict[Language, dict[str, str]] = {
    "zh": {
        "empty": "资料库中还没有报告。",
        "filter": "筛选条件限定为{available}，而问题问的是{asked}。",
        "unknown_agency": "资料库中没有“{asked}”的报告。现有机关：{available}。",
        "no_report": "资料库中没有{asked}年的报告（现有：{available}）。",
        "no_cell": "{where}年的报告中没有{label}这一项。",
        "not_held": "报告中没有“{asked}”的数字，无法回答（不会用其他单元格代替）。这些报告提供的是：{available}。",
        "nothing_relevant": "报告中没有找到与该问题相关的内容（资料库不含此项信息）。",
        "clarify": "问题中的机关可能指：{names}。请说明是哪一个。",
        "each_intro": "问题未指明机关，资料库中有多个机关的报告，分别为：",
        "each_outro": "请说明是哪一个机关。",
        "defaulted_year": "（问题未指明年度，按{agency}最新的 {year} 年报告回答。）",
        "misprint": "（报告中该机关名称印作“{printed}”，按此回答。）",
        "value": "{year}年，{agency}{label}为 {value}{unit}。",
        "computed": "（由报告所列各项相加得出，报告未印此合计。）",
        "unfilled_total": "（报告的总计栏印为 {printed}，与各类申请人之和不符；此处为各类申请人相加之和。）",
        "parts": "其中：",
        "several": "{year}年，{agency}：",
        "item_ambiguous": "无法确定（可能为 {options}）",
        "item_blank": "空白（未填写）",
        "item_missing": "报告中没有这一项",
        "item_computed": "（由各项相加）",
        "part": "- {label}：{value}",
        "ambiguous": ("{year}年，{agency}的{label}无法确定：报告中该行数字连写或缺格（原文“{raw}”），"
                      "可能的值为 {options}。"),
        "blank": "{year}年，{agency}的报告中{label}一栏为空白（未填写，不视为 0）。",
        "not_number": "{year}年，{agency}的报告中{label}一栏填写为“{raw}”，不是数字。",
        "extra": "（注意：报告在该格旁另印有不属于任何表头的数值：{notes}）",
        "inconsistent": "（注意：该表的勾稽关系在报告中不成立，数值按原文引用。）",
        "missing_cells": "（报告中没有：{cells}。）",
        "compare": "{first}比{second}{direction}{amount}{unit}{percent}。",
        "compare_same": "{first}与{second}相同，均为 {value}{unit}。",
        "compare_unknown": "无法计算差值：两个数值中至少一个在报告中不可用。",
        "more": "多",
        "less": "少",
        "percent": "（{verb}{amount}%，即 {pct}%）",
        "up": "增长",
        "down": "下降",
        "trend": "共 {n} 个年度：{first_label} 为 {first}，{last_label} 为 {last}。",
        "ranking_title": "{year}年{label}排名：",
        "ranking_row": "{rank}. {agency}：{value}",
        "total": "{year}年，{n} 个机关的{label}合计 {value}。",
        "skipped": "（无可用数值：{agencies}）",
        "narrative_intro": "报告原文中最相关的内容：",
        "narrative_value": "报告中写明：{value}。",
        "narrative_where": "（{agency}{year}年 › {section}）",
        "unmentioned": "",
        "audit_none": ("{year}年{agency}的报告未发现数据前后不一致之处：表格的勾稽关系成立，"
                       "正文中与表格对应的数字与表格相符。"),
        "audit_intro": "{year}年{agency}的报告中发现 {n} 处数据前后不一致：",
        "audit_incomplete": "表格完整性方面另有 {n} 处：",
        "audit_prose": "   正文（{section}）：“{snippet}”",
        "audit_cells": "   表格：{cells}",
        "list_sep": "、",
        "unit_件": " 件",
        "unit_万元": " 万元",
        "unit_元": " 元",
        "ind_value": "{year}年，{agency}的{name}为 {value}。",
        "ind_formula": "{name} = {words} = {numbers} = {value}",
        "ind_div": "{a} ÷ {b}",
        "ind_group": "（{x}）",
        "ind_year": "{name}（{year}年）",
        "ind_not": "{year}年，{agency}的{name}无法计算：{why}。",
        "ind_missing": "报告中没有“{cell}”这一格",
        "ind_blank": "“{cell}”一栏为空白（未填写，不视为 0）",
        "ind_not_number": "“{cell}”一栏填写为“{raw}”，不是数字",
        "ind_ambiguous": "“{cell}”无法确定（原文“{raw}”，可能为 {options}）",
        "ind_zero": "分母（{cell}）为 0",
        "ind_no_report": "需要 {cell} 年的报告，资料库中没有",
        "ind_zeroed": "（“{cells}”在报告中为空白；其所在合计已由其他各项凑足，按勾稽关系为 0。）",
        "ind_summed": "（“{name}”报告印为 0 或空白，与其各项不符；此处为各项之和。）",
        "ind_inconsistent": "（注意：所用表格的勾稽关系在报告中不成立，数值按原文引用。）",
        "ind_rank_title": "{year}年{name}排名（{order}）：",
        "ind_high": "从高到低",
        "ind_low": "从低到高",
        "ind_rank_row": "{rank}. {agency}：{value}（{numbers}）",
        "ind_skipped": "无法计算，未参与排名：{items}",
        "ind_skip_item": "{agency}（{why}）",
        "ind_change": "{later}年比{earlier}年变化 {change} 个百分点。",
        "ind_rank_year": "（问题未指明年度，按资料库中最新的 {year} 年排名。）",
    },
    "en": {
        "empty": "The corpus holds no reports yet.",
        "filter": "The agency filter is {available}, but the question asks about {asked}.",
        "unknown_agency": "The corpus has no report of \"{asked}\". Agencies available: {available}.",
        "no_report": "The corpus has no report for {asked} (available: {available}).",
        "no_cell": "The {where} report has no {label} cell.",
        "not_held": ("The reports give no figure for \"{asked}\", so this cannot be answered (no other cell stands "
                     "in for it). They hold: {available}."),
        "nothing_relevant": "Nothing in the reports answers this; the corpus does not hold that information.",
        "clarify": "The agency in the question could be any of: {names}. Which one do you mean?",
        "each_intro": "The question names no agency and several agencies' reports fit; for each:",
        "each_outro": "Which agency do you mean?",
        "defaulted_year": "(No year given: using {agency}'s latest report, {year}.) ",
        "misprint": "(The report prints the agency's name as \"{printed}\"; answered from it.) ",
        "value": "In {year}, {agency} reported {value}{unit} for {label}.",
        "computed": " (Added up from the parts the report prints; the report prints no such total.)",
        "unfilled_total": (" (The report's 总计 cell reads {printed}, which contradicts its applicant columns; "
                           "this is their sum.)"),
        "parts": "Of which:",
        "several": "In {year}, {agency}:",
        "item_ambiguous": "cannot be told (could be {options})",
        "item_blank": "blank (not filled in)",
        "item_missing": "not in the report",
        "item_computed": " (added up from its parts)",
        "part": "- {label}: {value}",
        "ambiguous": ("In {year}, {agency}'s {label} cannot be read with certainty: the row is flattened in the "
                      "report (printed \"{raw}\"); it could be {options}."),
        "blank": "In {year}, the {label} cell of {agency}'s report is blank (not filled in; not taken as 0).",
        "not_number": "In {year}, the {label} cell of {agency}'s report reads \"{raw}\", which is not a number.",
        "extra": " (Note: the report prints an extra value under no column next to it: {notes}.)",
        "inconsistent": " (Note: the table's sum identity is broken in the report; the value is quoted as printed.)",
        "missing_cells": " (Not in the report: {cells}.)",
        "compare": "{first} vs {second}: {signed}{percent}, i.e. {amount} {direction} in {first}.",
        "compare_same": "{first} and {second} are the same: {value}{unit}.",
        "compare_unknown": "The difference cannot be computed: at least one of the two values is not usable.",
        "more": "more",
        "less": "fewer",
        "percent": " ({pct}%)",
        "up": "",
        "down": "",
        "trend": "{n} years: {first} in {first_label}, {last} in {last_label}.",
        "ranking_title": "{year} ranking by {label}:",
        "ranking_row": "{rank}. {agency}: {value}",
        "total": "In {year}, {label} across {n} agencies total {value}.",
        "skipped": "(No usable value: {agencies}.)",
        "narrative_intro": "The most relevant passages of the reports:",
        "narrative_value": "The report states: {value}.",
        "narrative_where": " ({agency} {year}, {section})",
        "unmentioned": "(The reports never mention: {words}.)",
        "audit_none": ("No inconsistencies found in {agency}'s {year} report: the tables' sum identities hold and the "
                       "numbers its prose states about table quantities agree with the tables."),
        "audit_intro": "{n} inconsistencies found in {agency}'s {year} report:",
        "audit_incomplete": "Completeness of the tables, {n} more:",
        "audit_prose": "   Prose ({section}): \"{snippet}\"",
        "audit_cells": "   Table: {cells}",
        "list_sep": ", ",
        "unit_件": "",
        "unit_万元": " (10,000 yuan)",
        "unit_元": " yuan",
        "ind_value": "In {year}, {agency}'s {name} was {value}.",
        "ind_formula": "{name} = {words} = {numbers} = {value}",
        "ind_div": "{a} / {b}",
        "ind_group": "({x})",
        "ind_year": "{name} ({year})",
        "ind_not": "In {year}, {agency}'s {name} cannot be computed: {why}.",
        "ind_missing": "the report has no \"{cell}\" cell",
        "ind_blank": "the \"{cell}\" cell is blank (not filled in; not taken as 0)",
        "ind_not_number": "the \"{cell}\" cell reads \"{raw}\", which is not a number",
        "ind_ambiguous": "the \"{cell}\" cell cannot be read with certainty (printed \"{raw}\"; could be {options})",
        "ind_zero": "the denominator ({cell}) is 0",
        "ind_no_report": "it needs the {cell} report, which the corpus does not hold",
        "ind_zeroed": (" (\"{cells}\" is blank in the report; the total it belongs to is made up by the other "
                       "parts, so it is 0.)"),
        "ind_summed": " (The report prints \"{name}\" as 0 or blank, contradicting its parts; this is their sum.)",
        "ind_inconsistent": " (Note: a sum identity of the tables used is broken in the report; values as printed.)",
        "ind_rank_title": "{year} ranking by {name} ({order}):",
        "ind_high": "highest first",
        "ind_low": "lowest first",
        "ind_rank_row": "{rank}. {agency}: {value} ({numbers})",
        "ind_skipped": "Not computable, left out of the ranking: {items}",
        "ind_skip_item": "{agency} ({why})",
        "ind_change": "{later} against {earlier}: {change} percentage points.",
        "ind_rank_year": "(No year given: ranking the corpus's latest year, {year}.)",
    },
}


def render(result: Result, query: Query) -> Iterator[AnswerEvent]:
    """The events that say `result` in the question's language (kind first, then value, text, citations)."""
    return _Renderer(query).events(result)


def passage_citation(passage: Passage) -> Citation:
    c = passage.chunk
    return Citation(report_id=c.report_id, agency=c.agency, year=c.year, source=c.source, section=display(c.section),
                    page=c.page, snippet=passage.text)


def display(text: str) -> str:
    """Report text as shown to a user: Simplified, without the pinyin glosses scraped pages carry (開設(shè) →
    开设); the citation's snippet keeps the original."""
    return simplify(clean(text))


class _Renderer:
    def __init__(self, query: Query) -> None:
        self.query = query
        self.lang: Language = query.language
        self.m = MESSAGES[self.lang]

    def say(self, key: str, **fields: object) -> str:
        return self.m[key].format(**fields)

    def events(self, result: Result) -> Iterator[AnswerEvent]:
        if isinstance(result, FactResult):
            return self._fact(result)
        if isinstance(result, Comparison):
            return self._comparison(result)
        if isinstance(result, Series):
            return self._series(result)
        if isinstance(result, Ranking):
            return self._ranking(result)
        if isinstance(result, IndicatorResult):
            return self._indicators(result)
        if isinstance(result, NarrativeResult):
            return self._narrative(result)
        if isinstance(result, Clarify):
            return self._clarify(result)
        if isinstance(result, AuditResult):
            return self._audit(result)
        return self._refusal(result)

    # -- building blocks -----------------------------------------------------------------------------------

    def _emit(self, kind: AnswerKind, text: str, citations: Sequence[Citation] = (), value: str | None = None,
              chart: tuple[tuple[str, float], ...] = ()) -> Iterator[AnswerEvent]:
        yield AnswerEvent("kind", kind)
        if value is not None:
            yield AnswerEvent("value", value)
        yield AnswerEvent("text", self._misprints() + text)
        for c in citations:
            yield AnswerEvent("citation", citation=c)
        if chart:
            yield AnswerEvent("chart", points=chart)

    def _misprints(self) -> str:
        return "".join(self.say("misprint", printed=printed) for _, printed in self.query.misprints)

    def _join(self, items: Sequence[str]) -> str:
        return self.m["list_sep"].join(items)

    def label(self, ask: Ask) -> str:
        """How the ask is named in a sentence."""
        spec = schema.table(ask.table)
        zh = self.lang == "zh"
        if ask.rows:
            parents = {spec.row(r).parent for r in ask.rows}
            row = bare_label(parents.pop()) if len(parents) == 1 else ""
            row_en = _common_en([spec.row(r).en for r in ask.rows])
        else:
            label = spec.row(ask.row)
            row, row_en = bare_label(label.label), label.en.split(",")[0]
            if label.parent and not label.parent.endswith("办理结果"):
                row = f"{bare_label(label.parent)}·{row}"  # 其他处理·其他, not a bare 其他
        if ask.columns:
            members = [spec.column(c) for c in ask.columns]
            top = bare_label(members[0].parent.split(" › ")[0])
            outcomes = {m.label for m in members}
            # both lawsuit blocks' 总计 → 行政诉讼总计; the applicant columns under 法人或其他组织 → 法人或其他组织
            column = top + (bare_label(outcomes.pop()) if len(outcomes) == 1 else "")
            column_en = ("lawsuits (both kinds), " + members[0].en.split(":")[-1].strip() if len(set(outcomes)) <= 1
                         else "legal persons and other organisations")
        else:
            label = spec.column(ask.column)
            column = bare_label(label.label).removesuffix("（单位：万元）")
            if label.parent and spec.key == schema.TABLE4.key:
                column = label.parent.replace(" › ", "") + column
            column_en = label.en
        if spec.key == schema.TABLE4.key:
            return f"{column}的案件数" if zh else column_en
        if ask.column == "decisions" and not ask.columns:
            return f"作出的{row}决定" if zh else f"{row_en} (decisions made)"
        if spec.key == schema.TABLE3.key and ask.column == "total" and not ask.columns:
            return row if zh else row_en
        return f"{row}（{column}）" if zh else f"{row_en} ({column_en})"

    def _unit(self, reading: Reading) -> str:
        unit = reading.facts[0].unit if reading.facts else ""
        return self.m.get(f"unit_{unit}", f" {unit}" if unit else "")

    def sentence(self, reading: Reading) -> str:
        """One report's reading, saying blank / ambiguous / inconsistent / computed where so."""
        label = self.label(reading.ask)
        where = {"year": reading.year, "agency": reading.agency, "label": label}
        raw = "、".join(f.raw for f in reading.facts)
        if reading.ambiguous:
            options = sorted({fmt(c) for f in reading.facts for c in f.candidates})
            return self.say("ambiguous", raw=raw, options=(" 或 " if self.lang == "zh" else " or ").join(options),
                            **where)
        if reading.value is None:
            return self.say("blank" if reading.blank else "not_number", raw=raw, **where)
        text = self.say("value", value=fmt(reading.value), unit=self._unit(reading), **where)
        total = reading.facts[-1]
        if reading.computed and not reading.ask.is_group and total.column in identities.APPLICANTS.totals:
            text += self.say("unfilled_total", printed=total.raw or "—")
        elif reading.computed:
            text += self.say("computed")
        notes = [f.note for f in reading.facts if f.note]
        if notes:
            text += self.say("extra", notes="；".join(notes))
        if reading.inconsistent and not reading.computed:
            text += self.say("inconsistent")
        if reading.missing:
            text += self.say("missing_cells", cells=self._join([self._cell_label(reading.ask.table, r, c)
                                                                  for r, c in reading.missing]))
        if reading.ask.is_group and len(reading.facts) > 1:
            text += "\n" + self.say("parts") + "\n" + "\n".join(
                self.say("part", label=self._cell_label(f.table, f.row, f.column), value=f.raw or "—")
                for f in reading.facts)
        return text

    def _item(self, reading: Reading) -> str:
        """One reading as a list item's value: the number with its unit, or why there is none."""
        if reading.ambiguous:
            options = sorted({fmt(c) for f in reading.facts for c in f.candidates})
            return self.say("item_ambiguous", options=" / ".join(options))
        if reading.value is None:
            return self.say("item_blank") if reading.found else self.say("item_missing")
        return fmt(reading.value) + self._unit(reading) + (self.say("item_computed") if reading.computed else "")

    def _cell_label(self, table: str, row: str, column: str) -> str:
        spec = schema.table(table)
        r = next((x for x in spec.rows if x.key == row), None)
        c = next((x for x in spec.columns if x.key == column), None)
        row_label = r if r and len(spec.rows) > 1 else None
        if self.lang == "en":
            parts = [row_label.en.split(",")[0] if row_label else "", c.en if c else column]
        else:
            in_block = c is not None and c.parent and spec.key == schema.TABLE4.key
            column_zh = (c.parent.replace(" › ", "") + bare_label(c.label)) if in_block else (
                bare_label(c.label) if c else column)
            parts = [bare_label(row_label.label) if row_label else "", column_zh]
        return " · ".join(p for p in parts if p)

    # -- results -------------------------------------------------------------------------------------------

    def _fact(self, result: FactResult) -> Iterator[AnswerEvent]:
        first = result.readings[0]
        if len(result.readings) == 1:
            text = self.sentence(first)
        else:  # several quantities of one report: one line each
            lines = [self.say("several", year=first.year, agency=first.agency)]
            lines += [self.say("part", label=self.label(r.ask), value=self._item(r)) for r in result.readings]
            text = "\n".join(lines)
        if result.defaulted_year:
            text = self.say("defaulted_year", agency=first.agency, year=first.year) + text
        value = fmt(first.value) if first.value is not None else None
        cites = [citation(f) for r in result.readings for f in r.facts]
        return self._emit("fact", text, cites, value)

    def _comparison(self, result: Comparison) -> Iterator[AnswerEvent]:
        a, b = result.first, result.second
        by_agency = a.agency != b.agency
        name = (lambda r: r.agency) if by_agency else (lambda r: f"{r.year}年" if self.lang == "zh" else str(r.year))
        lines = [self.sentence(r) for r in (a, b)]
        diff, pct = result.difference, result.percent
        value = None
        if diff is None:
            lines.append(self.say("compare_unknown"))
        elif diff == 0:
            lines.append(self.say("compare_same", first=name(a), second=name(b), value=fmt(a.value or 0),
                                  unit=self._unit(a)))
            value = "0"
        else:
            value = f"{pct:+.1f}%" if self.query.percent and pct is not None else fmt(diff)
            percent = self.say("percent", pct=f"{pct:+.1f}", verb=self.m["up" if diff > 0 else "down"],
                               amount=f"{abs(pct):.1f}") if pct is not None else ""
            lines.append(self.say("compare", first=name(a), second=name(b), signed=f"{diff:+g}",
                                  amount=fmt(abs(diff)), unit=self._unit(a).strip() if self.lang == "zh" else "",
                                  direction=self.m["more" if diff > 0 else "less"], percent=percent))
        points = tuple((name(r), r.value) for r in (b, a) if r.value is not None)
        cites = [citation(f) for r in (a, b) for f in r.facts]
        return self._emit("compare", "\n".join(lines), cites, value, points)

    def _series(self, result: Series) -> Iterator[AnswerEvent]:
        readings = result.readings
        by_agency = len({r.agency for r in readings}) > 1
        lines = [self.sentence(r) if r.found else self._no_cell([r]) for r in readings]
        points = tuple((f"{r.agency} {r.year}" if by_agency else str(r.year), r.value)
                       for r in readings if r.value is not None)
        if points:
            lines.append(self.say("trend", n=len(points), first_label=points[0][0], first=fmt(points[0][1]),
                                  last_label=points[-1][0], last=fmt(points[-1][1])))
        cites = [citation(f) for r in readings for f in r.facts]
        return self._emit("trend", "\n".join(lines), cites, None, points)

    def _ranking(self, result: Ranking) -> Iterator[AnswerEvent]:
        label = self.label(result.readings[0].ask)
        if result.total:
            total = sum(r.value or 0 for r in result.readings)
            text = self.say("total", year=result.year, n=len(result.readings), label=label, value=fmt(total))
            value = fmt(total)
        else:
            rows = [self.say("ranking_row", rank=i + 1, agency=r.agency, value=fmt(r.value or 0))
                    for i, r in enumerate(result.readings)]
            text = "\n".join([self.say("ranking_title", year=result.year, label=label), *rows])
            value = fmt(result.readings[0].value or 0)
        if result.skipped:
            text += "\n" + self.say("skipped", agencies=self._join(result.skipped))
        points = tuple((r.agency, r.value or 0.0) for r in result.readings)
        cites = [citation(f) for r in result.readings for f in r.facts]
        return self._emit("rank", text, cites, value, points)

    # -- indicators ---------------------------------------------------------------------------------------------

    def indicator_value(self, v: IndicatorValue) -> str:
        """An indicator's value as shown: 45.87%, +169.14% for a change."""
        ind = indicators.indicator(v.key)
        if v.value is None:
            return "—"
        sign = "+" if ind.signed and v.value > 0 else ""
        return f"{sign}{v.value:.2f}{'%' if ind.percent else ''}"

    def indicator_name(self, key: str) -> str:
        ind = indicators.indicator(key)
        return ind.zh if self.lang == "zh" else ind.en

    def _side(self, v: IndicatorValue, part: str, with_numbers: bool) -> str:
        ind = indicators.indicator(v.key)
        terms = ind.numerator if part == "numerator" else ind.denominator
        if with_numbers:
            words = [fmt(i.value or 0.0) for i in v.inputs if i.part == part]
            text = indicators.expression(terms, self.lang, words)
        else:
            named = [replace(t, zh=self.say("ind_year", name=t.zh, year=v.year + t.year_offset),
                             en=self.say("ind_year", name=t.en, year=v.year + t.year_offset))
                     if ind.years_back else t for t in terms]
            text = indicators.expression(named, self.lang)
        return self.say("ind_group", x=text) if len(terms) > 1 else text

    def formula_words(self, v: IndicatorValue) -> str:
        """The formula in words: 实质公开率 = （予以公开 + 部分公开） ÷ 办理结果总计 × 100%."""
        words = self.say("ind_div", a=self._side(v, "numerator", False), b=self._side(v, "denominator", False))
        suffix = " × 100%" if indicators.indicator(v.key).percent else ""
        return f"{self.indicator_name(v.key)} = {words}{suffix}"

    def formula(self, v: IndicatorValue) -> str:
        """The formula with the numbers: … = （40 + 10） ÷ 109 = 45.87%."""
        numbers = self.say("ind_div", a=self._side(v, "numerator", True), b=self._side(v, "denominator", True))
        return f"{self.formula_words(v)} = {numbers} = {self.indicator_value(v)}"

    def why_not(self, v: IndicatorValue) -> str:
        options = (" 或 " if self.lang == "zh" else " or ").join(fmt(c) for c in v.candidates)
        return self.say(f"ind_{v.problem}", cell=v.cell, raw=v.raw, options=options)

    def _indicator_notes(self, v: IndicatorValue) -> str:
        notes = ""
        zeroed = [indicators.cell_label(f.table, f.row, f.column) for i in v.inputs for f in i.zeroed]
        if zeroed:
            notes += self.say("ind_zeroed", cells="”“".join(zeroed) if self.lang == "zh" else '", "'.join(zeroed))
        for i in v.inputs:
            if i.summed:
                notes += self.say("ind_summed", name=i.name_zh if self.lang == "zh" else i.name_en)
        if v.inconsistent:
            notes += self.say("ind_inconsistent")
        return notes

    def indicator_sentence(self, v: IndicatorValue) -> str:
        where = {"year": v.year, "agency": v.agency, "name": self.indicator_name(v.key)}
        if v.value is None:
            return self.say("ind_not", why=self.why_not(v), **where)
        return (self.say("ind_value", value=self.indicator_value(v), **where) + "\n" + self.formula(v)
                + self._indicator_notes(v))

    def _indicators(self, result: IndicatorResult) -> Iterator[AnswerEvent]:
        cites = [citation(f) for v in (*result.values, *result.skipped) for f in _indicator_facts(v)]
        if result.ranking:
            name = self.indicator_name((result.values or result.skipped)[0].key)
            lines = [self.say("ind_rank_title", year=result.year, name=name,
                              order=self.m["ind_low" if result.lowest else "ind_high"])]
            if result.defaulted_year:
                lines.insert(0, self.say("ind_rank_year", year=result.year))
            lines += [self.say("ind_rank_row", rank=i + 1, agency=v.agency, value=self.indicator_value(v),
                               numbers=self.say("ind_div", a=self._side(v, "numerator", True),
                                                b=self._side(v, "denominator", True)))
                      for i, v in enumerate(result.values)]
            if result.values:
                lines.append(self.formula_words(result.values[0]))
            if result.skipped:
                lines.append(self.say("ind_skipped", items=self._join(
                    [self.say("ind_skip_item", agency=v.agency, why=self.why_not(v)) for v in result.skipped])))
            top = result.values[0] if result.values else None
            points = tuple((v.agency, v.value or 0.0) for v in result.values)
            return self._emit("rank", "\n".join(lines), cites, self.indicator_value(top) if top else None, points)
        lines = [self.indicator_sentence(v) for v in result.values]
        a, b = (*result.values, None, None)[:2]
        if (len(result.values) == 2 and a and b and a.agency == b.agency and a.value is not None
                and b.value is not None):
            later, earlier = (a, b) if a.year > b.year else (b, a)
            lines.append(self.say("ind_change", later=later.year, earlier=earlier.year,
                                  change=f"{(later.value or 0.0) - (earlier.value or 0.0):+.2f}"))
        first = result.values[0]
        text = "\n".join(lines)
        if result.defaulted_year and len(result.values) == 1:
            text = self.say("defaulted_year", agency=first.agency, year=first.year) + text
        value = self.indicator_value(first) if first.value is not None else None
        points = tuple((f"{v.agency} {v.year}" if len({x.agency for x in result.values}) > 1 else str(v.year),
                        v.value) for v in result.values if v.value is not None) if len(result.values) > 1 else ()
        return self._emit("indicator", text, cites, value, points)

    def _narrative(self, result: NarrativeResult) -> Iterator[AnswerEvent]:
        lines = []
        if result.unmentioned and self.m["unmentioned"]:
            lines.append(self.say("unmentioned", words="; ".join(result.unmentioned)))
        if result.value:
            lines.append(self.say("narrative_value", value=result.value))
        lines.append(self.m["narrative_intro"])
        for p in result.passages:
            where = self.say("narrative_where", agency=p.chunk.agency, year=p.chunk.year,
                             section=display(p.chunk.section))
            lines.append(f"- {display(p.text)}{where}")
        return self._emit("narrative", "\n".join(lines), [passage_citation(p) for p in result.passages],
                          result.value)

    def _clarify(self, result: Clarify) -> Iterator[AnswerEvent]:
        if not result.readings:
            return self._emit("clarify", self.say("clarify", names=self._join(result.candidates)))
        lines = [self.m["each_intro"], *(self.sentence(r) for r in result.readings), self.m["each_outro"]]
        cites = [citation(f) for r in result.readings for f in r.facts]
        return self._emit("clarify", "\n".join(lines), cites)

    def _audit(self, result: AuditResult) -> Iterator[AnswerEvent]:
        """The findings of one report's audit: contradictions first, each with its sentence and its cells."""
        where = {"agency": result.agency, "year": result.year}
        wrong = [f for f in result.findings if f.kind != "completeness"]
        incomplete = [f for f in result.findings if f.kind == "completeness"]
        lines = [self.say("audit_intro", n=len(wrong), **where) if wrong else self.say("audit_none", **where)]
        for i, f in enumerate(wrong, 1):
            lines.append(f"{i}. {f.message(self.lang)}")
            if f.prose:
                lines.append(self.say("audit_prose", section=f.prose.section, snippet=display(f.prose.snippet)))
            if f.cells:
                cells = self._join([f"{c.row} › {c.column} = {c.cell or '—'}" for c in f.cells[:_AUDIT_CELLS]])
                lines.append(self.say("audit_cells", cells=cells + (" …" if len(f.cells) > _AUDIT_CELLS else "")))
        if incomplete:
            lines.append(self.say("audit_incomplete", n=len(incomplete)))
            lines += [f"- {f.message(self.lang)}" for f in incomplete]
        text = "\n".join(lines)
        if result.defaulted_year:
            text = self.say("defaulted_year", **where) + text
        cites = [c for f in result.findings for c in ((f.prose,) if f.prose else ()) + f.cells[:_AUDIT_CELLS]]
        return self._emit("audit", text, cites, str(len(wrong)))

    def _refusal(self, result: Refusal) -> Iterator[AnswerEvent]:
        if result.reason == "no_cell":
            return self._emit("refusal", self._no_cell(result.readings))
        if result.reason == "nothing_relevant":
            text = self.m["nothing_relevant"]
            if result.asked and self.m["unmentioned"]:
                text += " " + self.say("unmentioned", words=result.asked)
            return self._emit("refusal", text)
        return self._emit("refusal", self.say(result.reason, asked=result.asked,
                                              available=self._join(result.available)))

    def _no_cell(self, readings: Sequence[Reading]) -> str:
        where = self._join([f"{r.agency} {r.year}" for r in readings])
        return self.say("no_cell", where=where, label=self.label(readings[0].ask) if readings else "")


def _indicator_facts(v: IndicatorValue) -> list:
    """Every input cell of an indicator (and the cell that stops it), each once, in formula order."""
    out = []
    for f in (*(f for i in v.inputs for f in i.facts), *v.facts):
        if f not in out:
            out.append(f)
    return out
_AUDIT_CELLS = 6  # cells shown and cited per finding (a broken column sum involves twenty)


def _common_en(descriptions: Sequence[str]) -> str:
    """What several rows' English descriptions share before their colon ("withheld")."""
    heads = {d.split(":")[0] for d in descriptions}
    return heads.pop() if len(heads) == 1 else descriptions[0]
