"""The sum identities of Tables 3 and 4 (report-format.md), checked on extracted facts, and coverage.

Real reports break their own sums; a broken identity is stored and shown as a `Violation`, never
corrected. Blank cells count as zero (reports print blank for zero), except that an identity whose
result cell is blank is not checked (the report left the total unfilled). Cells that are not
numbers (not applicable, text, ambiguous) make an identity unknowable, so it is skipped.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ingest import schema
from ingest.model import Fact, Violation
from ingest.table_layout import PARTS, T3_COLUMNS, Template, expected_cells

RULE_COLUMN = "一+二 = （七）总计+四"
RULE_HANDLED = "（七）总计 = （一）…（六）之和"
RULE_APPLICANTS = "总计 = 各类申请人之和"
RULE_BLOCK = "总计 = 结果维持+结果纠正+其他结果+尚未审结"
_EDGE_ROWS = ("new", "carried_over", "total_handled", "carried_forward")


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
    report_id: str, table: str, rule: str, where: str, parts: Sequence[Fact | None], result: Fact | None
) -> tuple[Violation, list[Fact]] | None:
    """One identity: `result` = sum of `parts`; None when it holds or cannot be told."""
    if result is None or result.kind == "blank" or any(p is None for p in parts):
        return None
    if all(p.kind == "blank" for p in parts):  # type: ignore[union-attr]
        return None
    values = [_number(p) for p in parts]
    total = _number(result)
    if total is None or any(v is None for v in values):
        return None
    found = sum(values)  # type: ignore[arg-type]
    if abs(found - total) < 1e-6:
        return None
    involved = [f for f in (*parts, result) if f is not None]
    return Violation(report_id, table, rule, where, expected=total, found=found), involved


def sub_rows(rows: set[str]) -> list[str]:
    """The rows （七）总计 adds up: 2019's single （六） row or 2021's three sub-rows."""
    subs = [r.key for r in schema.TABLE3.rows if r.key not in _EDGE_ROWS]
    drop = ("other_handling",) if rows & set(schema.ROWS_2021_ONLY) else schema.ROWS_2021_ONLY
    return [r for r in subs if r not in drop]


def _report_violations(facts: list[Fact]) -> list[tuple[Violation, list[Fact]]]:
    rid = facts[0].report_id
    cell = {(f.table, f.row, f.column): f for f in facts}
    out: list[tuple[Violation, list[Fact]] | None] = []
    t3_rows = {f.row for f in facts if f.table == "requests"}
    if t3_rows:
        subs = sub_rows(t3_rows)
        for c in T3_COLUMNS:
            get = lambda r, c=c: cell.get(("requests", r, c))  # noqa: E731
            left = [get("new"), get("carried_over")]
            right = [get("total_handled"), get("carried_forward")]
            if all(f is not None for f in left + right) and not all(f.kind == "blank" for f in left + right):
                a = [_number(f) for f in left]
                b = [_number(f) for f in right]
                if None not in a and None not in b and abs(sum(a) - sum(b)) > 1e-6:  # type: ignore[arg-type]
                    out.append((Violation(rid, "requests", RULE_COLUMN, c, expected=sum(a), found=sum(b)),
                                [f for f in left + right if f is not None]))
            out.append(_compare(rid, "requests", RULE_HANDLED, c, [get(r) for r in subs], get("total_handled")))
        applicants = T3_COLUMNS[:-1]
        for r in sorted(t3_rows):
            parts = [cell.get(("requests", r, c)) for c in applicants]
            out.append(_compare(rid, "requests", RULE_APPLICANTS, r, parts, cell.get(("requests", r, "total"))))
    for block in ("review", "suit_direct", "suit_after_review"):
        parts = [cell.get(("review", "cases", f"{block}_{c}")) for c in ("upheld", "corrected", "other", "pending")]
        total = cell.get(("review", "cases", f"{block}_total"))
        out.append(_compare(rid, "review", RULE_BLOCK, block, parts, total))
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
        parts = {(f.table, f.template) for f in fs}
        overall = Counter(t for _, t in parts).most_common(1)[0][0]
        have = {(f.table, f.row, f.column): f for f in fs}
        expected: list[tuple[str, str, str]] = []
        for part in PARTS:
            templates = [f.template for f in fs if f.table == part]
            expected += expected_cells(part, templates[0] if templates else overall)
        found = sum(1 for k in expected if k in have and have[k].status != "ambiguous")
        ambiguous = sum(1 for k in expected if k in have and have[k].status == "ambiguous")
        missing = tuple(k for k in expected if k not in have)
        out.append(Coverage(rid, overall, found, len(expected), ambiguous, missing))
    return out
