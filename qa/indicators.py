"""Indicators the field computes from a report's cells (实质公开率, 复议纠错率 …), as data, and their computation.

`CATALOGUE` is the list: each indicator has its Chinese and English names (and the other names people use),
a numerator and a denominator written as sums and differences of schema cells (ingest/format/schema.py), and
is a percentage. `compute()` evaluates one indicator on the facts of one report (and, for a year-on-year
indicator, the facts of the same agency's report of the year before); nothing here reads the store.

Inputs are read as `qa.facts.reading` reads any cell (a 2021 report's three rows stand in for 2019's one
（六）其他处理 row; a 总计 cell the report leaves 0 or blank while its applicant columns are not is their sum).
What is not a number decides whether the indicator can be computed:

- a cell the report lacks, an ambiguous cell (a flattened row read several ways), or a blank / "-" / "无" cell
  makes the indicator **not computable**, naming that cell (issue #15) —
- except a blank (or "-", "无") that a printed total proves to be 0: a sum identity of the format
  (ingest/format/identities.py: a Table 4 block's 总计, Table 3's （七）总计 or 一+二 = 七+四) holds with the
  other parts alone. Reports print blank for zero in places (report-format.md); this is the one case where the
  report itself says so, and the answer says the blank was taken as 0 and why;
- a block total printed 0 or blank while its parts are not (a 总计 left unfilled) is the sum of its parts,
  said to be computed (the rule `qa.facts` applies to Table 3's 总计 column, applied to every identity's total);
- a denominator of 0 (no concluded review case) is not computable either: there is no rate to give.

A broken identity elsewhere in the table does not stop the computation; the answer notes it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from ingest.format import identities, schema
from ingest.format.identities import Identity
from ingest.model import Fact
from ingest.normalize import bare_label
from qa.facts import reading
from qa.model import Ask, IndicatorInput, IndicatorValue

_REQ = schema.TABLE3.key
_REV = schema.TABLE4.key
_WITHHELD = tuple(r.key for r in schema.TABLE3.rows if r.parent == "不予公开")
_UNAVAILABLE = tuple(r.key for r in schema.TABLE3.rows if r.parent == "无法提供")


@dataclass(frozen=True)
class Term:
    """Cells added up: the rows `rows` of one column of one table (one row, or a group such as 不予公开's eight),
    added (`sign` +1) or taken away (-1), from this report or the one `year_offset` years before."""

    zh: str  # the term's name in the written-out formula
    en: str
    table: str
    rows: tuple[str, ...]
    column: str
    sign: int = 1
    year_offset: int = 0


@dataclass(frozen=True)
class Indicator:
    key: str
    zh: str  # the name answers use
    en: str
    numerator: tuple[Term, ...]
    denominator: tuple[Term, ...]
    zh_names: tuple[str, ...] = ()  # other names people use; 行政 is optional before each (行政复议纠错率)
    en_names: tuple[str, ...] = ()  # matched word by word, plural or not, hyphen or space
    percent: bool = True  # the ratio × 100, with a % sign
    signed: bool = False  # a change: shown with its sign (+12.5%)
    description: str = ""  # one line for the README and the answer's note

    @property
    def years_back(self) -> int:
        """How many years before the report the formula reaches (1 for a year-on-year change)."""
        return max(-t.year_offset for t in (*self.numerator, *self.denominator))

    @property
    def terms(self) -> tuple[tuple[str, Term], ...]:
        return (*(("numerator", t) for t in self.numerator), *(("denominator", t) for t in self.denominator))


def _t3(zh: str, en: str, *rows: str, sign: int = 1, year_offset: int = 0) -> Term:
    return Term(zh, en, _REQ, rows, "total", sign, year_offset)


def _t4(zh: str, en: str, column: str, sign: int = 1) -> Term:
    return Term(zh, en, _REV, ("cases",), column, sign)


_HANDLED = _t3("办理结果总计", "total handled", "total_handled")

CATALOGUE: tuple[Indicator, ...] = (
    Indicator(
        "substantive_disclosure", "实质公开率", "substantive disclosure rate",
        numerator=(_t3("予以公开", "granted", "granted"), _t3("部分公开", "partly granted", "partly_granted")),
        denominator=(_HANDLED,),
        zh_names=("公开率", "信息公开率", "申请公开率"),
        en_names=("disclosure rate", "substantive disclosure", "rate of disclosure", "grant rate", "granted rate"),
        description="requests granted in full or in part, of all requests handled (Table 3, 总计 column)",
    ),
    Indicator(
        "non_disclosure", "不予公开率", "non-disclosure rate",
        numerator=(_t3("不予公开", "withheld", *_WITHHELD),),
        denominator=(_HANDLED,),
        zh_names=("不公开率", "拒绝公开率"),
        en_names=("nondisclosure rate", "withholding rate", "withheld rate", "refusal rate", "denial rate"),
        description="requests withheld (the eight 不予公开 rows), of all requests handled",
    ),
    Indicator(
        "unavailable", "无法提供率", "unable-to-provide rate",
        numerator=(_t3("无法提供", "unable to provide", *_UNAVAILABLE),),
        denominator=(_HANDLED,),
        zh_names=("不能提供率",),
        en_names=("unable to provide rate", "unavailability rate", "unavailable rate"),
        description="requests the agency could not provide for (the three 无法提供 rows), of all handled",
    ),
    Indicator(
        "review_correction", "复议纠错率", "review correction rate",
        numerator=(_t4("结果纠正", "corrected", "review_corrected"),),
        denominator=(_t4("复议总计", "review total", "review_total"),
                     _t4("尚未审结", "pending", "review_pending", sign=-1)),
        zh_names=("复议被纠错率", "纠错率", "被纠错率"),
        en_names=("correction rate", "reconsideration correction rate", "review reversal rate", "reversal rate"),
        description="administrative reviews whose decision was corrected, of the reviews concluded",
    ),
    Indicator(
        "litigation_loss", "诉讼败诉率", "litigation loss rate",
        numerator=(_t4("直接起诉·结果纠正", "direct suits corrected", "suit_direct_corrected"),
                   _t4("复议后起诉·结果纠正", "suits after review corrected", "suit_after_review_corrected")),
        denominator=(_t4("直接起诉总计", "direct suits total", "suit_direct_total"),
                     _t4("直接起诉·尚未审结", "direct suits pending", "suit_direct_pending", sign=-1),
                     _t4("复议后起诉总计", "suits after review total", "suit_after_review_total"),
                     _t4("复议后起诉·尚未审结", "suits after review pending", "suit_after_review_pending", sign=-1)),
        zh_names=("败诉率", "诉讼纠错率"),
        en_names=("loss rate", "lawsuit loss rate", "litigation correction rate", "losing rate"),
        description="lawsuits (both kinds) decided against the agency (结果纠正), of the lawsuits concluded",
    ),
    Indicator(
        "request_growth", "申请量同比", "year-on-year change in requests",
        numerator=(_t3("本年新收", "new requests", "new"),
                   _t3("上年新收", "last year's new requests", "new", sign=-1, year_offset=-1)),
        denominator=(_t3("上年新收", "last year's new requests", "new", year_offset=-1),),
        zh_names=("申请量同比增长", "申请量同比增长率", "申请量增长率", "申请数量同比", "申请同比", "申请增长率",
                  "收到申请同比", "新收申请同比"),
        en_names=("request growth", "growth in requests", "requests year on year", "year on year change in requests",
                  "year on year growth in requests", "year on year request", "application growth"),
        signed=True,
        description="new requests this year against last year's report, as a change of last year's",
    ),
    Indicator(
        "carry_forward", "结转率", "carry-forward rate",
        numerator=(_t3("结转下年度继续办理", "carried forward", "carried_forward"),),
        denominator=(_HANDLED,),
        zh_names=("结转下年率", "未办结率"),
        en_names=("carry forward rate", "carryover rate", "carry over rate", "backlog rate"),
        description="requests carried into next year (四), against the requests handled this year (（七）总计)",
    ),
)
BY_KEY: dict[str, Indicator] = {i.key: i for i in CATALOGUE}


def indicator(key: str) -> Indicator:
    return BY_KEY[key]


# -- naming: which indicator a question says --------------------------------------------------------------------


@dataclass(frozen=True)
class Named:
    key: str
    start: int
    end: int


@cache
def _forms() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Every way an indicator is written, longest first (不予公开率 before 公开率)."""
    forms: list[tuple[str, str, bool]] = []
    for ind in CATALOGUE:
        for name in (ind.zh, *ind.zh_names):
            forms += [(name, ind.key, False)]
            # 行政 is optional before a review or lawsuit word (行政复议纠错率 = 复议纠错率, 行政诉讼败诉率)
            if name.startswith(("复议", "诉讼")):
                forms.append(("行政" + name, ind.key, False))
        for name in (ind.en, *ind.en_names):
            forms.append((name.lower().replace("-", " "), ind.key, True))
    patterns = []
    for text, key, english in sorted(forms, key=lambda f: -len(f[0])):
        if english:
            words = [re.escape(w) + "s?" for w in text.split()]
            patterns.append((re.compile(r"\b" + r"[\s\-]+".join(words) + r"\b"), key))
        else:
            patterns.append((re.compile(re.escape(text)), key))
    return tuple(patterns)


def named(text: str) -> Named | None:
    """The indicator `text` (a question in matching form, `ingest.normalize.fold`) names, with its span in
    `text`; the longest name said wins."""
    # lower-cased character by character, so that spans index `text` ("İ".lower() is two characters)
    lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    taken: list[tuple[int, int]] = []
    found: Named | None = None
    for pattern, key in _forms():
        for m in pattern.finditer(lowered):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue  # inside a longer name already found (公开率 of 不予公开率)
            taken.append(m.span())
            if found is None:
                found = Named(key, m.start(), m.end())
    return found


# -- computing ---------------------------------------------------------------------------------------------------


def compute(ind: Indicator | str, facts: Sequence[Fact], previous: Sequence[Fact] | None = None, *,
            agency: str = "", year: int | None = None) -> IndicatorValue:
    """`ind` over the facts of one report (`previous`: the same agency's report of the year before, for a
    year-on-year indicator; None when there is none). Agency and year come from the facts unless given."""
    ind = indicator(ind) if isinstance(ind, str) else ind
    agency = agency or (facts[0].agency if facts else "")
    year = year if year is not None else (facts[0].year if facts else 0)
    inputs: list[IndicatorInput] = []
    inconsistent = False
    for part, term in ind.terms:
        source = facts if term.year_offset == 0 else previous
        term_year = year + term.year_offset
        if source is None or not source:
            return IndicatorValue(ind.key, agency, year, None, inputs=tuple(inputs), problem="no_report",
                                  cell=f"{agency} {term_year}")
        read = _term(term, list(source), agency, term_year, part)
        if isinstance(read, IndicatorValue):
            return IndicatorValue(ind.key, agency, year, None, inputs=tuple(inputs), problem=read.problem,
                                  cell=read.cell, raw=read.raw, candidates=read.candidates, facts=read.facts)
        inputs.append(read)
        inconsistent |= any(f.status == "inconsistent" for f in read.facts)
    numerator = sum(i.sign * (i.value or 0.0) for i in inputs if i.part == "numerator")
    denominator = sum(i.sign * (i.value or 0.0) for i in inputs if i.part == "denominator")
    if denominator == 0:
        return IndicatorValue(ind.key, agency, year, None, numerator, denominator, tuple(inputs), problem="zero",
                              cell=expression(ind.denominator, "zh"), raw="0", inconsistent=inconsistent)
    value = numerator / denominator * (100 if ind.percent else 1)
    return IndicatorValue(ind.key, agency, year, value, numerator, denominator, tuple(inputs),
                          inconsistent=inconsistent)


def _term(term: Term, facts: list[Fact], agency: str, year: int, part: str) -> IndicatorInput | IndicatorValue:
    """The cells of one term added up, or the IndicatorValue naming the cell that stops it (its problem)."""
    values = _values(facts)
    cited: list[Fact] = []
    zeroed: list[Fact] = []
    total = 0.0
    summed = False
    for row in term.rows:
        got = reading(facts, agency, year, Ask(term.table, row, term.column))
        cell = cell_label(term.table, row, term.column)
        if not got.found:
            return IndicatorValue("", agency, year, None, problem="missing", cell=cell)
        if got.ambiguous:
            options = tuple(sorted({c for f in got.facts for c in f.candidates}))
            raw = "、".join(f.raw for f in got.facts)
            return IndicatorValue("", agency, year, None, problem="ambiguous", cell=cell, raw=raw, candidates=options,
                                  facts=got.facts)
        cited.extend(got.facts)
        fact = got.facts[-1]
        if got.value is not None and not (got.value == 0 and _total_of(fact)):
            total += got.value
            continue
        if (parts := _parts_sum(fact, values)) is not None:  # a total left 0 or blank: the sum of its parts
            total += parts[0]
            cited.extend(f for f in parts[1] if f not in cited)
            summed = True
            continue
        if got.value is not None:  # a printed 0
            continue
        if _zero_by_identity(fact, values):
            zeroed.append(fact)
            continue
        return IndicatorValue("", agency, year, None, problem="blank" if got.blank else "not_number", cell=cell,
                              raw=fact.raw, facts=got.facts)
    return IndicatorInput(term.zh, term.en, part, term.sign, year, total, tuple(cited), tuple(zeroed),  # type: ignore[arg-type]
                          summed)


def expression(terms: Sequence[Term], language: str, numbers: Sequence[str] = ()) -> str:
    """Terms written out: 复议总计 − 尚未审结 (or with `numbers` in their place: 7 − 2)."""
    out = ""
    for i, term in enumerate(terms):
        word = numbers[i] if numbers else (term.zh if language == "zh" else term.en)
        out += (word if i == 0 and term.sign > 0 else f" {'+' if term.sign > 0 else '−'} {word}")
    return out.strip()


def cell_label(table: str, row: str, column: str) -> str:
    """A cell as printed, without ordinals: 不予公开 › 其他法律行政法规禁止公开 · 总计, 行政复议 › 结果纠正."""
    spec = schema.table(table)
    r = spec.row(row)
    c = spec.column(column)
    column_label = f"{c.parent} › {bare_label(c.label)}" if c.parent and table == _REV else (
        bare_label(c.label))
    if len(spec.rows) == 1:
        return column_label
    row_label = bare_label(r.label)
    if r.parent:  # 不予公开 › 属于国家秘密; 本年度办理结果 › 总计 (not a bare 总计)
        row_label = f"{bare_label(r.parent)} › {row_label}"
    return f"{row_label} · {column_label}"


# -- what the report's sum identities say about a blank or unfilled cell -----------------------------------------

_Values = dict[tuple[str, str, str], tuple[float | None, Fact]]


def _values(facts: list[Fact]) -> _Values:
    """Every cell's number (None: blank, text or ambiguous); a Table 3 总计 the report leaves unfilled is the
    sum of its applicant columns, as `qa.facts.reading` reads it."""
    values: _Values = {}
    for f in facts:
        values[(f.table, f.row, f.column)] = (None if f.status == "ambiguous" else f.value, f)
    for f in facts:
        if f.table == _REQ and f.column in identities.APPLICANTS.totals and f.status != "ambiguous":
            got = reading(facts, f.agency, f.year, Ask(f.table, f.row, f.column))
            if got.computed:
                values[(f.table, f.row, f.column)] = (got.value, f)
    return values


def _rules(fact: Fact) -> tuple[Identity, ...]:
    if fact.table == _REQ:
        return identities.table3(fact.template)
    return identities.TABLE4 if fact.table == _REV else ()


def _members(rule: Identity, fact: Fact, keys: Sequence[str]) -> list[tuple[str, str, str]]:
    if rule.along == "row":
        return [(fact.table, fact.row, k) for k in keys]
    return [(fact.table, k, fact.column) for k in keys]


def _own(rule: Identity, fact: Fact) -> str:
    return fact.column if rule.along == "row" else fact.row


def _total_of(fact: Fact) -> bool:
    """Whether the cell is the total of an identity (a block's 总计, （七）总计)."""
    return any(_own(rule, fact) in rule.totals and len(rule.totals) == 1 for rule in _rules(fact))


def _parts_sum(fact: Fact, values: _Values) -> tuple[float, list[Fact]] | None:
    """A single-cell total printed 0 or blank whose parts are numbers adding up to more than 0: (their sum, the
    part cells). None when the cell is no such total."""
    for rule in _rules(fact):
        if _own(rule, fact) not in rule.totals or len(rule.totals) != 1:
            continue
        parts = [values.get(k) for k in _members(rule, fact, rule.parts)]
        if any(p is None or p[0] is None for p in parts):
            continue
        found = [p for p in parts if p is not None]
        amount = sum(p[0] or 0.0 for p in found)
        if amount > 0:
            return amount, [p[1] for p in found]
    return None


def _zero_by_identity(fact: Fact, values: _Values) -> bool:
    """A blank part of an identity whose printed total the other parts already make up: it is 0."""
    for rule in _rules(fact):
        if _own(rule, fact) not in rule.parts:
            continue
        totals = [values.get(k) for k in _members(rule, fact, rule.totals)]
        others = [values.get(k) for k in _members(rule, fact, rule.parts) if k[1:] != (fact.row, fact.column)]
        if any(t is None or t[0] is None for t in totals) or any(o is None for o in others):
            continue
        total = sum(t[0] or 0.0 for t in totals if t is not None)
        known = sum(o[0] or 0.0 for o in others if o is not None)
        if total == known:
            return True
    return False
