"""Builds the generated part of the labelled sets, deterministically, from the report generator's gold.

`python -m tests.golden` rewrites the `gen-*` lines of tests/data/golden_core.jsonl (the hand-written
`seed-*` questions over corpus/xizang_zjt_2021.txt are kept as they are) and, when the tables helper's
tests/gold/shared_cells.jsonl is present, tests/data/golden_shared.jsonl. The reports behind the
generated questions are re-rendered at test time by `render_core_reports` from the same specs.

Questions vary on purpose: Chinese and English, full agency names and short forms, colloquial
phrasing, several years of one agency, follow-ups carrying `history`, compares, prose questions and
questions the corpus cannot answer.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ingest.format.schema import BY_KEY
from qa.evaluate import CiteTarget, GoldItem, parse_number
from tests.reportgen import Format, Noise, Spec, Style, random_spec, render

ROOT = Path(__file__).resolve().parents[1]
CORE_SET = ROOT / "tests" / "data" / "golden_core.jsonl"
SHARED_SET = ROOT / "tests" / "data" / "golden_shared.jsonl"
SHARED_CELLS = ROOT / "tests" / "gold" / "shared_cells.jsonl"
SEED_REPORT = ROOT / "corpus" / "xizang_zjt_2021.txt"
GEN_PREFIX = "gen-"
SHARED_PREFIX = "shared-"


@dataclass(frozen=True)
class CoreReport:
    """One generated report of the core set: its content and the form it is ingested in."""

    agency: str
    year: int
    fmt: Format
    noise: Noise = field(default_factory=Noise)
    style: Style = field(default_factory=Style)

    @property
    def spec(self) -> Spec:
        return random_spec(self.agency, self.year, seed=7, noise=self.noise)

    @property
    def file_name(self) -> str:
        return f"gen_{hashlib.sha1(self.agency.encode()).hexdigest()[:8]}_{self.year}.{self.fmt}"


# Several years of one agency (both templates), plus three agencies for compares across agencies.
MAIN = "常州市生态环境局"
COUNTY = "湖州市德清县人民政府"
CORE_REPORTS: tuple[CoreReport, ...] = (
    CoreReport(MAIN, 2019, "html"),
    CoreReport(MAIN, 2020, "docx"),
    CoreReport(MAIN, 2021, "html", Noise(units=True)),
    CoreReport(MAIN, 2022, "md"),
    CoreReport(MAIN, 2023, "docx", Noise(annotations=True)),
    CoreReport(MAIN, 2024, "html", Noise(blank_zeros=0.3), Style(chrome=True)),
    CoreReport(COUNTY, 2022, "html"),
    CoreReport(COUNTY, 2023, "md", Noise(decimals=True)),
    CoreReport("洛阳市交通运输局", 2023, "docx"),
    CoreReport("宜昌市夷陵区市场监督管理局", 2021, "html", Noise(units=True)),
)
# Short forms a user types, and English names: derived from the structure of the name by hand here,
# since the labelled set is what checks the engine's own alias derivation.
ALIASES: dict[str, tuple[str, ...]] = {
    MAIN: ("常州生态环境局", "常州市环保局", "常州市生态环境局"),
    COUNTY: ("德清县政府", "德清县人民政府", "德清县"),
    "洛阳市交通运输局": ("洛阳交通运输局", "洛阳市交通局"),
    "宜昌市夷陵区市场监督管理局": ("夷陵区市场监管局", "夷陵区市场监督管理局"),
}
ENGLISH: dict[str, tuple[str, ...]] = {
    MAIN: ("the Changzhou Ecology and Environment Bureau", "Changzhou's environment bureau", MAIN),
    COUNTY: ("the Deqing County government", "Deqing County", COUNTY),
    "洛阳市交通运输局": ("the Luoyang transport bureau", "洛阳市交通运输局"),
    "宜昌市夷陵区市场监督管理局": ("the Yiling District market regulation bureau", "宜昌市夷陵区市场监督管理局"),
}

# Table 2 columns in words that do not read as a relative year ("this year", "last year").
_EN_COLUMNS = {
    "issued": "issued", "repealed": "repealed", "in_force": "currently in force", "published": "newly published",
    "items_last_year": "item count of the previous year", "items_change": "change in item count",
    "amount": "amount", "projects": "number of projects",
}
_EN_BLOCKS = {"review": "administrative reconsideration cases", "suit_direct": "lawsuits filed directly",
              "suit_after_review": "lawsuits filed after reconsideration"}
_EN_OUTCOMES = {"upheld": "with the decision upheld", "corrected": "with the decision corrected",
                "other": "with other outcomes", "pending": "still pending", "total": "in total"}
_EN_APPLICANTS = {"natural_person": "natural persons", "business": "commercial enterprises",
                  "research": "research institutions", "public_interest": "public-interest organisations",
                  "legal_service": "legal service institutions", "other_org": "other organisations"}
_EN_GROUPS = {"withheld": "requests withheld", "unable to provide": "requests that could not be provided",
              "not processed": "requests not processed", "other handling": "requests closed otherwise"}
_ZH_BLOCKS = {"review": "行政复议", "suit_direct": "未经复议直接起诉的行政诉讼",
              "suit_after_review": "复议后起诉的行政诉讼"}
_ZH_APPLICANTS = {"natural_person": "自然人", "business": "商业企业", "research": "科研机构",
                  "public_interest": "社会公益组织", "legal_service": "法律服务机构", "other_org": "其他法人或组织"}
_ZH_REQUEST_ROWS = {"new": "本年新收政府信息公开申请数量", "carried_over": "上年结转的申请数量",
                    "granted": "予以公开的申请数", "partly_granted": "部分公开的申请数",
                    "other_handling": "其他处理的申请数", "total_handled": "办理结果总计",
                    "carried_forward": "结转下年度继续办理的申请数"}
_ZH_GROUPS = {"不予公开": "因{leaf}不予公开的申请数", "无法提供": "因{leaf}无法提供的申请数",
              "不予处理": "{leaf}不予处理的数量", "其他处理": "其他处理中“{leaf}”的数量"}


def _strip_ordinal(label: str) -> str:
    """`1.属于国家秘密` → `属于国家秘密`."""
    return re.sub(r"^\d+\.", "", label)


def zh_metric(table: str, row: str, column: str) -> str:
    """How a Chinese user names one standard cell."""
    spec = BY_KEY[table]
    r, c = spec.row(row), spec.column(column)
    if table == "requests":
        what = _ZH_REQUEST_ROWS.get(row) or _ZH_GROUPS[r.parent].format(leaf=_strip_ordinal(r.label))
        return what if column == "total" else f"{what}（{_ZH_APPLICANTS[column]}）"
    if table == "review":
        block, outcome = column.rsplit("_", 1)
        return f"{_ZH_BLOCKS[block]}{'案件总数' if outcome == 'total' else c.label + '的案件数'}"
    if table == "fees" and column == "amount":
        return f"{r.label}金额"
    if column == "decisions":
        return f"{r.label}决定数量"
    return f"{r.label}{c.label}"


def en_metric(table: str, row: str, column: str) -> str:
    """How an English user names one standard cell (schema `en` words, first sense)."""
    r = BY_KEY[table].row(row)
    row_en = r.en.split(",")[0].split(" (")[0]
    if table == "requests":
        if ":" in row_en:
            group, leaf = row_en.split(":", 1)
            row_en = f"{_EN_GROUPS[group]} ({leaf.strip()})"
        return row_en if column == "total" else f"{row_en} from {_EN_APPLICANTS[column]}"
    if table == "review":
        block, outcome = column.rsplit("_", 1)
        return f"{_EN_BLOCKS[block]} {_EN_OUTCOMES[outcome]}"
    if table == "rules":
        return f"{row_en} {_EN_COLUMNS[column]}"
    if column == "decisions":
        return row_en
    if table == "fees" and column == "amount":
        return f"{row_en} (in 10,000 yuan)"
    return f"{row_en} ({_EN_COLUMNS[column]})"


_ZH_FACT: tuple[str, ...] = (
    "{agency}{year}年{metric}是多少？",
    "{alias}{year}年{metric}有多少？",
    "请问{year}年度{agency}的{metric}是多少",
    "{year}年{alias}{metric}",
    "{alias}{year}年的{metric}一共多少？",
)
_EN_FACT: tuple[str, ...] = (
    "What was the number of {metric} for {agency} in {year}?",
    "How many {metric} did {agency} report for {year}?",
    "{agency}, {year}: {metric}?",
    "In {year}, what were the {metric} of {agency}?",
)


# Cells users compare across years or agencies.
_SALIENT: tuple[tuple[str, str, str], ...] = (
    ("enforcement", "penalty", "decisions"), ("enforcement", "coercion", "decisions"),
    ("licensing", "licensing", "decisions"), ("rules", "normative_documents", "in_force"),
    ("rules", "normative_documents", "issued"), ("requests", "new", "total"), ("requests", "granted", "total"),
    ("requests", "total_handled", "total"), ("requests", "new", "natural_person"), ("review", "cases", "review_total"),
)


def gold_value(spec: Spec, key: tuple[str, str, str]) -> str | None:
    """The gold value of a cell as a plain number string, or None when the cell has none."""
    number = parse_number(spec.values[key])
    if number is None or spec.numbers.get(key) is None:
        return None
    return plain(Decimal(str(spec.numbers[key])))


def plain(number: Decimal) -> str:
    return format(number.normalize(), "f") if number != number.to_integral() else str(int(number))


_MAIN_ROWS = ("new", "carried_over", "granted", "partly_granted", "total_handled", "carried_forward")
_POOLS: tuple[tuple[int, Callable[[tuple[str, str, str]], bool]], ...] = (
    (3, lambda k: k[0] not in ("requests", "review")),
    (2, lambda k: k[0] == "requests" and k[1] in _MAIN_ROWS),
    (1, lambda k: k[0] == "requests" and k[1] not in _MAIN_ROWS),
    (2, lambda k: k[0] == "review"),
)


def pick(values: dict[tuple[str, str, str], str], rng: random.Random) -> list[tuple[str, str, str]]:
    """Eight cells spread over the tables (Table 3's main rows more often), non-zero ones first."""
    picked = []
    for count, belongs in _POOLS:
        pool = sorted(k for k in values if belongs(k))
        rng.shuffle(pool)
        pool.sort(key=lambda k: values[k] == "0")
        picked += pool[:count]
    return picked


def _cite(key: tuple[str, str, str], **pin) -> CiteTarget:
    return CiteTarget(table=key[0], row=key[1], column=key[2], **pin)


class _Builder:
    def __init__(self) -> None:
        self.rng = random.Random("golden-core-v1")
        self.items: list[GoldItem] = []
        self.specs = {(r.agency, r.year): r.spec for r in CORE_REPORTS}

    def add(self, kind: str, question: str, **attrs) -> None:
        self.items.append(GoldItem(id=f"{GEN_PREFIX}{kind}-{len(self.items) + 1:03d}", question=question,
                                   type=kind, **attrs))  # type: ignore[arg-type]

    def cells(self, spec: Spec) -> list[tuple[str, str, str]]:
        return [k for k in spec.values if gold_value(spec, k) is not None]

    def fact_questions(self) -> None:
        for (agency, year), spec in self.specs.items():
            values = {k: gold_value(spec, k) for k in self.cells(spec)}
            for i, key in enumerate(pick(values, self.rng)):
                english = i % 3 == 2
                if english:
                    template = self.rng.choice(_EN_FACT)
                    name = self.rng.choice(ENGLISH[agency])
                    question = template.format(metric=en_metric(*key), agency=name, year=year)
                else:
                    template = self.rng.choice(_ZH_FACT)
                    question = template.format(metric=zh_metric(*key), agency=agency, year=year,
                                               alias=self.rng.choice(ALIASES[agency]))
                self.add("fact", question, agency=agency, year=year, expected=gold_value(spec, key), cite=(_cite(key),))

    def compare_questions(self) -> None:
        pairs = [((MAIN, 2021), (MAIN, 2022)), ((MAIN, 2022), (MAIN, 2023)), ((MAIN, 2023), (MAIN, 2024)),
                 ((MAIN, 2019), (MAIN, 2020)), ((COUNTY, 2022), (COUNTY, 2023)),
                 ((COUNTY, 2023), ("洛阳市交通运输局", 2023)), ((MAIN, 2023), (COUNTY, 2023))]
        for i, (first, second) in enumerate(pairs * 2):
            a, b = self.specs[first], self.specs[second]
            common = [k for k in _SALIENT if gold_value(a, k) is not None and gold_value(b, k) is not None]
            common.sort(key=lambda k: gold_value(a, k) == gold_value(b, k))
            key = self.rng.choice(common[:3])
            va, vb = gold_value(a, key), gold_value(b, key)
            same_agency = first[0] == second[0]
            # Signed (qa/evaluate.py): later − earlier for one agency's years, first named − second across agencies.
            diff = plain(Decimal(vb) - Decimal(va) if same_agency else Decimal(va) - Decimal(vb))
            if i % 2:
                metric = en_metric(*key)
                question = (f"Compare the {metric} of {self.rng.choice(ENGLISH[first[0]])} in {first[1]} and "
                            f"{second[1]}." if same_agency else
                            f"{first[1]}: {metric}, {first[0]} vs {second[0]}?")
            else:
                metric = zh_metric(*key)
                question = (f"{self.rng.choice(ALIASES[first[0]])}{second[1]}年{metric}比{first[1]}年多了多少？"
                            if same_agency else f"{first[1]}年{first[0]}和{second[0]}的{metric}相差多少？")
            labels = (str(first[1]), str(second[1])) if same_agency else (first[0], second[0])
            self.add("compare", question, agency=first[0] if same_agency else None,
                     year=first[1] if not same_agency else None, expected=diff,
                     values={labels[0]: va, labels[1]: vb},
                     cite=(_cite(key, year=first[1], agency=first[0]), _cite(key, year=second[1], agency=second[0])))

    def colloquial(self) -> None:
        """Everyday wording with no schema label in it."""
        asks = [
            (f"{self.rng.choice(ALIASES[MAIN])}2022年一共罚了多少次？", MAIN, 2022,
             ("enforcement", "penalty", "decisions")),
            ("德清县政府2023年收到了几件信息公开申请", COUNTY, 2023, ("requests", "new", "total")),
            ("How many FOI requests did Deqing County get in 2022?", COUNTY, 2022, ("requests", "new", "total")),
            ("洛阳交通运输局2023年被申请行政复议了几次", "洛阳市交通运输局", 2023, ("review", "cases", "review_total")),
            ("How many permits did the Yiling District market regulation bureau approve in 2021?",
             "宜昌市夷陵区市场监督管理局", 2021, ("licensing", "licensing", "decisions")),
            (f"How many fines did {MAIN} hand out in 2024?", MAIN, 2024, ("enforcement", "penalty", "decisions")),
            (f"{MAIN}2021年全部公开了多少件申请？", MAIN, 2021, ("requests", "granted", "total")),
            ("In 2023, how many information requests were fully granted by the Deqing County government?", COUNTY,
             2023, ("requests", "granted", "total")),
        ]
        for question, agency, year, key in asks:
            value = gold_value(self.specs[agency, year], key)
            if value is not None:
                self.add("fact", question, agency=agency, year=year, expected=value, cite=(_cite(key),))

    def follow_ups(self) -> None:
        penalty = ("enforcement", "penalty", "decisions")
        coercion = ("enforcement", "coercion", "decisions")
        new_total, new_natural = ("requests", "new", "total"), ("requests", "new", "natural_person")
        turns: list[tuple[tuple[str, ...], str, tuple[str, int], tuple[str, str, str]]] = [
            ((f"{MAIN}2022年行政处罚决定多少件？",), "那2023年呢？", (MAIN, 2023), penalty),
            ((f"{MAIN}2021年行政处罚决定多少件？", "那2022年呢？"), "2024年呢？", (MAIN, 2024), penalty),
            ((f"How many administrative penalty decisions did {MAIN} make in 2021?",), "And in 2022?",
             (MAIN, 2022), penalty),
            ((f"How many administrative penalty decisions did {MAIN} make in 2023?",), "What about coercion?",
             (MAIN, 2023), coercion),
            ((f"{COUNTY}2023年本年新收政府信息公开申请多少件？",), "其中自然人多少？", (COUNTY, 2023), new_natural),
            ((f"{COUNTY}2022年新收申请数量是多少？",), "2023年呢", (COUNTY, 2023), new_total),
            ((f"{MAIN}2022年行政强制决定多少？",), "那德清县政府呢？", (COUNTY, 2022), coercion),
            ((f"How many new requests did {COUNTY} receive in 2022?",), "And from natural persons?",
             (COUNTY, 2022), new_natural),
            ((f"{MAIN}2023年行政处罚多少件", "行政强制呢？"), "2024年呢？", (MAIN, 2024), coercion),
            ((f"How many administrative penalty decisions did {MAIN} make in 2022?",),
             "What about Luoyang transport bureau in 2023?", ("洛阳市交通运输局", 2023), penalty),
        ]
        for history, question, (agency, year), key in turns:
            spec = self.specs[agency, year]
            value = gold_value(spec, key)
            if value is None:
                continue
            self.add("fact", question, agency=agency, year=year, expected=value, cite=(_cite(key),),
                     history=history)

    def narrative_questions(self) -> None:
        for (agency, year), spec in self.specs.items():
            problem = re.split(r"[；，。]", spec.prose["problems"][1])[0]
            zh = self.rng.random() < 0.6
            question = (f"{self.rng.choice(ALIASES[agency])}{year}年政府信息公开工作存在哪些问题？" if zh else
                        f"What problems did {self.rng.choice(ENGLISH[agency])} report in its {year} annual report?")
            self.add("narrative", question, agency=agency, year=year, expected=problem,
                     cite=(CiteTarget(section=("problems",)),))
            overview = " ".join(spec.prose["overview"])
            if match := re.search(r"主动公开(?:各类)?政府信息(\d+)条", overview):
                question = (f"{agency}{year}年主动公开了多少条政府信息？" if self.rng.random() < 0.6 else
                            f"How many items of government information did {self.rng.choice(ENGLISH[agency])} "
                            f"proactively publish in {year}?")
                self.add("narrative", question, agency=agency, year=year, expected=match.group(1),
                         cite=(CiteTarget(section=("overview",)),))
            fee_line = spec.prose["other"][0]
            fee = re.search(r"信息处理费(\d+)元", fee_line)
            question = (f"{agency}{year}年收取信息处理费了吗？" if self.rng.random() < 0.6 else
                        f"Did {self.rng.choice(ENGLISH[agency])} charge information processing fees in {year}?")
            self.add("narrative", question, agency=agency, year=year, expected=fee.group(1) if fee else "未收取",
                     cite=(CiteTarget(section=("other",)),))

    def refusals(self) -> None:
        absent = [
            (f"{MAIN}2017年行政处罚决定多少件？", MAIN, 2017),
            (f"How many administrative penalty decisions did {MAIN} make in 2016?", MAIN, 2016),
            (f"{COUNTY}2019年新收政府信息公开申请多少件？", COUNTY, 2019),
            ("How many requests did the Deqing County government receive in 2024?", COUNTY, 2024),
            ("洛阳市交通运输局2021年行政许可决定多少？", "洛阳市交通运输局", 2021),
            ("北京市朝阳区教育局2021年行政处罚多少件？", None, 2021),
            ("How many administrative penalties did the Guangzhou Public Security Bureau issue in 2022?", None, 2022),
            ("深圳市南山区人民政府2023年收到多少政府信息公开申请？", None, 2023),
            ("What were the fees collected by the Harbin tax bureau in 2021?", None, 2021),
            (f"{MAIN}2022年的GDP是多少？", MAIN, 2022),
            (f"How many traffic accidents happened in {COUNTY} in 2023?", COUNTY, 2023),
            (f"{MAIN}2023年有多少名公务员？", MAIN, 2023),
            ("What is the population of Changzhou in 2021?", MAIN, 2021),
            (f"{COUNTY}2022年的财政收入是多少亿元？", COUNTY, 2022),
            ("天津市河西区卫生健康委员会2020年行政复议案件有多少？", None, 2020),
        ]
        for question, agency, year in absent:
            self.add("refusal", question, agency=agency, year=year)


def build_core() -> list[GoldItem]:
    """The generated questions of the core set, deterministic (ids `gen-…`)."""
    builder = _Builder()
    builder.fact_questions()
    builder.colloquial()
    builder.compare_questions()
    builder.follow_ups()
    builder.narrative_questions()
    builder.refusals()
    return builder.items


def render_core_reports(out_dir: Path) -> list[Path]:
    """Render the generated reports behind the core set into `out_dir` (the seed is in corpus/)."""
    return [render(r.spec, r.fmt, out_dir / r.file_name, r.style) for r in CORE_REPORTS]


# -- the shared corpus set ------------------------------------------------------------------------


def build_shared(cells: list[dict], agencies: dict[str, str]) -> list[GoldItem]:
    """Fact questions over the real reports with gold from the hand-checked cell file (ids `shared-…`),
    plus refusals of years each agency has no report for. `agencies` maps a report file name to its
    agency (the MANIFEST names)."""
    rng = random.Random("golden-shared-v1")
    by_file: dict[str, dict[tuple[str, str, str], str]] = {}
    for cell in cells:
        name = cell["file"].removeprefix("reports/")
        if cell.get("value") is not None and name in agencies:
            by_file.setdefault(name, {})[cell["table"], cell["row"], cell["column"]] = plain(
                Decimal(str(cell["value"])))
    items: list[GoldItem] = []

    def add(kind: str, question: str, **attrs) -> None:
        items.append(GoldItem(id=f"{SHARED_PREFIX}{kind}-{len(items) + 1:03d}", question=question, type=kind,
                              **attrs))  # type: ignore[arg-type]

    for name, values in sorted(by_file.items()):
        agency, year = agencies[name], _year_of(name)
        for i, key in enumerate(pick(values, rng)):
            if i % 3 == 2:
                question = rng.choice(_EN_FACT).format(metric=en_metric(*key), agency=agency, year=year)
            else:
                question = rng.choice(_ZH_FACT).format(metric=zh_metric(*key), agency=agency, year=year,
                                                       alias=agency)
            add("fact", question, agency=agency, year=year, expected=values[key], cite=(_cite(key),))
    for agency in sorted(set(agencies.values())):
        add("refusal", f"{agency}2015年行政处罚决定多少件？", agency=agency, year=2015)
        add("refusal", f"How many administrative penalty decisions did {agency} make in 2012?", agency=agency,
            year=2012)
    return items


def _year_of(file_name: str) -> int:
    return int(re.search(r"(\d{4})", file_name).group(1))


def manifest_agencies(manifest: Path) -> dict[str, str]:
    """`reports/<file>` → agency, from the MANIFEST table."""
    found = {}
    for line in manifest.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 3 and cells[1].startswith("reports/"):
            name, agency = cells[1].removeprefix("reports/"), cells[2]
            if "…" in name:  # "pingtan_2019.html … pingtan_2024.html": one agency, a run of years
                first, last = (_year_of(n) for n in name.split("…"))
                stem = name.split("_")[0]
                ext = name.rsplit(".", 1)[1]
                found.update({f"{stem}_{y}.{ext}": agency for y in range(first, last + 1)})
            else:
                found[name] = agency
    return found


# -- writing --------------------------------------------------------------------------------------


def _lines(items: list[GoldItem]) -> Iterator[str]:
    for item in items:
        yield json.dumps(item.to_json(), ensure_ascii=False)


def rewrite(path: Path, prefix: str, items: list[GoldItem]) -> None:
    """Replace the lines of `path` whose id starts with `prefix` by `items`; others stay first, as they were."""
    kept = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not json.loads(line)["id"].startswith(prefix):
                kept.append(line)
    path.write_text("\n".join([*kept, *_lines(items)]) + "\n", encoding="utf-8")


def main() -> None:
    rewrite(CORE_SET, GEN_PREFIX, build_core())
    print(f"wrote {CORE_SET}")
    manifest = ROOT.parent / "shared" / "corpus" / "MANIFEST.md"
    if SHARED_CELLS.exists() and manifest.exists():
        cells = [json.loads(line) for line in SHARED_CELLS.read_text(encoding="utf-8").splitlines() if line.strip()]
        rewrite(SHARED_SET, SHARED_PREFIX, build_shared(cells, manifest_agencies(manifest)))
        print(f"wrote {SHARED_SET}")


if __name__ == "__main__":
    main()
