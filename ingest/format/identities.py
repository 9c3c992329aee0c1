"""The sum identities of Tables 3 and 4 (report-format.md) as data.

Two consumers read them: the table reader, which keeps only the readings of a flattened row that let
them hold, and `ingest.checks`, which reports where extracted facts break them. Each identity says which
cells add up (`parts`) to which (`totals`), and whether those are the columns of one row or the rows of
one column.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from ingest.format import schema
from ingest.format.layout import T3_COLUMNS, T4_BLOCKS, t3_rows
from ingest.format.template import Template

RULE_COLUMN = "一+二 = （七）总计+四"
RULE_HANDLED = "（七）总计 = （一）…（六）之和"
RULE_APPLICANTS = "总计 = 各类申请人之和"
RULE_BLOCK = "总计 = 结果维持+结果纠正+其他结果+尚未审结"

# Table 3's rows around its handled rows: received (一、二) and handled (七) plus carried forward (四).
_RECEIVED = ("new", "carried_over")
_SETTLED = ("total_handled", "carried_forward")


@dataclass(frozen=True)
class Identity:
    """`parts` add up to `totals`: column keys of one row (`along="row"`), or row keys down one column."""

    rule: str
    table: str
    along: Literal["row", "column"]
    parts: tuple[str, ...]
    totals: tuple[str, ...]
    where: str = ""  # the name an identity checked once is reported under (a Table 4 block)


def handled_rows(template: Template) -> tuple[str, ...]:
    """The rows （七）总计 adds up: 2019's single （六） row or 2021's three sub-rows."""
    return tuple(r for r in t3_rows(template) if r not in (*_RECEIVED, *_SETTLED))


# Table 3 along every row: 总计 = the six applicant columns.
APPLICANTS = Identity(RULE_APPLICANTS, schema.TABLE3.key, "row", T3_COLUMNS[:-1], T3_COLUMNS[-1:])


@cache  # asked once per combination of readings when a flattened Table 3 is narrowed down
def table3(template: Template) -> tuple[Identity, ...]:
    """Table 3's identities in a template: down every column (一+二 = 七+四, 七 = its sub-rows), then `APPLICANTS`."""
    key = schema.TABLE3.key
    return (
        Identity(RULE_COLUMN, key, "column", _SETTLED, _RECEIVED),
        Identity(RULE_HANDLED, key, "column", handled_rows(template), ("total_handled",)),
        APPLICANTS,
    )


# Table 4: in each block, 总计 = the four outcomes before it.
TABLE4: tuple[Identity, ...] = tuple(
    Identity(RULE_BLOCK, schema.TABLE4.key, "row", columns[:-1], columns[-1:], where=block)
    for block, columns in T4_BLOCKS
)
