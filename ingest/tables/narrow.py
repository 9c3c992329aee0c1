"""Table 3's readings narrowed down its columns: keep only the readings of each row that let every column add up.

A flattened Table 3 can leave many rows with several readings (blank cells dropped, digits run together), far
too many to try together. Each column identity (一+二 = 七+四, 七 = its sub-rows) is a sum over rows. First,
column by column, a value of one row is kept only if the other rows' possible values there can complete
every sum it is in; a reading survives while each of its seven values does, until nothing changes. Then the
rows are added up in order, keeping every distinct vector of running sums they reach (rows whose readings
differ only where they print 0 or blank add nothing new): a reading survives if some way through all the
rows that uses it closes every identity. An identity that no combination satisfies in a column is the
report's own error there and narrows nothing; when nothing adds up the readings stay as they were.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from ingest.format import identities
from ingest.format.identities import Identity
from ingest.format.layout import T3_WIDTH
from ingest.format.template import Template
from ingest.tables.cells import amount
from ingest.tables.readings import Reading

MAX_SUMS = 50_000  # partial sums kept per column identity before it is left out of the narrowing
SOLVER_SECONDS = 2.0  # time the integer program may take per solution before the narrowing stops there
_SCALE = 1_000_000  # values are compared as integers of millionths (decimal cells add up exactly)

Values = tuple[int | None, ...]
Broken = set[tuple[int, int]]  # (identity, column) that no combination satisfies: the report's own error


def _ints(reading: Reading) -> Values:
    return tuple(None if (v := amount(s.raw)) is None else round(v * _SCALE) for s in reading)


def _supported(terms: Sequence[tuple[int, set[int]]]) -> list[set[int]] | None:
    """For a sum Σ sign·x = 0 over variables with the given possible values: the values of each variable some
    choice of the others completes; None when there are too many partial sums to tell."""
    prefix: list[set[int]] = [{0}]
    for sign, values in terms:
        nxt = {p + sign * v for p in prefix[-1] for v in values}
        if len(nxt) > MAX_SUMS:
            return None
        prefix.append(nxt)
    suffix: list[set[int]] = [{0}]
    for sign, values in reversed(terms):
        nxt = {p + sign * v for p in suffix[-1] for v in values}
        if len(nxt) > MAX_SUMS:
            return None
        suffix.append(nxt)
    suffix.reverse()
    out = []
    for k, (sign, values) in enumerate(terms):
        after = suffix[k + 1]
        out.append({v for v in values if any(-(p + sign * v) in after for p in prefix[k])})
    return out


def _column_rules(rows: dict[str, list[Reading]], template: Template) -> list[Identity]:
    return [r for r in identities.table3(template)
            if r.along == "column" and all(k in rows for k in (*r.parts, *r.totals))]


def _propagate(values: dict[str, list[Values]], rules: Sequence[Identity]) -> tuple[dict[str, list[int]], Broken]:
    """The readings (by index) left once every value no combination of the other rows completes is dropped,
    column by column until stable; and the (identity, column) pairs no combination satisfies."""
    alive = {k: list(range(len(vs))) for k, vs in values.items()}
    broken: Broken = set()
    changed = True
    while changed:
        changed = False
        for n, rule in enumerate(rules):
            keys = [*rule.parts, *rule.totals]
            signs = [1] * len(rule.parts) + [-1] * len(rule.totals)
            for c in range(T3_WIDTH):
                if (n, c) in broken:
                    continue
                domains = [{values[k][i][c] for i in alive[k]} for k in keys]
                if any(None in d for d in domains):
                    continue
                support = _supported(list(zip(signs, domains, strict=True)))  # type: ignore[arg-type]
                if support is None:
                    continue
                if any(not s for s in support):
                    broken.add((n, c))
                    continue
                for k, ok in zip(keys, support, strict=True):
                    kept = [i for i in alive[k] if values[k][i][c] in ok]
                    if len(kept) < len(alive[k]):
                        alive[k] = kept
                        changed = True
    return alive, broken


def _solve(values: dict[str, list[Values]], alive: dict[str, list[int]], rules: Sequence[Identity],
           broken: Broken) -> dict[str, list[int]] | None:
    """The readings that take part in some combination of all rows closing every identity (but the broken
    ones), as an integer program (scipy's HiGHS; hand-written search blows up on tables with many rows in
    doubt): a 0/1 choice per row and distinct value vector, one per row, each column identity an equation.
    Each row's vectors are found one solution at a time, each asked to avoid the vectors already seen. None
    when it cannot be told (a cell that is no number, the solver's time limit) or no combination closes."""
    keys = list(dict.fromkeys(k for rule in rules for k in (*rule.parts, *rule.totals)))
    vectors = {k: list(dict.fromkeys(values[k][i] for i in alive[k])) for k in keys}
    if any(None in v for k in keys for v in vectors[k]):
        return None
    choices = [(k, v) for k in keys for v in vectors[k]]
    at = {kv: i for i, kv in enumerate(choices)}
    equations = []
    for k in keys:
        equations.append([1.0 if kk == k else 0.0 for kk, _ in choices] + [1.0])
    for n, rule in enumerate(rules):
        signs = {**dict.fromkeys(rule.parts, 1), **dict.fromkeys(rule.totals, -1)}
        for c in range(T3_WIDTH):
            if (n, c) not in broken:
                equations.append([signs.get(k, 0) * v[c] / _SCALE for k, v in choices] + [0.0])  # type: ignore[operator]
    matrix = np.array(equations)
    closing = LinearConstraint(matrix[:, :-1], matrix[:, -1], matrix[:, -1])
    seen: set[tuple[str, Values]] = set()

    def solution(avoid: list[int]) -> bool | None:
        """Is there a combination choosing none of `avoid`? (None: the solver could not tell in time.)"""
        cost = np.zeros(len(choices))
        cost[avoid] = 1.0
        found = milp(cost, integrality=np.ones(len(choices)), bounds=Bounds(0, 1), constraints=closing,
                     options={"time_limit": SOLVER_SECONDS})
        if found.status == 2 or (found.status == 0 and found.fun > 0.5):  # infeasible, or only with `avoid`
            return False
        if found.status != 0:
            return None
        seen.update(choices[i] for i in np.flatnonzero(found.x > 0.5))
        return True

    if not solution([]):
        return None
    for k in keys:
        while len(vectors[k]) > 1:
            got = solution([at[(k, v)] for v in vectors[k] if (k, v) in seen])
            if got is None:
                return None
            if not got:
                break
    return {k: [i for i in alive[k] if (k, values[k][i]) in seen] if k in vectors else alive[k] for k in alive}


def narrow(rows: dict[str, list[Reading]], template: Template) -> dict[str, list[Reading]]:
    """Keep only the readings of Table 3's rows that let every column add up (see the module docstring)."""
    placed = {k: r for k, r in rows.items() if r}  # a row that cannot be placed is left out of the sums
    rules = _column_rules(placed, template)
    if not rules or all(len(r) == 1 for r in placed.values()):
        return rows
    values = {k: [_ints(r) for r in reads] for k, reads in placed.items()}
    alive, broken = _propagate(values, rules)
    alive = _solve(values, alive, rules, broken) or alive
    return {k: [rows[k][i] for i in alive[k]] if k in alive else r for k, r in rows.items()}
