"""Tables 2, 3 and 4 of a report → `Fact`s, one per standard cell, each with where it was printed.

Rows come from the report's grids (`grid`) and from its lines (`flat`); for each standard
table the source that resolves more cells wins. A row whose cells are not known one by one (digits
run together, blank cells dropped) is read every way the printed text allows, and the sum identities
of report-format.md narrow the readings down, row by row and then down Table 3's columns. A cell the
readings still disagree on is `ambiguous` with its candidates; no reading is ever picked silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from itertools import product

from ingest.checks import violations
from ingest.format import identities, infer, schema
from ingest.format.identities import Identity
from ingest.format.layout import PARTS, T2_COLUMNS, T2_KEYS, T3_COLUMNS, T3_WIDTH, T4_COLUMNS, T4_WIDTH
from ingest.format.template import T2019, T2021, Template
from ingest.model import CellRef, Fact, Report
from ingest.normalize import clean as printable
from ingest.normalize import compact
from ingest.tables import flat, grid
from ingest.tables.cells import parse, placements, splits, whole_cell
from ingest.tables.found import FoundRow, Slot

Reading = tuple[Slot, ...]

MAX_COMBINATIONS = 100_000  # Table 3 readings tried together across rows before giving up on narrowing


# ---------------------------------------------------------------- readings of one row


def _number(raw: str) -> float | None:
    """Value for the identities: blank counts as zero (reports print blank for zero)."""
    p = parse(raw)
    return 0.0 if p.kind == "blank" else p.value


def _sums(parts: Sequence[str], totals: Sequence[str], strict: bool = False) -> bool:
    """Do `parts` add up to `totals`? When it cannot be told (a cell that is no number): not `strict`."""
    values = [_number(p) for p in parts]
    expected = [_number(t) for t in totals]
    if any(v is None for v in (*values, *expected)):
        return not strict
    return abs(sum(values) - sum(expected)) < 1e-6  # type: ignore[arg-type]


def _row_holds(rules: Sequence[Identity], columns: Sequence[str]) -> Callable[[tuple[str, ...]], bool]:
    """Accepts a reading of one row only when all its identities hold (blank = 0, anything else no number)."""

    def accept(raws: tuple[str, ...]) -> bool:
        at = dict(zip(columns, raws, strict=True))
        return all(_sums([at[c] for c in r.parts], [at[c] for c in r.totals], strict=True) for r in rules)

    return accept


_T3_ROW = _row_holds([identities.APPLICANTS], T3_COLUMNS)
_T4_ROW = _row_holds(identities.TABLE4, T4_COLUMNS)


def _pieces(slot: Slot, parts: tuple[str, ...]) -> Iterator[Slot]:
    """Slots for the numbers one run-together slot was split into, each with its own offset."""
    pos = 0
    for part in parts:
        at = slot.raw.find(part, pos)
        offset = None if slot.ref.offset is None else slot.ref.offset + max(at, 0)
        yield Slot(part, replace(slot.ref, offset=offset), slot.cols)
        pos = max(at, 0) + len(part)


def readings(
    slots: Sequence[Slot],
    n: int,
    positional: bool,
    accept: Callable[[tuple[str, ...]], bool] | None,
    glued: bool,
) -> tuple[list[Reading], list[Slot]]:
    """The ways a row's slots fill `n` cells, and the slots left over (extra values beside the row).

    Fewer slots than cells means digits run together (`glued` text: each slot may hold several
    numbers) or blank cells dropped (a slot is one cell, the missing ones blank); more slots than cells in
    a text row means blank lines around it, on either side (`_windows`). With an identity,
    the readings it confirms win, splits before placements; when it confirms none (a report's own
    sums can be off) every reading stays and the cells come out ambiguous.
    """
    cells = list(slots)
    windows = _windows(cells, n) if positional and len(cells) > n else []
    if windows:
        confirmed = [w for w in windows if accept is not None and accept(tuple(s.raw for s in w))]
        return confirmed or windows, []
    if positional:
        while len(cells) > n and not cells[0].raw.strip():
            cells.pop(0)
        while len(cells) > n and not cells[-1].raw.strip():
            cells.pop()
    if len(cells) >= n:
        return [tuple(cells[:n])], cells[n:]
    split = splits([compact(s.raw) for s in cells], n) if glued else []
    if split is None:
        return [], []
    by_split = [
        tuple(piece for slot, parts in zip(cells, per_slot, strict=True)
              for piece in ([slot] if len(parts) == 1 else _pieces(slot, parts)))
        for per_slot in split
    ]
    whole = all(whole_cell(compact(s.raw)) for s in cells)
    by_place = [tuple(_blank(cells) if s is None else s for s in p) for p in placements(cells, n)] if whole else []
    if accept is not None:
        for group in (by_split, by_place):
            confirmed = [r for r in group if accept(tuple(s.raw for s in r))]
            if confirmed:
                return confirmed, []
    return by_split + by_place, []


def _windows(cells: list[Slot], n: int) -> list[Reading]:
    """Text rows with surplus blank lines: every run of `n` cells whose surplus on either side is blank, since
    which blanks belong to the row cannot be told (a lone `?` is a blank cell or a junk line after the table).
    None for grid rows: there the surplus leads, the label's empty columns, and is trimmed by the caller."""
    if any(s.cols for s in cells):
        return []
    return [
        tuple(cells[k : k + n])
        for k in range(len(cells) - n + 1)
        if not any(compact(s.raw) for s in (*cells[:k], *cells[k + n :]))
    ]


