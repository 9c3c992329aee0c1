"""The audit of one report: where it contradicts itself, and where its tables are incomplete.

Three kinds of `Finding`, each with the evidence a person needs to judge it — the report's own sentence with its
section, and the cells as citations:

- **identity**: a sum identity of Tables 3 and 4 broken (`ingest.checks`), with the cells that take part;
- **prose-vs-table**: a number the prose states about a quantity a standard table holds (收到申请 N 件, 办结,
  结转, 予以公开…其他处理, 行政复议 / 行政诉讼 N 件, 制发 / 现行有效 / 废止规范性文件 N 件, 行政许可 / 行政处罚 /
  行政强制 N 件, and "未发生行政复议" as zero) that differs from the cells. The quantity is named by the format's
  own row labels and the wordings prose uses for them, tied to its number by proximity inside one clause (a
  Table 2 row only when the number follows its label directly). When the sentence qualifies its scope (代表,
  本级, a channel such as 网上 / 信函, 全区, 含…) or its number equals a neighbouring quantity of the table (一+二,
  （七）总计, the applicant cells of a 总计 left at 0), the finding says so: a possible scope difference, not an
  error. Only Arabic numerals are read (no Chinese-numeral parser is available); "未收到…申请", "未发生…行政复议"
  count as zero;
- **completeness**: a standard table not found, cells of a found table missing, blank cells where the template
  expects a number, and "/", "-", "无" written where a number belongs.

The audit reads what the store holds (facts and prose chunks), so it needs no re-ingest. Nothing here names an
agency or a place. 信息处理费 amounts are not compared: no standard table holds them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Literal

from ingest import checks
from ingest.format import identities, infer, schema
from ingest.format.layout import PARTS, expected_cells
from ingest.format.template import T2019, T2021, Template
from ingest.model import Chunk, Fact
from ingest.normalize import bare_label, clean, fold
from ingest.store import Store
from qa.facts import citation, fmt
from qa.model import Citation
from qa.render import display

Kind = Literal["identity", "prose-vs-table", "completeness"]
Severity = Literal["error", "warning", "info"]
KINDS: tuple[Kind, ...] = ("identity", "prose-vs-table", "completeness")


@dataclass(frozen=True)
class Finding:
    """One defect of one report, with the sentence (if any) and the cells that show it."""

    report_id: str
    agency: str
    year: int
    kind: Kind
    code: str  # identity | mismatch | scope | table-missing | cells-missing | blank | not-a-number
    severity: Severity
    message_zh: str
    message_en: str
    prose: Citation | None = None  # the report's sentence, with its section
    cells: tuple[Citation, ...] = ()
    stated: float | None = None  # prose-vs-table: the number the sentence states
    table_value: float | None = None  # prose-vs-table: what the cells add up to

    def message(self, language: str = "zh") -> str:
        return self.message_en if language == "en" else self.message_zh

    def to_json(self) -> dict:
        return asdict(self)


# -- prose: the quantities a sentence can state ------------------------------------------------------------------

_APPLICANT_ORGS = tuple(c.key for c in schema.TABLE3.columns if c.parent)
_T3 = schema.TABLE3.key
_T4 = schema.TABLE4.key


def _rows_under(parent: str) -> tuple[str, ...]:
    return tuple(r.key for r in schema.TABLE3.rows if r.parent == parent)


@dataclass(frozen=True)
class _Quantity:
    """A quantity prose states and the cells that hold it: `cue` names it in a clause (after `fold`)."""

    key: str
    label: str  # as the finding names it
    en: str
    table: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cue: str
    priority: int = 1  # in a clause naming several, the more specific wins (同意公开答复 N 件: 予以公开)
    needs: str = ""  # the sentence must also say this (申请: what is counted are requests)
    units: str = "件份项个"


# Table 3 rows and groups, named as the format labels them and as prose words them.
_TOTAL = ("total",)
_QUANTITIES: tuple[_Quantity, ...] = (
    _Quantity("new", "本年新收申请", "new requests received", _T3, ("new",), _TOTAL,
              r"收到|新收|受理|接收|接到|收悉", 1, "申请", "件份项个条"),
    _Quantity("carried_over", "上年结转申请", "requests carried over", _T3, ("carried_over",), _TOTAL,
              r"上一?年度?结转", 3),
    _Quantity("total_handled", "办理结果总计", "requests handled (total)", _T3, ("total_handled",), _TOTAL,
              r"办结|办理|答复", 1, "申请"),
    _Quantity("carried_forward", "结转下年度继续办理", "requests carried forward", _T3, ("carried_forward",), _TOTAL,
              r"结转(?:到|至)?下一?年度?|转(?:到|至|入)?下一?年度?|顺延(?:到|至)?下一?年度?", 3),
    _Quantity("granted_or_partly", "予以公开及部分公开", "requests granted in full or in part", _T3,
              ("granted", "partly_granted"), _TOTAL, r"予以公开(?:及|和|与|、)部分公开", 4),
    _Quantity("granted", "予以公开", "requests granted", _T3, ("granted",), _TOTAL,
              r"予以公开|同意公开|全部公开", 3),
    _Quantity("partly_granted", "部分公开", "requests partly granted", _T3, ("partly_granted",), _TOTAL,
              r"部分公开|区分处理", 3),
    _Quantity("withheld", "不予公开", "requests withheld", _T3, _rows_under("不予公开"), _TOTAL, r"不予公开", 3),
    _Quantity("unavailable", "无法提供", "requests unable to provide", _T3, _rows_under("无法提供"), _TOTAL,
              r"无法提供", 3),
    _Quantity("not_handled", "不予处理", "requests not processed", _T3, _rows_under("不予处理"), _TOTAL,
              r"不予处理", 3),
    _Quantity("other_handling", "其他处理", "requests otherwise handled", _T3,
              ("other_handling", *_rows_under("其他处理")), _TOTAL, r"其他处理", 3),
    # Table 4: the cases of each kind, whatever their outcome.
    _Quantity("review", "行政复议", "administrative reconsideration cases", _T4, ("cases",), ("review_total",),
              r"行政复议|(?<!行政)复议(?:案件|申请)", 3, "", "件份项个条起宗"),
    _Quantity("suits", "行政诉讼", "administrative lawsuits", _T4, ("cases",),
              ("suit_direct_total", "suit_after_review_total"), r"行政诉讼|(?<!行政)诉讼", 3, "", "件份项个条起宗"),
)
_BY_KEY = {q.key: q for q in _QUANTITIES}
_ZERO_QUANTITIES = ("new", "review", "suits")

# Who applied, as Table 3's columns name them.
_APPLICANTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"自然人|公民|个人", ("natural_person",)),
    (r"法人或其他组织|法人", _APPLICANT_ORGS),
    *((c.label, (c.key,)) for c in schema.TABLE3.columns if c.parent and c.key != "other_org"),
)
# A number with the measure word it counts in; a year, a date, a share or a code is no count.
_NUMBER = re.compile(r"(?<![\d.\-])(\d{1,3}(?:,\d{3})+|\d+)(?![\d.%\-])\s*([件份项个条起宗])")
_CLAUSE = re.compile(r"[,;:()。!?，；：（）！？\n]")
# The sentence limits what it counts to part of what the table counts.
_SCOPE = re.compile(r"代表|本级|本部门|机关本级|网上|在线|网络|信函|邮寄|当面|传真|电子邮件|政务服务|热线|"
                    r"全区|全县|全市|全省|各级|各单位|系统内|含|包括|涉及")
_OUTCOME = re.compile(r"纠错|纠正|败诉|胜诉|维持|撤销|驳回")  # one outcome of review or suits, not their count
_ZERO = re.compile(r"(?:未|没有|无)(?:发生|收到|接到|产生|受理)?")
_NOT_ZERO = re.compile(r"纠错|纠正|败诉|撤销|追究|追责|问责|\d")

# Table 2: a row label, then its number right after it (主动公开规章 22 件, 制发的规范性文件88件).
_T2_ROWS: tuple[tuple[str, str, str], ...] = (
    ("rules", "regulations", r"规章"),
    ("rules", "normative_documents", r"(?:行政)?规范性文件"),
)
_T2_DECISIONS: tuple[tuple[str, str, str], ...] = (
    ("licensing", "licensing", r"行政许可"),
    ("enforcement", "penalty", r"行政处罚"),
    ("enforcement", "coercion", r"行政强制"),
)
_ADJACENT = r"\s*(?:决定|案件)?\s*(?:共|计|共计|为|有)?\s*(\d+)\s*([件份个起宗])"
_T2_VERBS = (("in_force", r"现行有效"), ("repealed", r"废止"), ("issued", r"制发|印发|出台|制定|新制作"),
             ("published", r"主动公开|公开|发布"))


@dataclass(frozen=True)
class Statement:
    """A number a sentence states about a table quantity."""

    quantity: str  # _Quantity key, or "t2:<table>/<row>/<column>"
    label: str
    en: str
    table: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    value: float
    sentence: str  # as printed
    chunk: Chunk
    scope: tuple[str, ...] = ()  # words qualifying the scope
    zero: bool = False  # stated as none (未收到, 未发生)


def sentences(chunks: Iterable[Chunk]) -> list[tuple[str, Chunk]]:
    """The prose sentences of a report's text chunks, once each (chunks overlap), lines the page width broke
    rejoined."""
    seen: set[tuple[str, str]] = set()
    out = []
    for chunk in chunks:
        if chunk.kind != "text":
            continue
        body = chunk.text.split("\n", 1)[1] if "\n" in chunk.text else ""
        joined = ""
        for line in body.split("\n"):
            line = line.strip()
            last = joined.rsplit("\n", 1)[-1]
            if (len(last) >= _WRAPPED and not last.endswith(("。", "；", "！", "？", ";", "!", "?"))
                    and not _HEAD.match(line) and not _HEAD.match(last)):
                joined += line  # a line the page width broke (PDF), not a table cell on its own line
            else:
                joined += "\n" + line
        for sentence in re.findall(r"[^。；！？!?\n]+[。；！？!?]?", joined):
            sentence = sentence.strip()
            if _TABULAR.search(fold(clean(sentence))):
                continue  # a table's text among the prose (a header, a row of numbers): no sentence
            if len(sentence) >= 4 and (chunk.section, sentence) not in seen:
                seen.add((chunk.section, sentence))
                out.append((sentence, chunk))
    return out


_WRAPPED = 16  # a line this long that ends mid-sentence was broken by the page width
# A table's header words, a row of bare numbers, Markdown cell bars: table text, not prose.
_HEADERS = {bare_label(w) for t in schema.TABLE2 for c in t.columns for w in (c.label, c.label_2019, *c.aliases) if w}
_TABULAR = re.compile("|".join(map(re.escape, sorted(_HEADERS))) + r"|信息内容|\d\s+\d+\s+\d|\|")
_HEAD = re.compile(r"^(?:[（(][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+、|\d+[.、])")


def statements(chunks: Iterable[Chunk], template: Template | None = None) -> list[Statement]:
    """Every number the prose states about a standard table's quantity."""
    out: list[Statement] = []
    for sentence, chunk in sentences(chunks):
        text = fold(clean(sentence))
        out += _table3_4(text, sentence, chunk)
        out += _table2(text, sentence, chunk, template)
        out += _zeros(text, sentence, chunk)
    return out


