"""Who and when a report is about, and the one place a reader's draft becomes a `Report`.

Readers only turn bytes into lines and grids (`Draft`); everything format-independent happens here, so a
report reads the same whatever form it came in: the body is cut out of the site chrome, sections are found,
the title, agency, year and publication date are read, and files that are no annual report are refused.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from ingest import sections as sectioning
from ingest.errors import IngestError, MissingMetadata, NotAReport
from ingest.model import Cell, Line, Report, Section, SourceFormat, Table
from ingest.normalize import clean, norm, scrub

_HAN = re.compile(r"[\u4e00-\u9fff]")
_YEAR = r"(?P<year>(?:19|20)\d{2}) ?年度?"
_TITLE = re.compile(rf"^(?P<pre>.*?){_YEAR} ?(?P<post>.*?)(?:政府信息公开|政务公开|信息公开)")
# An undated title's agency; a title that opens with the report's own name (`政府信息公开工作年度报告`) names none,
# though its first characters (`政府`) would fit the group.
_UNDATED = re.compile(
    r"^(?!(?:关于)?(?:政府信息公开|政务公开|信息公开))(.{2,30}?)(?:关于)?(?:政府信息公开|政务公开|信息公开).*(?:年度报告|年报)"
)
_TITLE_MARK = re.compile(r"^(?:文章)?标 *题 *[:：]? *")
_META_LINE = re.compile(
    r"^(?:标 *题|索引号|文 *号|发布机构|发布日期|发布时间|时间|来源|栏目|原文链接|本地目录|背景色|字号)"
)
_PERIOD = re.compile(r"(?P<year>(?:19|20)\d{2}) ?年 ?1 ?月 ?1 ?日 ?(?:起)? ?至 ?(?:(?P=year) ?年 ?)?12 ?月 ?31 ?日")
_DATE = re.compile(r"(?P<y>(?:19|20)\d{2}) ?[-年./] ?(?P<m>\d{1,2}) ?[-月./] ?(?P<d>\d{1,2}) ?日?")
# A date alone on a line, also garbled by scraping (`2022128` for 2022年1月28日).
_DATE_LINE = re.compile(
    r"^[（(]?(?:(?:19|20)\d{2} ?年 ?\d{1,2} ?月 ?\d{1,2} ?日|20\d{5,6}|(?:19|20)\d{2}-\d{1,2}-\d{1,2})[)）]?$"
)
_PUBLISHED = re.compile(r"(?:发布日期|发布时间|发文日期|成文日期|日期|时间)[:：]? ?(.*)")
_PUBLISHER = re.compile(r"(?:发布机构|来源)[:：]? ?(.+?)(?: 发布日期.*)?$")
_ORG_END = re.compile(r"(?:人民政府|政府|委员会|管委会|办公室|办公厅|厅|局|委|办|中心|署|院|会|实验区|新区)$")
_FOOTER = re.compile(r"^[-—–－―]+ ?\d{1,3} ?[-—–－―]+$|^第 ?\d{1,3} ?页(?: ?共 ?\d{1,3} ?页)?$|^\d{1,3} ?/ ?\d{1,3}$")
_CHROME = re.compile(
    "版权所有|ICP|备案号|网站标识码|主办单位|承办单位|浏览器|联系我们|网站地图|无障碍|关怀版|长者模式|政务微信|政务微博"
    "|扫一扫|当前位置|您的位置|首页|全真版|文字版|附件下载|打印本页|关闭窗口|分享到|-->|<!--|^//|javascript",
    re.IGNORECASE,
)
_ADMIN_END = ("自治区", "省", "市", "自治州", "州", "盟", "地区", "县", "区", "旗")


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


def load(path: Path) -> bytes:
    """The file's bytes; an empty file is refused here, naming it."""
    data = Path(path).read_bytes()
    if not data.strip():
        raise IngestError(Path(path).name, "empty file")
    return data