def _blank(cells: list[Slot]) -> Slot:
    """A cell the printed text dropped: blank, located at the row it belongs to."""
    return Slot("", cells[0].ref if cells else CellRef(""), None)


# ---------------------------------------------------------------- cells → facts


class _Maker:
    """Builds the facts of one report, so every fact carries the same report identity."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def fact(
        self,
        template: Template,
        where: tuple[str, str, str],
        labels: tuple[str, str],
        options: Sequence[Slot],
        printed: str,
        note: str = "",
    ) -> Fact:
        """One cell from the slots the surviving readings put there: one slot → ok, several → ambiguous."""
        table, row, column = where
        unit = schema.table(table).column(column).unit
        base = {
            "report_id": self.report.id, "agency": self.report.agency, "year": self.report.year,
            "template": template, "table": table, "row": row, "column": column,
            "row_label": printable(labels[0]) or schema.table(table).row(row).label,
            "column_label": printable(labels[1]) or schema.table(table).column(column).label, "note": note,
        }
        distinct = {compact(s.raw) for s in options}
        if len(distinct) == 1:
            slot = options[0]
            p = parse(slot.raw)
            return Fact(**base, raw=slot.raw, value=p.value, unit=p.unit or unit, kind=p.kind, ref=slot.ref)
        values = sorted({v for s in options if (v := parse(s.raw).value) is not None})
        ref = options[0].ref if options else CellRef(self.report.source)
        return Fact(**base, raw=printed, value=None, unit=unit, kind="number", status="ambiguous",
                    candidates=tuple(values), ref=ref)


def _printed(found: FoundRow) -> str:
    return " ".join(s.raw for s in found.slots if s.raw.strip())


def _extras_note(extras: Sequence[Slot]) -> str:
    values = [s.raw.strip() for s in extras if compact(s.raw)]
    return " ".join(values)


def _t2_template(found: FoundRow) -> Template | None:
    return infer.from_t2(found.table, ((h.column, h.label) for h in found.headers))


def _t2_facts(make: _Maker, found: FoundRow, template: Template) -> list[Fact]:
    template = _t2_template(found) or template
    spec = schema.table(found.table)
    headers = list(found.headers)
    if headers:
        columns = [(h.column, h.label) for h in headers]
    else:
        defaults = T2_COLUMNS[template].get(found.table, tuple(c.key for c in spec.columns))
        columns = [(c, spec.column(c).label) for c in defaults]
    # Grid positions decide only when the row is as wide as its header (a converter may lose a column).
    ranged = (
        bool(headers and found.slots)
        and all(h.cols for h in headers)
        and all(s.cols for s in found.slots)
        and found.slots[-1].cols[1] >= headers[-1].cols[1]  # type: ignore[index]
    )
    options: list[list[Slot] | None]
    if ranged:
        options, extras = [], []
        used: set[int] = set()
        for h in headers:
            inside = [i for i, s in enumerate(found.slots) if h.cols[0] <= s.cols[0] <= h.cols[1]]  # type: ignore[index]
            used.update(inside)
            options.append([found.slots[inside[0]]] if inside else None)
            first = compact(found.slots[inside[0]].raw) if inside else ""
            extras += [found.slots[i] for i in inside[1:] if compact(found.slots[i].raw) != first]
        extras += [s for i, s in enumerate(found.slots) if i not in used]
    else:
        reads, extras = readings(found.slots, len(columns), found.positional, None, found.origin == "text")
        options = [[r[j] for r in reads] for j in range(len(columns))]
    facts = []
    known = [j for j, (c, _) in enumerate(columns) if c is not None and options[j] is not None]
    for j in known:
        col, label = columns[j]
        note = _extras_note(extras) if j == known[-1] else ""
        facts.append(make.fact(template, (found.table, found.row, str(col)), (found.label, label),
                               options[j] or [], _printed(found), note))
    return facts


def _grid_values(found: FoundRow, n: int, accept: Callable[[tuple[str, ...]], bool]) -> list[Reading]:
    """Readings of a Table 3/4 row; none when values are left over (the row cannot be placed)."""
    reads, extras = readings(found.slots, n, found.positional, accept, found.origin == "text")
    return [] if any(compact(s.raw) for s in extras) else reads


def _t3_rows(found: list[FoundRow]) -> list[FoundRow]:
    """Drop 2021's （六）其他处理 parent label when its three sub-rows are there and it holds nothing."""
    has_sub = infer.from_t3({f.row for f in found}) == T2021
    return [
        f for f in found
        if not (f.row == "other_handling" and has_sub and not any(compact(s.raw) for s in f.slots))
        and (f.positional or f.slots)
    ]


