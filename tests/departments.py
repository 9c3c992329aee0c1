"""The departments set: ../shared/corpus/departments/questions.jsonl in the eval format (qa/evaluate.py).

`python -m tests.departments` rewrites tests/data/golden_departments.jsonl. The questions were written from
the department reports of one district by hand; this module only translates them: printed table, row and
column labels to schema keys (a small explicit mapping: it is test data, not the extractor), compare notes to
the two compared values, multi-number narrative answers to `values`. Ids are kept.

The store the set is scored on is `store_files()`: departments/*.html plus departments/txt-only/*.txt (not
alt/, which are twins of the html pages). txt-only adds other years of the same departments and one more
department, so agency and year resolution is not trivial.

Decisions, checked against the reports:
- A fact whose cell is outside the standard tables (pt-053: the extra 信息处理费 table of section 六) becomes a
  narrative item expecting the printed number from that section (scjgj_2025 prints 800 there).
- pt-011 keeps the labelled 自然人 cell: nyncj_2024 prints 0 in every 总计 cell of Table 3 (a real defect).
- Compare values are later − earlier, as questions.jsonl gives them (the scorer checks the sign).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ingest.model import SECTION_TITLES
from qa.evaluate import CiteTarget, GoldItem, numbers
from tests.golden import ROOT, plain

CORPUS = ROOT.parent / "shared" / "corpus" / "departments"
QUESTIONS = CORPUS / "questions.jsonl"
SET = ROOT / "tests" / "data" / "golden_departments.jsonl"

# Printed table titles of questions.jsonl → schema table key ("proactive": Table 2, whose row decides the key).
_TABLES = {
    "二、主动公开政府信息情况（第二十条表）": "proactive",
    "三、收到和处理政府信息公开申请情况": "requests",
    "四、政府信息公开行政复议、行政诉讼情况": "review",
}
_TABLE2_ROWS = {
    "规范性文件": ("rules", "normative_documents"), "行政规范性文件": ("rules", "normative_documents"),
    "行政许可": ("licensing", "licensing"), "行政处罚": ("enforcement", "penalty"),
    "行政强制": ("enforcement", "coercion"), "政府集中采购": ("procurement", "procurement"),
}
_TABLE2_COLUMNS = {
    "本年制发件数": "issued", "本年废止件数": "repealed", "现行有效件数": "in_force", "本年处理决定数量": "decisions",
    "处理决定数量": "decisions", "采购项目数量": "projects", "采购总金额": "amount",
}
_TABLE3_ROWS = {
    "一、本年新收政府信息公开申请数量": "new", "（一）予以公开": "granted", "（二）部分公开": "partly_granted",
    "4.保护第三方合法权益": "withheld_third_party", "1.本机关不掌握相关政府信息": "unavailable_not_held",
    "1.信访举报投诉类申请": "not_handled_petition", "2.重复申请": "not_handled_repeat",
    "四、结转下年度继续办理": "carried_forward",
}
_TABLE3_COLUMNS = {"自然人": "natural_person", "商业企业": "business", "总计": "total"}
_TABLE4_BLOCKS = {"行政复议": "review", "未经复议直接起诉": "suit_direct", "复议后起诉": "suit_after_review"}
_TABLE4_COLUMNS = {"结果维持": "upheld", "结果纠正": "corrected", "其他结果": "other", "尚未审结": "pending",
                   "总计": "total"}
# A section heading's numeral → its standard section key (一 → overview …).
_NUMERALS = dict(zip("一二三四五六", SECTION_TITLES, strict=True))
_COMPARE_NOTE = re.compile(r"(later|earlier) (\w+)\.html table#\d+ \S* ?= (\S+) \(cells")


def store_files(corpus: Path = CORPUS) -> list[Path]:
    """The reports the set is asked over: the html pages and the txt-only reports (never alt/)."""
    return sorted(corpus.glob("*.html")) + sorted((corpus / "txt-only").glob("*.txt"))


def cell_key(table: str, row: str, column: str) -> tuple[str, str, str] | None:
    """Schema keys of a printed (table, row, column) of questions.jsonl; None outside the standard tables."""
    kind = _TABLES.get(table)
    leaf = row.split(" / ")[-1]
    if kind == "proactive":
        table_key, row_key = _TABLE2_ROWS[leaf]
        return table_key, row_key, _TABLE2_COLUMNS[column]
    if kind == "requests":
        return "requests", _TABLE3_ROWS[leaf], _TABLE3_COLUMNS[column]
    if kind == "review":
        return "review", "cases", f"{_TABLE4_BLOCKS[leaf]}_{_TABLE4_COLUMNS[column]}"
    return None


def section_key(heading: str) -> str:
    """`一、总体情况 /（四）平台建设情况` → overview."""
    return _NUMERALS[heading.strip()[0]]


def narrative_parts(value: str) -> dict[str, str]:
    """A printed answer with several numbers → one entry per clause ("383条，其中主动公开54条" → two)."""
    clauses = [c for c in re.split(r"[，；,;]", value) if numbers(c)]
    return {c: plain(numbers(c)[0]) for c in clauses}


def _compared(question: dict, key: tuple[str, str, str]) -> dict:
    """values and cite targets of a two-year compare, read from its note (later/earlier report and value)."""
    found = {side: (int(re.search(r"\d{4}", report).group()), value)
             for side, report, value in _COMPARE_NOTE.findall(question["note"])}
    (early_year, early), (late_year, late) = found["earlier"], found["later"]
    if float(late) - float(early) != float(question["value"]):
        raise ValueError(f"{question['id']}: value {question['value']} is not later − earlier ({late} − {early})")
    cite = tuple(CiteTarget(*key, year=y, agency=question["agency"]) for y in (early_year, late_year))
    return {"values": {str(early_year): early, str(late_year): late}, "cite": cite}


def convert(question: dict) -> GoldItem:
    """One questions.jsonl line as a GoldItem."""
    kind, value = question["kind"], question["value"]
    base = {"id": question["id"], "question": question["question"], "agency": question["agency"]}
    year = question["year"] if isinstance(question["year"], int) else None
    if kind == "refusal":
        return GoldItem(type="refusal", year=year, **base)
    key = cell_key(question["table"], question["row"], question["column"]) if question["table"] else None
    if kind == "compare":
        return GoldItem(type="compare", expected=str(value), **_compared(question, key), **base)
    if kind == "fact" and key:
        return GoldItem(type="fact", year=year, expected=str(value), cite=(CiteTarget(*key),), **base)
    # Narrative, or a fact outside the standard tables: the number as the section prints it.
    section = CiteTarget(section=(section_key(question["table"]),))
    parts = narrative_parts(value) if isinstance(value, str) else {}
    if len(parts) > 1:
        return GoldItem(type="narrative", year=year, values=parts, cite=(section,), **base)
    return GoldItem(type="narrative", year=year, expected=str(value), cite=(section,), **base)


def build(path: Path = QUESTIONS) -> list[GoldItem]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [convert(json.loads(line)) for line in lines if line.strip()]


def main() -> None:
    items = build()
    SET.write_text("".join(json.dumps(i.to_json(), ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    print(f"wrote {SET} ({len(items)} questions)")


if __name__ == "__main__":
    main()
