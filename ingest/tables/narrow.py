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

from ingest.format import identities
from ingest.format.identities import Identity
from ingest.format.layout import T3_WIDTH
from ingest.format.template import Template
from ingest.tables.cells import amount
from ingest.tables.readings import Reading

MAX_SUMS = 50_000  # partial sums kept per column identity before it is left out of the narrowing
MAX_STATES = 200_000  # running-sum vectors kept per row before the rows are not added up together
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
    ones): the rows are added up in order, an identity's running sum held until its last row closes it.
    None when the combinations cannot be followed (a cell that is no number, too many running sums) or none
    closes."""
    order = list(dict.fromkeys(k for rule in sorted(rules, key=lambda r: -len(r.parts)) for k in
                               (*rule.parts, *rule.totals)))
    if any(None in values[k][i] for k in order for i in alive[k]):
        return None
    last = [max(order.index(k) for k in (*rule.parts, *rule.totals)) for rule in rules]
    signs = [{**dict.fromkeys(rule.parts, 1), **dict.fromkeys(rule.totals, -1)} for rule in rules]
    zero = (0,) * T3_WIDTH
    start: tuple[Values | None, ...] = (None,) * len(rules)
    layers: list[dict[tuple, list[tuple[tuple, Values]]]] = [{start: []}]
    for pos, key in enumerate(order):
        vectors = list(dict.fromkeys(values[key][i] for i in alive[key]))
        nxt: dict[tuple, list[tuple[tuple, Values]]] = {}
        for state in layers[-1]:
            for vec in vectors:
                new = list(state)
                ok = True
                for n, sign in enumerate(signs):
                    if key not in sign:
                        continue
                    held = new[n] or zero
                    new[n] = tuple(h + sign[key] * v for h, v in zip(held, vec, strict=True))  # type: ignore[operator]
                    if last[n] == pos:
                        ok = all(b == 0 or (n, c) in broken for c, b in enumerate(new[n]))  # type: ignore[arg-type]
                        new[n] = None
                    if not ok:
                        break
                if ok:
                    nxt.setdefault(tuple(new), []).append((state, vec))
        if len(nxt) > MAX_STATES or not nxt:
            return None
        layers.append(nxt)
    used: dict[str, set[Values]] = {k: set() for k in order}
    reached = set(layers[-1])
    for pos in range(len(order), 0, -1):
        before = set()
        for state in reached:
            for prev, vec in layers[pos][state]:
                used[order[pos - 1]].add(vec)
                before.add(prev)
        reached = before
    return {k: [i for i in alive[k] if values[k][i] in used[k]] if k in used else alive[k] for k in alive}


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
