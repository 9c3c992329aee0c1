"""Tables as CSV and XLSX: an answer's cells, `reportqa facts`, and the overview (one row per report).

Each export is a list of sheets with Chinese headers; the first is the table itself, the others say where its
numbers come from (an answer's citations, the reports of the cells). Numbers are written as numbers (a cell's
parsed value, never its printed text), so a spreadsheet can add them up; a cell without a value is left empty,
except an ambiguous one, which keeps its printed text so nobody mistakes it for a blank.

CSV holds the first sheet only, in UTF-8 with a byte-order mark so that Excel reads the Chinese headers.
XLSX is written with openpyxl.
"""

from __future__ import annotations

import csv
import io
import shutil
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.format.schema import BY_KEY
from ingest.model import Fact
from ingest.store import ReportInfo, Store
from qa.model import Answer, Citation
from ui.views import fact_json

Cell = str | int | float | None

STATUS = {"ok": "正常", "ambiguous": "有歧义", "inconsistent": "勾稽不符"}


@dataclass(frozen=True)
class Sheet:
    title: str  # at most 31 characters (an XLSX limit)
    headers: tuple[str, ...]
    rows: list[list[Cell]]


def number(value: float | None) -> int | float | None:
    """A cell value as a spreadsheet number: whole numbers as int (3, not 3.0)."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def to_csv(sheet: Sheet) -> bytes:
    """The sheet as CSV (UTF-8 with BOM)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(sheet.headers)
    writer.writerows(["" if v is None else v for v in row] for row in sheet.rows)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(sheets: Sequence[Sheet]) -> bytes:
    """The sheets as one XLSX workbook, headers bold and frozen, columns sized to their text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        ws = book.create_sheet(sheet.title[:31])
        ws.append(list(sheet.headers))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            ws.append(list(row))
        ws.freeze_panes = "A2"
        for i, header in enumerate(sheet.headers):
            width = max([_width(header), *(_width(row[i]) for row in sheet.rows)])
            ws.column_dimensions[ws.cell(row=1, column=i + 1).column_letter].width = min(width + 2, 60)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write(sheets: Sequence[Sheet], path: Path) -> None:
    """Write `sheets` to `path`: XLSX for .xlsx, else CSV of the first sheet."""
    data = to_xlsx(sheets) if path.suffix.lower() == ".xlsx" else to_csv(sheets[0])
    path.write_bytes(data)


def export_folder(home: Path, max_age: float = 3600) -> Path:
    """A new folder for the web's downloads under `home`/gradio/exports (where Gradio may serve files from);
    folders older than `max_age` seconds are removed first."""
    root = home.resolve() / "gradio" / "exports"
    if root.exists():
        now = time.time()
        for folder in root.iterdir():
            try:
                if now - folder.stat().st_mtime > max_age:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:  # removed meanwhile by another session
                continue
    folder = root / uuid.uuid4().hex
    folder.mkdir(parents=True)
    return folder


def _width(value: Cell) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


# -- an answer -------------------------------------------------------------------------------------------------

ANSWER_HEADERS = ("机构", "年份", "表格", "项目", "栏目", "数值", "单位", "原文", "状态")
CITATION_HEADERS = ("序号", "报告", "机构", "年份", "来源文件", "章节", "表格", "项目", "栏目", "原文", "页码",
                    "表键", "行键", "列键", "状态", "摘录")


def answer_sheets(answer: Answer, store: Store) -> list[Sheet] | None:
    """An answer that cites table cells (a fact, several cells, a comparison, a series, a ranking) as sheets:
    数据 (one row per cited cell, in the answer's order, with its value), 引用 (every citation) and 回答 (the
    question, the answer and its computed value). None for an answer without cells (a narrative, a refusal)."""
    cells = [c for c in answer.citations if c.table_key]
    if not cells:
        return None
    facts: dict[tuple[str, str], dict[tuple[str, str], Fact]] = {}
    rows = []
    for c in cells:
        if (c.report_id, c.table_key) not in facts:
            facts[(c.report_id, c.table_key)] = {
                (f.row, f.column): f for f in store.facts(report_id=c.report_id, table=c.table_key)
            }
        fact = facts[(c.report_id, c.table_key)].get((c.row_key, c.column_key))
        rows.append([c.agency, c.year, c.table, c.row, c.column, _value(fact, c), fact.unit if fact else "", c.cell,
                     STATUS.get(c.status, c.status)])
    return [
        Sheet("数据", ANSWER_HEADERS, rows),
        Sheet("引用", CITATION_HEADERS, citation_rows(answer.citations)),
        Sheet("回答", ("问题", "回答", "类型", "结果"),
              [[answer.question, answer.answer, answer.kind, _parsed(answer.value)]]),
    ]


def citation_rows(citations: Iterable[Citation]) -> list[list[Cell]]:
    return [
        [i, c.report_id, c.agency, c.year, c.source, c.section, c.table, c.row, c.column, c.cell, c.page,
         c.table_key, c.row_key, c.column_key, STATUS.get(c.status, c.status), c.snippet]
        for i, c in enumerate(citations, 1)
    ]


def _value(fact: Fact | None, c: Citation) -> Cell:
    if fact is None:
        return None
    if fact.value is None and fact.status == "ambiguous":
        return fact.raw
    return number(fact.value)


def _parsed(value: str | None) -> Cell:
    """An answer's computed value ("3", "-2", "+12.5%") as a number where it is one."""
    if value is None:
        return None
    try:
        return number(float(value.replace(",", "")))
    except ValueError:
        return value


