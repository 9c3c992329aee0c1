"""Headings and sections: find the printed headings and map them to the six standard sections.

Agencies renumber, drop numbers, misspell (行政法复议), nest a standard section one level down (（四）主动公开…)
or put six narrative parts before the tables (上海科委). So a heading is recognised by its numbering
shape (一、 / （一） / 第二十条第（一）项 / 1. / markdown #) and mapped to a standard key by its content words,
never by its number. Everything works on `Line.norm` (normalize.py), so Traditional text maps the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from ingest.format.schema import TABLES
from ingest.model import SECTION_TITLES, Line, Section, SectionKey
from ingest.normalize import clean, norm, simplify, strip_numbering

_CN = "一二三四五六七八九十"
_TOP = re.compile(rf"^(?:第[{_CN}]{{1,3}}部分|[{_CN}]{{1,3}} ?[、.．])\s*")
_SUB = re.compile(rf"^（ ?[{_CN}]{{1,3}} ?）\s*")
_ITEM = re.compile(rf"^第[{_CN}]{{1,3}}条第（[{_CN}]{{1,3}}）项")
_NUM = re.compile(r"^\d{1,2} ?[、.．](?!\d)\s*")
_MD = re.compile(r"^(#{1,6})\s+")
_STOP = re.compile("[。：；！？]")
_PUNCT = re.compile(r"[\s\W_]+")
_MAX_HEADING = 40
_NUMBERS = re.compile(r"\d+(?: +[+-]?\d+(?:\.\d+)?){2,}")  # a table row's values: `21 0 0 0`
_UNNUMBERED = re.compile(r"^(?!无|没有)[^。，；]{2,28}(?:情况|事项)$")

ORDER: tuple[str, ...] = tuple(SECTION_TITLES)  # overview … other, in report order

# Content words that name a standard section outright (a level-2 heading matching one is a demoted top heading).
_STRICT: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("review", re.compile(r"行政.{0,2}复议|行政诉讼")),
    ("requests", re.compile(r"收到.{0,2}处理.{0,12}申请|收到.{0,10}申请.{0,4}情况")),
    ("proactive", re.compile(r"主动公开政府信息")),
    ("problems", re.compile(r"存在的.{0,6}问题|主要问题|问题.{0,4}改进|改进情况|改进措施")),
    ("other", re.compile(r"其他需要报告|其他事项")),
    ("overview", re.compile(r"总体情况|总体概况|概述")),
)
# Words that only hint at a section; used for numbered top-level headings.
_WEAK: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("proactive", re.compile(r"主动公开")),
    ("requests", re.compile(r"申请")),
    ("problems", re.compile(r"问题|改进|不足|下一步|工作计划|工作打算")),
    ("other", re.compile(r"其他")),
    ("overview", re.compile(r"工作.{0,4}情况|基本情况|概况")),
)
# Full standard titles as they appear run into the text of a flattened page (`…。一、总体情况2019年，…`).
_INLINE_TITLES = (
    r"总体情况",
    r"主动公开政府信息(?:的)?情况",
    r"收到和处理政府信息公开申请(?:的)?情况",
    r"(?:因)?政府信息公开(?:工作)?(?:被申请)?(?:申请)?行政.{0,2}复议[^。，]{0,20}?行政诉讼(?:的)?情况",
    r"(?:政府信息公开工作)?存在的主要问题(?:及|和)改进情况",
    r"其他需要报告的事项",
)
_INLINE = re.compile(rf"[{_CN}]{{1,2}}、\s?(?:{'|'.join(_INLINE_TITLES)})")


@dataclass(frozen=True)
class Heading:
    level: int  # 1 top (一、), 2 sub (（一）, 第二十条第（一）项), 3 below (1. or unnumbered markdown)
    text: str  # the heading as printed (display form), without markdown marks
    title: str  # normalized heading without its number: what the content words are matched on
    inline: bool  # prose follows the heading on the same line


@cache
def _table_labels() -> frozenset[str]:
    """Row, column and group labels of the standard tables: a numbered line carrying one is a table row
    (`三、本年度办理结果`, `（七）总计`), not a heading."""
    labels: set[str] = set()
    for spec in TABLES:
        for item in (*spec.rows, *spec.columns):
            for text in (item.label, *item.aliases, item.parent, *item.parent.split(" › ")):
                core = _core(strip_numbering(norm(text)))
                if core:
                    labels.add(core)
    return frozenset(labels)


def _core(text: str) -> str:
    return _PUNCT.sub("", text)


def _is_table_label(title: str) -> bool:
    """A standard table's label, also when broken over lines (PDF) or followed by the row's numbers."""
    if _NUMBERS.search(title):
        return True
    core = _core(title)
    return any(
        core == label or (len(label) >= 4 and core.startswith(label)) or (len(core) >= 4 and label.startswith(core))
        for label in _table_labels()
    )


def detect(line: Line, *, markdown: bool = False) -> Heading | None:
    """The heading this line is, if any. Table rows that look numbered (`一、本年新收…`) are not headings."""
    text, printed = line.norm, clean(line.text)
    md = _MD.match(text) if markdown else None
    if md:
        text, printed = text[md.end() :], printed[len(md.group(1)) :].strip()
    if not text:
        return None
    if _ITEM.match(text) and len(text) <= _MAX_HEADING:
        return Heading(2, printed, text, False)
    for level, pattern in ((1, _TOP), (2, _SUB), (3, _NUM)):
        number = pattern.match(text)
        if number:
            return _numbered(level, text, printed, text[number.end() :], md is not None)
    if md:
        return Heading(2 if len(md.group(1)) <= 2 else 3, printed, text, False)
    if _UNNUMBERED.match(text) and _strict_key(text) and not _is_table_label(text):
        return Heading(2, printed, text, False)  # a standard title that lost its number
    return None


def _numbered(level: int, text: str, printed: str, rest: str, markdown: bool) -> Heading | None:
    stop = _STOP.search(rest)
    title = rest[: stop.start()] if stop else rest
    if not title or len(title) > _MAX_HEADING or _is_table_label(title):
        return None
    if level == 3 and not markdown and (stop or len(text) > 30):
        return None  # "1.加强组织领导，…" is a list item in prose
    inline = bool(stop and rest[stop.end() :].strip())
    if stop:
        cut = _STOP.search(printed) or re.search("[:;]", printed)
        printed = printed[: cut.start()] if cut else printed
    return Heading(level, printed, title, inline)


def _strict_key(title: str) -> str | None:
    return next((key for key, pattern in _STRICT if pattern.search(title)), None)


def _weak_key(title: str) -> str | None:
    return next((key for key, pattern in _WEAK if pattern.search(title)), None)


def split_flattened(text: str) -> list[str]:
    """Cut one scraped line that holds a whole report into lines at the standard top-level titles, and
    split the short space-separated tokens around the report (breadcrumbs, `全真版 文字版`, `附件下载`) onto
    lines of their own so chrome trimming can drop them. Every character but separating spaces is kept, in
    order. A line with fewer than two numbered standard titles is no flattened report and comes back whole."""
    simple = simplify(text)
    matches = list(_INLINE.finditer(simple if len(simple) == len(text) else text))
    if len(matches) < 2:
        return [text]
    starts = {0}
    for match in matches:
        starts.update((match.start(), match.end()))
    cuts = sorted(s for s in starts if s < len(text))
    pieces = [text[a:b] for a, b in zip(cuts, [*cuts[1:], len(text)], strict=True)]
    lines: list[str] = []
    for index, piece in enumerate(pieces):
        if index == 0:
            lines.extend(_split_chrome(piece, leading=True))
        elif index == len(pieces) - 1:
            lines.extend(_split_chrome(piece, leading=False))
        else:
            lines.append(piece)
    return [line for line in lines if line.strip()]


def _split_chrome(piece: str, *, leading: bool) -> list[str]:
    """Split short whitespace-separated tokens off the start (or end) of a flattened piece."""
    tokens = re.split(r"(\s+)", piece)
    words = tokens[0::2]
    prose = [i for i, word in enumerate(words) if len(word) >= 40 or "。" in word]
    if not prose:
        return [word for word in words if word]
    if leading:
        first = prose[0]
        return [*(w for w in words[:first] if w), "".join(tokens[2 * first :])]
    last = prose[-1]
    return ["".join(tokens[: 2 * last + 1]), *(w for w in words[last + 1 :] if w)]


def build(lines: Sequence[Line], *, no_heading: Sequence[bool] = (), markdown: bool = False) -> tuple[Section, ...]:
    """Sections in reading order, one per heading (its lines run to the next heading of any level; `path`
    gives the nesting), plus a `preamble` for what precedes the first heading. Lines flagged `no_heading`
    (table cells, the title) are never headings."""
    flags = list(no_heading) or [False] * len(lines)
    found = [None if flags[i] else detect(line, markdown=markdown) for i, line in enumerate(lines)]
    keys = _top_keys([h for h in found if h])
    sections: list[Section] = []
    stack: list[Heading] = []
    key: str | None = "preamble"
    current: tuple[tuple[str, ...], str | None, int] = ((), "preamble", 0)
    body: list[Line] = []

    def close() -> None:
        path, section_key, page_line = current
        if path or any(line.text.strip() for line in body):
            page = lines[page_line].page if lines else None
            sections.append(Section(path=path, key=section_key, lines=tuple(body), page=page))  # type: ignore[arg-type]

    for index, (line, heading) in enumerate(zip(lines, found, strict=True)):
        if heading is None:
            body.append(line)
            continue
        close()
        body = [line] if heading.inline else []
        promoted = heading.level > 1 and _promotes(heading, key)
        if heading.level == 1:
            stack, key = [heading], keys.pop(0)
        elif promoted:
            stack, key = [heading], _strict_key(heading.title)
        elif _ITEM.match(heading.title):
            items = [i for i, h in enumerate(stack) if _ITEM.match(h.title)]
            stack = [*stack[: items[0] if items else len(stack)], heading]  # a sub-table nests in its section
        else:
            stack = [*(h for h in stack if h.level < heading.level), heading]
        current = (tuple(h.text for h in stack), key, index)
    close()
    return tuple(sections)


def _promotes(heading: Heading, key: str | None) -> bool:
    """A sub-heading that names a later standard section outright is that section, printed one level down
    (西藏: （四）主动公开政府信息情况 under 一、; 上海: （一）主要问题 right after the Table 4 section)."""
    if heading.level != 2 or _ITEM.match(heading.title):
        return False
    strict = _strict_key(heading.title)
    if strict is None or strict == "overview":
        return False
    here = ORDER.index(key) if key in ORDER else -1
    return ORDER.index(strict) > here


def _top_keys(headings: Sequence[Heading]) -> list[SectionKey]:
    """Standard key of each top-level heading, in order. A heading that only hints at proactive disclosure
    or requests (三、主动公开工作情况) is narrative overview when a later heading names that section outright;
    a heading with no content words continues the previous section (or the overview, first)."""
    tops = [h for h in headings if h.level == 1]
    named = [_strict_key(h.title) for h in headings]
    keys: list[SectionKey] = []
    position = 0
    for heading in tops:
        position = headings.index(heading, position)
        strict = _strict_key(heading.title)
        weak = _weak_key(heading.title)
        if strict:
            key = strict
        elif weak in ("proactive", "requests") and weak in named[position + 1 :]:
            key = "overview"
        elif weak:
            key = weak
        else:
            key = keys[-1] if keys else "overview"
        keys.append(key)  # type: ignore[arg-type]
    return keys
