"""What the grid and flattened-text finders hand to `extract.py`: standard rows as printed, not yet read.

Both finders give the same records, so choosing a value, splitting run-together digits and checking
identities happen once, whatever the input form was.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.model import CellRef


@dataclass(frozen=True)
class Slot:
    """One printed cell (or one run of text that may hold several) and where it was read."""

    raw: str
    ref: CellRef
    cols: tuple[int, int] | None = None  # first and last grid column it covers, when known


@dataclass(frozen=True)
class Header:
    """A printed column header: its text, the column key it names (None if unknown), its grid columns."""

    label: str
    column: str | None
    cols: tuple[int, int] | None = None


@dataclass(frozen=True)
class FoundRow:
    """One standard row as found: schema keys, the printed label and its cells in order.

    `positional` says the slots stand in their columns (a grid row, or text that keeps blank cells);
    otherwise blank cells may be missing, and where the slots are `glued` a slot may hold several
    numbers run together. Before slot `b` (the last entry: after the last slot) the print shows `marks[b]`
    blank cells by marks (a non-breaking space, `?`) and `room[b]` by any spacing, so a reading can tell a
    blank the print shows from one it dropped.
    """

    table: str
    row: str
    label: str
    slots: tuple[Slot, ...]
    positional: bool
    headers: tuple[Header, ...] = ()
    origin: str = "grid"  # "grid" | "text": which finder produced it
    glued: bool = False
    marks: tuple[int, ...] = ()
    room: tuple[int, ...] = ()
