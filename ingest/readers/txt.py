"""Plain text: scraped pages, one cell per line or a whole page run into one line.

There are no grids in text, so `tables` stays empty; the line stream, blank lines included (they stand
for dropped cells), is what the fact extractor parses.
"""

from __future__ import annotations

from pathlib import Path

from ingest.assemble import assemble
from ingest.draft import Draft, RawLine, load
from ingest.model import Report
from ingest.normalize import decode
from ingest.sections import split_flattened


def read(path: Path, *, agency: str | None = None, year: int | None = None) -> Report:
    path = Path(path)
    data = load(path)
    text = decode(data, path.name)
    draft = Draft(path=path, data=data, source_format="txt")
    for line in text.splitlines():
        draft.lines.extend(RawLine(piece) for piece in split_flattened(line))
    return assemble(draft, agency=agency, year=year)
