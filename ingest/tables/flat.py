"""Standard rows from a report's lines, for tables that reached us flattened (scraped pages, PDF text).

The text is searched for the standard labels in order; a row's cells are what lies between its label
and the next one, up to the first prose. Scraped text flattens a table in a few ways, and which one a row
shows is decided by the schema, never by the spacing of one sample:
- one cell a line, blank cells kept as empty lines, with padding lines between cells (and more between
  rows): the padding is the one the whole page's rows decode with into exactly as many cells as their
  table has columns;
- one table row a line, cells separated by a tab, `|` or U+3000: the row splits into exactly its width;
- anything else (blank cells dropped, cells separated by runs of spaces, digits run together): the row's
  printed values in order, with how many blank cells each gap between them shows room for; `readings.py`
  reads them every way they allow.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from ingest.format.labels import T2_ITEMS, T2_TITLE, T4_WORDS
from ingest.format.layout import T2_KEYS, T3_ORDER, T3_WIDTH, T4_WIDTH
from ingest.format.schema import TABLE3
from ingest.format.template import by_year
from ingest.model import CellRef, Line, Report
from ingest.normalize import compact, key, match_form, strip_numbering
from ingest.tables.cells import NA, VALUE_TOKEN, is_value
from ingest.tables.found import FoundRow, Header, Slot
from ingest.tables.labels import FUZZY, column_patterns, resolve_columns, row_patterns

_FOOTER = re.compile(r"^\s*[-—－–]\s*\d+\s*[-—－–]\s*$")
_TOKEN = re.compile(
    r"(?P<gap>[\s|]+)"
    r"|(?P<junk>[?？\u00a0\u3000\u200b]+)"
    r"|(?P<gloss>\([a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\))"
    r"|(?P<numbering>\d+[.．](?!\d))"
    rf"|(?P<value>{VALUE_TOKEN.pattern})"
    r"|(?P<text>[^\s|?？\d]+)"
)
# Not-applicable marks, one by one (`/无` is two cells), longest first.
_NA_MARK = re.compile("|".join(re.escape(m) for m in sorted(NA, key=len, reverse=True)))
_MARKS_RUN = re.compile(f"(?:{_NA_MARK.pattern})+")
_RULE = re.compile(r"[-—－]{2,}")
T3_STARTS = ("勾稽关系", "申请人情况", "本年新收政府信息公开申请数量")
# Cell separators a row printed on one line may use; runs of spaces are not one (a blank cell merges into them).
_SEPARATORS = ("\t", "|", "\u3000")
# Characters a blank cell may print as; a gap of them is room for as many blank cells.
_ROOM = re.compile(r"[\s|?？\u00a0\u3000\u200b]")
_MARKS = re.compile(r"[?？\u00a0]")
_PLAIN = re.compile(r"[ \t\n]")
# A year opening the paragraph after a table (`…收费02025年，我局…`): prose, not the row's last digits.
_YEAR = re.compile(r"(?:19|20)\d\d$")
_YEAR_WORD = "年"
MAX_PADDING = 6  # line ends after a cell tried when a page keeps blank cells as empty lines
Spacing = tuple[int, int]  # (line ends after a printed cell, lines a blank cell takes)
_SPACINGS: tuple[Spacing, ...] = tuple((a, b) for a in range(1, MAX_PADDING + 1) for b in range(1, a + 1))


@dataclass
class Token:
    kind: str  # value | text
    text: str
    start: int  # index in the joined text


@dataclass
class Flat:
    """The report's lines joined (page footers left out), with the matching form mapped back."""

    text: str
    form: str
    index: list[int]  # form position -> text position
    starts: list[int]  # text position of each kept line
    lines: list[tuple[int, Line]]  # (line number in the report, line)
    source: str

    @classmethod
    def of(cls, report: Report) -> Flat:
        kept = [(i, ln) for i, ln in enumerate(report.lines) if not _FOOTER.match(ln.text)]
        starts, pos = [], 0
        for _, ln in kept:
            starts.append(pos)
            pos += len(ln.text) + 1
        text = "\n".join(ln.text for _, ln in kept)
        form, index = match_form(text)
        return cls(text, form, index, starts, kept, report.source)

    def ref(self, pos: int) -> CellRef:
        i = bisect.bisect_right(self.starts, pos) - 1
        number, line = self.lines[i]
        return CellRef(self.source, line.page, None, number, None, line.offset + pos - self.starts[i])

    def to_text(self, form_pos: int) -> int:
        return self.index[form_pos] if form_pos < len(self.index) else len(self.text)

    def after(self, form_end: int) -> int:
        """Text position just after the form character before `form_end` (skipping a pinyin gloss)."""
        if form_end <= 0:
            return 0
        pos = self.index[form_end - 1] + 1
        m = _TOKEN.match(self.text, pos)
        return m.end() if m and m.lastgroup == "gloss" else pos

    def tokens(self, a: int, b: int) -> list[Token]:
        """Values and words in text[a:b]; not-applicable marks run together (`/无`) are one value each, but not
        a rule of dashes (`---`, a Markdown table's)."""
        out = []
        for m in _TOKEN.finditer(self.text, a, b):
            kind, text = m.lastgroup, m.group()
            if kind == "text" and _MARKS_RUN.fullmatch(text) and not _RULE.fullmatch(text):
                out += [Token("value", n.group(), m.start() + n.start()) for n in _NA_MARK.finditer(text)]
            elif kind in ("value", "text", "numbering"):
                out.append(Token("value" if kind == "value" or compact(text) in NA else "text", text, m.start()))
        return out


