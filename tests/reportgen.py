"""Synthetic standard annual reports with known cell values, in every form the readers take.

Real reports are few and their gold values are hand-checked; round-trip tests, the UI's "new
year's report" upload and the scale benchmark need as many reports as they like, with every cell
known. A `Spec` holds one report's content (values satisfy every sum identity of report-format.md);
`render` prints it as HTML, DOCX, PDF, Markdown or flattened scraped text, with the deviations real
files show (blank zeros, units, annotations, site chrome, Traditional glosses, page footers).
All labels come from ingest/format/schema.py; everything is deterministic by seed.
"""

from __future__ import annotations

import html
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from itertools import product
from pathlib import Path
from typing import Literal

import opencc

from ingest.format.layout import PARTS, T2_COLUMNS, T4_BLOCKS, expected_cells, t2_rows, t3_rows
from ingest.format.schema import TABLE3, TABLE4, Label, table
from ingest.format.template import T2019, T2021, TEMPLATES, Template, by_year
from ingest.model import SECTION_TITLES

Format = Literal["html", "docx", "pdf", "md", "txt"]
CellKey = tuple[str, str, str]  # (table, row, column) schema keys
FORMATS: tuple[Format, ...] = ("html", "docx", "pdf", "md", "txt")

# Fictional reports of real-sounding agencies; none of these places is in the shared corpus.
_PLACES = (
    "常州市", "湖州市", "芜湖市", "潍坊市", "洛阳市", "宜昌市", "株洲市", "绵阳市", "韶关市", "九江市",
    "三明市", "保定市", "大同市", "吉林市", "柳州市", "遵义市", "曲靖市", "宝鸡市", "天水市", "德阳市",
    "常州市武进区", "湖州市德清县", "芜湖市湾沚区", "潍坊市寿光市", "洛阳市偃师区", "宜昌市夷陵区",
)
_DEPARTMENTS = (
    "人民政府", "生态环境局", "交通运输局", "市场监督管理局", "卫生健康委员会", "自然资源和规划局",
    "住房和城乡建设局", "教育局", "民政局", "人力资源和社会保障局", "财政局", "水利局", "农业农村局",
    "商务局", "文化广电和旅游局", "应急管理局", "司法局",
)
AGENCIES: tuple[str, ...] = tuple(p + d for p, d in product(_PLACES, _DEPARTMENTS))
YEARS: tuple[int, ...] = tuple(range(2019, 2026))

# Table 2 as each template prints it: (table key, row keys, column keys), in order.
# Table 2 as each template prints it: (table key, row keys, column keys), in order.
_TABLE2_LAYOUT: dict[Template, tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]] = {
    t: tuple((part, t2_rows(part, t), cols) for part, cols in T2_COLUMNS[t].items()) for t in TEMPLATES
}
# The 2019 trial format's wording, taken from the schema's aliases (checked in `_printed`).
_WORDING_2019 = {"issued": "本年新制作数量", "in_force": "对外公开总数量", "decisions": "处理决定数量",
                 "normative_documents": "规范性文件"}
# Table 3 group rows print with their ordinal, which the schema keeps only on the leaf rows.
_GROUP_LABELS = {"不予公开": "（三）不予公开", "无法提供": "（四）无法提供", "不予处理": "（五）不予处理",
                 "其他处理": "（六）其他处理"}
_RESULTS = "三、本年度办理结果"
_T3_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
_APPLICANTS = tuple(c.key for c in TABLE3.columns if c.key != "total")


def standard_cells(template: Template) -> tuple[CellKey, ...]:
    """Every standard cell a report of `template` has, in printing order."""
    return tuple(cell for part in PARTS for cell in expected_cells(part, template))


@dataclass(frozen=True)
class Noise:
    """Cell-level deviations seen in real reports; all off gives a clean report."""

    blank_zeros: float = 0.0  # share of Table 3/4 zeros printed as blank cells
    units: bool = False  # units after some Table 2 numbers (`117批次`, `12件`)
    annotations: bool = False  # `22（其中修订 16 件）` on documents issued
    signed: bool = True  # 2019 本年增/减 printed with `+` when positive
    decimals: bool = False  # fees in 万元 with up to six decimals
    na_marks: bool = False  # some Table 2 zeros printed as `/`, `-` or `无`
    old_labels: bool = False  # ASCII parentheses in Table 2 titles, 规范性文件 in the 2021 format

    @classmethod
    def heavy(cls) -> Noise:
        return cls(blank_zeros=0.7, units=True, annotations=True, decimals=True, na_marks=True, old_labels=True)


# How scraped text flattens a table (txt): the ways issue #12 lists, each as a browser or crawler saves it.
Flatten = Literal["lines", "padded", "dropped", "runs", "tab", "spaces", "ideographic", "pipe"]
FLATTENINGS: tuple[Flatten, ...] = ("lines", "padded", "dropped", "runs", "tab", "spaces", "ideographic", "pipe")
# Line endings of a txt file; `one-line` runs the whole report body into one physical line.
Endings = Literal["lf", "crlf", "cr", "mixed", "one-line"]