def _clauses(text: str) -> list[tuple[int, int]]:
    bounds = [0, *(m.start() for m in _CLAUSE.finditer(text)), len(text)]
    return [(a, b) for a, b in pairwise(bounds) if b > a]


def _table3_4(text: str, sentence: str, chunk: Chunk) -> list[Statement]:
    out: list[Statement] = []
    scope = tuple(dict.fromkeys(m.group() for m in _SCOPE.finditer(text)))
    last: _Quantity | None = None
    for start, end in _clauses(text):
        clause = text[start:end]
        previous = 0
        for number in _NUMBER.finditer(clause):
            before = clause[previous:number.start()]
            after_end = next((m.start() for m in _NUMBER.finditer(clause, number.end())), len(clause))
            after = clause[number.end():after_end]
            quantity = _cue(before) or _cue(after)
            applicant = _applicant(before) or (_applicant(after) if quantity and not _applicant(before) else None)
            previous = number.end()
            if quantity is None and applicant and last is not None and last.table == _T3:
                quantity = last  # 其中自然人 72 件: the quantity of the clause before, one applicant's column
            if quantity is None or number.group(2) not in quantity.units:
                continue
            if quantity.needs and quantity.needs not in text:
                continue
            if quantity.table == _T4 and _OUTCOME.search(clause):
                continue  # 被复议纠错 1 件 counts one outcome, not the cases
            last = quantity
            columns = applicant or quantity.columns
            out.append(Statement(quantity.key, quantity.label, quantity.en, quantity.table, quantity.rows, columns,
                                 float(number.group(1).replace(",", "")), sentence, chunk,
                                 scope if applicant is None else ()))
    return out


