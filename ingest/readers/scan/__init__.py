"""OCR of scanned pages into a reader's draft: prose lines, ruled tables whose cells keep page, box and confidence.

Used by every reader that meets page images: PDF pages without a text layer, pictures in a Word file, and image
files. A page is prepared (seal dropped, tilt straightened, turned if upside down: page.py), its text lines are
detected and read (engine.py), and the words are laid out into tables and lines (layout.py).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

from ingest.doubt import DOUBT
from ingest.draft import Draft, RawCell, RawLine, RawTable
from ingest.readers.scan import layout
from ingest.readers.scan import page as pages
from ingest.readers.scan.engine import Word, engine
from ingest.tables.cells import is_value

_DETECT_SIDE = 1800  # pixels: text is detected on a page reduced to this longer side (about 150 dpi A4)
_INK = 0.002  # share of dark pixels in a cell's interior that says something is printed there
_DARK = 128  # grey level below which a pixel of the levelled page is ink

# Called after each page OCR'd: (pages done, pages to do).
Progress = Callable[[int, int], None]


def read_words(image: Image.Image) -> tuple[np.ndarray, np.ndarray, list[Word]]:
    """The prepared page (grey, straight, upright), cleanly and faintly unsealed (`page.unsealed`), and every
    word read on it, boxes in its pixels."""
    ocr = engine()
    gray, faint = pages.unsealed(image)
    angle = pages.tilt(gray)
    gray, faint = pages.rotate(gray, angle), pages.rotate(faint, angle)
    scale = min(1.0, _DETECT_SIDE / max(gray.shape))
    rgb = np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    probe = rgb if scale == 1.0 else _resized(rgb, scale)
    boxes = [_box(q / scale) for q in ocr.detect(probe)]
    crops = ocr.crops(rgb, boxes)
    if ocr.upside_down(crops):
        gray, faint = np.ascontiguousarray(gray[::-1, ::-1]), np.ascontiguousarray(faint[::-1, ::-1])
        rgb = np.ascontiguousarray(rgb[::-1, ::-1])
        h, w = gray.shape
        boxes = [(w - x1, h - y1, w - x0, h - y0) for x0, y0, x1, y1 in boxes]
        crops = ocr.crops(rgb, boxes)
    words = [
        Word(text, box, confidence, alternatives)
        for box, (text, confidence, alternatives) in zip(boxes, ocr.recognize(crops), strict=True)
        if text.strip()
    ]
    return gray, faint, words


def _resized(image: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def _box(quad: np.ndarray) -> tuple[float, float, float, float]:
    return (float(quad[:, 0].min()), float(quad[:, 1].min()), float(quad[:, 0].max()), float(quad[:, 1].max()))


def _reread(
    gray: np.ndarray, faint: np.ndarray, grids: list[layout.Grid], pieces: list[tuple[layout.GridCell, layout.Box]]
) -> None:
    """Read again, box by box: the pieces of words that ran across a cell wall, and, whole, every cell with ink
    but no word (a lone digit the detector missed, often under a seal) or only a stray mark (`°`, `a`, `!.`: a
    faint digit read from too tight a box), or, in a column of numbers, a character or two (a seal's). Whole cells
    are read from the faintly unsealed page, must read as a value, and are in doubt where the two pages differ
    (through a seal). A cell that still reads as no value is left unread, in doubt."""
    todo = list(pieces)
    for grid in grids:
        numeric = layout.numeric_columns(grid)
        for cell in grid.cells:
            odd = _stray(cell.words) or (cell.col in numeric and _short(cell.kept))
            if (cell.words and not odd) or any(c is cell for c, _ in pieces):
                continue
            cell.words = []
            x0, y0, x1, y1 = (int(v) for v in cell.box)
            pad = max(4, int((y1 - y0) * 0.12))
            inside = (slice(y0 + pad, y1 - pad), slice(x0 + pad, x1 - pad))
            # ink on the faint page may be print the seal hid, or the seal's own rim: unread, it stays in doubt
            cell.inked = _inked(faint[inside])
            if cell.inked:
                todo.append((cell, (x0 + pad, y0 + pad, x1 - pad, y1 - pad)))
    if not todo:
        return
    wholes = {id(cell) for cell, _ in todo[len(pieces) :]}
    pages_rgb = {image_id: np.repeat(image[:, :, None], 3, axis=2) for image_id, image in (("clean", gray),
                                                                                          ("faint", faint))}
    crops = [engine().crops(pages_rgb["faint" if id(cell) in wholes else "clean"], [box])[0] for cell, box in todo]
    for (cell, box), (text, confidence, alternatives) in zip(todo, engine().recognize(crops), strict=True):
        x0, y0, x1, y1 = (int(v) for v in box)
        if id(cell) in wholes and (gray[y0:y1, x0:x1] != faint[y0:y1, x0:x1]).any():
            confidence = min(confidence, DOUBT / 2)
        word = Word(text, box, confidence, alternatives)
        if id(cell) not in wholes or is_value(text):
            cell.words.append(word)


def _inked(area: np.ndarray) -> bool:
    return bool(area.size) and (area < _DARK).mean() > _INK


def _short(words: list[Word]) -> bool:
    """A character or two that is no value (a seal's, in a column of numbers)."""
    text = "".join(w.text for w in words).strip()
    return 0 < len(text) <= 2 and not is_value(text)


def _stray(words: list[Word]) -> bool:
    """Nothing but a mark or two that is neither a value nor a Chinese character."""
    text = "".join(w.text for w in words).strip()
    return len(text) <= 2 and not is_value(text) and not any("\u4e00" <= c <= "\u9fff" for c in text)


def scan_page(draft: Draft, number: int, image: Image.Image) -> None:
    """OCR one page image into `draft`: its lines in reading order, its ruled tables, and the page as read."""
    gray, faint, words = read_words(image)
    grids = layout.grids(gray, words)
    loose, pieces = layout.assign(grids, words)
    _reread(gray, faint, grids, pieces)
    blocks: list[tuple[float, str | layout.Grid]] = [
        (min(w.box[1] for w in line), " ".join(w.text for w in line)) for line in layout.lines_of(loose)
    ]
    blocks += [(g.box[1], g) for g in grids]
    for _, block in sorted(blocks, key=lambda b: b[0]):
        if isinstance(block, str):
            draft.lines.append(RawLine(block, page=number))
            continue
        first = len(draft.lines)
        cells = []
        for cell in block.cells:
            alternatives = tuple(a for w in cell.kept for a in w.alternatives) if len(cell.kept) == 1 else ()
            cells.append(RawCell(cell.text, cell.row, cell.col, cell.rowspan, cell.colspan, box=cell.box,
                                 confidence=cell.confidence, alternatives=alternatives))
            if cell.text:
                draft.lines.append(RawLine(cell.text, page=number, in_table=True))
        draft.tables.append(RawTable(cells, first_line=first if len(draft.lines) > first else None, page=number))
    draft.images[number] = pages.encoded(gray)

