"""Recognized words of one page → ruled tables (cells with spans) and the lines of text outside them.

Tables are found from their ruling lines, as a person reads a printed form: long horizontal and vertical strokes
(a morphological opening keeps only strokes much longer than a character), grouped into table regions; row and
column edges are where those strokes lie, and two neighbouring grid positions are one merged cell where no stroke
separates them. Each word goes to the cell holding its centre. Words outside every table are joined into lines by
vertical overlap, left to right, which is also how an unruled table reaches the flattened-text finder.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ingest.readers.scan.engine import Word
from ingest.tables.cells import is_value

_STRAY = 2  # characters: a shorter non-value word beside a value is a stray mark
_EDGE = 0.6  # share of a wall's length that must be inked for two grid positions to be apart


@dataclass
class GridCell:
    row: int
    col: int
    rowspan: int
    colspan: int
    box: tuple[float, float, float, float]
    words: list[Word] = field(default_factory=list)
    inked: bool = False  # something is printed inside (set when the cell was read as a whole)

    @property
    def kept(self) -> list[Word]:
        """Its words less the marks beside a value that were read as a stray letter or two (a seal's ring or a
        stain crossing the cell)."""
        if not any(is_value(w.text) for w in self.words):
            return self.words
        return [w for w in self.words if is_value(w.text) or len(w.text) > _STRAY]

    @property
    def text(self) -> str:
        return "\n".join(" ".join(w.text for w in line) for line in lines_of(self.kept))

    @property
    def confidence(self) -> float:
        """The lowest of its words' (stray marks included: they may hide a digit); an empty cell is sure to be
        blank unless it holds ink (then 0)."""
        return min((w.confidence for w in self.words), default=0.0 if self.inked else 1.0)


@dataclass
class Grid:
    box: tuple[float, float, float, float]
    cells: list[GridCell]
    xs: list[float]  # column rules, page pixels
    ys: list[float]  # row rules


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Start and end (exclusive) of each run of True."""
    padded = np.concatenate(([False], mask, [False]))
    changes = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(changes[::2].tolist(), changes[1::2].tolist(), strict=True))


def _edges(profile: np.ndarray, least: float) -> list[float]:
    """Centres of the runs of a projection profile at or above `least` (one per ruling line)."""
    return [(a + b - 1) / 2 for a, b in _runs(profile >= least)]


