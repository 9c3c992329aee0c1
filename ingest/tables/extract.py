"""Tables 2, 3 and 4 of a report → `Fact`s, one per standard cell, each with where it was printed.

Rows come from the report's grids (`grid`) and from its lines (`flat`); for each standard
table the source that resolves more cells wins. A row whose cells are not known one by one (digits
run together, blank cells dropped) is read every way the printed text allows (`readings`), as the
page's flattening allows it, and the sum identities of report-format.md narrow the readings down, row
by row and then down Table 3's columns (`narrow`). A cell the readings still disagree on is
`ambiguous` with its candidates (a blank cell among them as 0); no reading is ever picked silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ingest.checks import violations
from ingest.format import identities, infer, schema
from ingest.format.layout import PARTS, T2_COLUMNS, T2_KEYS, T3_COLUMNS, T3_WIDTH, T4_COLUMNS, T4_WIDTH
from ingest.format.template import T2021, Template
from ingest.model import CellRef, Fact, Report
from ingest.normalize import clean as printable
from ingest.normalize import compact
from ingest.tables import flat, grid
from ingest.tables.cells import amount, parse
from ingest.tables.found import FoundRow, Slot
from ingest.tables.narrow import narrow
from ingest.tables.readings import ANY, Assumes, RowReadings, page_layout, read, row_sums

_T3_ROW = row_sums([identities.APPLICANTS], T3_COLUMNS)
_T4_ROW = row_sums(identities.TABLE4, T4_COLUMNS)


# ---------------------------------------------------------------- cells → facts


class _Maker:
    """Builds the facts of one report, so every fact carries the same report identity."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def fact(
        self,
        template: Template,
        where: tuple[str, str, str],
        labels: tuple[str, str],
        options: Sequence[Slot],
        printed: str,
        note: str = "",
    ) -> Fact:
        """One cell from the slots the surviving readings put there: one slot → ok, several → ambiguous, with
        every value they allow as candidates (a blank cell as 0: reports print blank for zero)."""
        table, row, column = where
        unit = schema.table(table).column(column).unit
        base = {
            "report_id": self.report.id, "agency": self.report.agency, "year": self.report.year,
            "template": template, "table": table, "row": row, "column": column,
            "row_label": printable(labels[0]) or schema.table(table).row(row).label,
            "column_label": printable(labels[1]) or schema.table(table).column(column).label, "note": note,
        }
        distinct = {compact(s.raw) for s in options}
        if len(distinct) == 1:
            slot = options[0]
            p = parse(slot.raw)
            return Fact(**base, raw=slot.raw, value=p.value, unit=p.unit or unit, kind=p.kind, ref=slot.ref)
        values = sorted({v for s in options if (v := amount(s.raw)) is not None})
        ref = options[0].ref if options else CellRef(self.report.source)
        return Fact(**base, raw=printed, value=None, unit=unit, kind="number", status="ambiguous",
                    candidates=tuple(values), ref=ref)


def _printed(found: FoundRow) -> str:
    return " ".join(s.raw for s in found.slots if s.raw.strip())


def _extras_note(extras: Sequence[Slot]) -> str:
    return " ".join(s.raw.strip() for s in extras if compact(s.raw))


def _t2_template(found: FoundRow) -> Template | None:
    return infer.from_t2(found.table, ((h.column, h.label) for h in found.headers))


def _t2_columns(found: FoundRow, template: Template) -> list[tuple[str | None, str]]:
    """The columns a Table 2 row's cells stand in: its headers, or the template's when none was printed."""
    if found.headers:
        return [(h.column, h.label) for h in found.headers]
    spec = schema.table(found.table)
    defaults = T2_COLUMNS[_t2_template(found) or template].get(found.table, tuple(c.key for c in spec.columns))
    return [(c, spec.column(c).label) for c in defaults]


def _ranged(found: FoundRow) -> bool:
    """Grid positions decide only when the row is as wide as its header (a converter may lose a column)."""
    headers = found.headers
    return (
        bool(headers and found.slots)
        and all(h.cols for h in headers)
        and all(s.cols for s in found.slots)
        and found.slots[-1].cols[1] >= headers[-1].cols[1]  # type: ignore[index]
    )


def _t2_facts(make: _Maker, row: RowReadings, template: Template) -> list[Fact]:
    found = row.found
    template = _t2_template(found) or template
    columns = _t2_columns(found, template)
    options: list[list[Slot] | None]
    if _ranged(found):
        options, extras = [], []
        used: set[int] = set()
        for h in found.headers:
            inside = [i for i, s in enumerate(found.slots) if h.cols[0] <= s.cols[0] <= h.cols[1]]  # type: ignore[index]
            used.update(inside)
            options.append([found.slots[inside[0]]] if inside else None)
            first = compact(found.slots[inside[0]].raw) if inside else ""
            extras += [found.slots[i] for i in inside[1:] if compact(found.slots[i].raw) != first]
        extras += [s for i, s in enumerate(found.slots) if i not in used]
    else:
        extras = list(row.extras)
        options = [[r[j] for r in row.readings] for j in range(len(columns))]
    facts = []
    known = [j for j, (c, _) in enumerate(columns) if c is not None and options[j]]
    for j in known:
        col, label = columns[j]
        note = _extras_note(extras) if j == known[-1] else ""
        facts.append(make.fact(template, (found.table, found.row, str(col)), (found.label, label),
                               options[j] or [], _printed(found), note))
    return facts


