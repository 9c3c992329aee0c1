"""Word .docx (python-docx): paragraphs and tables in body order, tables as grids with their merges.

python-docx's `row.cells` repeats a merged cell in every grid position it covers; the grid is built from
the XML instead (`gridSpan`, `vMerge`) so a merged cell appears once, at its top-left, with its spans.
Pictures large enough to be a page or a table (a scan pasted into the document) are read by OCR where they
stand; each counts as a page of its own, so its cells can be cited with their box.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph

from ingest.assemble import assemble
from ingest.draft import Draft, RawCell, RawLine, RawTable, load
from ingest.errors import IngestError
from ingest.model import Report
from ingest.readers.archive import check_archive
from ingest.readers.scan import Progress, page, scan_page

_PICTURE_SIDE = 400  # pixels: a smaller picture is a logo or a seal, not a scanned page or table
_BLIP = "{http://schemas.openxmlformats.org/drawingml/2006/main}blip"
_EMBED = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}embed"


def read(
    path: Path, *, agency: str | None = None, year: int | None = None, progress: Progress | None = None
) -> Report:
    path = Path(path)
    data = load(path)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise IngestError(path.name, "not a Word .docx (not a zip archive): the extension does not match the content")
    check_archive(io.BytesIO(data), path.name)
    try:
        document = docx.Document(io.BytesIO(data))
    except (KeyError, ValueError, zipfile.BadZipFile) as error:
        raise IngestError(path.name, f"not a Word .docx document ({error})") from error
    draft = Draft(path=path, data=data, source_format="docx")
    if document.core_properties.title:
        draft.titles.append(document.core_properties.title)
    blocks = list(document.iter_inner_content())
    pictures = [(b, _pictures(b)) for b in blocks if isinstance(b, Paragraph)]
    total = sum(len(p) for _, p in pictures)
    by_paragraph = {id(b): p for b, p in pictures}
    for block in blocks:
        if isinstance(block, Paragraph):
            if block.text.strip():
                draft.lines.append(RawLine(block.text))
            for image in by_paragraph[id(block)]:
                scan_page(draft, len(draft.images) + 1, image)
                if progress:
                    progress(len(draft.images), total)
        elif isinstance(block, DocxTable):
            _table(block, draft)
    return assemble(draft, agency=agency, year=year)


def _pictures(paragraph: Paragraph) -> list:
    """The page-sized pictures shown in a paragraph, in order, as images."""
    out = []
    for blip in paragraph._p.iter(_BLIP):
        part = paragraph.part.related_parts.get(blip.get(_EMBED, ""))
        if part is None:
            continue
        try:
            image = page.load(part.blob)
        except OSError:
            continue  # a format Pillow cannot read (EMF, WMF): drawings, not scans
        if min(image.size) >= _PICTURE_SIDE:
            out.append(image)
    return out


def _table(table: DocxTable, draft: Draft) -> None:
    first = len(draft.lines)
    cells = []
    for r, tr in enumerate(table._tbl.tr_lst):
        for tc in tr.tc_lst:
            if tc.vMerge == "continue":
                continue  # covered by the cell above
            rowspan = tc.bottom - r if tc.vMerge == "restart" else 1
            text = "\n".join(p.text for p in (Paragraph(p, table) for p in tc.p_lst))
            cells.append(RawCell(text, r, tc.grid_offset, max(rowspan, 1), tc.grid_span))
            draft.lines.append(RawLine(text, in_table=True))
    if cells:
        draft.tables.append(RawTable(cells, first_line=first))