def _cue(text: str) -> _Quantity | None:
    """The quantity `text` names: the most specific cue, the nearest to its end among equals."""
    found: list[tuple[int, int, _Quantity]] = []
    for q in _QUANTITIES:
        for m in re.finditer(q.cue, text):
            found.append((q.priority, m.end(), q))
    if not found:
        return None
    # 予以公开及部分公开 outranks the 部分公开 inside it; 同意公开答复 is 予以公开, not 答复 (办理结果总计).
    return max(found, key=lambda f: (f[0], f[1]))[2]


def _applicant(text: str) -> tuple[str, ...] | None:
    """The applicant column(s) `text` names; None for none, or for several (公民、法人及其他组织: everyone)."""
    hits = {columns for pattern, columns in _APPLICANTS for _ in re.finditer(pattern, text)}
    return hits.pop() if len(hits) == 1 else None


def _table2(text: str, sentence: str, chunk: Chunk, template: Template | None) -> list[Statement]:
    out: list[Statement] = []
    for table, row, label in (*_T2_ROWS, *_T2_DECISIONS):
        for m in re.finditer(label + _ADJACENT, text):
            if table == "rules":
                column = _t2_column(text[:m.start()], template)
                if column is None or re.search(r"部门|等$", text[max(0, m.start() - 2):m.start()]):
                    continue
                if m.group(2) not in "件份个":
                    continue
            else:
                column = "decisions"
            spec = schema.table(table)
            en = f"{spec.row(row).en.split(',')[0]} ({spec.column(column).en})"
            printed = spec.row(row).printed(template or T2021)
            out.append(Statement(f"t2:{table}/{row}/{column}", printed, en, table, (row,), (column,),
                                 float(m.group(1)), sentence, chunk))
    return out