@dataclass(frozen=True)
class Style:
    """How a format prints the same content (layout deviations that do not change any cell).

    txt `flatten`: `lines` one cell a line, a blank cell an empty line; `padded` one cell a line with padding
    lines between cells and more between rows (a browser's text content), blank cells keeping their lines;
    `dropped` one cell a line, blank cells left out; `runs` a table's cells run together on one line;
    `tab`, `ideographic`, `pipe` one table row a line, cells separated by a tab, one U+3000, or ` | `;
    `spaces` one table row a line, cells separated by runs of spaces (a blank cell merges into the run).
    """

    chrome: bool = False  # html, txt: site navigation, breadcrumbs, scripts around the body
    flatten: Flatten = "lines"  # txt: how a table's cells are separated
    endings: Endings = "lf"  # txt: line endings, or the body on one line
    split_headers: bool = False  # txt: long header and label cells broken over two lines
    blank: str = ""  # txt: what a blank cell prints as (`\xa0` where the page had a non-breaking space)
    traditional: bool = False  # txt: Traditional characters with pinyin glosses (`區(qū)`)
    junk: bool = False  # txt: `?` junk lines where the page had non-breaking spaces
    numbered_headers: bool = False  # md: Table 3 applicant columns lost as 数据1…数据6
    stacked: bool = True  # html, docx, pdf, txt: Table 2 as one grid of sub-tables (Word pages); md never
    titled: bool = True  # False: no title line, no title or publisher metadata (a page saved without its head)

    @property
    def loses_blanks(self) -> bool:
        """Does the txt print leave no trace of a blank cell (so where it sat between zeros cannot be told)?"""
        return self.flatten == "dropped" or (self.flatten in ("runs", "spaces") and not self.blank)


@dataclass(frozen=True)
class Spec:
    """One report's content. `values` are the printed cells (the gold); `numbers` the quantities behind
    them, on which the identities hold (a blank printed for zero is 0; `/`, `-`, `无` are None)."""

    agency: str
    year: int
    template: Template
    title: str
    publish_date: str
    headings: dict[str, str]  # section key -> printed heading
    values: dict[CellKey, str]
    numbers: dict[CellKey, float | None]
    prose: dict[str, tuple[str, ...]]  # section key (preamble, overview, problems, other) -> paragraphs
    seed: int
    noise: Noise = field(default_factory=Noise)


# ---------------------------------------------------------------- values


