"""The one place a reader's draft becomes a `Report`.

Everything format-independent happens here, so a report reads the same whatever form it came in: the body is
cut out of the site chrome, sections are found, the title, agency, year and publication date are read, and
files that are no annual report are refused.
"""

from __future__ import annotations

import hashlib
import re

from ingest import metadata
from ingest import sections as sectioning
from ingest.chrome import FOOTER, body_bounds
from ingest.draft import Draft, RawLine, refuse_oversized
from ingest.errors import MissingMetadata, NotAReport
from ingest.model import Cell, Line, Report, Section, Table
from ingest.normalize import norm, scrub

_CLOSING = 3  # lines after the body where a signature dated on its own line may stand


def assemble(draft: Draft, *, agency: str | None = None, year: int | None = None) -> Report:
    """Turn a reader's draft into a Report; `agency`/`year` (CLI --agency/--year) win over the file."""
    source = draft.path.name
    refuse_oversized(draft)
    _scrub(draft)
    raw = [line for line in draft.lines if not FOOTER.match(norm(line.text))]
    index_of = {id(line): i for i, line in enumerate(raw)}
    norms = [norm(line.text) for line in raw]
    title_rows, title, title_source = metadata.find_title(norms, draft.titles)
    start, end = body_bounds(raw, norms, title_rows, metadata.is_signature)
    lines, offset = [], 0
    for line in raw[start:end]:
        lines.append(Line(text=line.text, norm=norm(line.text), offset=offset, page=line.page))
        offset += len(line.text) + 1
    no_heading = [line.in_table or row in title_rows for row, line in enumerate(raw[start:end], start=start)]
    built = sectioning.build(lines, no_heading=no_heading, markdown=draft.source_format == "md")
    tables = _tables(draft, raw, index_of, lines, start, built)
    text = "\n".join(norms)
    _check_is_report(source, title, built, tables, text)
    overview = [line.norm for section in built if section.key == "overview" for line in section.lines]
    closing = norms[end : end + _CLOSING]
    found = metadata.agency_year(title, title_source, text, norms[start:end], closing, overview, draft.publishers)
    agency_source = "cli" if agency else found.agency_source
    year_source = "cli" if year else found.year_source
    agency = agency or found.agency
    year = year or found.year
    missing = [name for name, value in (("agency", agency), ("year", year)) if not value]
    if missing:
        raise MissingMetadata(source, f"cannot find the {' and '.join(missing)} in the file; pass --agency/--year")
    return Report(
        agency=agency,  # type: ignore[arg-type]
        year=int(year),  # type: ignore[arg-type]
        title=title or f"{agency}{year}年政府信息公开工作年度报告",
        source=source,
        source_format=draft.source_format,
        content_hash=hashlib.sha256(draft.data).hexdigest(),
        lines=tuple(lines),
        sections=built,
        tables=tables,
        publish_date=metadata.publish_date(draft.dates, norms, norms[start:end]),
        agency_source=agency_source,
        year_source=year_source,
        page_images=tuple(sorted(draft.images.items())),
    )


def _scrub(draft: Draft) -> None:
    """Drop unprintable characters from everything the reader kept, whatever the format."""
    for line in draft.lines:
        line.text = scrub(line.text)
    for table in draft.tables:
        for cell in table.cells:
            cell.text = scrub(cell.text)
    for hints in (draft.titles, draft.publishers, draft.dates):
        hints[:] = [scrub(hint) for hint in hints]


def _tables(
    draft: Draft,
    raw: list[RawLine],
    index_of: dict[int, int],
    lines: list[Line],
    start: int,
    built: tuple[Section, ...],
) -> tuple[Table, ...]:
    path_of = {id(line): section.path for section in built for line in section.lines}
    tables = []
    for raw_table in draft.tables:
        first = raw_table.first_line
        row = index_of.get(id(draft.lines[first])) if first is not None and first < len(draft.lines) else None
        line = lines[row - start] if row is not None and 0 <= row - start < len(lines) else None
        # a table found at a heading line belongs to the section that heading opens
        after = (lines[i] for i in range(row - start, len(lines)) if id(lines[i]) in path_of) if line else iter(())
        owner = next(after, None)
        by_row: dict[int, list[Cell]] = {}
        for cell in raw_table.cells:
            by_row.setdefault(cell.row, []).append(
                Cell(
                    text=cell.text,
                    norm=norm(cell.text),
                    row=cell.row,
                    col=cell.col,
                    rowspan=cell.rowspan,
                    colspan=cell.colspan,
                    page=raw_table.page,
                    box=cell.box,
                    confidence=cell.confidence,
                    alternatives=cell.alternatives,
                )
            )
        rows = tuple(tuple(sorted(by_row[r], key=lambda c: c.col)) for r in sorted(by_row))
        tables.append(
            Table(
                index=len(tables),
                rows=rows,
                section_path=path_of[id(owner)] if owner else (),
                page=raw_table.page,
                offset=line.offset if line else None,
            )
        )
    return tuple(tables)


def _check_is_report(source: str, title: str, built: tuple[Section, ...], tables: tuple[Table, ...], text: str):
    keys = {section.key for section in built} & set(sectioning.ORDER)
    values = any(_is_value(cell.norm) for table in tables for row in table.rows for cell in row)
    if "模板" in norm(title) or (tables and not values and len(keys) >= 3):
        raise NotAReport(source, "a blank template of the annual report (its tables hold no values), not a report")
    if len(keys) < 3 and "本年新收政府信息公开申请数量" not in text:
        raise NotAReport(
            source,
            "none of the annual report's sections (总体情况, 主动公开政府信息情况, 收到和处理政府信息公开申请情况) "
            "were found: not a government information disclosure annual report",
        )


def _is_value(text: str) -> bool:
    """A cell holding a number (`0`, `-185`, `117批次`), not an enumerated label (`1.属于国家秘密`)."""
    return bool(re.match(r"[+-]?\d", text)) and not re.match(r"\d+ ?[.、．] ?[\u4e00-\u9fff]", text)
