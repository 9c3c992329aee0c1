"""Which cells of a generated report its flattened print cannot tell, whatever a reader does: the gold's
`unknowable` cells for the cell benchmark.

Every printed standard row is read every way its print allows: cells kept apart but blank cells lost
(`dropped`, `spaces`: the printed cells in order, blanks anywhere), or run together (`runs`: the row's text cut
into cells, a non-breaking space where the page prints one for a blank cell). A page is read as one: blank
cells run together without a trace are assumed only if some row of the page cannot be read without them (a
page flattens all its tables alike; issue #12: decide by the schema, over the page). Readings must keep the
row's sum identities (Table 3's applicant total, Table 4's blocks) and, in Table 3, some combination of all
rows must keep every column identity too. A cell is unknowable where the readings left disagree. This is an
exhaustive search written apart from `ingest/tables`, so the benchmark does not grade the extractor by its own
reasoning; only the schema (`ingest.format`) and the value grammar are shared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import combinations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from ingest.format import identities
from ingest.format.layout import T3_COLUMNS, T4_COLUMNS
from ingest.tables.cells import parse
from tests.reportgen import Spec, Style

Key = tuple[str, str, str]
Reading = tuple[str, ...]
_MARK = "\u00a0"


def _text(raw: str) -> str:
    """What a flattened page leaves of a cell: no spacing, no `?` for a non-breaking space."""
    return "".join(ch for ch in raw if not ch.isspace() and ch not in "?？\u3000")


def _value(text: str) -> float | None:
    p = parse(text)
    return 0.0 if p.kind == "blank" else p.value


def _cell(piece: str) -> bool:
    """Could `piece` be one printed cell: a value, with no leading zero on a number."""
    digits = piece.lstrip("+-")
    leading = len(digits) > 1 and digits[0] == "0" and digits[1].isdigit()
    return bool(piece) and parse(piece).kind != "text" and not leading and not piece.endswith(".")


def _balanced(rules: Sequence[tuple[Sequence[int], Sequence[int]]]) -> Callable[[Reading], bool]:
    """Accepts a reading's first cells while each identity they complete adds up (blank = 0)."""
    def ok(prefix: Reading) -> bool:
        for parts, totals in rules:
            if max(*parts, *totals) + 1 != len(prefix):
                continue
            values = [_value(prefix[i]) for i in (*parts, *totals)]
            if None in values or abs(sum(values[: len(parts)]) - sum(values[len(parts):])) > 1e-6:  # type: ignore[arg-type]
                return False
        return True
    return ok


def _cut(pieces: Sequence[str], n: int, blanks: bool, ok: Callable[[Reading], bool]) -> Iterator[Reading]:
    """Every way printed `pieces` (marks `\\u00a0` each a blank cell) fill `n` cells: each piece of digits cut
    into one or more cells, and with `blanks` blank cells anywhere between."""
    text = _MARK.join(pieces)

    def walk(at: int, acc: Reading) -> Iterator[Reading]:
        if acc and not ok(acc):
            return
        if len(acc) == n:
            if at == len(text):
                yield acc
            return
        if text.startswith(_MARK, at):
            yield from walk(at + 1, (*acc, ""))
            return
        if blanks:
            yield from walk(at, (*acc, ""))
        stop = text.find(_MARK, at)
        stop = len(text) if stop < 0 else stop
        for end in range(at + 1, stop + 1):
            if _cell(text[at:end]):
                yield from walk(end, (*acc, text[at:end]))

    yield from walk(0, ())


def _placed(tokens: Sequence[str], n: int, ok: Callable[[Reading], bool]) -> Iterator[Reading]:
    """Printed cells kept apart, in order, with blank cells lost anywhere between them."""
    for where in combinations(range(n), len(tokens)):
        cells = [""] * n
        for i, token in zip(where, tokens, strict=True):
            cells[i] = token
        if all(ok(tuple(cells[:k])) for k in range(1, n + 1)):
            yield tuple(cells)