@dataclass(frozen=True)
class Anchor:
    start: int  # form positions
    end: int
    table: str
    row: str
    kind: str  # row | title | column
    score: float


@dataclass(frozen=True)
class _Span:
    """A standard row found by its label: the text after the label (`a`..`b`) holds its `n` cells."""

    table: str
    row: str
    label: str
    a: int
    b: int
    n: int
    headers: tuple[Header, ...] = ()
    header_above: bool = False  # the label is a header row above the values (Table 4), not a cell of the row


@dataclass(frozen=True)
class _Region:
    """The printed values of one row, up to the first prose after them."""

    values: tuple[Token, ...]
    end: int  # text position where the row's text stops


def _occurrences(form: str, needle: str, lo: int, hi: int) -> list[int]:
    out, i = [], form.find(needle, lo, hi)
    while i >= 0:
        out.append(i)
        i = form.find(needle, i + 1, hi)
    return out


# ---------------------------------------------------------------- one row's text


def _region(flat: Flat, span: _Span) -> _Region:
    """The row's value tokens: text before the first value that is the label's rest is skipped; the first other
    text ends the row, and a year opening that prose (`2025年`) is cut off the last value it ran into."""
    own = key(span.label)
    values: list[Token] = []
    end = span.b
    tokens = flat.tokens(span.a, span.b)
    for k, t in enumerate(tokens):
        if t.kind == "value":
            values.append(t)
            continue
        if not values and (key(t.text) in own or (len(key(t.text)) < 4 and not _joined(tokens, k + 1))):
            continue  # the label's rest, or a short word (`（单位：万元）`) not running into a number (`数据1`)
        end = t.start
        if values and t.text.startswith(_YEAR_WORD) and _joined(tokens, k):
            last = values.pop()
            head = last.text[:-4] if _YEAR.search(last.text) else last.text
            if head != last.text and head:
                values.append(Token("value", head, last.start))
            end = last.start + len(head)
        break
    return _Region(tuple(values), end)


def _joined(tokens: list[Token], k: int) -> bool:
    """Does token k follow token k-1 with nothing between them?"""
    if not 0 < k < len(tokens):
        return False
    prev = tokens[k - 1]
    return prev.start + len(prev.text) == tokens[k].start


def _line_items(flat: Flat, span: _Span, region: _Region) -> list[tuple[int, Token | None]] | None:
    """(line, value or None for an explicit blank such as `?`) per line after the label's, when the row prints
    one cell a line; None when it does not (a value on the label's line, or two on one line)."""
    text = flat.text[span.a : region.end]
    lines = text.split("\n")
    if len(lines) < 2 or any(v.start < span.a + len(lines[0]) for v in region.values):
        return None
    items: list[tuple[int, Token | None]] = []
    pos = span.a + len(lines[0]) + 1
    by_start = {v.start: v for v in region.values}
    for number, line in enumerate(lines[1:], start=1):
        here = [by_start[p] for p in by_start if pos <= p < pos + len(line)]
        if len(here) > 1:
            return None
        if here:
            items.append((number, here[0]))
        elif line.strip() and not compact(line) and number < len(lines) - 1:
            items.append((number, None))
        pos += len(line) + 1
    return items


