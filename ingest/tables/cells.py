"""One printed cell → value, unit and kind; a flattened row → the cell strings it can stand for.

Cells are kept as printed (`117批次`, `-185`, `22（其中修订 16 件）`, `?0`, blank); only the value is
derived. Scraped pages run a row's digits together (`220000022`) or drop blank cells, so one row of
text can stand for several rows of cells: `splits` lists them all, and the caller keeps those the
sum identities allow, never picking one silently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from ingest.model import ValueKind
from ingest.normalize import compact

UNITS = ("万元", "元", "件", "批次", "个", "项", "次", "人次", "人", "家", "条", "宗", "份", "起")
# Not-applicable marks, Traditional forms too (scraped pages convert the whole page).
NA = frozenset({"-", "—", "——", "－", "/", "／", "无", "無", "不适用", "不適用", "\\"})
_UNIT = "|".join(sorted(UNITS, key=len, reverse=True))
_NUMBER = re.compile(
    rf"^(?P<sign>[+\-])?(?P<digits>\d[\d,]*(?:\.\d+)?)(?P<unit>{_UNIT})?(?P<note>[（(].*[）)])?$"
)
# A value inside running text: sign, digits, unit, and an annotation only when it holds a number.
VALUE_TOKEN = re.compile(
    rf"[+\-]?\d+(?:\.\d+)?(?:{_UNIT})?(?:[（(][^（）()]*\d[^（）()]*[）)])?"
)
# Split cap: a row whose readings exceed this is left unresolved instead of slowing ingest down.
MAX_READINGS = 200_000


@dataclass(frozen=True)
class Parsed:
    value: float | None
    unit: str
    kind: ValueKind


def parse(raw: str) -> Parsed:
    """Value, unit and kind of one printed cell; the raw string itself is never changed."""
    text = compact(raw)
    if not text:
        return Parsed(None, "", "blank")
    if text in NA:
        return Parsed(None, "", "na")
    m = _NUMBER.match(text)
    if not m:
        return Parsed(None, "", "text")
    value = float(m["digits"].replace(",", ""))
    if m["sign"] == "-":
        value = -value
    return Parsed(value, m["unit"] or "", "zero" if value == 0 else "number")


def is_value(raw: str) -> bool:
    """True for anything a data cell may hold: a number, a not-applicable mark, or nothing."""
    return parse(raw).kind != "text"


def _cuts(token: str) -> list[int]:
    """Positions inside a run-together token where one number may end and the next begin."""
    m = _NUMBER.match(token)
    if not m or "," in m["digits"]:
        return []
    start = m.start("digits")
    body = m["digits"]
    dot = body.find(".")
    cuts = []
    for i in range(1, len(body)):
        if dot >= 0 and i in (dot, dot + 1):
            continue
        cuts.append(start + i)
    return cuts


def whole_cell(text: str) -> bool:
    """Can `text` be one printed cell? Not a number with leading zeros (`023`: digits run together)."""
    return _valid_part(text) or not _NUMBER.match(text)


def _valid_part(part: str) -> bool:
    m = _NUMBER.match(part)
    if not m:
        return False
    d = m["digits"]
    return not (len(d) > 1 and d[0] == "0" and d[1] != ".") and not d.endswith(".")


@dataclass(frozen=True)
class Piece:
    """One cell of a reading: `text` cut from printed token `token` at `start`; token None is a blank cell."""

    token: int | None
    start: int
    text: str


# How plainly the print shows a reading's blank cells, the least plain of them: every one by a mark that stands
# for a blank cell (a non-breaking space, `?`), by spacing that may also just separate cells, or by nothing.
MARKED, SPACED, UNSHOWN = 0, 1, 2


@dataclass(frozen=True)
class Fill:
    """One way a row's printed tokens fill its cells, and what it assumes of the print: a token holding
    several cells run together (`split`), and how plainly its blank cells show (`shown`: MARKED, SPACED,
    UNSHOWN)."""

    pieces: tuple[Piece, ...]
    split: bool
    shown: int

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(p.text for p in self.pieces)


_BLANK = Piece(None, 0, "")


@lru_cache(maxsize=1 << 14)
def amount(text: str) -> float | None:
    """A cell's value in a sum: blank counts as zero (reports print blank for zero); None when it is no number."""
    p = parse(text)
    return 0.0 if p.kind == "blank" else p.value


