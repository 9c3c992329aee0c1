"""The sum identities of Tables 3 and 4 (`ingest.format.identities`) checked on extracted facts, and coverage.

Real reports break their own sums; a broken identity is stored and shown as a `Violation`, never
corrected. Blank cells count as zero (reports print blank for zero), except that an identity whose
single result cell is blank is not checked (the report left the total unfilled), nor one whose parts
are all blank; a balance of two sides (一+二 = 七+四) is skipped only when all its cells are blank. Cells
that are not numbers (not applicable, text, ambiguous) make an identity unknowable, so it is skipped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ingest.format import identities, infer, schema
from ingest.format.identities import Identity
from ingest.format.layout import PARTS, T3_COLUMNS, expected_cells
from ingest.format.template import T2019, Template
from ingest.model import Fact, Violation


@dataclass(frozen=True)
class Coverage:
    """How much of a report's standard cells extraction found, for `reportqa check`."""

    report_id: str
    template: Template
    found: int  # expected cells read with one value (ok or inconsistent)
    expected: int
    ambiguous: int
    missing: tuple[tuple[str, str, str], ...]  # expected cells with no fact at all


def _number(fact: Fact | None) -> float | None:
    if fact is None or fact.status == "ambiguous":
        return None
    if fact.kind == "blank":
        return 0.0
    return fact.value


def _compare(
    report_id: str, rule: Identity, where: str, parts: Sequence[Fact | None], totals: Sequence[Fact | None]
) -> tuple[Violation, list[Fact]] | None:
    """One identity in one place: the sum of `totals` = the sum of `parts`; None when it holds or cannot be told."""
    if any(f is None for f in (*parts, *totals)):
        return None
    if len(totals) == 1 and (totals[0].kind == "blank" or all(p.kind == "blank" for p in parts)):  # type: ignore[union-attr]
        return None
    if all(f.kind == "blank" for f in (*parts, *totals)):  # type: ignore[union-attr]
        return None
    values = [_number(p) for p in parts]
    expected = [_number(t) for t in totals]
    if any(v is None for v in (*values, *expected)):
        return None
    found, total = sum(values), sum(expected)  # type: ignore[arg-type]
    if abs(found - total) < 1e-6:
        return None
    violation = Violation(report_id, rule.table, rule.rule, where, expected=total, found=found)
    return violation, [f for f in (*parts, *totals) if f is not None]


def _check(
    rid: str, cell: dict[tuple[str, str, str], Fact], rule: Identity, at: str, where: str
) -> tuple[Violation, list[Fact]] | None:
    """`rule` in one row (`along="row"`) or one column `at`, reported under `where`."""

    def get(k: str) -> Fact | None:
        return cell.get((rule.table, at, k) if rule.along == "row" else (rule.table, k, at))

    return _compare(rid, rule, where, [get(k) for k in rule.parts], [get(k) for k in rule.totals])


def _report_violations(facts: list[Fact]) -> list[tuple[Violation, list[Fact]]]:
    rid = facts[0].report_id
    cell = {(f.table, f.row, f.column): f for f in facts}
    out: list[tuple[Violation, list[Fact]] | None] = []
    t3_rows = {f.row for f in facts if f.table == schema.TABLE3.key}
    if t3_rows:
        rules = identities.table3(infer.from_t3(t3_rows) or T2019)
        out += [_check(rid, cell, rule, c, c) for c in T3_COLUMNS for rule in rules if rule.along == "column"]
        out += [_check(rid, cell, rule, r, r) for rule in rules if rule.along == "row" for r in sorted(t3_rows)]
    out += [_check(rid, cell, rule, r.key, rule.where) for rule in identities.TABLE4 for r in schema.TABLE4.rows]
    return [v for v in out if v is not None]


def violations(facts: Iterable[Fact]) -> list[tuple[Violation, list[Fact]]]:
    """Every broken identity with the facts that take part in it, report by report."""
    by_report: dict[str, list[Fact]] = defaultdict(list)
    for f in facts:
        by_report[f.report_id].append(f)
    return [v for fs in by_report.values() for v in _report_violations(fs)]


def check(facts: list[Fact]) -> list[Violation]:
    """The broken sum identities of Tables 3 and 4 among `facts` (any number of reports)."""
    return [v for v, _ in violations(facts)]


def coverage(facts: list[Fact]) -> list[Coverage]:
    """Per report: expected standard cells found, ambiguous, and missing, by the template each part shows."""
    by_report: dict[str, list[Fact]] = defaultdict(list)
    for f in facts:
        by_report[f.report_id].append(f)
    out = []
    for rid, fs in by_report.items():
        # A part with no facts counts in the template most parts show (one vote per part, not per cell).
        overall = infer.majority(t for _, t in {(f.table, f.template) for f in fs})
        have = {(f.table, f.row, f.column): f for f in fs}
        expected: list[tuple[str, str, str]] = []
        for part in PARTS:
            templates = [f.template for f in fs if f.table == part]
            expected += expected_cells(part, templates[0] if templates else overall)  # type: ignore[arg-type]
        found = sum(1 for k in expected if k in have and have[k].status != "ambiguous")
        ambiguous = sum(1 for k in expected if k in have and have[k].status == "ambiguous")
        missing = tuple(k for k in expected if k not in have)
        out.append(Coverage(rid, overall, found, len(expected), ambiguous, missing))  # type: ignore[arg-type]
    return out
