"""Markdown (often converted from PDF or OCR): pipe tables become grids, `#` headings mark sections."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.assemble import assemble
from ingest.draft import Draft, RawCell, RawLine, RawTable, load
from ingest.model import Report
from ingest.normalize import decode

_ROW = re.compile(r"^\s*\|.*\|\s*$")
_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_PIPE = re.compile(r"(?<!\\)\|")


def read(path: Path, *, agency: str | None = None, year: int | None = None) -> Report:
    path = Path(path)
    data = load(path)
    draft = Draft(path=path, data=data, source_format="md")
    table: RawTable | None = None
    for text in decode(data, path.name).splitlines():
        in_table = bool(_ROW.match(text))
        if not in_table:
            table = None
        elif not _RULE.match(text):
            if table is None:
                table = RawTable([], first_line=len(draft.lines))
                draft.tables.append(table)
            row = len({cell.row for cell in table.cells})
            cells = _PIPE.split(text.strip())[1:-1]
            table.cells += [RawCell(cell.strip().replace("\\|", "|"), row, col) for col, cell in enumerate(cells)]
        draft.lines.append(RawLine(text, in_table=in_table))
    return assemble(draft, agency=agency, year=year)
