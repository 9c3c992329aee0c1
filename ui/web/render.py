"""HTML for the sources panel and the corpus tab: every string that comes from a report is escaped here.

Reports are third-party documents (scraped pages can carry `<script>`), so nothing from them may reach
the page as markup: each helper below builds its HTML from `html.escape`d text only, and the web pages
never format report text anywhere else.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from html import escape

import pandas as pd

from ingest.format.schema import BY_KEY
from ingest.model import Fact, Violation
from ingest.store import ReportInfo
from qa.model import Citation

MAX_GROUPS = 8  # source cards shown per answer; the rest are counted, not drawn
CellKey = tuple[str, str, str, str]  # (report_id, table, row, column) schema keys of a cited cell

# Scoped by gr.HTML's css_template to the sources panel.
SOURCES_CSS = """
.src-card { border: 1px solid #d0d7de; border-radius: 8px; padding: 8px 10px; margin-bottom: 10px; }
.src-card summary { cursor: pointer; font-weight: 600; }
.src-meta { color: #57606a; font-size: 0.85em; margin: 4px 0; }
.src-flags { list-style: none; padding: 0; margin: 6px 0; }
.src-flags li { background: #fff8c5; border-left: 3px solid #d4a72c; padding: 2px 6px; margin: 2px 0;
  font-size: 0.85em; }
.src-flags li.violation { background: #ffebe9; border-left-color: #cf222e; }
.src-scroll { overflow-x: auto; max-width: 100%; }
table.src-table { border-collapse: collapse; font-size: 0.8em; }
table.src-table th, table.src-table td { border: 1px solid #d0d7de; padding: 2px 5px; text-align: center; }
table.src-table th.row-label { text-align: left; font-weight: normal; min-width: 7em; max-width: 16em; }
table.src-table td { max-width: 14em; overflow-wrap: anywhere; }
table.src-table td.cited { background: #ffd33d; font-weight: 700; outline: 2px solid #bf8700; }
table.src-table td.ambiguous { background: #fff1e5; }
.src-passage { white-space: pre-wrap; background: #f6f8fa; border-left: 3px solid #8c959f; padding: 4px 8px;
  margin: 4px 0; font-size: 0.9em; }
.src-empty { color: #57606a; }
.src-crop { margin: 6px 0; }
.src-crop img { max-width: 100%; border: 1px solid #d0d7de; image-rendering: auto; }
.src-crop figcaption { color: #57606a; font-size: 0.8em; }
"""

# The corpus tab's audit view (scoped by its gr.HTML's css_template).
AUDIT_CSS = """
.audit-summary { font-weight: 600; margin: 4px 0 8px; }
.audit-finding { border-left: 4px solid #8c959f; padding: 4px 10px; margin: 8px 0; background: #f6f8fa; }
.audit-finding.error { border-left-color: #cf222e; background: #ffebe9; }
.audit-finding.warning { border-left-color: #d4a72c; background: #fff8c5; }
.audit-kind { color: #57606a; font-size: 0.8em; }
.audit-prose { white-space: pre-wrap; border-left: 3px solid #8c959f; padding: 2px 8px; margin: 4px 0;
  font-size: 0.9em; background: #ffffff; }
.audit-cells { font-size: 0.85em; margin: 4px 0 0 1.2em; padding: 0; }
"""
_AUDIT_KINDS = {"identity": "勾稽关系", "prose-vs-table": "正文与表格", "completeness": "完整性"}
_AUDIT_SEVERITY = {"error": "错误", "warning": "不一致", "info": "提示"}
AUDIT_CELLS = 12  # cells listed per finding; the rest are counted


def answer_text(text: str) -> str:
    """An answer as the chatbot may show it: HTML-escaped, so report text inside it stays text."""
    return escape(text)


def sources_html(
    citations: Sequence[Citation],
    tables: Mapping[tuple[str, str], Sequence[Fact]],
    reports: Mapping[str, ReportInfo],
    violations: Mapping[str, Sequence[Violation]],
    crops: Mapping[CellKey, bytes] | None = None,
) -> str:
    """The sources panel for one answer.

    Args:
        citations: the answer's citations, in answer order.
        tables: the facts of each cited (report_id, table_key), to draw the whole table.
        reports: report records by id, for title and file.
        violations: identity violations by report id.
        crops: the scanned image (JPEG) of each cited OCR'd cell, so a person can check it by eye.
    """
    if not citations:
        return '<p class="src-empty">本回答没有引用来源。</p>'
    groups: dict[tuple[str, str], list[Citation]] = {}
    for c in citations:
        # One card per cited table, and one per report section for passages.
        key = (c.report_id, c.table_key or f"passage:{c.section}")
        groups.setdefault(key, []).append(c)
    cards = []
    for i, ((report_id, _), cited) in enumerate(list(groups.items())[:MAX_GROUPS]):
        report = reports.get(report_id)
        first = cited[0]
        if first.table_key:
            facts = tables.get((report_id, first.table_key), ())
            body = fact_table_html(facts, [(c.row_key, c.column_key) for c in cited])
            flags = _flags(cited, facts, violations.get(report_id, ())) + _crops(cited, facts, crops or {})
        else:
            body, flags = "".join(_passage(c) for c in cited), ""
        cards.append(
            f'<details class="src-card"{" open" if i == 0 else ""}>'
            f"<summary>{escape(_card_title(first, report))}</summary>"
            f"{_meta(first, report)}{flags}{body}</details>"
        )
    hidden = len(groups) - MAX_GROUPS
    more = f'<p class="src-empty">另有 {hidden} 处来源未显示。</p>' if hidden > 0 else ""
    return "".join(cards) + more


def fact_table_html(facts: Sequence[Fact], cited: Iterable[tuple[str, str]]) -> str:
    """One standard table as printed: row labels × column labels, raw cells; cited cells get class `cited`."""
    if not facts:
        return '<p class="src-empty">该表格的单元格未能读取。</p>'
    spec = BY_KEY.get(facts[0].table)
    row_order = [r.key for r in spec.rows] if spec else []
    col_order = [c.key for c in spec.columns] if spec else []
    rows = _ordered((f.row for f in facts), row_order)
    cols = _ordered((f.column for f in facts), col_order)
    by_cell = {(f.row, f.column): f for f in facts}
    row_label = {f.row: f.row_label for f in reversed(facts)}
    col_label = {f.column: f.column_label for f in reversed(facts)}
    marked = set(cited)
    head = "".join(f'<th scope="col">{escape(col_label[c])}</th>' for c in cols)
    body = []
    for r in rows:
        cells = []
        for c in cols:
            fact = by_cell.get((r, c))
            classes = ["cited"] if (r, c) in marked else []
            attr = ""
            if fact is not None and fact.status == "ambiguous":
                classes.append("ambiguous")
                attr = f' title="{escape(_options(fact))}"'
            if classes:
                attr += f' class="{" ".join(classes)}"'
            cells.append(f"<td{attr}>{escape(fact.raw) if fact else ''}</td>")
        body.append(f'<tr><th scope="row" class="row-label">{escape(row_label[r])}</th>{"".join(cells)}</tr>')
    return (
        '<div class="src-scroll"><table class="src-table">'
        f'<thead><tr><th scope="col"></th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'
    )


def chart_frame(points: Sequence[tuple[str, float]]) -> pd.DataFrame:
    """An answer's chart points as the frame gr.LinePlot / gr.BarPlot draw (labels kept in answer order)."""
    return pd.DataFrame({"label": [str(label) for label, _ in points], "value": [float(v) for _, v in points]})


CORPUS_HEADERS = ["机构", "年份", "格式", "模板", "分块", "数据单元格", "校验", "来源文件", "入库时间"]


def corpus_rows(reports: Sequence[ReportInfo]) -> list[list]:
    """The corpus tab's table; gr.Dataframe shows "str" cells as text, so no escaping is needed there."""
    return [
        [r.agency, r.year, r.source_format, r.template or "未识别", r.chunks, r.facts,
         "通过" if r.violations == 0 else f"{r.violations} 处勾稽不符", r.source, r.ingested_at]
        for r in reports
    ]


def audit_html(title: str, findings: Sequence) -> str:
    """A report's audit (qa.audit.Finding list) for the corpus tab: each finding with its sentence and cells."""
    if not findings:
        return (f'<p class="audit-summary">{escape(title)}：未发现问题（勾稽关系成立，正文数字与表格相符，'
                "标准表格完整）。</p>")
    tally = "，".join(f"{label} {sum(f.kind == kind for f in findings)} 处" for kind, label in _AUDIT_KINDS.items())
    out = [f'<p class="audit-summary">{escape(title)}：{len(findings)} 处发现（{escape(tally)}）</p>']
    for f in findings:
        kind = f"{_AUDIT_KINDS.get(f.kind, f.kind)} · {_AUDIT_SEVERITY.get(f.severity, f.severity)}"
        body = [f'<div class="audit-kind">{escape(kind)}</div><div>{escape(f.message_zh)}</div>']
        if f.prose:
            body.append(f'<blockquote class="audit-prose">{escape(f.prose.section)}：{escape(f.prose.snippet)}'
                        "</blockquote>")
        if f.cells:
            items = [f"<li>{escape(f'{c.table} › {c.row} › {c.column} = {c.cell or chr(8212)}')}"
                     f"{escape(f'（第 {c.page} 页）') if c.page else ''}</li>" for c in f.cells[:AUDIT_CELLS]]
            if len(f.cells) > AUDIT_CELLS:
                items.append(f"<li>另有 {len(f.cells) - AUDIT_CELLS} 个单元格</li>")
            body.append(f'<ul class="audit-cells">{"".join(items)}</ul>')
        out.append(f'<div class="audit-finding {escape(f.severity)}">{"".join(body)}</div>')
    return "".join(out)


def _ordered(keys: Iterable[str], preferred: Sequence[str]) -> list[str]:
    """Schema order for known keys, then any others in the order the report gave them."""
    seen = list(dict.fromkeys(keys))
    return [k for k in preferred if k in seen] + [k for k in seen if k not in preferred]


def _card_title(c: Citation, report: ReportInfo | None) -> str:
    title = report.title if report and report.title else f"{c.agency}{c.year}年报告"
    return f"{title}：{c.row} › {c.column} = {c.cell}" if c.table_key else title


def _meta(c: Citation, report: ReportInfo | None) -> str:
    parts = [f"{c.agency} · {c.year}年"]
    if c.section:
        parts.append(f"章节：{c.section}")
    if c.page is not None:
        parts.append(f"第 {c.page} 页")
    parts.append(f"文件：{report.source if report else c.source}")
    return f'<div class="src-meta">{escape(" ｜ ".join(parts))}</div>'


def _flags(cited: Sequence[Citation], facts: Sequence[Fact], violations: Sequence[Violation]) -> str:
    """Doubts about the cited cells (ambiguity, notes) and the broken identities of their table."""
    by_cell = {(f.row, f.column): f for f in facts}
    items = []
    for c in cited:
        fact = by_cell.get((c.row_key, c.column_key))
        where = f"{c.row} › {c.column}"
        status = fact.status if fact else c.status
        if status == "ambiguous":
            items.append(f"单元格有歧义：{where} 原文为“{c.cell}”" + (f"，{_options(fact)}" if fact else ""))
        elif status == "inconsistent":
            items.append(f"{where} 与表内其他数字的勾稽关系不符")
        if fact and fact.note:
            items.append(f"{where}：该格旁另印有不属于任何表头的数值 {fact.note}")
    lines = [f"<li>{escape(item)}</li>" for item in items]
    tables = {c.table_key for c in cited}
    for v in violations:
        if v.table in tables:
            text = f"勾稽关系不成立：{v.rule}（{v.where}）应为 {v.expected:g}，报告为 {v.found:g}"
            lines.append(f'<li class="violation">{escape(text)}</li>')
    return f'<ul class="src-flags">{"".join(lines)}</ul>' if lines else ""


def _crops(cited: Sequence[Citation], facts: Sequence[Fact], crops: Mapping[CellKey, bytes]) -> str:
    """The scanned cell beside each cited OCR'd cell: the page it is on and how sure the reading was."""
    by_cell = {(f.row, f.column): f for f in facts}
    out = []
    for c in cited:
        image = crops.get((c.report_id, c.table_key, c.row_key, c.column_key))
        fact = by_cell.get((c.row_key, c.column_key))
        if image is None or fact is None:
            continue
        sure = "" if fact.ref.confidence is None else f"，识别置信度 {fact.ref.confidence:.0%}"
        doubt = "，读数存疑，请以原图为准" if fact.status == "ambiguous" else ""
        caption = f"扫描原图：{c.row} › {c.column}（第 {fact.ref.page} 页{sure}{doubt}）"
        data = base64.b64encode(image).decode("ascii")
        out.append(f'<figure class="src-crop"><img src="data:image/jpeg;base64,{data}" alt="{escape(caption)}">'
                   f"<figcaption>{escape(caption)}</figcaption></figure>")
    return "".join(out)


def _options(fact: Fact) -> str:
    values = " / ".join(f"{v:g}" for v in fact.candidates)
    return f"可能是 {values}" if values else "无法确定取值"


def _passage(c: Citation) -> str:
    return f'<blockquote class="src-passage">{escape(c.snippet)}</blockquote>'