def _column_sums_hold(chosen: dict[str, tuple[str, ...]]) -> bool:
    """Table 3's identities down every column, where the rows they need are all there."""
    rules = identities.table3(infer.from_t3(chosen) or T2019)
    return all(
        _sums([chosen[r][c] for r in rule.parts], [chosen[r][c] for r in rule.totals])
        for rule in rules
        if rule.along == "column" and all(r in chosen for r in (*rule.parts, *rule.totals))
        for c in range(T3_WIDTH)
    )


def narrow(rows: dict[str, list[Reading]]) -> dict[str, list[Reading]]:
    """Keep only the readings of ambiguous Table 3 rows that let every column add up.

    When no combination adds up (the report's own sums are off) the readings stay as they were.
    """
    open_rows = [k for k, r in rows.items() if len(r) > 1]
    combos = 1
    for k in open_rows:
        combos *= len(rows[k])
    if not open_rows or combos > MAX_COMBINATIONS:
        return rows
    fixed = {k: tuple(s.raw for s in r[0]) for k, r in rows.items() if len(r) == 1}
    keep: dict[str, set[int]] = {k: set() for k in open_rows}
    for pick in product(*(range(len(rows[k])) for k in open_rows)):
        chosen = dict(fixed)
        chosen.update({k: tuple(s.raw for s in rows[k][i]) for k, i in zip(open_rows, pick, strict=True)})
        if _column_sums_hold(chosen):
            for k, i in zip(open_rows, pick, strict=True):
                keep[k].add(i)
    if not any(keep.values()):
        return rows
    return {k: [r[i] for i in sorted(keep[k])] if k in keep else r for k, r in rows.items()}


def _t3_facts(make: _Maker, found: list[FoundRow], template: Template) -> list[Fact]:
    found = _t3_rows(found)
    rows = {f.row: _grid_values(f, T3_WIDTH, _T3_ROW) for f in found}
    rows = narrow(rows)
    labels = {c.key: c.label for c in schema.TABLE3.columns}
    return [
        make.fact(template, ("requests", f.row, col), (f.label, labels[col]), [r[j] for r in rows[f.row]],
                  _printed(f))
        for f in found
        for j, col in enumerate(T3_COLUMNS)
    ]


def _t4_facts(make: _Maker, found: list[FoundRow], template: Template) -> list[Fact]:
    labels = {c.key: c.label for c in schema.TABLE4.columns}
    out = []
    for f in found[:1]:
        reads = _grid_values(f, T4_WIDTH, _T4_ROW)
        out += [
            make.fact(template, ("review", "cases", col), (f.label, labels[col]), [r[j] for r in reads],
                      _printed(f))
            for j, col in enumerate(T4_COLUMNS)
        ]
    return out


def report_template(report: Report, found: Sequence[FoundRow]) -> Template:
    """The template the tables print (each Table 2 part and Table 3 vote); the reporting year breaks a tie."""
    if report.template:
        return report.template
    signs = [_t2_template(f) for f in found if f.table in T2_KEYS]
    signs.append(infer.from_t3({f.row for f in found if f.table == schema.TABLE3.key}))
    return infer.decide(signs, report.year)


def _part_facts(make: _Maker, part: str, found: list[FoundRow], template: Template) -> list[Fact]:
    if part == schema.TABLE3.key:
        return _t3_facts(make, found, infer.from_t3({f.row for f in found}) or template)
    if part == schema.TABLE4.key:
        return _t4_facts(make, found, template)
    return [fact for f in found for fact in _t2_facts(make, f, template)]


def extract_facts(report: Report) -> list[Fact]:
    """Every standard cell of the report's Tables 2–4, each a `Fact` pointing at where it was printed."""
    grid_rows = grid.find(report) if report.tables else []
    text_rows = flat.find(report) if report.lines else []
    template = report_template(report, grid_rows or text_rows)
    make = _Maker(report)
    facts: list[Fact] = []
    for part in PARTS:
        options = [
            _part_facts(make, part, [f for f in found if f.table == part], template) for found in (grid_rows, text_rows)
        ]
        facts += max(options, key=lambda fs: (sum(1 for f in fs if f.status == "ok"), len(fs)))
    broken = {id(f) for _, involved in violations(facts) for f in involved}
    return [replace(f, status="inconsistent") if id(f) in broken and f.status == "ok" else f for f in facts]