# -- `reportqa facts` ------------------------------------------------------------------------------------------

FACT_HEADERS = {
    "report_id": "报告", "agency": "机构", "year": "年份", "template": "模板", "table": "表键", "row": "行键",
    "column": "列键", "row_label": "项目（原文）", "column_label": "栏目（原文）", "raw": "原文", "value": "数值",
    "unit": "单位", "kind": "类型", "status": "状态", "candidates": "可能取值", "note": "表外数值",
    "ref_source": "来源文件", "ref_page": "页码", "ref_table_index": "第几个表", "ref_row": "表内行",
    "ref_col": "表内列", "ref_offset": "字符位置", "ref_box": "扫描位置", "ref_confidence": "识别置信度",
    "ref_alternatives": "其他读法",
}
REPORT_HEADERS = ("报告", "机构", "年份", "标题", "来源文件", "格式", "模板", "发布日期", "入库时间")


def facts_sheets(facts: Sequence[Fact], reports: Sequence[ReportInfo]) -> list[Sheet]:
    """`reportqa facts --xlsx`: 单元格 (one row per cell, the `--json` fields under Chinese headers, the value
    as a number) and 来源 (the reports they were read from)."""
    rows = []
    keys = list(FACT_HEADERS)
    for f in facts:
        data = fact_json(f)
        data["value"] = number(f.value)
        rows.append([_flat_cell(data.get(k)) for k in keys])
    cited = {f.report_id for f in facts}
    return [Sheet("单元格", tuple(FACT_HEADERS.values()), rows),
            Sheet("来源", REPORT_HEADERS, [_report_row(r) for r in reports if r.id in cited])]


def _flat_cell(value: object) -> Cell:
    if isinstance(value, list | tuple):
        return " / ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) or None
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return value  # type: ignore[return-value]


def _report_row(r: ReportInfo) -> list[Cell]:
    return [r.id, r.agency, r.year, r.title, r.source, r.source_format, r.template, r.publish_date, r.ingested_at]


# -- the overview: one row per report --------------------------------------------------------------------------

# (header, table, row, column): the main cells of the standard tables, printed values only (nothing computed).
OVERVIEW_CELLS: tuple[tuple[str, str, str, str], ...] = (
    ("主动公开·规章·本年制发", "rules", "regulations", "issued"),
    ("主动公开·规范性文件·本年制发", "rules", "normative_documents", "issued"),
    ("主动公开·规范性文件·现行有效", "rules", "normative_documents", "in_force"),
    ("主动公开·行政许可", "licensing", "licensing", "decisions"),
    ("主动公开·行政处罚", "enforcement", "penalty", "decisions"),
    ("主动公开·行政强制", "enforcement", "coercion", "decisions"),
    ("主动公开·行政事业性收费（万元）", "fees", "admin_fees", "amount"),
    ("依申请·本年新收申请", "requests", "new", "total"),
    ("依申请·上年结转", "requests", "carried_over", "total"),
    ("依申请·予以公开", "requests", "granted", "total"),
    ("依申请·部分公开", "requests", "partly_granted", "total"),
    ("依申请·办理结果总计", "requests", "total_handled", "total"),
    ("依申请·结转下年度", "requests", "carried_forward", "total"),
    ("行政复议·总计", "review", "cases", "review_total"),
    ("行政诉讼·未经复议直接起诉·总计", "review", "cases", "suit_direct_total"),
    ("行政诉讼·复议后起诉·总计", "review", "cases", "suit_after_review_total"),
)
OVERVIEW_HEADERS = ("机构", "年份", "模板", *(h for h, *_ in OVERVIEW_CELLS), "勾稽不符", "来源文件", "报告")


def overview_sheets(store: Store) -> list[Sheet]:
    """`reportqa overview`: 总览 (agencies × years: one row per report, the main cells as numbers), 来源 (the
    reports) and 列说明 (each column's table, row and column, as the 2021 format prints them)."""
    reports = store.reports()
    rows = []
    for r in reports:
        cells = {(f.table, f.row, f.column): f for f in store.facts(report_id=r.id)}
        values = []
        for _, *key in OVERVIEW_CELLS:
            fact = cells.get(tuple(key))  # type: ignore[arg-type]
            values.append(None if fact is None else (
                fact.raw if fact.value is None and fact.status == "ambiguous" else number(fact.value)))
        rows.append([r.agency, r.year, r.template, *values, r.violations, r.source, r.id])
    legend = []
    for header, table, row, column in OVERVIEW_CELLS:
        spec = BY_KEY[table]
        legend.append([header, spec.title, spec.row(row).label, spec.column(column).label, table, row, column])
    return [
        Sheet("总览", OVERVIEW_HEADERS, rows),
        Sheet("来源", REPORT_HEADERS, [_report_row(r) for r in reports]),
        Sheet("列说明", ("列", "表格", "项目", "栏目", "表键", "行键", "列键"), legend),
    ]