def _t2_column(before: str, template: Template | None) -> str | None:
    """Which column of 第二十条第（一）项 the words before a 规章 / 规范性文件 count name (the nearest verb)."""
    clause_start = max(before.rfind(c) for c in ",;:。，；：") + 1
    clause = before[clause_start:]
    hits = [(m.end(), column) for column, verb in _T2_VERBS for m in re.finditer(verb, clause)]
    if not hits:  # 主动公开市政府规章 22 件、…行政规范性文件 34 件: the verb of the list
        hits = [(m.end(), column) for column, verb in _T2_VERBS for m in re.finditer(verb, before)
                if "、" in before[m.end():] and not re.search(r"[,;:。]", before[m.end():])]
    if not hits:
        return None
    column = max(hits)[1]
    if column == "published":
        return "published" if template == T2019 else "issued"
    return column


def _zeros(text: str, sentence: str, chunk: Chunk) -> list[Statement]:
    """未收到…申请, 未发生…行政复议或行政诉讼: a quantity stated as none."""
    out = []
    for start, end in _clauses(text):
        clause = text[start:end]
        negation = _ZERO.search(clause)
        if not negation or _NOT_ZERO.search(clause):
            continue
        rest = clause[negation.start():]
        for key in _ZERO_QUANTITIES:
            q = _BY_KEY[key]
            if key == "new":
                if not re.search(r"(?:未|没有)(?:收到|接到|受理)[^,]{0,12}申请", rest):
                    continue
            elif not re.search(q.cue, rest):
                continue
            out.append(Statement(q.key, q.label, q.en, q.table, q.rows, q.columns, 0.0, sentence, chunk, zero=True))
    return out