def _t2_numbers(rng: random.Random, template: Template, big: float) -> dict[CellKey, float]:
    n: dict[CellKey, float] = {}
    rare = rng.random() < 0.3  # only bodies with rule-making power issue 规章
    n["rules", "regulations", "issued"] = rng.randint(1, 3) if rare else 0
    n["rules", "regulations", "in_force"] = n["rules", "regulations", "issued"] + (rng.randint(0, 40) if rare else 0)
    issued = rng.randint(0, int(10 + 40 * big))
    n["rules", "normative_documents", "issued"] = issued
    n["rules", "normative_documents", "in_force"] = issued + rng.randint(0, int(50 + 600 * big))
    if template == T2021:
        n["rules", "regulations", "repealed"] = rng.randint(0, 1) if rare else 0
        n["rules", "normative_documents", "repealed"] = rng.randint(0, issued + 5)
    else:
        n["rules", "regulations", "published"] = n["rules", "regulations", "issued"]
        n["rules", "normative_documents", "published"] = issued - rng.randint(0, min(issued, 2))
    decisions = {
        ("licensing", "licensing"): rng.randint(0, int(50 + 20000 * big)),
        ("licensing", "other_services"): rng.randint(0, int(20 + 500 * big)),
        ("enforcement", "penalty"): rng.randint(0, int(20 + 5000 * big)),
        ("enforcement", "coercion"): rng.randint(0, int(5 + 200 * big)),
    }
    for (t, r), value in decisions.items():
        if template == T2021 and r == "other_services":
            continue
        n[t, r, "decisions"] = value
        if template == T2019:
            last = rng.randint(0, int(10 + 400 * big))
            n[t, r, "items_last_year"] = last
            n[t, r, "items_change"] = rng.randint(-last // 5, last // 5 + 2) if rng.random() < 0.4 else 0
    if template == T2021:
        cents = rng.choice((0, 0, rng.randint(1, 10**6) / 10**6, rng.randint(1, 99) / 100))
        n["fees", "admin_fees", "amount"] = round(rng.randint(0, int(5 + 30000 * big)) * rng.random() + cents, 6)
    else:
        last = rng.randint(0, 40)
        n["fees", "admin_fees", "items_last_year"] = last
        n["fees", "admin_fees", "items_change"] = -rng.randint(0, last // 4) if rng.random() < 0.3 else 0
        n["procurement", "procurement", "projects"] = rng.randint(0, int(10 + 200 * big))
        n["procurement", "procurement", "amount"] = round(rng.uniform(0, 10**6 + 10**8 * big), 2)
    return n


def _split(rng: random.Random, total: int, weights: dict[str, float]) -> dict[str, int]:
    """Distribute `total` requests over outcome rows (a multinomial draw)."""
    counts = dict.fromkeys(weights, 0)
    for key in rng.choices(list(weights), weights=list(weights.values()), k=total):
        counts[key] += 1
    return counts


_OUTCOME_WEIGHTS = {
    "granted": 35, "partly_granted": 8, "withheld_state_secret": 0.2, "withheld_law": 0.5,
    "withheld_security": 0.3, "withheld_third_party": 1.5, "withheld_internal": 1, "withheld_process": 2,
    "withheld_enforcement_file": 1, "withheld_query": 1, "unavailable_not_held": 20,
    "unavailable_needs_creation": 4, "unavailable_unclear": 3, "not_handled_petition": 3,
    "not_handled_repeat": 3, "not_handled_publication": 1, "not_handled_mass": 0.5, "not_handled_confirm": 1,
    "other_overdue_correction": 3, "other_unpaid_fee": 0.3, "other_misc": 5, "other_handling": 8,
}


def _t3_numbers(rng: random.Random, template: Template, big: float) -> dict[CellKey, float]:
    rows = t3_rows(template)
    outcomes = [r for r in rows if r not in ("new", "carried_over", "total_handled", "carried_forward")]
    weights = {r: _OUTCOME_WEIGHTS[r] * rng.choice((0, 0.5, 1, 1, 2)) for r in outcomes}
    weights["granted"] += 1  # never all zero
    natural = int(rng.choice((0, 2, 8, 30, 120, 500)) * (0.5 + big))
    new = {
        "natural_person": natural,
        "business": int(natural * rng.uniform(0, 0.3)),
        "research": rng.randint(1, 2) if rng.random() < 0.1 else 0,
        "public_interest": rng.randint(1, 3) if rng.random() < 0.1 else 0,
        "legal_service": rng.randint(1, 2 + natural // 20) if rng.random() < 0.3 else 0,
        "other_org": rng.randint(1, 2 + natural // 10) if rng.random() < 0.4 else 0,
    }
    n: dict[CellKey, float] = {}
    for col in _APPLICANTS:
        carried = rng.randint(0, new[col] // 10) if new[col] else 0
        forward = rng.randint(0, (new[col] + carried) // 8)
        handled = new[col] + carried - forward
        column = {"new": new[col], "carried_over": carried, "carried_forward": forward, "total_handled": handled}
        column.update(_split(rng, handled, weights))
        for row, value in column.items():
            n["requests", row, col] = value
    for row in rows:
        n["requests", row, "total"] = sum(n["requests", row, c] for c in _APPLICANTS)
    return n


def _t4_numbers(rng: random.Random, big: float) -> dict[CellKey, float]:
    n: dict[CellKey, float] = {}
    for _, columns in T4_BLOCKS:
        parts = [rng.randint(1, int(2 + 10 * big)) if rng.random() < 0.35 else 0 for _ in columns[:-1]]
        for column, value in zip(columns[:-1], parts, strict=True):
            n["review", "cases", column] = value
        n["review", "cases", columns[-1]] = sum(parts)
    return n


def _number_text(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.6f}".rstrip("0")


_UNITS = {"rules": "件", "licensing": "批次", "enforcement": "件"}


def _raw(rng: random.Random, key: CellKey, value: float, noise: Noise) -> tuple[str, float | None]:
    """The printed form of one cell and the quantity behind it (None where the print states none)."""
    t, r, c = key
    text = _number_text(value)
    if t in ("requests", "review"):
        return ("" if value == 0 and rng.random() < noise.blank_zeros else text), value
    if c == "items_change" and value > 0 and noise.signed:
        return f"+{text}", value
    if value == 0 and noise.na_marks and rng.random() < 0.3:
        return rng.choice(("/", "-", "无")), None
    if t == "fees" and c == "amount" and not noise.decimals:
        value = round(value, 2)
        return _number_text(value), value
    if t == "procurement" and c == "amount":
        return f"{value:.2f}元" if noise.units else f"{value:.2f}", value
    if c == "issued" and r == "normative_documents" and noise.annotations and value > 1:
        return f"{text}（其中修订 {rng.randint(1, int(value) - 1)} 件）", value
    if noise.units and t in _UNITS and value > 0 and rng.random() < 0.5:
        return f"{text}{_UNITS[t]}", value
    return text, value


# ---------------------------------------------------------------- prose


def _short(agency: str) -> str:
    """How prose refers to the agency itself (我局, 我委, 我市…)."""
    for suffix, short in (("委员会", "我委"), ("局", "我局"), ("区人民政府", "我区"), ("县人民政府", "我县")):
        if agency.endswith(suffix):
            return short
    return "我市" if agency.endswith("人民政府") else "本机关"


def _prose(rng: random.Random, agency: str, year: int, template: Template,
           n: dict[CellKey, float]) -> dict[str, tuple[str, ...]]:
    me = _short(agency)
    doc = "国办公开办函〔2019〕60号" if template == T2019 else "国办公开办函〔2021〕30号"
    phone = f"0{rng.randint(510, 919)}-{rng.randint(2000000, 8999999)}"
    preamble = (
        f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《国务院办公厅政府信息与政务公开"
        f"办公室关于印发〈中华人民共和国政府信息公开工作年度报告格式〉的通知》（{doc}）要求编制。本报告所列数据"
        f"的统计期限自{year}年1月1日起至{year}年12月31日止。如对本报告有疑问，请与{agency}办公室联系"
        f"（电话：{phone}）。",
    )
    new, handled = int(n["requests", "new", "total"]), int(n["requests", "total_handled", "total"])
    forward = int(n["requests", "carried_forward", "total"])
    items = rng.randint(80, 4000)
    topics = rng.sample(("财政预决算", "重大建设项目", "公共资源配置", "社会公益事业", "生态环境", "安全生产",
                         "食品药品监管", "乡村振兴", "义务教育", "养老服务", "稳就业保就业"), 3)
    subs = {
        "（一）主动公开": rng.choice((
            f"{year}年，{me}通过政府网站、政务新媒体等渠道主动公开政府信息{items}条，重点做好{topics[0]}、"
            f"{topics[1]}和{topics[2]}等领域信息公开。",
            f"全年主动公开各类政府信息{items}条，其中政策文件{rng.randint(5, 80)}件、政策解读"
            f"{rng.randint(3, 60)}篇，持续深化{topics[0]}领域信息公开。",
        )),
        "（二）依申请公开": rng.choice((
            f"{year}年共收到政府信息公开申请{new}件，办结{handled}件，结转下年度继续办理{forward}件，"
            f"均在法定期限内答复。",
            f"{me}严格落实依申请公开登记、审核、办理、答复、归档制度。全年新收申请{new}件，"
            f"已全部按规定时限办理。",
        )),
        "（三）政府信息管理": rng.choice((
            "严格落实公开前保密审查和发布审核制度，动态更新政府信息公开指南和主动公开基本目录。",
            f"开展规范性文件清理，对{rng.randint(3, 60)}件文件进行评估，及时公布清理结果。",
        )),
        "（四）平台建设": rng.choice((
            f"优化政府网站栏目设置，新增“{topics[1]}”专题栏目，政务新媒体发布信息{rng.randint(50, 3000)}条。",
            "加强政府网站和政务新媒体日常监管，全年未发生严重表述错误和泄密事件。",
        )),
        "（五）监督保障": rng.choice((
            f"将政务公开纳入年度绩效考核，组织业务培训{rng.randint(1, 8)}次，全年未发生因政府信息公开工作"
            "被责任追究的情况。",
            "成立政务公开工作领导小组，明确分管领导和工作人员，开展季度检查并通报问题。",
        )),
    }
    inline = rng.random() < 0.5  # sub-heads on their own line, or leading their paragraph
    overview = tuple(
        line for head, text in subs.items()
        for line in ((f"{head}方面。{text}",) if inline else (head, text))
    )
    problems = (
        "（一）存在的主要问题",
        rng.choice(("政策解读形式较为单一，图解、视频等解读比例不高；", "部分信息更新不够及时；"))
        + rng.choice(("依申请公开答复的规范性有待提高。", "基层工作人员业务能力有待加强。")),
        "（二）改进措施",
        rng.choice(("丰富解读形式，提升解读质量；", "建立信息更新台账，压实发布责任；"))
        + rng.choice(("加强答复文书审核，提升依申请公开办理质量。", "常态化开展业务培训。")),
    )
    fee = rng.choice((0, 0, 0, rng.randint(1, 20) * 50))
    fee_line = (f"{year}年度，{me}未收取政府信息公开信息处理费。" if not fee
                else f"{year}年度，{me}依据《政府信息公开信息处理费管理办法》收取信息处理费{fee}元。")
    closing = rng.choice(("无其他需要报告的事项。", f"{me}按要求完成{year}年度政务公开工作要点落实情况报告。"))
    other = (fee_line, closing)
    return {"preamble": preamble, "overview": overview, "problems": problems, "other": other}


_HEADING_VARIANTS = {
    "review": ("四、政府信息公开行政复议、行政诉讼情况", "四、因政府信息公开工作被申请行政复议和提起行政诉讼情况"),
    "problems": ("五、存在的主要问题及改进情况", "五、政府信息公开工作存在的主要问题及改进情况"),
}


def random_spec(agency: str, year: int, template: Template | None = None, seed: int = 0,
                noise: Noise | None = None) -> Spec:
    """A complete report for (agency, year) whose values satisfy every identity of report-format.md."""
    template = template or by_year(year)
    noise = noise or Noise()
    rng = random.Random(f"{agency}|{year}|{template}|{seed}")
    big = rng.random() ** 2
    numbers = {**_t2_numbers(rng, template, big), **_t3_numbers(rng, template, big), **_t4_numbers(rng, big)}
    values: dict[CellKey, str] = {}
    read: dict[CellKey, float | None] = {}
    for key in standard_cells(template):
        values[key], read[key] = _raw(rng, key, numbers[key], noise)
    headings = {k: rng.choice(_HEADING_VARIANTS.get(k, (v,))) for k, v in SECTION_TITLES.items()}
    year_word = rng.choice(("年", "年", "年度"))
    return Spec(
        agency=agency, year=year, template=template,
        title=f"{agency}{year}{year_word}政府信息公开工作年度报告",
        publish_date=f"{year + 1}-{rng.randint(1, 3):02d}-{rng.randint(1, 28):02d}",
        headings=headings, values=values, numbers=read,
        prose=_prose(rng, agency, year, template, numbers), seed=seed, noise=noise,
    )


def expected_facts(spec: Spec) -> dict[CellKey, str]:
    """The gold of a round trip: the printed text of every standard cell ("" for a blank cell)."""
    return dict(spec.values)


# ---------------------------------------------------------------- grids


@dataclass(frozen=True)
class _G:
    """One printed cell of a table grid; merged cells appear once, at their top-left."""

    text: str
    rowspan: int = 1
    colspan: int = 1


_Grid = list[list[_G]]


def _printed(label: Label, spec: Spec) -> str:
    if spec.template == T2019 or (spec.noise.old_labels and label.key == "normative_documents"):
        alias = _WORDING_2019.get(label.key)
        if alias:
            assert alias in label.aliases, f"schema lost the alias {alias}"
            return alias
    return label.label


def _table2_parts(spec: Spec) -> list[_Grid]:
    """Table 2 as stacked sub-tables, each opening with its title row."""
    width = 4
    parts = []
    for key, rows, cols in _TABLE2_LAYOUT[spec.template]:
        t = table(key)
        title = t.title.replace("（", "(").replace("）", ")") if spec.noise.old_labels else t.title
        fill = width - 1 - len(cols)  # the last column widens to the grid, as Word pages print it
        header = [_G("信息内容")] + [_G(_printed(t.column(c), spec)) for c in cols]
        grid = [[_G(title, colspan=width)], _widen(header, fill)]
        grid += [_widen([_G(_printed(t.row(r), spec))] + [_G(spec.values[key, r, c]) for c in cols], fill)
                 for r in rows]
        parts.append(grid)
    return parts


def _widen(row: list[_G], extra: int) -> list[_G]:
    last = row[-1]
    return [*row[:-1], _G(last.text, last.rowspan, last.colspan + extra)]


def _table3(spec: Spec) -> _Grid:
    cols = TABLE3.columns
    grid = [
        [_G(_T3_NOTE, rowspan=3, colspan=3), _G("申请人情况", colspan=7)],
        [_G(cols[0].label, rowspan=2), _G(cols[1].parent, colspan=5), _G(cols[-1].label, rowspan=2)],
        [_G(c.label) for c in cols[1:-1]],
    ]
    rows = t3_rows(spec.template)
    results = [r for r in rows if TABLE3.row(r).parent]
    seen: set[str] = set()
    for key in rows:
        label = TABLE3.row(key)
        heads: list[_G] = []
        if key == results[0]:
            heads.append(_G(_RESULTS, rowspan=len(results)))
        if label.parent in _GROUP_LABELS:
            if label.parent not in seen:
                seen.add(label.parent)
                size = sum(1 for r in rows if TABLE3.row(r).parent == label.parent)
                heads.append(_G(_GROUP_LABELS[label.parent], rowspan=size))
            heads.append(_G(label.label))
        else:
            heads.append(_G(label.label, colspan=2 if label.parent else 3))
        grid.append(heads + [_G(spec.values["requests", key, c.key]) for c in cols])
    return grid


def _table4(spec: Spec) -> _Grid:
    cols = TABLE4.columns
    block = cols[:5]
    suits = [c.parent.split(" › ")[1] for c in cols[5::5]]
    return [
        [_G(block[0].parent, colspan=5), _G(cols[5].parent.split(" › ")[0], colspan=10)],
        [_G(c.label, rowspan=2) for c in block] + [_G(s, colspan=5) for s in suits],
        [_G(c.label) for c in cols[5:]],
        [_G(spec.values["review", "cases", c.key]) for c in cols],
    ]


def _tables(spec: Spec, stacked: bool) -> dict[str, list[_Grid]]:
    """The grids under each section key, in report order."""
    parts = _table2_parts(spec)
    table2 = [[row for part in parts for row in part]] if stacked else parts
    return {"proactive": table2, "requests": [_table3(spec)], "review": [_table4(spec)]}


def _place(grid: _Grid) -> tuple[list[tuple[int, int, _G]], int, int]:
    """Grid positions of each printed cell, resolving row and column spans as a browser does."""
    taken: set[tuple[int, int]] = set()
    placed = []
    for r, row in enumerate(grid):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            placed.append((r, c, cell))
            taken.update((r + i, c + j) for i in range(cell.rowspan) for j in range(cell.colspan))
            c += cell.colspan
    return placed, len(grid), 1 + max(c for _, c in taken)


def _dense(grid: _Grid) -> list[list[str]]:
    """The grid as a full matrix; cells covered by a span are empty (what converters print)."""
    placed, n_rows, n_cols = _place(grid)
    matrix = [[""] * n_cols for _ in range(n_rows)]
    for r, c, cell in placed:
        matrix[r][c] = cell.text
    return matrix


def _body(spec: Spec, style: Style) -> Iterable[tuple[str, str | _Grid]]:
    """The report in reading order as ("title" | "heading" | "para" | "table", content)."""
    if style.titled:
        yield "title", spec.title
    for line in spec.prose["preamble"]:
        yield "para", line
    tables = _tables(spec, style.stacked)
    for key in SECTION_TITLES:
        yield "heading", spec.headings[key]
        for line in spec.prose.get(key, ()):
            yield "para", line
        for grid in tables.get(key, ()):
            yield "table", grid


# ---------------------------------------------------------------- formats

_NAV = ("首页", "政务公开", "政务服务", "互动交流", "无障碍", "长者模式", "政务微信", "政务微博")


def _html(spec: Spec, style: Style) -> str:
    e = html.escape
    out = []
    for kind, content in _body(spec, style):
        if kind == "title":
            out.append(f'<p class="MsoNormal" align="center"><b><span>{e(content)}</span></b></p>')
        elif kind == "heading":
            out.append(f'<p class="MsoNormal"><b><span>{e(content)}</span></b></p>')
        elif kind == "para":
            out.append(f'<p class="MsoNormal" style="text-indent:2em"><span>{e(content)}</span></p>')
        else:
            out.append('<table class="MsoNormalTable" border="1" cellspacing="0" cellpadding="0">')
            for row in content:
                cells = "".join(
                    f"<td{f' rowspan={c.rowspan}' if c.rowspan > 1 else ''}"
                    f"{f' colspan={c.colspan}' if c.colspan > 1 else ''}>"
                    f'<p class="MsoNormal" align="center"><span>{e(c.text) or "&nbsp;"}</span></p></td>'
                    for c in row
                )
                out.append(f"<tr>{cells}</tr>")
            out.append("</table>")
    article = "\n".join(out)
    if style.chrome:
        nav = "".join(f'<li><a href="#">{n}</a></li>' for n in _NAV)
        article = (
            f'<div class="header"><ul class="nav">{nav}</ul></div>\n'
            f'<div class="crumb">当前位置：首页 &gt; 政务公开 &gt; 政府信息公开年报</div>\n'
            f'<div class="info">发布时间：{spec.publish_date} 来源：{e(spec.agency)} 【字体：大 中 小】</div>\n'
            f'<div class="TRS_Editor">\n{article}\n</div>\n'
            '<div class="share">打印本页 关闭窗口</div>\n'
            f'<div class="footer">主办单位：{e(spec.agency)} 网站标识码：{3200000000 + spec.year}</div>\n'
            "<script>var _hmt = _hmt || []; /* 访问统计 */</script>"
        )
    titled = style.titled
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        + (f"<title>{e(spec.title)}</title>" if titled else "")
        + (f'<meta name="ArticleTitle" content="{e(spec.title)}">' if titled else "")
        + f'<meta name="PubDate" content="{spec.publish_date}">'
        + (f'<meta name="ContentSource" content="{e(spec.agency)}">' if titled else "")
        + f"</head>\n<body>\n{article}\n</body></html>\n"
    )


def _md(spec: Spec, style: Style) -> str:
    out = []
    for kind, content in _body(spec, replace(style, stacked=False)):
        if kind == "title":
            out.append(f"# {content}")
        elif kind == "heading":
            out.append(f"## {content}")
        elif kind == "para":
            out.append(content)
        elif style.numbered_headers and content[0][0].text == _T3_NOTE:
            out.append(_md_numbered(spec))
        else:
            matrix = _dense(content)
            rows = ["| " + " | ".join(row) + " |" for row in matrix]
            rows.insert(1, "|" + "---|" * len(matrix[0]))
            out.append("\n".join(rows))
    return "\n\n".join(out) + "\n"


def _md_numbered(spec: Spec) -> str:
    """Table 3 as an OCR/LLM conversion prints it: one label column, applicants renamed 数据1…数据6."""
    header = "| 类别 | " + " | ".join(f"数据{i}" for i in range(1, 7)) + " | 总计 |\n" + "|---" * 8 + "|"
    out, group = [], None
    for key in t3_rows(spec.template):
        label = TABLE3.row(key)
        if label.parent != group:
            group = label.parent
            out.append(f"\n### {_GROUP_LABELS.get(group, group or label.label)}\n{header}")
        out.append("| " + " | ".join([label.label] + [spec.values["requests", key, c.key] for c in TABLE3.columns])
                   + " |")
    return "\n".join(out).strip()


# Characters a site's Traditional conversion glossed with pinyin, as seen on scraped pages.
_GLOSSES = {
    "務": "wù", "規": "guī", "結": "jié", "關": "guān", "設": "shè", "網": "wǎng", "區": "qū", "內": "nèi",
    "業": "yè", "數": "shù", "發": "fā", "復": "fù", "現": "xiàn", "權": "quán", "導": "dǎo", "領": "lǐng",
    "統": "tǒng", "構": "gòu", "鄉": "xiāng", "轉": "zhuǎn", "監": "jiān", "應": "yīng", "預": "yù",
    "調": "diào", "經": "jīng", "據": "jù", "態": "tài", "執": "zhí", "聯": "lián", "續": "xù", "穩": "wěn",
}


@cache
def _s2t() -> opencc.OpenCC:
    """One converter per process: building it loads OpenCC's dictionaries."""
    return opencc.OpenCC("s2t")


def _traditional(text: str) -> str:
    converted = _s2t().convert(text)
    return "".join(f"{ch}({_GLOSSES[ch]})" if ch in _GLOSSES else ch for ch in converted)


_SEPARATORS: dict[Flatten, str] = {"tab": "\t", "ideographic": "\u3000", "pipe": " | "}
_MIN_SPLIT = 8  # header and label cells at least this long may be broken over two lines
_LABEL = re.compile(r"^(?:\d+[.．])?[^\d+\-/]")  # a label or header, maybe numbered (`1.属于…`), not a value


def _split_cell(text: str, rng: random.Random) -> str:
    """A long label or header broken over two lines somewhere inside (`…申请` / `数量`); values stay whole."""
    if len(text) < _MIN_SPLIT or not _LABEL.match(text):
        return text
    at = rng.randint(4, len(text) - 2)
    return f"{text[:at]}\n{text[at:]}"


def _flat_table(grid: _Grid, style: Style, rng: random.Random, pad: tuple[int, int]) -> list[str]:
    """The lines one table flattens into: its cells in reading order (merged cells once), per `style.flatten`;
    `pad`: the page's padding lines after a cell and extra ones after a row (`padded`)."""
    rows = [[(_split_cell(c.text, rng) if style.split_headers else c.text) or style.blank for c in row]
            for row in grid]
    cells = [c for row in rows for c in row]
    flatten = style.flatten
    if flatten == "lines":
        return cells
    if flatten == "dropped":
        return [c for c in cells if c.strip()]
    if flatten == "runs":
        return ["".join(cells)]
    if flatten == "padded":
        cell_gap, row_gap = "\n" * (pad[0] + 1), "\n" * (sum(pad) + 1)
        return row_gap.join(cell_gap.join(row) for row in rows).split("\n")
    if flatten == "spaces":
        return ["".join(c + " " * rng.randint(1, 3) for c in row).rstrip() for row in rows]
    sep = _SEPARATORS[flatten]
    return [f"| {sep.join(row)} |" if flatten == "pipe" else sep.join(row) for row in rows]


def _line_endings(lines: list[str], endings: Endings, rng: random.Random) -> str:
    """Lines joined by `endings`; `mixed` picks one per line, never CR before an empty LF line (that reads CRLF)."""
    if endings != "mixed":
        return {"lf": "\n", "crlf": "\r\n", "cr": "\r"}[endings].join(lines)
    out, previous = [], ""
    for line in lines[:-1]:
        choices = ("\r", "\r\n") if previous == "\r" and not line else ("\n", "\r\n", "\r")
        previous = rng.choice(choices)
        out.append(line + previous)
    return "".join(out) + lines[-1]


def _txt(spec: Spec, style: Style) -> str:
    lines: list[str] = []
    rng = random.Random(f"txt|{spec.seed}|{spec.agency}|{spec.year}")
    pad = (rng.randint(1, 2), rng.randint(1, 2))  # a page's padding after a cell and after a row, in all its tables
    for kind, content in _body(spec, style):
        if kind != "table":
            lines.append(content)
            continue
        lines += _flat_table(content, style, rng, pad)
        if style.junk:
            lines += ["?"] * rng.randint(1, 3)
    head, tail = [], []
    if style.chrome:
        head = ["当前位置：首页 > 政务公开 > 政府信息公开年报", " ".join(_NAV),
                f"发布时间：{spec.publish_date} 来源：{spec.agency}", "微信 微博 QQ空间 全真版 文字版 -->"]
        tail = ["打印本页 关闭窗口", f"主办单位：{spec.agency} 网站标识码：{3200000000 + spec.year}"]
    if style.traditional:
        head, lines, tail = ([_traditional(x) for x in part] for part in (head, lines, tail))
    body = "\n".join(lines)
    if style.endings == "one-line":  # the crawler's 正文 line: the body whole, chrome lines around it
        return "\n".join([*head, body.replace("\n", " "), *tail, ""])
    return _line_endings([*head, *body.split("\n"), *tail, ""], style.endings, rng)


def _docx(spec: Spec, path: Path, style: Style) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    doc = Document()
    for kind, content in _body(spec, style):
        if kind == "title":
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.add_run(content).bold = True
        elif kind == "heading":
            doc.add_paragraph().add_run(content).bold = True
        elif kind == "para":
            doc.add_paragraph(content)
        else:
            placed, n_rows, n_cols = _place(content)
            grid = doc.add_table(rows=n_rows, cols=n_cols)
            grid.style = "Table Grid"
            cells = [row.cells for row in grid.rows]  # once: Table.cell() rescans the whole table
            for r, c, cell in placed:
                target = cells[r][c]
                if cell.rowspan > 1 or cell.colspan > 1:
                    target = target.merge(cells[r + cell.rowspan - 1][c + cell.colspan - 1])
                target.text = cell.text
    doc.core_properties.title = spec.title if style.titled else ""
    doc.core_properties.created = doc.core_properties.modified = _published(spec)
    doc.save(str(path))


# Debian fonts with CJK glyphs *and* Latin digits that fpdf2 embeds with a correct text layer
# (apt: fonts-wqy-microhei; Droid Sans Fallback lacks digits).
PDF_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)


def _published(spec: Spec) -> datetime:
    return datetime.fromisoformat(spec.publish_date).replace(tzinfo=UTC)


def pdf_font() -> Path | None:
    return next((p for p in PDF_FONTS if p.is_file()), None)


def _pdf(spec: Spec, path: Path, style: Style) -> None:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    font = pdf_font()
    if font is None:
        raise FileNotFoundError(f"no CJK font for PDF output; install fonts-wqy-microhei (looked at {PDF_FONTS})")

    class _Paged(FPDF):
        def footer(self) -> None:  # the `- 3 -` footers real reports carry into their tables
            self.set_y(-15)
            self.set_font("cjk", size=9)
            self.cell(0, 10, f"- {self.page_no()} -", align="C")

    pdf = _Paged(format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_font("cjk", fname=str(font))
    pdf.add_page()
    plain = FontFace(emphasis="")
    widths = {4: (50, 40, 40, 40), 10: (8, 14, 43) + (15,) * 7, 15: (170 / 15,) * 15}
    for kind, content in _body(spec, style):
        if kind == "table":
            n_cols = _place(content)[2]
            pdf.set_font("cjk", size=8)
            with pdf.table(col_widths=widths[n_cols], first_row_as_headings=False, text_align="CENTER",
                           line_height=4.5, headings_style=plain) as grid:
                for row in content:
                    out = grid.row()
                    for cell in row:
                        out.cell(cell.text, colspan=cell.colspan, rowspan=cell.rowspan)
            pdf.ln(3)
            continue
        size = {"title": 16, "heading": 12}.get(kind, 10.5)
        pdf.set_font("cjk", size=size)
        pdf.multi_cell(0, size * 0.6, content, align="C" if kind == "title" else "J", new_x="LMARGIN")
        pdf.ln(1)
    if style.titled:
        pdf.set_title(spec.title)
    pdf.set_creation_date(_published(spec))  # fixes the file id too: same spec, same bytes
    pdf.output(str(path))


def render(spec: Spec, fmt: Format, path: Path, style: Style | None = None) -> Path:
    """Write `spec` as a `fmt` file at `path` (its suffix is not changed) and return the path."""
    style = style or Style()
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        path.write_text(_html(spec, style), encoding="utf-8")
    elif fmt == "md":
        path.write_text(_md(spec, style), encoding="utf-8")
    elif fmt == "txt":
        path.write_text(_txt(spec, style), encoding="utf-8")
    elif fmt == "docx":
        _docx(spec, path, style)
    elif fmt == "pdf":
        _pdf(spec, path, style)
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    return path


# ---------------------------------------------------------------- corpora


def random_style(fmt: Format, rng: random.Random) -> Style:
    """A plausible mix of layout deviations for `fmt`."""
    if fmt == "txt":
        return Style(chrome=rng.random() < 0.5, flatten=rng.choice(FLATTENINGS),
                     endings=rng.choice(("lf", "lf", "crlf", "cr", "mixed")), split_headers=rng.random() < 0.3,
                     traditional=rng.random() < 0.15, junk=rng.random() < 0.3)
    return Style(chrome=fmt == "html" and rng.random() < 0.5, numbered_headers=fmt == "md" and rng.random() < 0.2)


def corpus_specs(n_reports: int, seed: int = 0) -> list[Spec]:
    """`n_reports` distinct (agency, year) reports with mixed noise: the benchmark's gold."""
    rng = random.Random(seed)
    pairs = list(product(AGENCIES, YEARS))
    if n_reports > len(pairs):
        raise ValueError(f"at most {len(pairs)} distinct (agency, year) reports, asked for {n_reports}")
    specs = []
    for agency, year in rng.sample(pairs, n_reports):
        noise = rng.choice((Noise(), Noise(), Noise(blank_zeros=0.5), Noise(units=True, annotations=True),
                            Noise.heavy()))
        specs.append(random_spec(agency, year, seed=seed, noise=noise))
    return specs


def write_corpus(out_dir: Path, n_reports: int, formats: Sequence[Format] = FORMATS, seed: int = 0) -> list[Path]:
    """Render `corpus_specs(n_reports, seed)` into `out_dir`, one file per report, cycling `formats`."""
    rng = random.Random(f"styles|{seed}")
    paths = []
    for i, spec in enumerate(corpus_specs(n_reports, seed)):
        fmt = formats[i % len(formats)]
        name = f"r{i:04d}_{AGENCIES.index(spec.agency):03d}_{spec.year}.{fmt}"
        paths.append(render(spec, fmt, out_dir / name, random_style(fmt, rng)))
    return paths
