"""Standard rows from the grids readers give (HTML, DOCX, Markdown, pdfplumber tables).

All grids of a report are read as one stream of rows in document order, because converters split one
printed table into many (page breaks, Markdown blocks, a `## 表三` heading between two rows). A row's
label is its leading text cells, its values the trailing run of value-like cells. Rows are then
assigned to the standard rows by label and, where labels are lost, by their fixed order.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ingest.format import infer
from ingest.format.labels import T4_WORDS
from ingest.format.layout import T2_KEYS, T3_ORDER, T4_WIDTH, t3_rows
from ingest.format.template import T2019, Template, by_year
from ingest.model import CellRef, Report, Table
from ingest.normalize import key
from ingest.tables.cells import is_value, parse
from ingest.tables.found import FoundRow, Header, Slot
from ingest.tables.labels import best, match_column, resolve_columns, score_label, t2_item


@dataclass
class GridRow:
    labels: list[Slot]
    values: list[Slot]

    @property
    def label(self) -> str:
        return "".join(s.raw for s in self.labels)

    @property
    def has_numbers(self) -> bool:
        return any(parse(s.raw).kind in ("number", "zero", "na") for s in self.values)


def _rows(table: Table, source: str) -> list[GridRow]:
    out = []
    for row in table.rows:
        cells = sorted(row, key=lambda c: c.col)
        slots = [
            Slot(
                c.text or "",
                CellRef(source, c.page or table.page, table.index, c.row, c.col, table.offset, c.box, c.confidence,
                        c.alternatives),
                (c.col, c.col + c.colspan - 1),
            )
            for c in cells
        ]
        cut = len(slots)
        while cut > 0 and is_value(slots[cut - 1].raw):
            cut -= 1
        labels: list[Slot] = []
        for s in slots[:cut]:
            if not s.raw.strip():
                continue
            if labels and key(labels[-1].raw) == key(s.raw):  # a merged cell repeated in each spanned cell
                first = labels[-1]
                labels[-1] = Slot(first.raw, first.ref, (first.cols[0], s.cols[1]))  # type: ignore[index]
                continue
            labels.append(s)
        out.append(GridRow(labels, slots[cut:]))
    return out


def label_scores(labels: list[Slot], tables: tuple[str, ...]) -> dict[tuple[str, str], float]:
    """Scores of a row's label cells: the last (most specific) cell decides which rows it can be, the
    whole label breaks ties (`缴纳费用、` | `行政机关不再处理其政` is the fee row, not its neighbour)."""
    if not labels:
        return {}
    last = score_label(labels[-1].raw, tables)
    whole = score_label("".join(s.raw for s in labels), tables)
    if not last:
        return whole
    return {k: max(v, whole.get(k, 0.0)) for k, v in last.items()}


def _merge_wrapped(rows: list[GridRow]) -> list[GridRow]:
    """Join label-only rows that continue the label above (a label wrapped onto its own grid row)."""
    tables = (*T2_KEYS, "requests")
    out: list[GridRow] = []
    for row in rows:
        prev = out[-1] if out else None
        if prev is not None and prev.labels and row.labels and not any(s.raw.strip() for s in row.values):
            last = prev.labels[-1]
            longer = [*prev.labels[:-1], Slot(last.raw + row.label, last.ref, last.cols)]
            before, after = label_scores(prev.labels, tables), label_scores(longer, tables)
            top = best(before)
            if top is not None and best(after) == top and after[top] > before[top]:
                prev.labels[:] = longer
                continue
        out.append(row)
    return out


def stream(report: Report) -> list[GridRow]:
    rows = [r for table in report.tables for r in _rows(table, report.source)]
    return _merge_wrapped(rows)


def _headers(row: GridRow) -> list[Header]:
    out: list[Header] = []
    for s in row.labels + row.values:
        text = key(s.raw)
        if not text or text == "信息内容":
            continue
        if out and key(out[-1].label) == text and out[-1].cols and s.cols:
            out[-1] = Header(out[-1].label, None, (out[-1].cols[0], s.cols[1]))
            continue
        out.append(Header(s.raw, None, s.cols))
    return out


def _is_t2_header(row: GridRow) -> bool:
    if any(parse(s.raw).kind in ("number", "zero") for s in row.values):
        return False
    return any(match_column(s.raw, t) for s in row.labels + row.values for t in T2_KEYS if s.raw.strip())


def table2(rows: list[GridRow], template: Template) -> list[FoundRow]:
    """Table 2 rows under the latest sub-table header; a misprinted header takes its column by position."""
    found: list[FoundRow] = []
    headers: list[Header] = []
    for row in rows:
        if not row.labels:
            continue
        if t2_item(key(row.label)):
            headers = []
            continue
        if _is_t2_header(row):
            headers = _headers(row)
            continue
        if not row.values:
            continue
        top = best(label_scores(row.labels, T2_KEYS))
        if top is None:
            continue
        table_key, row_key = top
        named = resolve_columns(table_key, headers, template)
        found.append(FoundRow(table_key, row_key, row.labels[-1].raw, tuple(row.values), True, named))
    return found


def align(scores: list[dict[str, float]], order: tuple[str, ...]) -> list[str | None]:
    """Assign items to rows in `order`, strictly increasing, maximizing the total label score."""
    n, m = len(scores), len(order)
    # best[i][j]: best total using items[:i] with the last assigned row index < j
    neg = float("-inf")
    table = [[0.0] * (m + 1) for _ in range(n + 1)]
    choice: list[list[int | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m, -1, -1):
            skip = table[i + 1][j]
            bestv, bestc = skip, None
            for k in range(j, m):
                s = scores[i].get(order[k], 0.0)
                if s <= 0:
                    continue
                v = s + table[i + 1][k + 1]
                if v > bestv:
                    bestv, bestc = v, k
            table[i][j] = bestv if bestv != neg else 0.0
            choice[i][j] = bestc
    out: list[str | None] = []
    j = 0
    for i in range(n):
        c = choice[i][j]
        if c is None:
            out.append(None)
        else:
            out.append(order[c])
            j = c + 1
    return out


def fill_gaps(assigned: list[str | None], loose: list[bool], order: tuple[str, ...]) -> list[str | None]:
    """Give unlabelled rows the places their labelled neighbours leave, when there are exactly as many.

    Only the rows of the template the labelled rows show count as places (2019's single （六） row
    or 2021's three sub-rows, not both).
    """
    out = list(assigned)
    shown = t3_rows(infer.from_t3({a for a in out if a is not None}) or T2019)
    order = tuple(r for r in order if r in shown)
    anchors = [i for i, a in enumerate(out) if a is not None and a in order]
    for a, b in itertools.pairwise(anchors):
        between = [i for i in range(a + 1, b) if loose[i]]
        ia, ib = order.index(out[a]), order.index(out[b])  # type: ignore[arg-type]
        if between and len(between) == ib - ia - 1:
            for k, i in enumerate(between):
                out[i] = order[ia + 1 + k]
    return out


def table3(rows: list[GridRow]) -> tuple[list[FoundRow], int]:
    """Table 3 rows, and the index of the last stream row used (Table 4 comes after it)."""
    items = [i for i, r in enumerate(rows) if r.values and (r.labels or r.has_numbers)]
    scores = [
        {rk: s for (_, rk), s in label_scores(rows[i].labels, ("requests",)).items()} for i in items
    ]
    assigned = align(scores, T3_ORDER)
    loose = [not scores[k] and rows[i].has_numbers for k, i in enumerate(items)]
    assigned = fill_gaps(assigned, loose, T3_ORDER)
    found = [
        FoundRow("requests", a, rows[i].labels[-1].raw if rows[i].labels else "", tuple(rows[i].values), True)
        for i, a in zip(items, assigned, strict=True)
        if a is not None
    ]
    last = max((i for i, a in zip(items, assigned, strict=True) if a is not None), default=-1)
    return found, last


def _t4_header(row: GridRow) -> bool:
    return all(any(w in key(s.raw) for w in T4_WORDS) for s in row.labels)


def table4(rows: list[GridRow], after: int = -1) -> list[FoundRow]:
    """The values after Table 4's header (one per column), collected over as many grid rows as they fill."""
    start = next(
        (i for i, r in enumerate(rows) if i > after and any(w in key(r.label) for w in ("复议", "结果维持"))),
        None,
    )
    if start is None:
        return []
    slots: list[Slot] = []
    for row in rows[start:]:
        if row.labels and not _t4_header(row):
            break
        if row.has_numbers:
            slots.extend(row.values)
        if len(slots) >= T4_WIDTH:
            break
    if not slots:
        return []
    return [FoundRow("review", "cases", "案件数量", tuple(slots), True)]


def find(report: Report) -> list[FoundRow]:
    rows = stream(report)
    t3, last = table3(rows)
    return table2(rows, by_year(report.year)) + t3 + table4(rows, last)
