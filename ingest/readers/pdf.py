"""PDF with a text layer (pdfplumber): page text as lines with page numbers, and the ruled tables it finds.

Page footers (`- 3 -`, `— 5 —`) are dropped from the lines during assembly. Tables are kept per page, as
pdfplumber finds them; a table continued on the next page is a second table (the fact extractor joins them).
One-column "tables" are text frames, not tables, and are skipped.
"""

from __future__ import annotations

import io
from pathlib import Path

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfparser import PDFSyntaxError
from pdfminer.psparser import PSEOF
from pdfplumber.utils.exceptions import PdfminerException

from ingest.assemble import assemble
from ingest.draft import Draft, RawCell, RawLine, RawTable, load
from ingest.errors import IngestError
from ingest.model import Report
from ingest.normalize import norm


def read(path: Path, *, agency: str | None = None, year: int | None = None) -> Report:
    path = Path(path)
    data = load(path)
    if not data.lstrip()[:1024].startswith(b"%PDF") and b"%PDF" not in data[:1024]:
        raise IngestError(path.name, "not a PDF (no %PDF header): the extension does not match the content")
    draft = Draft(path=path, data=data, source_format="pdf")
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            title = pdf.metadata.get("Title")
            if isinstance(title, str):
                draft.titles.append(title)
            for number, page in enumerate(pdf.pages, start=1):
                first = len(draft.lines)
                text = page.extract_text() or ""
                draft.lines += [RawLine(line, page=number) for line in text.splitlines() if line.strip()]
                for table in page.find_tables():
                    raw = _table(table, number)
                    if raw:
                        raw.first_line = _locate(draft.lines, first, raw)
                        draft.tables.append(raw)
    except (PdfminerException, PDFSyntaxError, PSEOF, ValueError, KeyError, TypeError) as error:
        cause = error.args[0] if isinstance(error, PdfminerException) and error.args else error
        raise IngestError(path.name, _reason(cause)) from error
    if not draft.lines:
        raise IngestError(path.name, "the PDF has no text layer (a scan?): run OCR on it first")
    return assemble(draft, agency=agency, year=year)


def _reason(cause: object) -> str:
    if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError):
        return "the PDF is encrypted (password-protected): save an unlocked copy and ingest that"
    if isinstance(cause, PSEOF):
        return "damaged PDF: the file is truncated (an interrupted download?)"
    return f"damaged PDF, cannot be parsed ({type(cause).__name__}: {cause})"


def _table(table, page: int) -> RawTable | None:
    """Grid with spans: pdfplumber aligns cells to the table's column and row edges, so a merged cell's
    span is the number of edges its box covers."""
    boxes = [cell for row in table.rows for cell in row.cells if cell]
    xs = sorted({round(box[0], 1) for box in boxes})
    ys = sorted({round(box[1], 1) for box in boxes})
    if len(xs) < 2:
        return None
    cells = []
    for r, (row, texts) in enumerate(zip(table.rows, table.extract(), strict=True)):
        for box, text in zip(row.cells, texts, strict=True):
            if box is None:
                continue
            x0, top, x1, bottom = (round(v, 1) for v in box)
            colspan = sum(1 for x in xs if x0 <= x < x1) or 1
            rowspan = sum(1 for y in ys if top <= y < bottom) or 1
            cells.append(RawCell(text or "", r, xs.index(x0), rowspan, colspan))
    return RawTable(cells, page=page)


def _locate(lines: list[RawLine], first: int, table: RawTable) -> int | None:
    """Index of the page line where the table's first non-empty cell text appears (at a line start first)."""
    label = next((norm(cell.text.splitlines()[0]) for cell in table.cells if cell.text.strip()), "")
    page = [(index, norm(lines[index].text)) for index in range(first, len(lines))]
    starts = (index for index, text in page if label and text.startswith(label))
    return next(starts, next((index for index, text in page if label and label in text), None))
