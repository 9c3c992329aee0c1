"""Which cells each template prints, in which order, and the tables' geometry.

report-format.md lists the sub-tables, rows and columns of the 2019 and 2021 formats; this is that
list as data, derived from schema.py so the keys cannot drift: what coverage counts against, what
Table 2 falls back to, how wide Tables 3 and 4 are and in which order Table 3's rows are printed.
"""

from __future__ import annotations

from ingest.format import schema
from ingest.format.template import T2019, T2021, Template

# Table 3 rows the 2021 format has and the 2019 format folds into other_handling, and vice versa.
ROWS_2021_ONLY: tuple[str, ...] = ("other_overdue_correction", "other_unpaid_fee", "other_misc")
ROWS_2019_ONLY: tuple[str, ...] = ("other_handling",)
# Table 2 rows only the 2019 format prints, per sub-table.
_T2_ROWS_2019_ONLY: dict[str, tuple[str, ...]] = {"licensing": ("other_services",)}

T2_KEYS: tuple[str, ...] = tuple(t.key for t in schema.TABLE2)
# Table 2 as each template prints it: table key → column keys, in printed order.
T2_COLUMNS: dict[Template, dict[str, tuple[str, ...]]] = {
    T2021: {
        "rules": ("issued", "repealed", "in_force"),
        "licensing": ("decisions",),
        "enforcement": ("decisions",),
        "fees": ("amount",),
    },
    T2019: {
        "rules": ("issued", "published", "in_force"),
        "licensing": ("items_last_year", "items_change", "decisions"),
        "enforcement": ("items_last_year", "items_change", "decisions"),
        "fees": ("items_last_year", "items_change"),
        "procurement": ("projects", "amount"),
    },
}
T3_COLUMNS: tuple[str, ...] = tuple(c.key for c in schema.TABLE3.columns)
T4_COLUMNS: tuple[str, ...] = tuple(c.key for c in schema.TABLE4.columns)
PARTS: tuple[str, ...] = (*T2_KEYS, schema.TABLE3.key, schema.TABLE4.key)

# Geometry: Table 3 has one data column per applicant kind and their total; Table 4 one per outcome of each block.
T3_WIDTH = len(T3_COLUMNS)
T4_WIDTH = len(schema.REVIEW_BLOCKS) * len(schema.REVIEW_OUTCOMES)
# Table 4's blocks in printed order: (block key, its columns), the block's total last.
T4_BLOCKS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (block, T4_COLUMNS[i * len(schema.REVIEW_OUTCOMES) : (i + 1) * len(schema.REVIEW_OUTCOMES)])
    for i, block in enumerate(schema.REVIEW_BLOCKS)
)

# Table 3 rows in printed order; 2019's single （六）其他处理 row sits where 2021 prints its parent label.
_LATE = (*ROWS_2019_ONLY, *ROWS_2021_ONLY, "total_handled", "carried_forward")
T3_ORDER: tuple[str, ...] = tuple(r.key for r in schema.TABLE3.rows if r.key not in _LATE) + _LATE


def t2_rows(table_key: str, template: Template) -> tuple[str, ...]:
    """Rows of a Table 2 part as the template prints them (2021 drops 其他对外管理服务事项)."""
    skip = _T2_ROWS_2019_ONLY.get(table_key, ()) if template == T2021 else ()
    return tuple(r.key for r in schema.table(table_key).rows if r.key not in skip)


def t3_rows(template: Template) -> tuple[str, ...]:
    skip = ROWS_2019_ONLY if template == T2021 else ROWS_2021_ONLY
    return tuple(r.key for r in schema.TABLE3.rows if r.key not in skip)


def expected_cells(part: str, template: Template) -> list[tuple[str, str, str]]:
    """The (table, row, column) cells one part of the tables has in this template."""
    if part == schema.TABLE3.key:
        return [(part, r, c) for r in t3_rows(template) for c in T3_COLUMNS]
    if part == schema.TABLE4.key:
        return [(part, r.key, c) for r in schema.TABLE4.rows for c in T4_COLUMNS]
    columns = T2_COLUMNS[template].get(part, ())
    return [(part, r, c) for r in t2_rows(part, template) for c in columns]
