"""Which cells each template prints: what coverage counts against and what Table 2 falls back to.

report-format.md lists the sub-tables, rows and columns of the 2019 and 2021 formats; this is that
list as data, derived from schema.py so the keys cannot drift.
"""

from __future__ import annotations

from ingest import schema

Template = str

# Table 2 as each template prints it: table key → column keys, in printed order.
T2_COLUMNS: dict[Template, dict[str, tuple[str, ...]]] = {
    "2021": {
        "rules": ("issued", "repealed", "in_force"),
        "licensing": ("decisions",),
        "enforcement": ("decisions",),
        "fees": ("amount",),
    },
    "2019": {
        "rules": ("issued", "published", "in_force"),
        "licensing": ("items_last_year", "items_change", "decisions"),
        "enforcement": ("items_last_year", "items_change", "decisions"),
        "fees": ("items_last_year", "items_change"),
        "procurement": ("projects", "amount"),
    },
}
T3_COLUMNS: tuple[str, ...] = tuple(c.key for c in schema.TABLE3.columns)
T4_COLUMNS: tuple[str, ...] = tuple(c.key for c in schema.TABLE4.columns)
PARTS: tuple[str, ...] = (*(t.key for t in schema.TABLE2), "requests", "review")


def t2_rows(table_key: str, template: Template) -> tuple[str, ...]:
    """Rows of a Table 2 part as the template prints them (2021 drops 其他对外管理服务事项)."""
    rows = tuple(r.key for r in schema.table(table_key).rows)
    return ("licensing",) if template == "2021" and table_key == "licensing" else rows


def t3_rows(template: Template) -> tuple[str, ...]:
    skip = schema.ROWS_2019_ONLY if template == "2021" else schema.ROWS_2021_ONLY
    return tuple(r.key for r in schema.TABLE3.rows if r.key not in skip)


def expected_cells(part: str, template: Template) -> list[tuple[str, str, str]]:
    """The (table, row, column) cells one part of the tables has in this template."""
    if part == "requests":
        return [(part, r, c) for r in t3_rows(template) for c in T3_COLUMNS]
    if part == "review":
        return [(part, "cases", c) for c in T4_COLUMNS]
    columns = T2_COLUMNS[template].get(part, ())
    return [(part, r, c) for r in t2_rows(part, template) for c in columns]