def assemble(draft: Draft, *, agency: str | None = None, year: int | None = None) -> Report:
    """Turn a reader's draft into a Report; `agency`/`year` (CLI --agency/--year) win over the file."""
    source = draft.path.name
    _scrub(draft)
    raw = [line for line in draft.lines if not _FOOTER.match(norm(line.text))]
    index_of = {id(line): i for i, line in enumerate(raw)}
    norms = [norm(line.text) for line in raw]
    title_rows, title = _title(norms, draft.titles)
    start, end = _body_bounds(raw, norms, title_rows)
    lines, offset = [], 0
    for line in raw[start:end]:
        lines.append(Line(text=line.text, norm=norm(line.text), offset=offset, page=line.page))
        offset += len(line.text) + 1
    no_heading = [line.in_table or row in title_rows for row, line in enumerate(raw[start:end], start=start)]
    built = sectioning.build(lines, no_heading=no_heading, markdown=draft.source_format == "md")
    tables = _tables(draft, raw, index_of, lines, start, built)
    text = "\n".join(norms)
    _check_is_report(source, title, built, tables, text)
    found_agency, found_year = _agency_year(title, text, norms[start:end], draft.publishers)
    agency = agency or found_agency
    year = year or found_year
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
        publish_date=_publish_date(draft.dates, norms, norms[start:end]),
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


def _title(norms: list[str], hints: list[str]) -> tuple[range, str]:
    """The report title and the body rows that print it (empty when the body does not).

    Order: an explicit `标题` line, then page/document metadata, then the first body line(s) that read as a
    title; a title split over lines (`2024 年上海市科委政府信息公开工作` / `年度报告`) is joined."""
    head = [re.sub(r"^#+ *", "", row) for row in norms[:40]]
    rows, printed = _title_rows(head)
    marked = [_TITLE_MARK.sub("", row) for row in head if _TITLE_MARK.match(row)]
    parts = [part for hint in hints for part in re.split(r"[_|]| - ", hint)]
    for candidate in (*marked, *parts):
        if _parse_title(norm(candidate)):
            return rows, clean(candidate)
    if printed:
        return rows, printed
    plain = [row for row in head if len(row) <= 40 and not _META_LINE.match(row)]
    fallback = [*(norm(m) for m in marked), *(norm(p) for p in parts), *plain]
    return rows, next((clean(row) for row in fallback if re.search("年度报告|年报", row)), "")


def _title_rows(head: list[str]) -> tuple[range, str]:
    """First body line(s) reading as a title with an agency and a year, joined when split over lines."""
    for i, row in enumerate(head):
        if not row or _META_LINE.match(row) or _CHROME.search(row):
            continue
        for rows in (range(i, i + 1), range(i, i + 2), range(i - 1, i + 1), range(i - 1, i + 2)):
            if rows.start < 0 or rows.stop > len(head) or not all(head[r] for r in rows):
                continue
            joined = "".join(head[r] for r in rows)
            parsed = _parse_title(joined)
            if parsed and parsed[0] and len(joined) <= 60:
                return rows, joined
    return range(0), ""


def _parse_title(title: str) -> tuple[str, int] | None:
    """(agency as printed in the title, reporting year) of an annual-report title, else None."""
    if not re.search("报告|年报", title):
        return None
    match = _TITLE.search(title)
    if not match:
        return None
    agency = (match.group("pre") or match.group("post")).strip(' ：:，,、《》“”"')
    if agency.endswith("人民") and title[match.end() - 6 : match.end()] == "政府信息公开":
        agency += "政府"  # XX人民政府信息公开工作年度报告
    return agency, int(match.group("year"))


def _body_bounds(raw: list[RawLine], norms: list[str], title_rows: range) -> tuple[int, int]:
    """Rows of the report body: from the title (or first heading or prose line) to the last prose line and
    the signature and date that follow it. What lies outside is site chrome (navigation, breadcrumbs, share
    buttons, `//script` text) or page metadata, whatever the site."""
    probe = [Line(text=line.text, norm=n, offset=0) for line, n in zip(raw, norms, strict=True)]
    headings = [i for i, line in enumerate(probe) if not raw[i].in_table and sectioning.detect(line)]
    content = [i for i, n in enumerate(norms) if _is_prose(n) or (i in headings and not _CHROME.search(n))]
    content = [i for i in content if not _META_LINE.match(norms[i])]
    if not content:
        return 0, len(raw)
    start = content[0]
    between = [n for n in norms[title_rows.stop : start] if n]
    if title_rows and title_rows.start < start and len(between) <= 2:
        start = title_rows.start  # the title opens the body unless chrome separates them (a breadcrumb)
    last = content[-1]
    after_heading = [i for i in range(headings[-1] + 1, len(raw)) if norms[i]] if headings else []
    if after_heading and not _CHROME.search(norms[after_heading[0]]):
        last = max(last, after_heading[0])
    end = last + 1
    for i in range(last + 1, len(raw)):
        if not norms[i]:
            continue
        if _DATE_LINE.match(norms[i]) or _is_signature(norms[i]):
            end = i + 1
            continue
        break
    return start, end