def _decode(
    items: list[tuple[int, Token | None]], last_line: int, spacing: Spacing, n: int, lead: int | None = 0
) -> tuple[list[Token | None], int] | None:
    """The row's cells when a printed cell is followed by `spacing[0]` line ends and a blank cell takes
    `spacing[1]` lines: the lines between printed cells are blank cells, and those the row still lacks end it;
    with the line ends left after them (the padding before the next row). None when the lines do not fit or
    the cells do not fill the row. `lead`: line ends the row's first cell takes beyond a cell's (the row
    separator, when the label is a header row above); None when that is not known: then only the cells from
    the first printed one to the last."""
    after, blank = spacing
    cells: list[Token | None] = []
    line = 0
    for k, (number, item) in enumerate(items):
        floating = lead is None and k == 0  # how many blank cells open the row is not known
        blanks, rest = divmod(number - line - after - (lead or 0 if k == 0 else 0), blank)
        if not floating and (blanks < 0 or rest):
            return None
        cells += [None] * (0 if floating else blanks) + [item]
        line = number
    missing = max(n - len(cells), 0)
    tail = last_line - line - after - missing * blank
    if lead is None:
        return (cells, tail) if cells and len(cells) <= n else None
    if missing == 0:  # lines after the row's cells are junk (`?` lines after a table) or nothing
        return (cells[:n], tail) if all(c is None for c in cells[n:]) else None
    # the last blank cell may own a single line end (a table's last row: nothing follows to pad it)
    return (cells + [None] * missing, tail) if last_line - line >= missing * blank + 1 else None


def _fields(flat: Flat, span: _Span, region: _Region, n: int) -> list[tuple[str, int]] | None:
    """The row's cells when it is printed on one line with a separator: (cell text, text position) each; None
    when no separator splits it into exactly `n` cells. The line is the label's, or the next one that holds
    anything when the label ends its line (Table 4's values under its header)."""
    text = flat.text[span.a : region.end]
    start, lines = span.a, text.split("\n")
    on_label_line = bool(lines[0].strip(" \t|\u3000\u00a0")) or len(lines) == 1
    label_cell = on_label_line and not span.header_above  # the label is the row's first cell, not a header above
    if not on_label_line:
        start += len(lines[0]) + 1
        for line in lines[1:]:
            if line.strip():
                break
            start += len(line) + 1
    stop = flat.text.find("\n", start, region.end)
    line = flat.text[start : stop if stop >= 0 else region.end]
    for sep in _SEPARATORS:
        if sep not in line:
            continue
        parts, pos = [], start
        for piece in line.split(sep):
            parts.append((piece, pos))
            pos += len(piece) + len(sep)
        head = parts[0][0]
        if not is_value(head) or (not compact(head) and (label_cell or len(parts) > n)):
            parts = parts[1:]  # the label's rest, or the border before the first cell
        if len(parts) == n + 1 and not compact(parts[-1][0]):
            parts = parts[:-1]  # the border after the last cell
        if len(parts) == n and all(is_value(p) for p, _ in parts):
            return parts
    return None


def _room(flat: Flat, region: _Region, a: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """How many blank cells each gap between a row's printed values (and before the first, after the last)
    shows: by marks that stand for a blank cell (a non-breaking space, `?`), and by any spacing, at either end
    less one plain space (crawlers put one between a label and its values whatever the cells)."""
    edges = [a, *(p for v in region.values for p in (v.start, v.start + len(v.text))), region.end]
    gaps = [flat.text[edges[i] : edges[i + 1]] for i in range(0, len(edges), 2)]
    marks = [len(_MARKS.findall(gap)) for gap in gaps]
    room = [len(_ROOM.findall(gap)) for gap in gaps]
    for end in {0, len(gaps) - 1}:
        room[end] -= min(len(_PLAIN.findall(gaps[end])), 1)
    return tuple(marks), tuple(room)


def _row(flat: Flat, span: _Span, region: _Region, page: tuple[Spacing, int | None] | None) -> FoundRow:
    def found(slots: Sequence[Slot], positional: bool, glued: bool = False,
              room: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())) -> FoundRow:
        return FoundRow(span.table, span.row, span.label, tuple(slots), positional, span.headers, "text",
                        glued=glued, marks=room[0], room=room[1])

    blank = Slot("", flat.ref(span.a))
    items = _line_items(flat, span, region)
    if items is not None:
        last_line = flat.text.count("\n", span.a, region.end)
        lead = (page[1] if span.header_above else 0) if page else 0
        got = _decode(items, last_line, page[0], span.n, lead) if page else None
        cells = got[0] if got else None
        slots = [blank if c is None else Slot(c.text, flat.ref(c.start)) for c in cells or ()]
        if cells is not None and lead is None:
            ends = (span.n, *(0,) * (len(slots) - 1), span.n)
            return found(slots, False, False, (ends, ends))
        if cells is not None:
            return found(slots, True)
        values = [Slot(t.text, flat.ref(t.start)) for _, t in items if t is not None]
        return found(values, False, False, ((0,) * (len(values) + 1),) * 2)
    fields = _fields(flat, span, region, span.n)
    if fields is not None:
        return found([Slot(p.strip(), flat.ref(pos)) for p, pos in fields], True)
    values = [Slot(t.text, flat.ref(t.start)) for t in region.values]
    return found(values, False, True, _room(flat, region, span.a))