def _t3_rows(rows: list[RowReadings]) -> list[RowReadings]:
    """Drop 2021's （六）其他处理 parent label when its three sub-rows are there and it holds nothing."""
    has_sub = infer.from_t3({r.found.row for r in rows}) == T2021
    return [r for r in rows
            if not (r.found.row == "other_handling" and has_sub and not any(compact(s.raw) for s in r.found.slots))]


def _t3_facts(make: _Maker, rows: list[RowReadings], template: Template) -> list[Fact]:
    rows = _t3_rows(rows)
    placed = {r.found.row: [] if any(compact(s.raw) for s in r.extras) else list(r.readings) for r in rows}
    placed = narrow(placed, template)
    labels = {c.key: c.label for c in schema.TABLE3.columns}
    return [
        make.fact(template, ("requests", r.found.row, col), (r.found.label, labels[col]),
                  [reading[j] for reading in placed[r.found.row]], _printed(r.found))
        for r in rows
        for j, col in enumerate(T3_COLUMNS)
    ]


def _t4_facts(make: _Maker, rows: list[RowReadings], template: Template) -> list[Fact]:
    labels = {c.key: c.label for c in schema.TABLE4.columns}
    out = []
    for r in rows[:1]:
        reads = [] if any(compact(s.raw) for s in r.extras) else r.readings
        out += [
            make.fact(template, ("review", "cases", col), (r.found.label, labels[col]), [x[j] for x in reads],
                      _printed(r.found))
            for j, col in enumerate(T4_COLUMNS)
        ]
    return out


def report_template(report: Report, found: Sequence[FoundRow]) -> Template:
    """The template the tables print (each Table 2 part and Table 3 vote); the reporting year breaks a tie."""
    if report.template:
        return report.template
    signs = [_t2_template(f) for f in found if f.table in T2_KEYS]
    signs.append(infer.from_t3({f.row for f in found if f.table == schema.TABLE3.key}))
    return infer.decide(signs, report.year)


def _read(found: FoundRow, template: Template, layout: frozenset[Assumes] | None = None) -> RowReadings:
    """A found row's readings as its table's width, by its own identities."""
    if found.table == schema.TABLE3.key:
        return read(found, T3_WIDTH, _T3_ROW, layout)
    if found.table == schema.TABLE4.key:
        return read(found, T4_WIDTH, _T4_ROW, layout)
    return read(found, len(_t2_columns(found, _t2_template(found) or template)), None, layout)


def _text_readings(rows: Sequence[FoundRow], template: Template) -> list[RowReadings]:
    """The text rows read as the page's flattening allows (`readings.page_layout`). Cells run together with
    blank cells gone besides is the costly search: tried for a row only when its identities hold no other way,
    for every row when some row cannot be read otherwise."""
    read_ = [_read(f, template) for f in rows]
    read_ = [r if r.confirmed else _read(r.found, template, ANY) for r in read_]
    layout = page_layout(read_)
    if layout == ANY:
        read_ = [_read(r.found, template, ANY) for r in read_]
    return [r.only(layout) for r in read_]


def _part_facts(make: _Maker, part: str, rows: list[RowReadings], template: Template) -> list[Fact]:
    if part == schema.TABLE3.key:
        return _t3_facts(make, rows, infer.from_t3({r.found.row for r in rows}) or template)
    if part == schema.TABLE4.key:
        return _t4_facts(make, rows, template)
    return [fact for r in rows for fact in _t2_facts(make, r, template)]


def extract_facts(report: Report) -> list[Fact]:
    """Every standard cell of the report's Tables 2–4, each a `Fact` pointing at where it was printed."""
    grid_rows = grid.find(report) if report.tables else []
    text_rows = flat.find(report) if report.lines else []
    template = report_template(report, grid_rows or text_rows)
    grid_read = [_read(f, template) for f in grid_rows]
    text_read = _text_readings(text_rows, template)
    make = _Maker(report)
    facts: list[Fact] = []
    for part in PARTS:
        options = [
            _part_facts(make, part, [r for r in rows if r.found.table == part], template)
            for rows in (grid_read, text_read)
        ]
        facts += max(options, key=lambda fs: (sum(1 for f in fs if f.status == "ok"), len(fs)))
    broken = {id(f) for _, involved in violations(facts) for f in involved}
    return [replace(f, status="inconsistent") if id(f) in broken and f.status == "ok" else f for f in facts]