def strokes(gray: np.ndarray, char: float) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the horizontal and vertical ruling strokes of a page whose characters are `char` pixels tall."""
    import cv2

    ink = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 12)
    # a text box is about 1.5 glyphs tall: no stroke of a glyph is as long as the box, every ruling line of a
    # one-line row is at least as long
    wide, tall = max(int(char * 2), 15), max(int(char), 10)
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (wide, 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, tall)))
    # close the gaps blur and a residual tilt leave in a stroke
    bridge = max(int(char * 0.6), 3)
    horizontal = cv2.dilate(horizontal, cv2.getStructuringElement(cv2.MORPH_RECT, (bridge, 3)))
    vertical = cv2.dilate(vertical, cv2.getStructuringElement(cv2.MORPH_RECT, (3, bridge)))
    return horizontal > 0, vertical > 0


def grids(gray: np.ndarray, words: list[Word]) -> list[Grid]:
    """The ruled tables of a page, top to bottom (empty: `assign` puts the words in)."""
    import cv2

    char = float(np.median([w.box[3] - w.box[1] for w in words])) if words else 20.0
    horizontal, vertical = strokes(gray, char)
    frame = (horizontal | vertical).astype(np.uint8)
    texted = _texted(gray.shape, words)
    count, _, stats, _ = cv2.connectedComponentsWithStats(frame, connectivity=8)
    found = []
    for k in range(1, count):
        x, y, w, h = stats[k, :4]
        if w < gray.shape[1] * 0.25 or h < char * 2.5:
            continue
        region = (slice(y, y + h), slice(x, x + w))
        grid = _grid(horizontal[region], vertical[region], texted[region], (x, y), char)
        if grid is not None:
            found.append(grid)
    found.sort(key=lambda g: g.box[1])
    return found


Box = tuple[float, float, float, float]


def assign(found: list[Grid], words: list[Word]) -> tuple[list[Word], list[tuple[GridCell, Box]]]:
    """Put each word into the cell holding it; returns the words outside every table, and the pieces of words
    that run across a cell wall (the detector joined two cells' text), each clipped to its cell, to be read again."""
    loose, pieces = [], []
    for word in words:
        cy = (word.box[1] + word.box[3]) / 2
        width = word.box[2] - word.box[0]
        hits = [
            (cell, overlap)
            for grid in found
            for cell in grid.cells
            if cell.box[1] <= cy < cell.box[3]
            and (overlap := min(word.box[2], cell.box[2]) - max(word.box[0], cell.box[0])) > 0
        ]
        wide = [(cell, overlap) for cell, overlap in hits if overlap >= width * 0.2]
        if len(wide) > 1:
            pieces += [(cell, (max(word.box[0], cell.box[0]), word.box[1], min(word.box[2], cell.box[2]), word.box[3]))
                       for cell, _ in wide]
        elif hits:
            max(hits, key=lambda h: h[1])[0].words.append(word)
        else:
            loose.append(word)
    for grid in found:
        owner = {(i, j): c for c in grid.cells for i in range(c.row, c.row + c.rowspan)
                 for j in range(c.col, c.col + c.colspan)}
        numeric = numeric_columns(grid)
        grid.cells = [part for cell in grid.cells for part in _unmerged(grid, cell, owner, numeric)]
    return loose, pieces


def numeric_columns(grid: Grid) -> set[int]:
    """Grid columns whose filled one-column cells are mostly values (Table 3's applicant columns …)."""
    filled: dict[int, list[bool]] = {}
    for cell in grid.cells:
        if cell.colspan == 1 and cell.kept:
            filled.setdefault(cell.col, []).append(is_value(cell.text))
    return {col for col, values in filled.items() if len(values) >= 3 and sum(values) >= 0.6 * len(values)}


def _unmerged(
    grid: Grid, cell: GridCell, owner: dict[tuple[int, int], GridCell], numeric: set[int]
) -> list[GridCell]:
    """A merged cell holding values in several of the grid positions it covers is cells whose rule was lost
    (blurred, or under a seal): they are split again, and so is a value spanning rows (tables merge label cells
    down, never a number) or spanning columns that the row above keeps apart. A real merged cell holds a label,
    or one value under a header as wide.
    Marks a seal leaves (a letter or two read with little confidence) do not count against the values; an empty
    merged cell is split only among columns of numbers (an empty label cell is a real merge)."""
    if not cell.kept and not set(range(cell.col, cell.col + cell.colspan)) <= numeric:
        return [cell]
    values = [w for w in cell.kept if is_value(w.text)]
    above = {id(owner[cell.row - 1, j]) for j in range(cell.col, cell.col + cell.colspan) if (cell.row - 1, j) in owner}
    lost = cell.rowspan > 1 or len(above) > 1
    if (len(values) < 2 and not lost) or len(values) < 0.6 * len(cell.kept):
        return [cell]
    at: dict[tuple[int, int], list[Word]] = {}
    for word in cell.words:
        cx, cy = (word.box[0] + word.box[2]) / 2, (word.box[1] + word.box[3]) / 2
        i = min(max(int(np.searchsorted(grid.ys, cy)) - 1, cell.row), cell.row + cell.rowspan - 1)
        j = min(max(int(np.searchsorted(grid.xs, cx)) - 1, cell.col), cell.col + cell.colspan - 1)
        at.setdefault((i, j), []).append(word)
    if (len(at) < 2 and not lost) or cell.rowspan * cell.colspan == 1:
        return [cell]
    return [
        GridCell(i, j, 1, 1, (grid.xs[j], grid.ys[i], grid.xs[j + 1], grid.ys[i + 1]), at.get((i, j)) or [])
        for i in range(cell.row, cell.row + cell.rowspan)
        for j in range(cell.col, cell.col + cell.colspan)
    ]


def _outside_words(stroke: np.ndarray, texted: np.ndarray) -> bool:
    return bool(stroke.any()) and (stroke & texted).sum() < 0.7 * stroke.sum()


def _texted(shape: tuple[int, ...], words: list[Word]) -> np.ndarray:
    """Where words were read, each box narrowed by a fifth on both sides (a box may touch a cell's rule)."""
    mask = np.zeros(shape[:2], dtype=bool)
    for word in words:
        x0, y0, x1, y1 = word.box
        inset = (x1 - x0) * 0.2
        mask[int(y0) : int(y1) + 1, int(x0 + inset) : int(x1 - inset) + 1] = True
    return mask


def _grid(
    horizontal: np.ndarray, vertical: np.ndarray, texted: np.ndarray, at: tuple[int, int], char: float
) -> Grid | None:
    """The cells of one table region from its strokes; None when it is no grid (a lone rule, a box)."""
    ys = _merge_close(_edges(horizontal.sum(axis=1), char * 2), char * 0.8)
    # a table cut by a page break has no rule under its last row (or over its first): the column rules end there
    height = horizontal.shape[0]
    if ys and height - 1 - ys[-1] > char:
        ys.append(height - 1.0)
    if ys and ys[0] > char:
        ys.insert(0, 0.0)
    xs = _merge_close(_edges(vertical.sum(axis=0), char * 1.5), char * 0.8)
    band = max(int(char * 0.3), 2)
    # strokes of upright text stacked in a cell (`三、本年度办理结果` one character a line) are no column rule:
    # a rule runs outside the words, a glyph's stroke inside one
    xs = [x for x in xs if _outside_words(vertical[:, max(int(x) - band, 0) : int(x) + band + 1].any(axis=1),
                                          texted[:, min(int(x), texted.shape[1] - 1)])]
    if len(ys) < 3 or len(xs) < 3:
        return None
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    parent = list(range(n_rows * n_cols))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def join(a: int, b: int) -> None:
        parent[find(a)] = find(b)

    for i in range(n_rows):
        top, bottom = int(ys[i]), int(ys[i + 1])
        for j in range(1, n_cols):
            x = int(xs[j])
            wall = vertical[top + band : max(bottom - band, top + band + 1), max(x - band, 0) : x + band + 1]
            if wall.size == 0 or wall.any(axis=1).mean() < _EDGE:
                join(i * n_cols + j - 1, i * n_cols + j)
    for j in range(n_cols):
        left, right = int(xs[j]), int(xs[j + 1])
        for i in range(1, n_rows):
            y = int(ys[i])
            wall = horizontal[max(y - band, 0) : y + band + 1, left + band : max(right - band, left + band + 1)]
            if wall.size == 0 or wall.any(axis=0).mean() < _EDGE:
                join((i - 1) * n_cols + j, i * n_cols + j)
    groups: dict[int, list[tuple[int, int]]] = {}
    for i in range(n_rows):
        for j in range(n_cols):
            groups.setdefault(find(i * n_cols + j), []).append((i, j))
    ox, oy = at
    cells = []
    for members in groups.values():
        r0, r1 = min(i for i, _ in members), max(i for i, _ in members)
        c0, c1 = min(j for _, j in members), max(j for _, j in members)
        if len(members) != (r1 - r0 + 1) * (c1 - c0 + 1):  # no merged cell is L-shaped: rules were lost
            cells += [GridCell(i, j, 1, 1, (ox + xs[j], oy + ys[i], ox + xs[j + 1], oy + ys[i + 1]))
                      for i, j in members]
            continue
        box = (ox + xs[c0], oy + ys[r0], ox + xs[c1 + 1], oy + ys[r1 + 1])
        cells.append(GridCell(r0, c0, r1 - r0 + 1, c1 - c0 + 1, box))
    cells.sort(key=lambda c: (c.row, c.col))
    return Grid((ox + xs[0], oy + ys[0], ox + xs[-1], oy + ys[-1]), cells, [ox + x for x in xs], [oy + y for y in ys])


def _merge_close(edges: list[float], gap: float) -> list[float]:
    out: list[float] = []
    for e in edges:
        if out and e - out[-1] < gap:
            out[-1] = (out[-1] + e) / 2
        else:
            out.append(e)
    return out


def lines_of(words: list[Word]) -> list[list[Word]]:
    """Words grouped into lines by vertical overlap, lines top to bottom, words left to right."""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.box[1] + w.box[3]) / 2):
        middle = (word.box[1] + word.box[3]) / 2
        for line in lines:
            top = min(w.box[1] for w in line)
            bottom = max(w.box[3] for w in line)
            if top <= middle <= bottom:
                line.append(word)
                break
        else:
            lines.append([word])
    return [sorted(line, key=lambda w: w.box[0]) for line in lines]
