"""What a reader found in a file (`Draft`), before anything format-independent is decided.

Readers only turn bytes into lines and grids; `ingest.assemble` turns a draft into a `Report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import IngestError
from ingest.model import Box, SourceFormat

# Characters a file's text may have to be read as one report. The longest reports of the shared corpus have
# under 10,000 and a 20,000-row appendix table about 320,000; text far beyond that is no report, and the steps
# after reading (sections, tables, embedding every chunk) grow with it for hours while holding a write slot.
MAX_CHARS = 1_000_000


@dataclass
class RawLine:
    text: str
    page: int | None = None
    in_table: bool = False  # the text of a table cell, repeated in the line stream


@dataclass
class RawCell:
    text: str
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1
    # OCR'd cells only: where on the page image (x0, top, x1, bottom pixels), how sure the reading is (the lowest
    # character probability), and the other readings the recognizer found likely (rival digits)
    box: Box | None = None
    confidence: float | None = None
    alternatives: tuple[str, ...] = ()


@dataclass
class RawTable:
    cells: list[RawCell]
    first_line: int | None = None  # index in Draft.lines where the table's text starts
    page: int | None = None


@dataclass
class Draft:
    """What a reader found in a file, before anything format-independent is decided."""

    path: Path
    data: bytes
    source_format: SourceFormat
    lines: list[RawLine] = field(default_factory=list)
    tables: list[RawTable] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)  # title candidates from page/document metadata
    publishers: list[str] = field(default_factory=list)  # 发布机构 / source metadata
    dates: list[str] = field(default_factory=list)  # publication date metadata
    images: dict[int, bytes] = field(default_factory=dict)  # OCR'd pages as read (JPEG), by page number


def refuse_oversized(draft: Draft) -> None:
    """Refuse, before the costly steps, text too long to be one report (MAX_CHARS), saying so."""
    chars = sum(len(line.text) for line in draft.lines)
    if chars > MAX_CHARS:
        raise IngestError(draft.path.name, f"the text has {chars:,} characters, more than one report can have "
                          f"(at most {MAX_CHARS:,}): ingest the report on its own, not a collection or a dump")


def load(path: Path) -> bytes:
    """The file's bytes; an empty file is refused here, naming it."""
    data = Path(path).read_bytes()
    if not data.strip():
        raise IngestError(Path(path).name, "empty file")
    return data