def _is_prose(text: str) -> bool:
    if _CHROME.search(text) and len(text) < 60:
        return False
    return "。" in text or len(_HAN.findall(text)) >= 25


def _is_signature(text: str) -> bool:
    return len(text) <= 30 and " " not in text and bool(_ORG_END.search(text)) and bool(_HAN.search(text))


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


def _agency_year(title: str, text: str, body: list[str], publishers: list[str]) -> tuple[str | None, int | None]:
    parsed = _parse_title(norm(title)) if title else None
    agency, year = parsed if parsed else (_UNDATED.match(norm(title)), None)
    agency = agency.group(1) if isinstance(agency, re.Match) else agency
    if not agency:
        agency = next((p for p in (_publisher(norm(x)) for x in publishers) if p), None)
    if year is None:
        period = _PERIOD.search(text)
        year = int(period.group("year")) if period else None
    if agency:
        agency = _fullest(agency, "".join(body))
    return agency, year


def _publisher(text: str) -> str | None:
    match = _PUBLISHER.search(text)
    value = (match.group(1) if match else text).strip()
    return value if value and _HAN.search(value) else None


def _fullest(agency: str, text: str) -> str:
    """The fullest form of `agency` the report itself states: `西藏自治区住建厅` → `西藏自治区住房和城乡建设厅`
    when the text has it; `洪泽区人民政府` → `淮安市洪泽区人民政府`. Never a name the text does not print."""
    best = agency
    place, rest = _split_place(agency)
    if place and rest:
        for match in re.finditer(re.escape(place), text):
            # a name ends at punctuation, and never holds a year (`常州市人民政府2019年度政府信息公开`)
            tail = re.split(r"[\s，。、；：（）《》“”,.;:()]|(?:19|20)\d{2}", text[match.end() : match.end() + 16])[0]
            for end in range(len(tail), len(rest), -1):
                candidate = tail[:end]
                same_kind = candidate[-1] == rest[-1] or candidate.endswith(rest[-1] + "员会")  # 科委 → 科学技术委员会
                if (
                    _ORG_END.search(candidate)
                    and same_kind
                    and _subsequence(rest, candidate)
                    and len(place + candidate) > len(best)
                ):
                    best = place + candidate
                    break
    if not re.search("省|自治区|市", _split_place(best)[0] or best[:3]):
        for match in re.finditer(re.escape(best), text):
            prefix = _place_prefix(text[max(0, match.start() - 12) : match.start()])
            if prefix and len(prefix + best) > len(best):
                return prefix + best
    return best


def _subsequence(short: str, long: str) -> bool:
    chars = iter(long)
    return all(ch in chars for ch in short)


def _split_place(agency: str) -> tuple[str, str]:
    """(leading place name, the rest): `西藏自治区住建厅` → (`西藏自治区`, `住建厅`)."""
    words = _words(agency)
    place = ""
    for word in words:
        if not word.endswith(_ADMIN_END):
            break
        place += word
    return place, agency[len(place) :]


def _place_prefix(before: str) -> str:
    """Place names right before a name (`本报告由淮安市` → `淮安市`), by word segmentation."""
    words = _words(before)
    prefix = ""
    for word in reversed(words):
        if len(word) < 2 or not word.endswith(_ADMIN_END):
            break
        prefix = word + prefix
    return prefix


def _words(text: str) -> list[str]:
    return list(_jieba().cut(text))


@cache
def _jieba():
    """jieba segments place names (淮安市 / 洪泽区); loaded once, quietly."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def _publish_date(hints: list[str], head: list[str], body: list[str]) -> str | None:
    """ISO date the page states: metadata first, then a `发布日期` line, then the date under the signature."""
    candidates = [norm(h) for h in hints]
    candidates += [m.group(1) for n in head[:15] for m in [_PUBLISHED.search(n)] if m]
    candidates += [n for n in body[-6:] if _DATE_LINE.match(n)]
    for candidate in candidates:
        match = _DATE.search(candidate)
        if match:
            y, m, d = int(match["y"]), int(match["m"]), int(match["d"])
            if 1 <= m <= 12 and 1 <= d <= 31:
                return f"{y:04d}-{m:02d}-{d:02d}"
    return None
