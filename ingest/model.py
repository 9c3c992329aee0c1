"""The document model every ingest stage passes along, in one file.

Readers turn a file into a `Report`; `tables.extract.extract_facts` turns its tables into `Fact`s;
`chunking.chunk` turns it into `Chunk`s for Chroma. All records are frozen so a stage can
never quietly change what an earlier stage produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ingest.format.template import Template

SourceFormat = Literal["txt", "html", "pdf", "docx", "md", "image"]
SectionKey = Literal["preamble", "overview", "proactive", "requests", "review", "problems", "other"]
ValueKind = Literal["number", "zero", "blank", "na", "text"]
Box = tuple[float, float, float, float]  # x0, top, x1, bottom in pixels of an OCR'd page image
FactStatus = Literal["ok", "ambiguous", "inconsistent"]

# The six standard top-level sections, in report order (report-format.md, "Skeleton").
SECTION_TITLES: dict[str, str] = {
    "overview": "一、总体情况",
    "proactive": "二、主动公开政府信息情况",
    "requests": "三、收到和处理政府信息公开申请情况",
    "review": "四、政府信息公开行政复议、行政诉讼情况",
    "problems": "五、存在的主要问题及改进情况",
    "other": "六、其他需要报告的事项",
}


@dataclass(frozen=True)
class Line:
    """One line of the report's text, as printed; `norm` is the matching form (see normalize.py).

    Every reader provides the whole report as lines: it is what prose chunks and the
    flattened-table parser (one cell per line, scraped pages) work from.
    """

    text: str
    norm: str
    offset: int  # character offset of the line in the reader's plain-text rendering
    page: int | None = None  # 1-based PDF page


@dataclass(frozen=True)
class Cell:
    """One grid cell. Merged cells appear once, at their top-left position, with their span."""

    text: str
    norm: str
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1
    page: int | None = None
    box: Box | None = None  # OCR'd cells: where on the page image (Report.page_images)
    confidence: float | None = None  # OCR'd cells: the lowest probability of any character read
    alternatives: tuple[str, ...] = ()  # OCR'd cells: other readings the recognizer found likely


@dataclass(frozen=True)
class Table:
    """A table as a grid of rows, in the order the reader met it (`index` counts from 0)."""

    index: int
    rows: tuple[tuple[Cell, ...], ...]
    section_path: tuple[str, ...] = ()
    page: int | None = None
    offset: int | None = None  # where the table starts in the plain-text rendering, when known


@dataclass(frozen=True)
class Section:
    """A heading and the lines under it, up to the next heading of any level (`path` gives the nesting)."""

    path: tuple[str, ...]  # printed headings, outermost first, e.g. ("二、主动公开政府信息情况", "第二十条第（六）项")
    key: SectionKey | None  # standard top-level section this one falls under, None when unknown
    lines: tuple[Line, ...]
    page: int | None = None

    @property
    def title(self) -> str:
        return " › ".join(self.path)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@dataclass(frozen=True)
class Report:
    """One annual report of one agency for one year, read from one file."""

    agency: str
    year: int
    title: str
    source: str  # file name as given (no directories: what a citation shows)
    source_format: SourceFormat
    content_hash: str  # sha256 of the file bytes
    lines: tuple[Line, ...]
    sections: tuple[Section, ...]
    tables: tuple[Table, ...]
    publish_date: str | None = None  # ISO date when the page states one
    template: Template | None = None  # table layout version, when recognised
    # The evidence that named the agency and the year: "title" (printed in the body), "meta" (page metadata),
    # "body:subject", "body:signature", "body:contact" … (ingest.metadata.WEIGHTS), "period", "overview",
    # "body" (the year the body speaks of most), or "cli" (--agency/--year).
    agency_source: str | None = None
    year_source: str | None = None
    # OCR'd pages as read (JPEG, deskewed and upright), by page number: what a cell's box points into
    page_images: tuple[tuple[int, bytes], ...] = ()

    @property
    def id(self) -> str:
        """Stable identity: one report per (agency, year); a new file for the same pair replaces it."""
        return f"{self.agency}:{self.year}"

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@dataclass(frozen=True)
class CellRef:
    """Where a fact was read: what a citation points at."""

    source: str
    page: int | None = None
    table_index: int | None = None
    row: int | None = None  # grid row, or line number for flattened text
    col: int | None = None
    offset: int | None = None  # character offset in the plain-text rendering
    box: Box | None = None  # OCR'd cells: the cell on its page image
    confidence: float | None = None  # OCR'd cells: the lowest probability of any character read
    alternatives: tuple[str, ...] = ()  # OCR'd cells: other readings the recognizer found likely


@dataclass(frozen=True)
class Fact:
    """One cell of a standard table (format/schema.py), with its raw text and its provenance."""

    report_id: str
    agency: str
    year: int
    template: Template
    table: str  # schema table key, e.g. "enforcement"
    row: str  # schema row key, e.g. "penalty"
    column: str  # schema column key, e.g. "decisions"
    row_label: str  # label as printed in the report
    column_label: str  # header as printed (or the schema label when the header is lost)
    raw: str  # cell text as printed, never rewritten
    value: float | None  # None for blank, not applicable, text, or an unresolved ambiguity
    unit: str
    kind: ValueKind
    status: FactStatus = "ok"
    candidates: tuple[float, ...] = ()  # the values a flattened row allows, when status is ambiguous
    note: str = ""  # values printed beside the cell under no column (`行政处罚 3 2` → "2"), kept and reported
    ref: CellRef = field(default_factory=lambda: CellRef(source=""))


@dataclass(frozen=True)
class Violation:
    """A broken sum identity (report-format.md): stored and shown, never corrected."""

    report_id: str
    table: str
    rule: str  # e.g. "一+二 = （七）总计+四"
    where: str  # column or block key the identity was checked on
    expected: float
    found: float


@dataclass(frozen=True)
class Chunk:
    """A piece of text to embed, with the flat metadata Chroma stores beside it."""

    id: str
    text: str
    report_id: str
    agency: str
    year: int
    section: str  # heading path joined with " › "
    section_key: str  # standard section key, "" when unknown
    kind: Literal["text", "table"]
    source: str
    page: int | None = None

    def to_langchain(self):
        """Convert at the one edge that needs LangChain's Document (store.py)."""
        from langchain_core.documents import Document

        metadata = {
            "report_id": self.report_id,
            "agency": self.agency,
            "year": self.year,
            "section": self.section,
            "section_key": self.section_key,
            "kind": self.kind,
            "source": self.source,
            "page": self.page if self.page is not None else -1,
        }
        return Document(page_content=self.text, metadata=metadata, id=self.id)
