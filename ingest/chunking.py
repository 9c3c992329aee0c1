"""Report -> chunks: one per section (split at paragraph boundaries when long) and one per standard table.

Chunks stay short (`Settings.chunk_chars`) because sentence-transformers truncates past 512 tokens.
Table chunks are rendered from the extracted facts, so they read the same whatever the file format
was and carry the standard labels that questions use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import groupby

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.format.schema import BY_KEY
from ingest.model import SECTION_TITLES, Chunk, Fact, Report, Section

SEP = " › "
# Lines that are only numbers, signs or junk are table cells of a flattened table: the table
# chunks carry them with their labels, so prose chunks leave them out.
_CELL_ONLY = re.compile(r"^[\s\d.,+\-%?？/、（）()]*$")
_SENTENCE_END = tuple("。；！？：:;!?")
_MIN_WRAP = 20  # narrower text is a table or a list, not a wrapped page
_WRAPPED = 0.85  # a line this close to the widest was cut by the page width


def chunk(report: Report, facts: Iterable[Fact], max_chars: int) -> list[Chunk]:
    """All chunks of one report, ids unique within it and stable for the same content."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=max_chars,
        chunk_overlap=max_chars // 8,
        separators=["\n", "。", "；", "，", ""],
        keep_separator="end",
    )
    facts = list(facts)
    pieces = [*_section_chunks(report, splitter), *_table_chunks(report, facts, max_chars),
              *_other_table_chunks(report, facts, max_chars)]
    return [
        Chunk(
            id=f"{report.id}:{i}",
            text=text,
            report_id=report.id,
            agency=report.agency,
            year=report.year,
            section=section,
            section_key=key,
            kind=kind,
            source=report.source,
            page=page,
        )
        for i, (text, section, key, kind, page) in enumerate(pieces)
    ]


def _section_chunks(report: Report, splitter: RecursiveCharacterTextSplitter) -> Iterator[tuple]:
    for section in report.sections:
        body = "\n".join(_paragraphs(
            [line.text.strip() for line in section.lines if line.norm and not _CELL_ONLY.match(line.norm)]
        ))
        if not body:
            continue
        heading = _heading(report, section)
        for piece in splitter.split_text(body):
            yield f"{heading}\n{piece}", section.title, section.key or "", "text", section.page


def _paragraphs(lines: list[str]) -> list[str]:
    """Lines rejoined where the page width wrapped them (PDF text): a line nearly as long as the longest,
    not ending a sentence, runs on into the next. Sentences cut in two retrieve and quote badly."""
    width = max(map(len, lines), default=0)
    out: list[str] = []
    last = 0  # length of the previous printed line, before any joining
    for line in lines:
        if out and width >= _MIN_WRAP and last >= _WRAPPED * width and not out[-1].endswith(_SENTENCE_END):
            out[-1] += line
        else:
            out.append(line)
        last = len(line)
    return out


def _heading(report: Report, section: Section) -> str:
    return f"{report.agency}{report.year}年{SEP}{section.title}"


def _other_table_chunks(report: Report, facts: list[Fact], max_chars: int) -> Iterator[tuple]:
    """Tables that hold no standard cell (a 信息处理费 table under 其他需要报告的事项, a statistics table in the
    overview) as `row｜column：cell` lines, headers aligned from the right: their numbers are only in them, and
    prose chunks leave number-only lines out."""
    standard = {f.ref.table_index for f in facts if f.ref.table_index is not None}
    for table in report.tables:
        if table.index in standard or len(table.rows) < 2:
            continue
        header = [c.text.strip() for c in table.rows[0]]
        lines = []
        for row in table.rows[1:]:
            cells = [c.text.strip() for c in row]
            values = [(i, v) for i, v in enumerate(cells) if v and _CELL_ONLY.match(v)]
            label = "".join(v for v in cells if v and not _CELL_ONLY.match(v))
            for i, value in values:
                column = header[i - len(cells)] if len(header) >= len(cells) - i else ""
                lines.append(f"{label}｜{column}：{value}" if column else f"{label}：{value}")
        if not lines:
            continue
        section = SEP.join(table.section_path)
        key = next((s.key for s in report.sections if s.path == table.section_path), None) or ""
        heading = f"{report.agency}{report.year}年{SEP}{section}"
        for piece in _pieces(heading, lines, max_chars):
            yield piece, section, key, "table", table.page


def _pieces(heading: str, lines: list[str], max_chars: int) -> Iterator[str]:
    """`lines` under `heading`, as few chunks as `max_chars` allows."""
    piece: list[str] = []
    for line in lines:
        if piece and len(heading) + sum(len(x) + 1 for x in piece) + len(line) > max_chars:
            yield "\n".join([heading, *piece])
            piece = []
        piece.append(line)
    if piece:
        yield "\n".join([heading, *piece])


def _table_chunks(report: Report, facts: Iterable[Fact], max_chars: int) -> Iterator[tuple]:
    """Readable `row｜column：cell` lines per standard table, blank cells left out."""
    ordered = sorted(facts, key=lambda f: list(BY_KEY).index(f.table))
    for table_key, grouped in groupby(ordered, key=lambda f: f.table):
        group = list(grouped)
        spec = BY_KEY[table_key]
        section = f"{SECTION_TITLES[spec.section]}{SEP}{spec.title}"
        heading = f"{report.agency}{report.year}年{SEP}{section}"
        lines = [
            f"{spec.row(f.row).label}｜{spec.column(f.column).label}：{f.raw}"
            for f in group
            if f.kind != "blank"
        ]
        page = next((f.ref.page for f in group if f.ref.page), None)
        for piece in _pieces(heading, lines, max_chars):
            yield piece, section, spec.section, "table", page
