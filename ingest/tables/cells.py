"""One printed cell → value, unit and kind; a flattened row → the cell strings it can stand for.

Cells are kept as printed (`117批次`, `-185`, `22（其中修订 16 件）`, `?0`, blank); only the value is
derived. Scraped pages run a row's digits together (`220000022`) or drop blank cells, so one row of
text can stand for several rows of cells: `splits` lists them all, and the caller keeps those the
sum identities allow, never picking one silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ingest.model import ValueKind
from ingest.normalize import compact

T = TypeVar("T")

UNITS = ("万元", "元", "件", "批次", "个", "项", "次", "人次", "人", "家", "条", "宗", "份", "起")
NA = frozenset({"-", "—", "——", "－", "/", "／", "无", "不适用", "\\"})
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


def _token_splits(token: str, k: int) -> Iterator[tuple[str, ...]]:
    """Every way to read `token` as `k` numbers in order (no leading zeros, decimals kept whole)."""
    if k == 1:
        if whole_cell(token):
            yield (token,)
        return
    for cut in _cuts(token):
        head = token[:cut]
        if not _valid_part(head):
            continue
        for rest in _token_splits(token[cut:], k - 1):
            yield (head, *rest)


def splits(tokens: list[str], n: int) -> list[tuple[tuple[str, ...], ...]] | None:
    """Readings of run-together `tokens` as exactly `n` cells: for each token, the numbers it holds.

    Returns None when there are too many readings to list (the row stays unresolved).
    """
    capacity = [1 + len(_cuts(t)) for t in tokens]
    out: list[tuple[tuple[str, ...], ...]] = []

    def walk(i: int, left: int, acc: tuple[tuple[str, ...], ...]) -> bool:
        if i == len(tokens):
            if left == 0:
                out.append(acc)
            return len(out) <= MAX_READINGS
        room = sum(capacity[i + 1 :])
        for k in range(max(1, left - room), min(capacity[i], left - (len(tokens) - i - 1)) + 1):
            for parts in _token_splits(tokens[i], k):
                if not walk(i + 1, left - k, (*acc, parts)):
                    return False
        return True

    return out if walk(0, n, ()) else None


def placements(values: Sequence[T], n: int) -> Iterator[tuple[T | None, ...]]:
    """Every way to put `values` in order into `n` cells, None for the others (blank cells dropped)."""

    def walk(i: int, j: int, acc: tuple[T | None, ...]) -> Iterator[tuple[T | None, ...]]:
        if j == len(values):
            yield acc + (None,) * (n - i)
            return
        for pos in range(i, n - (len(values) - j) + 1):
            yield from walk(pos + 1, j + 1, (*acc, *(None,) * (pos - i), values[j]))

    yield from walk(0, 0, ())