def _spacing(flat: Flat, spans: Sequence[_Span], regions: Sequence[_Region]) -> tuple[Spacing, int | None] | None:
    """How the page spaces its one-cell-a-line rows: the (line ends after a printed cell, lines a blank cell
    takes) that decodes most rows into exactly their table's width, and the extra line ends most of those rows
    end with (the row separator; None when not most); None when no row prints one cell a line. A browser's
    text content pads every cell alike (2, 2); a double-spaced page spaces only printed lines (2, 1)."""
    decoded: Counter[Spacing] = Counter()
    extras: dict[Spacing, Counter[int]] = {}
    any_lines = False
    for span, region in zip(spans, regions, strict=True):
        items = _line_items(flat, span, region)
        if items is None or span.header_above:
            continue
        any_lines = True
        last_line = flat.text.count("\n", span.a, region.end)
        for spacing in _SPACINGS:
            got = _decode(items, last_line, spacing, span.n)
            if got is not None:
                decoded[spacing] += 1
                extras.setdefault(spacing, Counter())[got[1]] += 1
    if not any_lines or not decoded:
        return None
    # most rows decoded; then the spacing under which most rows end alike (a wrong one leaves their padding
    # uneven: it miscounts the blank cells that end them); then the least
    best = min(decoded, key=lambda s: (-decoded[s], -extras[s].most_common(1)[0][1], s))
    tail, count = extras[best].most_common(1)[0]
    return best, tail if 2 * count > decoded[best] else None


# ---------------------------------------------------------------- anchors


def _select(candidates: list[Anchor], order: tuple[str, ...] | None) -> list[Anchor]:
    """Non-overlapping anchors, in text order (and in `order` when given), with the highest total score."""
    cands = sorted(candidates, key=lambda c: (c.start, -c.end))
    if order is None:
        chosen: list[Anchor] = []
        for c in sorted(cands, key=lambda c: (c.start, -(c.end - c.start))):
            if not chosen or c.start >= chosen[-1].end:
                chosen.append(c)
        return chosen
    rank = {r: i for i, r in enumerate(order)}
    best: list[tuple[float, int | None]] = []
    for i, c in enumerate(cands):
        top: tuple[float, int | None] = (c.score, None)
        for j in range(i):
            p = cands[j]
            if p.end <= c.start and rank[p.row] < rank[c.row] and best[j][0] + c.score > top[0]:
                top = (best[j][0] + c.score, j)
        best.append(top)
    if not best:
        return []
    i: int | None = max(range(len(best)), key=lambda k: best[k][0])
    chain = []
    while i is not None:
        chain.append(cands[i])
        i = best[i][1]
    return chain[::-1]


def _row_anchors(flat: Flat, tables: tuple[str, ...], lo: int, hi: int, allow_short: bool) -> list[Anchor]:
    out = []
    for t in tables:
        for p in row_patterns(t):
            if p.exact_only and not allow_short:
                continue
            bonus = 10.0 if p.text != strip_numbering(p.text) else 0.0
            out += [Anchor(i, i + len(p.text), t, p.row, "row", len(p.text) + bonus)
                    for i in _occurrences(flat.form, p.text, lo, hi)]
    return out


_WORDS = re.compile(r"[^\d.．]+")