# -- comparing a statement with the cells -----------------------------------------------------------------------


def _cells(facts: dict[tuple[str, str, str], Fact], table: str, rows: Sequence[str],
           columns: Sequence[str]) -> list[Fact] | None:
    """The cells of rows × columns the report has; None when none of them is there. A Table 3 总计 left blank
    (the total column unfilled) is its row's applicant cells: the blank is a completeness finding of its own."""
    found: list[Fact] = []
    for r in rows:
        for c in columns:
            fact = facts.get((table, r, c))
            if fact is None:
                continue
            if table == _T3 and c in identities.APPLICANTS.totals and fact.kind == "blank":
                parts = [facts[(table, r, p)] for p in identities.APPLICANTS.parts if (table, r, p) in facts]
                found += [p for p in parts if p.kind != "blank"]
            else:
                found.append(fact)
    return found or None


def _value(cells: Sequence[Fact]) -> float | None:
    """What the cells add up to (blank counts as zero); None when one cannot be read as a number."""
    total = 0.0
    for f in cells:
        if f.status == "ambiguous":
            return None
        if f.kind == "blank":
            continue
        if f.value is None:
            return None
        total += f.value
    return total


_OWN_PARTS = "各类申请人之和"


def _alternatives(st: Statement, facts: dict[tuple[str, str, str], Fact]) -> list[tuple[str, str, list[Fact]]]:
    """Neighbouring quantities of the table the stated number equals: (zh, en, cells)."""
    options: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = []
    if st.table == _T3 and st.columns == _TOTAL:
        options.append((_OWN_PARTS, "the sum of the applicant columns", st.rows, identities.APPLICANTS.parts))
    if st.table == _T3:
        cols = st.columns
        options += [
            ("一、本年新收 + 二、上年结转", "new plus carried over (一+二)", ("new", "carried_over"), cols),
            ("（七）总计", "total handled (（七）总计)", ("total_handled",), cols),
            ("一、本年新收", "new requests (一)", ("new",), cols),
        ]
    if st.table == _T4:
        options += [("行政复议与行政诉讼之和", "review and lawsuits together", ("cases",),
                     ("review_total", "suit_direct_total", "suit_after_review_total"))]
    out = []
    for zh, en, rows, columns in options:
        if tuple(rows) == tuple(st.rows) and tuple(columns) == tuple(st.columns):
            continue
        cells = _cells(facts, st.table, rows, columns)
        if cells and _value(cells) == st.value:
            out.append((zh, en, cells))
    return out


