"""PDF (pdfplumber): page text as lines with page numbers, and the ruled tables it finds.

Pages without a text layer (a scan, or a scanned page among typed ones) are rendered with pdfium at their
image's own resolution (capped) and read by OCR (`readers.scan`); pages with a text layer always use it.

Page footers (`- 3 -`, `— 5 —`) are dropped from the lines during assembly. Tables are kept per page, as
pdfplumber finds them; a table continued on the next page is a second table (the fact extractor joins them).
One-column "tables" are text frames, not tables, and are skipped.
"""

from __future__ import annotations

import io
from pathlib import Path

import pdfplumber
import pypdfium2
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfparser import PDFSyntaxError
from pdfminer.psparser import PSEOF
from pdfplumber.utils.exceptions import PdfminerException
from PIL import Image

from ingest.assemble import assemble
from ingest.draft import Draft, RawCell, RawLine, RawTable, load
from ingest.errors import IngestError
from ingest.model import Report
from ingest.normalize import norm
from ingest.readers.scan import Progress, scan_page

SCAN_DPI = (150, 300)  # a scanned page is read at its own resolution, kept within these bounds
_TEXT_LAYER = 20  # characters: a page with fewer (a stamp's caption, a page number) and an image is a scan


def read(
    path: Path, *, agency: str | None = None, year: int | None = None, progress: Progress | None = None
) -> Report:
    path = Path(path)
    data = load(path)
    if not data.lstrip()[:1024].startswith(b"%PDF") and b"%PDF" not in data[:1024]:
        raise IngestError(path.name, "not a PDF (no %PDF header): the extension does not match the content")
    draft = Draft(path=path, data=data, source_format="pdf")
    scanned: dict[int, float] = {}  # page number -> dpi to render it at
    pages: list[tuple[int, list[RawLine], list[RawTable]]] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            title = pdf.metadata.get("Title")
            if isinstance(title, str):
                draft.titles.append(title)
            for number, page in enumerate(pdf.pages, start=1):
                text = page.extract_text() or ""
                if len(norm(text)) < _TEXT_LAYER and page.images:
                    scanned[number] = _dpi(page)
                    pages.append((number, [], []))
                    continue
                lines = [RawLine(line, page=number) for line in text.splitlines() if line.strip()]
                pages.append((number, lines, [t for t in (_table(t, number) for t in page.find_tables()) if t]))
    except (PdfminerException, PDFSyntaxError, PSEOF, ValueError, KeyError, TypeError) as error:
        cause = error.args[0] if isinstance(error, PdfminerException) and error.args else error
        raise IngestError(path.name, _reason(cause)) from error
    for number, lines, tables in pages:
        if number in scanned:
            scan_page(draft, number, _render(data, number, scanned[number]))
            if progress:
                progress(sorted(scanned).index(number) + 1, len(scanned))
            continue
        first = len(draft.lines)
        draft.lines += lines
        for raw in tables:
            raw.first_line = _locate(draft.lines, first, raw)
            draft.tables.append(raw)
    if not draft.lines:
        raise IngestError(path.name, "no text found: the PDF has no text layer and OCR read nothing on its pages")
    return assemble(draft, agency=agency, year=year)


def _dpi(page) -> float:
    """The resolution of a scanned page's largest image, within SCAN_DPI."""
    image = max(page.images, key=lambda i: i["width"] * i["height"])
    width_px = (image.get("srcsize") or (0, 0))[0]
    dpi = width_px / (image["width"] / 72) if image["width"] else SCAN_DPI[0]
    return min(max(dpi, SCAN_DPI[0]), SCAN_DPI[1])


def _render(data: bytes, number: int, dpi: float) -> Image.Image:
    document = pypdfium2.PdfDocument(data)
    try:
        return document[number - 1].render(scale=dpi / 72).to_pil()
    finally:
        document.close()


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