def _row_readings(raws: Sequence[str], style: Style, drops: bool,
                  rules: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[Reading]:
    """A printed row's readings that keep its identities: `drops`, blank cells may have left no trace."""
    ok = _balanced(rules)
    texts = [_text(r) for r in raws]
    if style.flatten != "runs":
        return list(_placed([t for t in texts if t], len(texts), ok))
    if style.blank:  # each blank cell printed as one mark
        return list(_cut(_between_marks(texts), len(texts), False, ok))
    return list(_cut(["".join(texts)], len(texts), drops, ok))


def _between_marks(texts: Sequence[str]) -> list[str]:
    """A run-together row whose blank cells print one mark each: the runs of text between its blank cells."""
    out = [""]
    for t in texts:
        if t:
            out[-1] += t
        else:
            out.append("")
    return out


def _vector(reading: Reading) -> tuple[float, ...]:
    return tuple(round(_value(x) or 0.0, 6) for x in reading)


def _joint(rows: dict[str, list[Reading]], truth: dict[str, Reading], template: str) -> dict[str, list[Reading]]:
    """Table 3's row readings that some combination of all rows lets every column add up in, found as an
    integer program (scipy's HiGHS): one 0/1 choice per row and distinct value vector, each row choosing one,
    every column identity an equation; a vector is possible when fixing it still leaves a solution."""
    rules = [r for r in identities.table3(template) if r.along == "column"]  # type: ignore[arg-type]
    keys = list(rows)
    vecs = {k: sorted({_vector(r) for r in rows[k]}) for k in keys}
    columns = [(k, v) for k in keys for v in vecs[k]]
    at = {kv: i for i, kv in enumerate(columns)}
    width = len(T3_COLUMNS)
    matrix = np.zeros((len(keys) + len(rules) * width, len(columns)))
    lower = np.zeros(matrix.shape[0])
    for n, k in enumerate(keys):
        for v in vecs[k]:
            matrix[n, at[(k, v)]] = 1
        lower[n] = 1
    for n, rule in enumerate(rules):
        for k, sign in [*((k, 1) for k in rule.parts), *((k, -1) for k in rule.totals)]:
            for v in vecs[k]:
                for c in range(width):
                    matrix[len(keys) + n * width + c, at[(k, v)]] += sign * v[c]
    possible = {(k, _vector(truth[k])) for k in keys}
    for kv in columns:
        if kv in possible:
            continue
        low = np.zeros(len(columns))
        low[at[kv]] = 1
        found = milp(np.zeros(len(columns)), integrality=np.ones(len(columns)), bounds=Bounds(low, 1),
                     constraints=LinearConstraint(matrix, lower, lower))
        if found.success:
            possible.update(columns[i] for i in np.flatnonzero(found.x > 0.5))
    return {k: [r for r in rows[k] if (k, _vector(r)) in possible] for k in keys}


# Layouts of one family (split headers and line endings aside) leave the same cells unknowable: searched once.
_MEMO: dict[tuple, frozenset[Key]] = {}


def unknowable_cells(spec: Spec, style: Style) -> frozenset[Key]:
    """The cells of `spec` printed in `style` whose printed form its print and the identities cannot tell."""
    if not (style.loses_blanks or style.flatten == "runs"):
        return frozenset()
    family = (style.flatten == "runs", style.loses_blanks, bool(style.blank))
    memo = (spec.agency, spec.year, spec.template, spec.seed, spec.noise, family)
    if memo not in _MEMO:
        _MEMO[memo] = frozenset(_search(spec, style))
    return _MEMO[memo]


def _search(spec: Spec, style: Style) -> set[Key]:
    by_row: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for (t, r, c), raw in spec.values.items():
        by_row.setdefault((t, r), []).append((c, raw))
    t3_rules = [_indices(identities.APPLICANTS.parts, identities.APPLICANTS.totals, T3_COLUMNS)]
    t4_rules = [_indices(i.parts, i.totals, T4_COLUMNS) for i in identities.TABLE4]

    def read(drops: bool) -> dict[tuple[str, str], list[Reading]]:
        return {(t, r): _row_readings([raw for _, raw in cells], style, drops,
                                      t3_rules if t == "requests" else t4_rules if t == "review" else [])
                for (t, r), cells in by_row.items()}

    readings = read(False) if style.flatten == "runs" else {}
    if not readings or any(not reads for reads in readings.values()):
        readings = read(style.loses_blanks)
    t3 = {r: reads for (t, r), reads in readings.items() if t == "requests"}
    truth = {r: tuple(_text(raw) for _, raw in cells) for (t, r), cells in by_row.items() if t == "requests"}
    for r, reads in _joint(t3, truth, spec.template).items():
        readings[("requests", r)] = reads
    out: set[Key] = set()
    for (t, r), cells in by_row.items():
        for k, (c, _) in enumerate(cells):
            if len({x[k] for x in readings[(t, r)]}) > 1:
                out.add((t, r, c))
    return out


def _indices(parts: Sequence[str], totals: Sequence[str], columns: Sequence[str]) -> tuple[list[int], list[int]]:
    at = {c: i for i, c in enumerate(columns)}
    return [at[c] for c in parts], [at[c] for c in totals]