def _compare(st: Statement, facts: dict[tuple[str, str, str], Fact], rid: str, agency: str,
             year: int) -> Finding | None:
    cells = _cells(facts, st.table, st.rows, st.columns)
    if cells is None:
        return None
    value = _value(cells)
    if value is None or value == st.value:
        return None
    alternatives = _alternatives(st, facts)
    default = _BY_KEY[st.quantity].columns if st.quantity in _BY_KEY else st.columns
    applicants = [schema.table(st.table).column(c) for c in st.columns] if st.columns != default else []
    column = "（" + "、".join(c.label for c in applicants) + "）" if applicants else ""
    column_en = " (" + ", ".join(c.en.split(",")[0] for c in applicants) + ")" if applicants else ""
    stated = "未发生 / 无" if st.zero else fmt(st.value)
    zh = f"正文称{st.label}{column}为 {stated}，表格为 {fmt(value)}"
    en = f"the prose states {st.en}{column_en}: {'none' if st.zero else fmt(st.value)}, the table {fmt(value)}"
    own = [a for a in alternatives if a[0] == _OWN_PARTS]
    if own:  # the prose agrees with the applicant cells; the printed 总计 contradicts its own row
        zh += f"；表中各类申请人之和为 {fmt(st.value)}，与正文一致，是表格的总计栏与之不符"
        en += f"; the applicant columns add up to {fmt(st.value)}, as the prose says: the table's total is wrong"
        alternatives = []
    notes_zh, notes_en = [], []
    for alt_zh, alt_en, _ in alternatives:
        notes_zh.append(f"正文数字等于表中{alt_zh}")
        notes_en.append(f"the prose number equals {alt_en}")
    if st.scope and not own:
        notes_zh.append(f"句中限定了范围（{'、'.join(st.scope)}）")
        notes_en.append(f"the sentence qualifies its scope ({', '.join(st.scope)})")
    scope = bool(notes_zh)
    if scope:
        zh += "；" + "；".join(notes_zh) + "，可能是统计口径不同"
        en += "; " + "; ".join(notes_en) + ": possibly a different scope"
    alternatives += own
    cited = [*cells, *(c for _, _, alt in alternatives for c in alt if c not in cells)]
    return Finding(rid, agency, year, "prose-vs-table", "scope" if scope else "mismatch",
                   "info" if scope else "warning", zh + "。", en[0].upper() + en[1:] + ".",
                   prose=_prose_citation(st), cells=tuple(citation(f) for f in cited), stated=st.value,
                   table_value=value)


def _prose_citation(st: Statement) -> Citation:
    c = st.chunk
    return Citation(report_id=c.report_id, agency=c.agency, year=c.year, source=c.source,
                    section=display(c.section), page=c.page, snippet=st.sentence)


# -- identities and completeness --------------------------------------------------------------------------------


def _identities(facts: list[Fact], rid: str, agency: str, year: int) -> list[Finding]:
    out = []
    for v, cells in checks.violations(facts):
        spec = schema.table(v.table)
        where = v.where
        if v.table == _T4:
            where = next((c.parent for c in spec.columns if c.key.startswith(v.where + "_")), v.where)
        elif any(c.key == v.where for c in spec.columns):
            where = spec.column(v.where).label
        elif any(r.key == v.where for r in spec.rows):
            where = spec.row(v.where).label
        zh = f"{spec.title}：{v.rule} 不成立（{where}）：各项之和为 {fmt(v.found)}，报告所印合计为 {fmt(v.expected)}。"
        en = (f"{spec.en}: {v.rule} does not hold ({where}): the parts add up to {fmt(v.found)}, the report prints "
              f"{fmt(v.expected)}.")
        shown = [f for f in cells if f.kind != "blank" or f.column.endswith("total") or f.row == "total_handled"]
        out.append(Finding(rid, agency, year, "identity", "identity", "error", zh, en,
                           cells=tuple(citation(f) for f in shown)))
    return out


