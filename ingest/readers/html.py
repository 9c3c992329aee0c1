"""HTML pages and fragments (BeautifulSoup + lxml).

A full page wraps the report in navigation, share buttons and footers: scripts, styles and navigation
elements are dropped, then the element holding most of the page's non-link text is taken as the article.
Inline elements join into one line (Word-exported HTML splits labels across spans); block elements and
table cells start new lines. Tables become grids with their rowspan/colspan.
"""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Doctype, ProcessingInstruction

from ingest.assemble import assemble
from ingest.draft import Draft, RawCell, RawLine, RawTable, load
from ingest.model import Report
from ingest.normalize import decode

_DROP = (
    "script",
    "style",
    "noscript",
    "nav",
    "iframe",
    "select",
    "button",
    "input",
    "textarea",
    "svg",
    "template",
    "head",
    "object",
    "embed",
)
_BLOCK = frozenset(
    (
        "p",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "aside",
        "main",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "blockquote",
        "pre",
        "center",
        "form",
        "hr",
        "address",
        "figure",
        "figcaption",
        "tr",
        "td",
        "th",
        "caption",
        "tbody",
        "thead",
        "tfoot",
        "title",
        "body",
        "html",
    )
)
_SPACE = re.compile(r"[ \t\r\n\f]+")
_ARTICLE_SHARE = 0.7  # descend into a child holding at least this share of its parent's text
_TITLE_META = ("ArticleTitle", "title", "og:title", "dc.title")
_PUBLISHER_META = ("ContentSource", "publisher", "author", "Author")
_DATE_META = ("PubDate", "pubdate", "publishdate", "article:published_time", "dc.date")


def read(path: Path, *, agency: str | None = None, year: int | None = None) -> Report:
    path = Path(path)
    data = load(path)
    soup = BeautifulSoup(decode(data, path.name), "lxml")
    draft = Draft(path=path, data=data, source_format="html")
    _metadata(soup, draft)
    for tag in soup(_DROP):
        tag.decompose()
    for node in soup.find_all(string=lambda s: isinstance(s, Comment | Doctype | ProcessingInstruction)):
        node.extract()
    root = _article(soup.body or soup)
    _Renderer(draft).render(root)
    return assemble(draft, agency=agency, year=year)


def _metadata(soup: BeautifulSoup, draft: Draft) -> None:
    tags = soup.find_all("meta")  # once: each search walks the whole page, a 20,000-row table included

    def meta(names: tuple[str, ...]) -> list[str]:
        found = []
        for name in names:
            for attr in ("name", "property"):
                for tag in tags:
                    if tag.get(attr) == name and tag.get("content", "").strip():
                        found.append(tag["content"].strip())
        return found

    draft.titles += meta(_TITLE_META)
    if soup.title and soup.title.string:
        draft.titles.append(soup.title.string.strip())
    draft.publishers += meta(_PUBLISHER_META)
    draft.dates += meta(_DATE_META)


def _weight(node: Tag) -> int:
    """Characters of text outside links: navigation is mostly links, the article mostly not."""
    text = len("".join(node.get_text().split()))
    links = sum(len("".join(a.get_text().split())) for a in node.find_all("a"))
    return text - links


def _article(node: Tag) -> Tag:
    """Descend while one child holds most of the text; stop at data tables (their cells are not the page).

    Each level weighs its children once and carries the chosen one's weight down: weighing walks whole
    subtrees, so weighing a node again per level made this the slowest step of reading a page."""
    total = _weight(node)
    while True:
        weighed = [(child, _weight(child)) for child in node.children if isinstance(child, Tag)]
        if not weighed:
            return node
        best, weight = max(weighed, key=lambda pair: pair[1])
        if best.name in ("table", "tbody", "tr") or weight < _ARTICLE_SHARE * total:
            return node
        node, total = best, weight


class _Renderer:
    """Walks the article, producing lines (block boundaries) and table grids."""

    def __init__(self, draft: Draft) -> None:
        self.draft = draft
        self.buffer: list[str] = []

    def render(self, root: Tag) -> None:
        self._walk(root)
        self._flush()

    def _flush(self) -> None:
        text = _SPACE.sub(" ", "".join(self.buffer)).strip(" ")
        self.buffer = []
        if text.strip():
            self.draft.lines.append(RawLine(text))

    def _walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                self.buffer.append(str(child))
            elif child.name == "br":
                self._flush()
            elif child.name == "table":
                self._flush()
                self._table(child)
            elif child.name in _BLOCK:
                self._flush()
                self._walk(child)
                self._flush()
            else:
                self._walk(child)

    def _table(self, table: Tag) -> None:
        first = len(self.draft.lines)
        cells: list[RawCell] = []
        taken: set[tuple[int, int]] = set()
        rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
        for r, tr in enumerate(rows):
            c = 0
            for td in tr.find_all(("td", "th"), recursive=False):
                while (r, c) in taken:
                    c += 1
                rowspan, colspan = _span(td.get("rowspan")), _span(td.get("colspan"))
                taken.update((r + i, c + j) for i in range(rowspan) for j in range(colspan))
                text = _cell_text(td)
                cells.append(RawCell(text, r, c, rowspan, colspan))
                self.draft.lines.append(RawLine(text, in_table=True))
                c += colspan
        if cells:
            self.draft.tables.append(RawTable(cells, first_line=first))


def _span(value: str | list[str] | None) -> int:
    digits = re.match(r"\s*(\d+)", str(value or ""))
    return max(1, min(int(digits.group(1)), 100)) if digits else 1


def _cell_text(td: Tag) -> str:
    """A cell's text with its paragraphs on separate lines (`结果\\n纠正`), as printed."""
    draft = Draft(path=Path(), data=b"", source_format="html")
    _Renderer(draft).render(td)
    return "\n".join(line.text for line in draft.lines)