def _misprinted(flat: Flat, chosen: list[Anchor], lo: int, hi: int) -> list[Anchor]:
    """Anchors for Table 3 rows missing between two found ones whose label is printed with a typo
    (`7.属于行政执法案件`): the closest text there, by difflib ratio, with the row's numbering before it."""
    rank = {r: i for i, r in enumerate(T3_ORDER)}
    fences = [(lo, lo, -1), *((a.start, a.end, rank[a.row]) for a in chosen), (hi, hi, len(T3_ORDER))]
    out = []
    for (_, start, low), (stop, _, high) in itertools.pairwise(fences):
        for row in T3_ORDER[low + 1 : high]:
            label = key(TABLE3.row(row).label)
            core = strip_numbering(label)
            numbering = label[: len(label) - len(core)]
            best: tuple[float, int, int] | None = None
            for m in _WORDS.finditer(flat.form, start, stop):
                ratio = SequenceMatcher(None, m.group(), core).ratio()
                if ratio >= FUZZY and (best is None or ratio > best[0]):
                    best = (ratio, m.start(), m.end())
            if best is None:
                continue
            ratio, a, b = best
            if numbering and flat.form.startswith(numbering, a - len(numbering)):
                a -= len(numbering)
            out.append(Anchor(a, b, "requests", row, "row", 0.7 * ratio * len(core)))
            start = b
    return out


# ---------------------------------------------------------------- tables


def _table2(flat: Flat, lo: int, hi: int, year: int) -> list[_Span]:
    anchors = _row_anchors(flat, T2_KEYS, lo, hi, allow_short=True)
    for m in T2_TITLE.finditer(flat.form, lo, hi):
        anchors.append(Anchor(m.start(), m.end(), T2_ITEMS.get(m.group(1), ""), "", "title", 100.0))
    for t in T2_KEYS:
        for col, form in column_patterns(t):
            anchors += [Anchor(i, i + len(form), t, col, "column", float(len(form)))
                        for i in _occurrences(flat.form, form, lo, hi)]
    chosen = _select(anchors, None)
    spans: list[_Span] = []
    headers: list[str] = []
    for k, anc in enumerate(chosen):
        nxt = chosen[k + 1].start if k + 1 < len(chosen) else hi
        if anc.kind == "title":
            headers = []
        elif anc.kind == "column":
            headers.append(flat.text[flat.to_text(anc.start):flat.after(anc.end)])
        else:
            label = flat.text[flat.to_text(anc.start):flat.after(anc.end)]
            named = resolve_columns(anc.table, headers, by_year(year), complete=True)
            spans.append(_Span(anc.table, anc.row, label, flat.after(anc.end), flat.to_text(nxt), max(len(named), 1),
                               named))
    return spans


def _table3(flat: Flat, lo: int, hi: int) -> list[_Span]:
    chosen = _select(_row_anchors(flat, ("requests",), lo, hi, allow_short=False), T3_ORDER)
    chosen = sorted([*chosen, *_misprinted(flat, chosen, lo, hi)], key=lambda a: a.start)
    spans = []
    for k, anc in enumerate(chosen):
        nxt = chosen[k + 1].start if k + 1 < len(chosen) else hi
        label = flat.text[flat.to_text(anc.start):flat.after(anc.end)]
        spans.append(_Span("requests", anc.row, label, flat.after(anc.end), flat.to_text(nxt), T3_WIDTH))
    return spans


def _table4(flat: Flat, lo: int) -> list[_Span]:
    a = flat.to_text(lo)
    toks = flat.tokens(a, len(flat.text))
    first = next((i for i, t in enumerate(toks) if t.kind == "value"), None)
    if first is None:
        return []
    header_end = a
    for t in toks[:first]:
        if not any(w in key(t.text) for w in T4_WORDS) and len(key(t.text)) >= 4:
            return []
        header_end = t.start + len(t.text)
    return [_Span("review", "cases", "案件数量", header_end, len(flat.text), T4_WIDTH, header_above=True)]


def find(report: Report) -> list[FoundRow]:
    flat = Flat.of(report)
    form = flat.form
    m = T2_TITLE.search(form)
    t2_lo = m.start() if m else None
    t3_lo = min((i for w in T3_STARTS if (i := form.find(w, t2_lo or 0)) >= 0), default=None)
    t4_lo = form.find("复议", t3_lo) if t3_lo is not None else -1
    spans: list[_Span] = []
    if t2_lo is not None:
        spans += _table2(flat, t2_lo, t3_lo if t3_lo is not None else len(form), report.year)
    if t3_lo is not None:
        spans += _table3(flat, t3_lo, t4_lo if t4_lo >= 0 else len(form))
    if t4_lo >= 0:
        spans += _table4(flat, t4_lo)
    regions = [_region(flat, s) for s in spans]
    page = _spacing(flat, spans, regions)
    return [_row(flat, s, r, page) for s, r in zip(spans, regions, strict=True)]
