"""Which template a report, or one part of it, follows: from the headers and rows its tables print.

Many reports mix the two (2021 headers over 2019 rows), so each part is told on its own; the report as a
whole goes by the parts, and by its reporting year when they do not tell.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable

from ingest.format import schema
from ingest.format.layout import ROWS_2019_ONLY, ROWS_2021_ONLY, T2_COLUMNS
from ingest.format.template import T2019, T2021, TEMPLATES, Template, by_year

# Table 2 columns only one template prints (2019's 本年新公开数量, 上一年项目数量 …; 2021's 本年废止件数).
_OWN_COLUMNS: dict[Template, frozenset[str]] = {
    t: frozenset(c for cols in T2_COLUMNS[t].values() for c in cols)
    - frozenset(c for o in TEMPLATES if o != t for cols in T2_COLUMNS[o].values() for c in cols)
    for t in TEMPLATES
}
# Columns both print, 2021 with 本年 in front (本年处理决定数量 for 处理决定数量).
_BOTH_WITH_YEAR_WORD = ("decisions", "amount")
_YEAR_WORD = "本年"


def from_t2(table: str, headers: Iterable[tuple[str | None, str]]) -> Template | None:
    """A Table 2 part by its headers, (column key or None, printed label) each; None when they do not tell."""
    headers = list(headers)
    columns = {column for column, _ in headers if column}
    if schema.table(table).templates == (T2019,) or columns & _OWN_COLUMNS[T2019]:
        return T2019
    if columns & _OWN_COLUMNS[T2021]:
        return T2021
    for column, label in headers:
        if column in _BOTH_WITH_YEAR_WORD:
            return T2021 if _YEAR_WORD in label else T2019
    return None


def from_t3(rows: Collection[str]) -> Template | None:
    """Table 3 by its rows: 2021's three 其他处理 sub-rows, or 2019's single （六）其他处理 row."""
    if set(rows) & set(ROWS_2021_ONLY):
        return T2021
    if set(rows) & set(ROWS_2019_ONLY):
        return T2019
    return None


def decide(signs: Iterable[Template | None], year: int) -> Template:
    """The template most parts show; the reporting year decides a tie, also when no part shows one."""
    votes = Counter(s for s in signs if s)
    if votes[T2019] != votes[T2021]:
        return T2019 if votes[T2019] > votes[T2021] else T2021
    return by_year(year)


def majority(templates: Iterable[Template]) -> Template | None:
    """The template named most often, the first named on a tie; None when none is."""
    votes = Counter(templates).most_common(1)
    return votes[0][0] if votes else None