def _completeness(facts: list[Fact], rid: str, agency: str, year: int) -> list[Finding]:
    out = []
    template = _template(facts) or T2021
    have = {(f.table, f.row, f.column): f for f in facts}
    for part in PARTS:
        templates = [f.template for f in facts if f.table == part]
        expected = expected_cells(part, templates[0] if templates else template)
        if not expected:
            continue
        spec = schema.table(part)
        present = [have[k] for k in expected if k in have]
        if not present:
            if not all(expected_cells(part, t) for t in {f.template for f in facts}):
                continue  # a mixed report is not missing the 2019-only 第二十条第（九）项
            out.append(Finding(rid, agency, year, "completeness", "table-missing", "warning",
                               f"未找到标准表格“{spec.title}”（报告可能缺少该表，或该表无法读取）。",
                               f"The standard table {spec.title} ({spec.en}) was not found (missing from the "
                               "report, or unreadable)."))
            continue
        missing = [k for k in expected if k not in have]
        if missing:
            names = "、".join(_cell_name(part, r, c) for _, r, c in missing[:6]) + ("等" if len(missing) > 6 else "")
            out.append(Finding(rid, agency, year, "completeness", "cells-missing", "info",
                               f"“{spec.title}”缺少 {len(missing)} 个单元格：{names}。",
                               f"{spec.title}: {len(missing)} expected cell(s) not found: {names}."))
        blank = [f for f in present if f.kind == "blank"]
        if blank:
            names = "、".join(_cell_name(part, f.row, f.column) for f in blank[:6]) + ("等" if len(blank) > 6 else "")
            out.append(Finding(rid, agency, year, "completeness", "blank", "info",
                               f"“{spec.title}”有 {len(blank)} 个应填数字的单元格为空白（常用来表示 0）：{names}。",
                               f"{spec.title}: {len(blank)} cell(s) left blank where the template expects a number "
                               f"(often meaning zero): {names}.", cells=tuple(citation(f) for f in blank)))
        marks = [f for f in present if f.kind in ("na", "text")]
        if marks:
            names = "、".join(f"{_cell_name(part, f.row, f.column)}“{f.raw}”" for f in marks[:6])
            out.append(Finding(rid, agency, year, "completeness", "not-a-number", "info",
                               f"“{spec.title}”有 {len(marks)} 个单元格填写的不是数字（如以“/”“—”代替 0）："
                               f"{names}。",
                               f"{spec.title}: {len(marks)} cell(s) hold no number (\"/\" or \"—\" written for "
                               f"zero): {names}.", cells=tuple(citation(f) for f in marks)))
    return out


def _template(facts: Sequence[Fact]) -> Template | None:
    """The report's format version as ingest decides it: Table 2's headers first, then the majority."""
    proactive = [f.template for f in facts if schema.BY_KEY[f.table].section == "proactive"]
    return infer.majority(proactive or [f.template for f in facts])


def _cell_name(table: str, row: str, column: str) -> str:
    spec = schema.table(table)
    r = next((x.label for x in spec.rows if x.key == row), row)
    c = next((x for x in spec.columns if x.key == column), None)
    col = (f"{c.parent.split(' › ')[-1]}{c.label}" if c and c.parent and table == _T4 else c.label if c else column)
    return col if len(spec.rows) == 1 else f"{r}·{col}"


# -- the audit --------------------------------------------------------------------------------------------------


def audit_report(agency: str, year: int, facts: Sequence[Fact], chunks: Sequence[Chunk]) -> list[Finding]:
    """Every finding of one report, identities first, then prose against tables, then completeness."""
    rid = f"{agency}:{year}"
    facts = [f for f in facts if f.report_id == rid]
    template = _template(facts)
    by_cell = {(f.table, f.row, f.column): f for f in facts}
    out = _identities(facts, rid, agency, year)
    seen: set[tuple[str, tuple[str, ...], str]] = set()
    for st in statements([c for c in chunks if c.report_id == rid], template):
        finding = _compare(st, by_cell, rid, agency, year)
        key = (st.quantity, st.columns, st.sentence)
        if finding is not None and key not in seen:
            seen.add(key)
            out.append(finding)
    out += _completeness(facts, rid, agency, year)
    return out


def audit(store: Store, report_id: str) -> list[Finding]:
    """The findings of one stored report (`AGENCY:YEAR`); [] when the store does not hold it."""
    info = next((r for r in store.reports() if r.id == report_id), None)
    if info is None:
        return []
    return audit_report(info.agency, info.year, store.facts(report_id=report_id), store.chunks([report_id]))

