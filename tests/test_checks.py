"""Sum identities of Tables 3 and 4 are flagged, never fixed; coverage counts cells per template."""

from __future__ import annotations

from ingest.checks import check, coverage
from ingest.format import schema
from ingest.format.identities import RULE_APPLICANTS, RULE_BLOCK, RULE_COLUMN, RULE_HANDLED
from ingest.format.layout import T3_COLUMNS, T4_COLUMNS, expected_cells, t3_rows
from ingest.model import Fact
from ingest.tables.cells import parse


def _fact(table: str, row: str, column: str, raw: str, template: str = "2021") -> Fact:
    p = parse(raw)
    return Fact("局:2021", "局", 2021, template, table, row, column, row, column, raw, p.value, "件", p.kind)


def _table3(template: str = "2021", **rows: list[str]) -> list[Fact]:
    """A consistent Table 3 (3 new requests from persons, all granted) with some rows replaced."""
    values = {r: ["0"] * 7 for r in t3_rows(template)}
    values["new"] = ["3", "0", "0", "0", "0", "0", "3"]
    values["granted"] = ["3", "0", "0", "0", "0", "0", "3"]
    values["total_handled"] = ["3", "0", "0", "0", "0", "0", "3"]
    values.update(rows)
    return [
        _fact("requests", r, c, v, template) for r, vs in values.items() for c, v in zip(T3_COLUMNS, vs, strict=True)
    ]


def _table4(raws: list[str]) -> list[Fact]:
    return [_fact("review", "cases", c, v) for c, v in zip(T4_COLUMNS, raws, strict=True)]


def test_consistent_tables_have_no_violations():
    assert check(_table3() + _table4(["1", "0", "0", "1", "2"] + ["0"] * 10)) == []
    assert check(_table3("2019")) == []


def test_broken_column_and_row_sums_are_reported_with_their_numbers():
    facts = _table3(carried_forward=["1", "0", "0", "0", "0", "0", "1"])
    rules = {(v.rule, v.where): v for v in check(facts)}
    assert (RULE_COLUMN, "natural_person") in rules
    v = rules[(RULE_COLUMN, "total")]
    assert (v.expected, v.found, v.table) == (3, 4, "requests")
    facts = _table3(granted=["3", "0", "0", "0", "0", "0", "4"])
    rules = {(v.rule, v.where) for v in check(facts)}
    assert (RULE_APPLICANTS, "granted") in rules
    assert (RULE_HANDLED, "total") in rules


def test_2019_single_other_handling_row_is_a_sub_row():
    facts = _table3("2019", other_handling=["1", "0", "0", "0", "0", "0", "1"])
    assert {(v.rule, v.where) for v in check(facts)} >= {(RULE_HANDLED, "natural_person")}
    fixed = _table3("2019", other_handling=["1", "0", "0", "0", "0", "0", "1"],
                    granted=["2", "0", "0", "0", "0", "0", "2"])
    assert check(fixed) == []


def test_table4_blocks_and_blank_cells():
    facts = _table4(["10", "1", "0", "0", "0"] + ["0"] * 5 + ["5", "0", "0", "0", "0"])
    found = {(v.rule, v.where, v.expected, v.found) for v in check(facts)}
    assert found == {(RULE_BLOCK, "review", 0, 11), (RULE_BLOCK, "suit_after_review", 0, 5)}
    # A blank total is an unfilled cell, not a zero: nothing to check.
    assert check(_table4(["5", "", "", "2", ""] + [""] * 10)) == []
    # Blank parts count as zero.
    assert check(_table4(["5", "", "", "2", "7"] + [""] * 10)) == []
    assert check(_table4(["5", "不适用", "", "2", "9"] + [""] * 10)) == []


def test_coverage_counts_expected_cells_of_the_template():
    facts = _table3() + _table4(["0"] * 15)
    facts[0] = Fact(**{**facts[0].__dict__, "status": "ambiguous", "value": None})
    c = coverage(facts)[0]
    assert c.expected == len(expected_cells("requests", "2021")) + 15 + 10
    assert c.ambiguous == 1
    assert c.found == len(schema.TABLE3.columns) * 25 + 15 - 1
    assert len(c.missing) == 10  # Table 2 of the 2021 format
