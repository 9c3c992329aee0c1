"""Printed forms that name a standard table rather than a row: Table 2's sub-table titles, Table 4's header words.

Row and column labels themselves are in schema.py; these are the forms the table recognisers find a table
by (in the matching form of `ingest.normalize.key`).
"""

from __future__ import annotations

import re

from ingest.format.schema import TABLE2

# A Table 2 sub-table title, `第二十条第（六）项`; the item numeral says which sub-table.
T2_TITLE = re.compile(r"第二十条第（([一二三四五六七八九十]+)）项")
T2_ITEMS: dict[str, str] = {m.group(1): t.key for t in TABLE2 if (m := T2_TITLE.search(t.title))}
# Header words of Table 4: rows holding only these are skipped while its values are collected.
T4_WORDS = ("复议", "诉讼", "结果", "维持", "纠正", "其他", "尚未", "审结", "总计", "起诉", "注")
