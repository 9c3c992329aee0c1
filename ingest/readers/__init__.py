"""One reader per file format, each `read(path, *, agency=None, year=None) -> Report`.

`read` picks the reader by extension; each reader checks that the content is what the extension claims.
"""

from __future__ import annotations

from pathlib import Path

from ingest.errors import UnsupportedFormat
from ingest.model import Report
from ingest.readers import docx, html, image, md, pdf, txt
from ingest.readers.scan import Progress

READERS = {
    ".txt": txt.read,
    ".html": html.read,
    ".htm": html.read,
    ".pdf": pdf.read,
    ".docx": docx.read,
    ".md": md.read,
    ".png": image.read,
    ".jpg": image.read,
    ".jpeg": image.read,
    ".tif": image.read,
    ".tiff": image.read,
}
# Readers that may OCR pages, and so report page progress.
SCANNING = frozenset({pdf.read, docx.read, image.read})


def read(
    path: Path, *, agency: str | None = None, year: int | None = None, progress: Progress | None = None
) -> Report:
    """Read any supported file; `agency`/`year` override what the file says (CLI --agency/--year); `progress`
    hears of each page OCR'd (done, total)."""
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise UnsupportedFormat(path.name, f"unsupported file type {path.suffix or '(none)'!r}; known: {known}")
    if reader in SCANNING:
        return reader(path, agency=agency, year=year, progress=progress)
    return reader(path, agency=agency, year=year)
