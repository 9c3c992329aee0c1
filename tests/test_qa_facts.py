"""qa.facts: cells read for an ask, added up only where the question names a group, cited as the report prints them."""

from __future__ import annotations

from ingest.format.template import T2019, T2021
from ingest.model import CellRef, Fact
from qa.facts import citation, read
from qa.model import Ask

AGENCY = "青石县人民政府"


def _fact(table: str, row: str, column: str, raw: str, template=T2021, status="ok") -> Fact:
    value = float(raw) if raw else None
    kind = "blank" if not raw else "zero" if value == 0 else "number"
    return Fact(f"{AGENCY}:2024", AGENCY, 2024, template, table, row, column, row, column, raw, value, "件", kind,
                status, ref=CellRef("q.html", table_index=0, row=1, col=1))


class _Facts:
    """The one query `read` makes of a store: the facts of one table of one report."""

    def __init__(self, facts: list[Fact]) -> None:
        self._facts = facts

    def facts(self, *, agency: str, year: int, table: str) -> list[Fact]:
        return [f for f in self._facts if (f.agency, f.year, f.table) == (agency, year, table)]


def test_a_missing_cell_is_missing_never_another_columns_value() -> None:
    store = _Facts([_fact("rules", "normative_documents", "repealed", "132"),
                    _fact("rules", "normative_documents", "in_force", "40")])
    reading = read(store, AGENCY, 2024, Ask("rules", "normative_documents", "issued"))
    assert not reading.found and reading.value is None
    assert reading.missing == (("normative_documents", "issued"),)


def test_a_total_left_zero_while_its_parts_are_not_is_their_sum_and_cites_both() -> None:
    facts = [_fact("requests", "new", "natural_person", "3"), _fact("requests", "new", "business", "0"),
             _fact("requests", "new", "total", "0", status="inconsistent")]
    reading = read(_Facts(facts), AGENCY, 2024, Ask("requests", "new", "total"))
    assert reading.value == 3 and reading.computed
    assert [(f.column, f.raw) for f in reading.facts] == [("natural_person", "3"), ("total", "0")]


def test_a_filled_total_is_read_as_printed() -> None:
    facts = [_fact("requests", "new", "natural_person", "3"), _fact("requests", "new", "total", "5")]
    reading = read(_Facts(facts), AGENCY, 2024, Ask("requests", "new", "total"))
    assert reading.value == 5 and not reading.computed


def test_2019s_single_other_handling_row_is_2021s_three_sub_rows_added_up() -> None:
    facts = [_fact("requests", r, "total", v) for r, v in
             (("other_overdue_correction", "1"), ("other_unpaid_fee", "0"), ("other_misc", "2"))]
    reading = read(_Facts(facts), AGENCY, 2024, Ask("requests", "other_handling", "total"))
    assert reading.value == 3 and reading.computed and len(reading.facts) == 3


def test_citations_label_cells_as_the_reports_template_prints_them() -> None:
    old = citation(_fact("rules", "normative_documents", "issued", "7", template=T2019))
    assert (old.row, old.column, old.row_key, old.column_key) == (
        "规范性文件", "本年新制作数量", "normative_documents", "issued")
    new = citation(_fact("rules", "normative_documents", "issued", "7"))
    assert (new.row, new.column) == ("行政规范性文件", "本年制发件数")
