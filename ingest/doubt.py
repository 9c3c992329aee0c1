"""OCR'd cells that must not be trusted become `ambiguous`, with the values they may be.

A scan can be misread where typed text cannot, so a cell read by OCR (its `ref.confidence` is set) is never
trusted on the reading alone when something speaks against it:

- a digit the recognizer was unsure of (rival digits, or a letter read for a digit) that no identity vouches for,
  a cell with ink that nothing could be read from, and a lone blank in a row of printed numbers (a faint 0 lost
  under a seal: reports that print blank for zero do so along the row);
- a cell whose table breaks an identity, when changing that cell alone mends the broken sums: the cells whose
  change mends the most are the suspects, each ambiguous between its printed value and the value that mends.

An identity that was checked and holds vouches for its digits (a misread digit almost never keeps a sum), so a
doubtful digit in Tables 3 and 4 stays trusted when one does; an identity with a cell it cannot tell (blank where
ink was, not a number) vouches for nothing. Text-layer cells are never touched: a report's own broken sums are
shown as `inconsistent`, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ingest.checks import violations
from ingest.format import identities, infer, schema
from ingest.format.template import T2019
from ingest.model import Fact
from ingest.tables.cells import parse

DOUBT = 0.3  # a cell read with a character less likely than this is doubtful even without a rival
_SURE = 0.9  # of two cells whose change mends the sums alike, one read with less is the suspect


def doubt(facts: Sequence[Fact]) -> list[Fact]:
    """`facts` with OCR'd cells left in doubt marked ambiguous (their candidates: every value they may be)."""
    facts = list(facts)
    if not any(f.ref.confidence is not None for f in facts):
        return facts
    flagged: dict[int, set[float]] = {}
    vouched = _vouched(facts)
    lone = _lone_blanks(facts)
    for i, f in enumerate(facts):
        if _unread(f) or i in lone or (i not in vouched and _doubtful(f)):
            flagged[i] = _readings(f)
    for i, mends in _suspects(facts).items():
        flagged.setdefault(i, _readings(facts[i])).update(mends)
    return [
        replace(f, status="ambiguous", value=None, candidates=tuple(sorted(flagged[i]))) if i in flagged else f
        for i, f in enumerate(facts)
    ]


def _doubtful(f: Fact) -> bool:
    confidence = f.ref.confidence
    return confidence is not None and (bool(f.ref.alternatives) or confidence < DOUBT)


def _unread(f: Fact) -> bool:
    """A cell with ink in it that no text could be read from (it may be a faint 0 as well as a blot)."""
    return f.ref.confidence == 0.0 and f.kind == "blank"


def _readings(f: Fact) -> set[float]:
    """The values a cell's print allows: as read (blank as 0) and each alternative reading."""
    values = {0.0 if f.kind == "blank" else f.value}
    values.update(parse(a).value for a in f.ref.alternatives)
    return {v for v in values if v is not None}


def _lone_blanks(facts: list[Fact]) -> set[int]:
    """OCR'd blank cells whose row has something printed in every other cell (a value, or ink unread)."""
    rows: dict[tuple[str, str], list[int]] = {}
    for i, f in enumerate(facts):
        if f.ref.confidence is not None:
            rows.setdefault((f.table, f.row), []).append(i)
    out = set()
    for members in rows.values():
        blanks = [i for i in members if facts[i].kind == "blank" and not _unread(facts[i])]
        if len(blanks) == 1 and len(members) >= 3:
            out.add(blanks[0])
    return out


def _vouched(facts: list[Fact]) -> set[int]:
    """Indices of the facts in an identity that was checked and holds, every one of its cells read."""
    cell = {(f.table, f.row, f.column): i for i, f in enumerate(facts)}
    t3_rows = sorted({f.row for f in facts if f.table == schema.TABLE3.key})
    rules = [*identities.table3(infer.from_t3(set(t3_rows)) or T2019), *identities.TABLE4]
    out: set[int] = set()
    for rule in rules:
        for keys in _instances(rule, t3_rows):
            found = [cell.get(k) for k in keys]
            if any(i is None for i in found):
                continue
            values = [None if _unread(facts[i]) or facts[i].status == "ambiguous" else _value(facts[i])  # type: ignore[index]
                      for i in found]
            if any(v is None for v in values) or not any(values):
                continue
            parts, totals = values[: len(rule.parts)], values[len(rule.parts) :]
            if abs(sum(parts) - sum(totals)) < 1e-6:  # type: ignore[arg-type]
                out.update(found)  # type: ignore[arg-type]
    return out


def _instances(rule: identities.Identity, t3_rows: list[str]) -> list[list[tuple[str, str, str]]]:
    """The cells of each place an identity is checked at: each row of its table, or each column."""
    cells = (*rule.parts, *rule.totals)
    if rule.along == "row":
        rows = t3_rows if rule.table == schema.TABLE3.key else [r.key for r in schema.TABLE4.rows]
        return [[(rule.table, row, column) for column in cells] for row in rows]
    return [[(rule.table, row, column.key) for row in cells] for column in schema.table(rule.table).columns]


def _value(f: Fact) -> float | None:
    return 0.0 if f.kind == "blank" else f.value


def _suspects(facts: list[Fact]) -> dict[int, set[float]]:
    """OCR'd cells whose change alone mends the most broken identities, with the values that mend them."""
    broken = violations(facts)
    if not broken:
        return {}
    index = {id(f): i for i, f in enumerate(facts)}
    involved = {index[id(f)] for _, fs in broken for f in fs if f.ref.confidence is not None and id(f) in index}
    before = len(broken)
    mending: dict[int, tuple[int, set[float]]] = {}
    for i in sorted(involved):
        f = facts[i]
        value = _value(f)
        if value is None:
            continue
        tries = {value + v.expected - v.found for v, fs in broken if any(g is f for g in fs)}
        tries |= {value - v.expected + v.found for v, fs in broken if any(g is f for g in fs)}
        tries |= _readings(f)
        best, values = 0, set()
        for candidate in tries:
            if candidate < 0 or candidate == value:
                continue
            changed = replace(f, value=candidate, kind="number" if candidate else "zero", raw=f"{candidate:g}")
            mended = before - len(violations([*facts[:i], changed, *facts[i + 1 :]]))
            if mended > best:
                best, values = mended, {candidate}
            elif mended == best and mended > 0:
                values.add(candidate)
        if best:
            mending[i] = (best, values)
    if not mending:
        return {i: set() for i in involved if _doubtful(facts[i])}
    most = max(n for n, _ in mending.values())
    tied = {i: values for i, (n, values) in mending.items() if n == most}
    # among cells that would mend as much, the ones read with doubt are the likelier misreadings
    unsure = {i: values for i, values in tied.items() if (facts[i].ref.confidence or 0.0) < _SURE}
    return unsure or tied