@dataclass(frozen=True)
class RowSums:
    """Sum identities along a row, by cell index: the cells `parts` add up to the cells `totals`, each pair."""

    checks: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]

    def holds(self, values: Sequence[float | None]) -> bool:
        """Do the identities hold that the first `len(values)` cells complete? (Not when a cell is no number.)"""
        i = len(values)
        for parts, totals in self.checks:
            if max(*parts, *totals) + 1 == i:
                cells = [values[k] for k in (*parts, *totals)]
                if any(v is None for v in cells):
                    return False
                if abs(sum(values[k] for k in parts) - sum(values[k] for k in totals)) > 1e-6:  # type: ignore[misc]
                    return False
        return True

    def state(self, values: Sequence[float | None]) -> tuple[float | None, ...]:
        """What the first cells leave open for the identities not yet complete: their running balance."""
        i = len(values)
        out: list[float | None] = []
        for parts, totals in self.checks:
            if max(*parts, *totals) < i:
                continue
            seen = [(1, values[k]) for k in parts if k < i] + [(-1, values[k]) for k in totals if k < i]
            out.append(None if any(v is None for _, v in seen) else round(sum(s * v for s, v in seen), 6))  # type: ignore[misc]
        return tuple(out)


def fills(
    tokens: Sequence[str],
    n: int,
    *,
    glued: bool,
    marks: Sequence[int],
    spaces: Sequence[int],
    unshown: bool = True,
    sums: RowSums | None = None,
    limit: int = MAX_READINGS,
) -> list[Fill] | None:
    """Every way `tokens` (a row's printed values, in order) fill `n` cells, splits and dropped blanks together.

    A `glued` token may hold several numbers run together (`220000022`); a blank cell may sit at any token
    boundary and, when a token holds several numbers, between them. Boundary `b` (before token `b`; the last
    one after every token) shows `marks[b]` blank cells by marks and `spaces[b]` by any spacing: a reading
    records how plainly its blanks show; with `unshown` False, a blank cell the print shows no trace of is
    not tried at all (a cheaper search, for pages that show every blank). With `sums`, a reading is refused
    as soon as its first cells break one of the row's identities, and a state of the search that led to no
    reading is not searched again. None when there are more than `limit` readings, or the search takes too
    long (the row stays unresolved).
    """
    m = len(tokens)
    out: list[Fill] = []
    dead: set[tuple] = set()
    budget = [limit * 4]

    def trace(j: int, count: int) -> int:
        return MARKED if count <= marks[j] else SPACED if count <= spaces[j] else UNSHOWN

    def walk(acc: tuple[Piece, ...], vals: tuple[float | None, ...], j: int, p: int, here: int, split: bool,
             shown: int) -> int:
        """1: found a reading below here; 0: none; -1: over the limit."""
        budget[0] -= 1
        if budget[0] < 0:
            return -1
        i = len(acc)
        if sums is not None and i and not sums.holds(vals):
            return 0
        if i == n:
            if j != m:
                return 0
            out.append(Fill(acc, split, shown))
            return 1 if len(out) <= limit else -1
        if n - i < m - j:  # every token left needs a cell of its own
            return 0
        # what the rest of the search depends on: the place, blanks already at this boundary, the open sums
        state = (i, j, p, here, sums.state(vals)) if sums is not None else None
        if state in dead:
            return 0
        found = 0
        # a blank cell here: at a boundary, as plainly as its spacing shows it; inside a token, not shown at all
        blank = trace(j, here + 1) if p == 0 else UNSHOWN
        options = [(_BLANK, j, p, here + 1, split, max(shown, blank))] if unshown or blank < UNSHOWN else []
        if j < m:
            rest = tokens[j][p:]
            if glued and rest[:1] in NA and len(rest) > 1:  # a `-` cell run into the number after it (`10件-204`)
                options.append((Piece(j, p, rest[0]), j, p + 1, 0, True, shown))
            if glued:
                options += [(Piece(j, p, rest[:cut]), j, p + cut, 0, True, shown)
                            for cut in _cuts(rest) if _valid_part(rest[:cut])]
            if (p == 0 or _valid_part(rest)) and whole_cell(rest):
                options.append((Piece(j, p, rest), j + 1, 0, 0, split, shown))
        for piece, nj, np, nhere, nsplit, nshown in options:
            got = walk((*acc, piece), (*vals, amount(piece.text)), nj, np, nhere, nsplit, nshown)
            if got < 0:
                return -1
            found |= got
        if not found and state is not None:
            dead.add(state)
        return found

    return None if walk((), (), 0, 0, 0, False, MARKED) < 0 else out
