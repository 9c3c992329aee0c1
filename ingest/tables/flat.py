"""Standard rows from a report's lines, for tables that reached us flattened (scraped pages, PDF text).

The text is searched for the standard labels in order; a row's cells are what lies between its label
and the next one. Three layouts occur: one cell per line with blank cells kept as empty lines (single
or double spaced), one cell per line with blank cells dropped, and a row's values run together on
one line (`713000074`). The first keeps positions; the others are resolved in `extract.py`.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from ingest.format.labels import T2_ITEMS, T2_TITLE, T4_WORDS
from ingest.format.layout import T2_KEYS, T3_ORDER, T3_WIDTH, T4_WIDTH
from ingest.model import CellRef, Line, Report
from ingest.normalize import compact, key, match_form, strip_numbering
from ingest.tables.cells import NA, VALUE_TOKEN
from ingest.tables.found import FoundRow, Header, Slot
from ingest.tables.labels import column_patterns, match_column, row_patterns

_FOOTER = re.compile(r"^\s*[-—－–]\s*\d+\s*[-—－–]\s*$")
_TOKEN = re.compile(
    r"(?P<gap>[\s|]+)"
    r"|(?P<junk>[?？\u00a0\u3000\u200b]+)"
    r"|(?P<gloss>\([a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\))"
    r"|(?P<numbering>\d+[.．](?!\d))"
    rf"|(?P<value>{VALUE_TOKEN.pattern})"
    r"|(?P<text>[^\s|?？\d]+)"
)
T3_STARTS = ("勾稽关系", "申请人情况", "本年新收政府信息公开申请数量")


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
    spaced: bool  # double spaced: every printed line is followed by an empty one

    @classmethod
    def of(cls, report: Report) -> Flat:
        kept = [(i, ln) for i, ln in enumerate(report.lines) if not _FOOTER.match(ln.text)]
        starts, pos = [], 0
        for _, ln in kept:
            starts.append(pos)
            pos += len(ln.text) + 1
        text = "\n".join(ln.text for _, ln in kept)
        form, index = match_form(text)
        texts = [ln.text.strip() for _, ln in kept]
        full = [i for i, t in enumerate(texts[:-1]) if t]
        spaced = len(full) >= 20 and sum(1 for i in full if not texts[i + 1]) >= 0.8 * len(full)
        return cls(text, form, index, starts, kept, report.source, spaced)

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
        out = []
        for m in _TOKEN.finditer(self.text, a, b):
            kind = m.lastgroup
            if kind in ("value", "text", "numbering"):
                out.append(Token("value" if kind == "value" or compact(m.group()) in NA else "text", m.group(),
                                 m.start()))
        return out


@dataclass(frozen=True)
class Anchor:
    start: int  # form positions
    end: int
    table: str
    row: str
    kind: str  # row | title | column
    score: float


def _occurrences(form: str, needle: str, lo: int, hi: int) -> list[int]:
    out, i = [], form.find(needle, lo, hi)
    while i >= 0:
        out.append(i)
        i = form.find(needle, i + 1, hi)
    return out


def _cells(flat: Flat, a: int, b: int, label: str, n: int) -> tuple[list[Slot], bool]:
    """The cells between a label (ending at text position `a`) and the next anchor (at `b`).

    Returns the cells and whether they keep their positions (blank cells present as empty lines).
    """
    region = flat.text[a:b]
    if region.endswith("\n"):
        region = region[:-1]
    pieces = region.split("\n")
    own = key(label)
    offsets = [a]
    for p in pieces[:-1]:
        offsets.append(offsets[-1] + len(p) + 1)
    first = flat.tokens(a, a + len(pieces[0]))
    if len(pieces) > 1 and all(t.kind == "text" and key(t.text) in own for t in first):
        lines: list[tuple[str, int]] = []
        one_per_line = True
        for p, off in zip(pieces[1:], offsets[1:], strict=True):
            toks = flat.tokens(off, off + len(p))
            if any(t.kind == "text" for t in toks):
                break
            if len(toks) > 1:
                one_per_line = False
                break
            lines.append((p, off))
        if one_per_line and lines:
            return _line_cells(flat, lines, n), True
    return _token_cells(flat, a, a + len(region), own), False


def _line_cells(flat: Flat, rows: list[tuple[str, int]], n: int) -> list[Slot]:
    cells: list[tuple[str, int]] = []
    after_text = True  # the label's own line comes first
    for p, off in rows:
        blank = not p.strip()
        if flat.spaced and blank and after_text:
            after_text = False
            continue
        cells.append((p, off))
        after_text = not blank
    while len(cells) > n and not cells[-1][0].strip():
        cells.pop()
    return [Slot(p.strip(), flat.ref(off)) for p, off in cells]


def _token_cells(flat: Flat, a: int, b: int, own: str) -> list[Slot]:
    cells: list[Slot] = []
    for t in flat.tokens(a, b):
        if t.kind == "value":
            cells.append(Slot(t.text, flat.ref(t.start)))
            continue
        if not cells and (len(key(t.text)) < 4 or key(t.text) in own):
            continue
        break
    return cells


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


def _table2(flat: Flat, lo: int, hi: int) -> list[FoundRow]:
    anchors = _row_anchors(flat, T2_KEYS, lo, hi, allow_short=True)
    for m in T2_TITLE.finditer(flat.form, lo, hi):
        anchors.append(Anchor(m.start(), m.end(), T2_ITEMS.get(m.group(1), ""), "", "title", 100.0))
    for t in T2_KEYS:
        for col, form in column_patterns(t):
            anchors += [Anchor(i, i + len(form), t, col, "column", float(len(form)))
                        for i in _occurrences(flat.form, form, lo, hi)]
    chosen = _select(anchors, None)
    found: list[FoundRow] = []
    headers: list[tuple[str, int, int]] = []
    for k, anc in enumerate(chosen):
        nxt = chosen[k + 1].start if k + 1 < len(chosen) else hi
        if anc.kind == "title":
            headers = []
        elif anc.kind == "column":
            headers.append((flat.text[flat.to_text(anc.start):flat.after(anc.end)], anc.start, anc.end))
        else:
            label = flat.text[flat.to_text(anc.start):flat.after(anc.end)]
            named = tuple(Header(h, match_column(h, anc.table)) for h, _, _ in headers)
            slots, positional = _cells(flat, flat.after(anc.end), flat.to_text(nxt), label, max(len(named), 1))
            found.append(FoundRow(anc.table, anc.row, label, tuple(slots), positional, named, "text"))
    return found


def _table3(flat: Flat, lo: int, hi: int) -> list[FoundRow]:
    chosen = _select(_row_anchors(flat, ("requests",), lo, hi, allow_short=False), T3_ORDER)
    found = []
    for k, anc in enumerate(chosen):
        nxt = chosen[k + 1].start if k + 1 < len(chosen) else hi
        label = flat.text[flat.to_text(anc.start):flat.after(anc.end)]
        slots, positional = _cells(flat, flat.after(anc.end), flat.to_text(nxt), label, T3_WIDTH)
        found.append(FoundRow("requests", anc.row, label, tuple(slots), positional, (), "text"))
    return found


def _table4(flat: Flat, lo: int) -> list[FoundRow]:
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
    slots, positional = _cells(flat, header_end, len(flat.text), "", T4_WIDTH)
    return [FoundRow("review", "cases", "案件数量", tuple(slots[:T4_WIDTH]), positional, (), "text")] if slots else []


def find(report: Report) -> list[FoundRow]:
    flat = Flat.of(report)
    form = flat.form
    m = T2_TITLE.search(form)
    t2_lo = m.start() if m else None
    t3_lo = min((i for w in T3_STARTS if (i := form.find(w, t2_lo or 0)) >= 0), default=None)
    t4_lo = form.find("复议", t3_lo) if t3_lo is not None else -1
    found: list[FoundRow] = []
    if t2_lo is not None:
        found += _table2(flat, t2_lo, t3_lo if t3_lo is not None else len(form))
    if t3_lo is not None:
        found += _table3(flat, t3_lo, t4_lo if t4_lo >= 0 else len(form))
    if t4_lo >= 0:
        found += _table4(flat, t4_lo)
    return found

