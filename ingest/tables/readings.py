"""The readings of a found row: every way its printed text fills the row's cells, narrowed by the row's own sum
identities; and what a page's flattening does, decided over all its rows.

A row whose cells are not known one by one (blank cells dropped, digits run together, both) is read every way
the print allows (`cells.fills`). Each reading says what it assumes: a token holding several cells, and how
plainly the print shows its blank cells (by a mark, by spacing, not at all). A page flattens all its tables
the same way, so what its rows need is assumed of every row (`page_layout`): where every row reads with its
blank cells marked, none is dropped; a page that runs cells together shows a blank cell, if at all, as
spacing between two values; only where some row cannot be read otherwise may blank cells vanish anywhere.
No reading is picked within a row: what stays ambiguous stays so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ingest.format.identities import Identity
from ingest.model import CellRef
from ingest.normalize import compact
from ingest.tables.cells import MARKED, SPACED, UNSHOWN, Fill, RowSums, fills
from ingest.tables.found import FoundRow, Slot

Reading = tuple[Slot, ...]
Assumes = tuple[bool, int]  # (cells run together, how plainly blank cells show: cells.MARKED/SPACED/UNSHOWN)


@dataclass(frozen=True)
class RowReadings:
    """A found row and its readings, each with what it assumes; `extras` are values beside the row."""

    found: FoundRow
    readings: tuple[Reading, ...]
    assumes: tuple[Assumes, ...]
    extras: tuple[Slot, ...] = ()
    confirmed: bool = True  # the row's identities hold in its readings (else they are all it can be read as)

    def only(self, layout: frozenset[Assumes]) -> RowReadings:
        """The readings a page layout allows (all of them when it allows none: the row is read as printed)."""
        keep = [i for i, a in enumerate(self.assumes) if a in layout]
        if not keep or len(keep) == len(self.readings):
            return self
        return replace(self, readings=tuple(self.readings[i] for i in keep),
                       assumes=tuple(self.assumes[i] for i in keep))


def row_sums(rules: Sequence[Identity], columns: Sequence[str]) -> RowSums:
    """A table's row identities (Table 3's applicant total, Table 4's blocks) by cell index."""
    at = {c: i for i, c in enumerate(columns)}
    return RowSums(tuple((tuple(at[c] for c in r.parts), tuple(at[c] for c in r.totals)) for r in rules))


def _pieces(slots: Sequence[Slot], fill: Fill, at: CellRef) -> Reading:
    """Slots for the cells of one fill: each number cut from a printed slot keeps its own offset."""
    out = []
    for piece in fill.pieces:
        if piece.token is None:
            out.append(Slot("", at))
            continue
        slot = slots[piece.token]
        if piece.start == 0 and piece.text == compact(slot.raw):  # the whole printed cell, as printed
            out.append(slot)
            continue
        found = slot.raw.find(piece.text, piece.start)
        offset = None if slot.ref.offset is None else slot.ref.offset + max(found, 0)
        out.append(Slot(piece.text, replace(slot.ref, offset=offset), slot.cols))
    return tuple(out)


def read(found: FoundRow, n: int, sums: RowSums | None = None, layout: frozenset[Assumes] | None = None
         ) -> RowReadings:
    """Every reading of a row as `n` cells that its identities (`sums`) allow (`confirmed`); all of them when none
    does (a report's own sums can be off). Only readings a page `layout` allows are searched (default: any run
    together with blank cells showing, or kept apart with blank cells anywhere; `ANY` adds both at once, the
    costly search). Values beyond the `n` cells of a row that keeps its cells apart are extras."""
    cells = list(found.slots)
    if found.positional and len(cells) > n:  # a grid row: the label's empty columns lead, empty cells may trail
        while len(cells) > n and not cells[0].raw.strip():
            cells.pop(0)
        while len(cells) > n and not cells[-1].raw.strip():
            cells.pop()
    if len(cells) >= n:
        return RowReadings(found, (tuple(cells[:n]),), ((False, MARKED),), tuple(cells[n:]))
    tokens = [compact(s.raw) for s in cells]
    none = (0,) * (len(cells) + 1)
    glued = found.glued and not found.positional
    shown = {"marks": found.marks or none, "spaces": found.room or none}
    searches = [(glued, True)] if layout == ANY else [(glued, False), (False, True)]

    def search(checked: RowSums | None) -> list[Fill] | None:
        out: list[Fill] = []
        for split, unshown in searches:
            got = fills(tokens, n, glued=split, unshown=unshown, sums=checked, **shown)  # type: ignore[arg-type]
            if got is None:
                return None
            out += got
        return out

    got = search(sums)
    confirmed = bool(got) or sums is None
    if got == [] and sums is not None:
        got = search(None)
    if not got:
        return RowReadings(found, (), (), confirmed=False)
    at = cells[0].ref if cells else (found.slots[0].ref if found.slots else CellRef(""))
    best: dict[tuple[str, ...], Fill] = {}
    for f in got:
        seen = best.get(f.texts)
        if seen is None or (f.split, f.shown) < (seen.split, seen.shown):
            best[f.texts] = f
    kept = list(best.values())
    return RowReadings(found, tuple(_pieces(cells, f, at) for f in kept), tuple((f.split, f.shown) for f in kept),
                       confirmed=confirmed)


# What a page's flattening may do, each as the set of reading assumptions it allows, from the least assuming.
KEPT: frozenset[Assumes] = frozenset({(False, MARKED)})  # cells apart, blank cells marked
GLUED = frozenset({(False, MARKED), (True, MARKED), (False, SPACED), (True, SPACED)})  # blanks show as spacing
DROPPED = frozenset({(False, MARKED), (False, SPACED), (False, UNSHOWN)})  # cells apart, blanks may vanish
ANY = GLUED | DROPPED | {(True, UNSHOWN)}


def page_layout(rows: Sequence[RowReadings]) -> frozenset[Assumes]:
    """What a page's flattening does, from all its rows (a row that prints no value tells nothing: a parent
    label such as 2021's （六）其他处理 holds none). If every row reads with its cells apart and blank cells
    marked, the page prints them so. Else a page that runs cells together shows a blank cell, if at all, as
    spacing between two values (`GLUED`), and a page that keeps cells apart may drop blank cells anywhere
    (`DROPPED`): whichever explains every row, both when both do (which one the page is cannot be told);
    neither, and cells run together with blank cells gone."""
    sets = [set(r.assumes) for r in rows if r.readings and any(compact(s.raw) for s in r.found.slots)]

    def everywhere(layout: frozenset[Assumes]) -> bool:
        return all(flags & layout for flags in sets)

    if everywhere(KEPT):
        return KEPT
    fits = [layout for layout in (GLUED, DROPPED) if everywhere(layout)]
    return frozenset().union(*fits) if fits else ANY
