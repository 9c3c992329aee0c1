"""Cells for an ask, read from the store's facts and added up in code; citations of those cells.

No number here is generated: every value is read from `Store.facts`, summed only where the question names a
group (不予公开 = its eight rows), and cited cell by cell. A cell the report does not have is missing, never
another column's value; blank, ambiguous and inconsistent cells are said to be so instead of becoming numbers.
"""

from __future__ import annotations

from ingest.format import identities, schema
from ingest.model import SECTION_TITLES, Fact
from ingest.normalize import bare_label
from ingest.store import Store
from qa.model import Ask, Citation, Reading


def read(store: Store, agency: str, year: int, ask: Ask) -> Reading:
    """The cells of `ask` in one report. A 2021 report answers 2019's single （六）其他处理 row with its three
    sub-rows, added up; a group total or a 总计 the report leaves zero while its parts are not is computed
    from the printed parts and says so."""
    return reading(store.facts(agency=agency, year=year, table=ask.table), agency, year, ask)


def reading(facts: list[Fact], agency: str, year: int, ask: Ask) -> Reading:
    """`read` over facts already fetched (those of `ask.table` in one report; other tables' are ignored)."""
    by_cell = {(f.row, f.column): f for f in facts if f.table == ask.table}
    picked: list[Fact] = []
    missing: list[tuple[str, str]] = []
    computed = ask.is_group
    for row, column in ask.cells:
        if (row, column) in by_cell:
            picked.append(by_cell[(row, column)])
        elif children := [by_cell[(c, column)] for c in _sub_rows(ask.table, row) if (c, column) in by_cell]:
            picked.extend(children)
            computed = True
        else:
            missing.append((row, column))
    if not picked:
        return Reading(agency, year, ask, (), None, missing=tuple(missing))
    if not ask.is_group and (parts := _unfilled_total(picked[0], by_cell)):
        return _reading(agency, year, ask, (*parts, picked[0]), parts, True, missing)
    return _reading(agency, year, ask, tuple(picked), picked, computed and len(picked) > 1, missing)


def _reading(agency: str, year: int, ask: Ask, facts: tuple[Fact, ...], summed: list[Fact] | tuple[Fact, ...],
             computed: bool, missing: list[tuple[str, str]]) -> Reading:
    ambiguous = any(f.status == "ambiguous" for f in summed)
    numbers = [f.value for f in summed if f.value is not None]
    return Reading(
        agency, year, ask, facts,
        value=None if ambiguous or not numbers else sum(numbers),
        blank=all(f.kind == "blank" for f in summed),
        ambiguous=ambiguous,
        inconsistent=any(f.status == "inconsistent" for f in summed),
        computed=computed,
        missing=tuple(missing),
    )


def _sub_rows(table: str, row: str) -> list[str]:
    """Rows printed under `row` as their group label (2021's three rows under （六）其他处理)."""
    spec = schema.table(table)
    label = next((bare_label(r.label) for r in spec.rows if r.key == row), "")
    return [r.key for r in spec.rows if label and r.parent and bare_label(r.parent) == label]


def _unfilled_total(total: Fact, by_cell: dict[tuple[str, str], Fact]) -> tuple[Fact, ...]:
    """The applicant cells of a Table 3 row whose printed 总计 is zero or blank while they are not (the total
    column left unfilled): those are what the row holds. Empty when the total is filled in."""
    rule = identities.APPLICANTS
    if total.table != rule.table or total.column not in rule.totals or (total.value or 0) != 0:
        return ()
    parts = tuple(by_cell[(total.row, c)] for c in rule.parts if (total.row, c) in by_cell)
    if any(p.status == "ambiguous" for p in parts) or not any(p.value for p in parts):
        return ()
    return tuple(p for p in parts if p.value)


def citation(fact: Fact) -> Citation:
    """The cell a fact was read from, labelled as the report's template prints it."""
    spec = schema.table(fact.table)
    row = next((r for r in spec.rows if r.key == fact.row), None)
    column = next((c for c in spec.columns if c.key == fact.column), None)
    section = SECTION_TITLES.get(spec.section, "")
    if spec.section == "proactive":
        section = f"{section} › {spec.title}"
    column_label = column.printed(fact.template) if column else fact.column_label
    if column and column.parent:
        column_label = f"{column.parent} › {column_label}"
    return Citation(
        report_id=fact.report_id,
        agency=fact.agency,
        year=fact.year,
        source=fact.ref.source,
        section=section,
        table=spec.title,
        row=row.printed(fact.template) if row else fact.row_label,
        column=column_label,
        cell=fact.raw,
        page=fact.ref.page,
        snippet=f"{fact.row_label} | {fact.column_label} | {fact.raw or '（空白）'}",
        table_key=fact.table,
        row_key=fact.row,
        column_key=fact.column,
        status=fact.status,
    )


def fmt(value: float) -> str:
    """3.0 → "3", -12.0 → "-12", 0.1234 → "0.1234" (no float noise)."""
    if value == int(value):
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")
