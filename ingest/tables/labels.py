"""Which standard row or column a printed label is, scored, so a caller can weigh the alternatives.

Labels are printed whole, wrapped over lines (`1.属于国家` / `秘密`), cut into fragments by
converters (`行政机关不再处理其政府信息公`), with typos (`2.其他法律行政止公开`) and with or
without their numbering. Scores grow with the length of what matched, so a longer, numbered match
beats a short one and the table parser can align rows by their order when labels are weak.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache, lru_cache

from ingest.format import infer, schema
from ingest.format.labels import T2_ITEMS, T2_TITLE
from ingest.format.layout import T2_COLUMNS, T2_KEYS
from ingest.format.template import Template
from ingest.normalize import key, strip_numbering
from ingest.tables.found import Header

MIN_FRAGMENT = 4  # shorter unnumbered text (其他, 总计, 规章) must match a label exactly
FUZZY = 0.8  # how close (difflib ratio) a misprinted label or header must be to its standard form


@dataclass(frozen=True)
class Pattern:
    table: str
    row: str
    text: str  # matching form
    exact_only: bool  # too short to be trusted inside other text


@cache
def row_patterns(table_key: str) -> tuple[Pattern, ...]:
    """Every matching form of every row label of one table: canonical, aliases, and their cores."""
    out: dict[tuple[str, str], Pattern] = {}
    for label in schema.table(table_key).rows:
        for form in (label.label, *label.aliases):
            for text in {key(form), strip_numbering(key(form))}:
                numbered = text != strip_numbering(text)
                exact_only = len(text) < MIN_FRAGMENT and not numbered
                out.setdefault((label.key, text), Pattern(table_key, label.key, text, exact_only))
    return tuple(out.values())


@cache
def all_row_patterns() -> tuple[Pattern, ...]:
    return tuple(p for t in (*T2_KEYS, "requests") for p in row_patterns(t))


@dataclass(frozen=True)
class _Gate:
    """What any pattern of some tables needs of a text to score it, testable at C speed."""

    inside: re.Pattern[str]  # finds any pattern text inside a text (exact and contained matches)
    joined: str  # every pattern text, to find a text's core inside one
    alphabet: frozenset[str]  # characters of the pattern cores a fuzzy match compares


@cache
def _gate(table_keys: tuple[str, ...]) -> _Gate:
    patterns = [p for t in table_keys for p in row_patterns(t)]
    texts = {p.text for p in patterns}
    alphabet = frozenset(ch for p in patterns if not p.exact_only for ch in strip_numbering(p.text))
    return _Gate(re.compile("|".join(map(re.escape, texts))), "\n".join(texts), alphabet)


def _could_score(text: str, table_keys: tuple[str, ...]) -> bool:
    """False when no pattern can score `text`, so the rows of a long non-standard table (a 20,000-row file
    catalogue) cost no per-pattern loop and no difflib comparison. Each test is a necessary condition of one
    branch of `_score`; the fuzzy one because a ratio of at least 0.8 needs two thirds of the text's core to be
    characters of the pattern (2M/(la+lb) ≥ 0.8 with M ≤ min(lb, characters of the core in the alphabet))."""
    gate = _gate(table_keys)
    if gate.inside.search(text):
        return True
    text_core = strip_numbering(text)
    if len(text_core) >= MIN_FRAGMENT and text_core in gate.joined:
        return True
    return len(text_core) >= 6 and 3 * sum(ch in gate.alphabet for ch in text_core) >= 2 * len(text_core)


def score_label(label: str, table_keys: tuple[str, ...]) -> dict[tuple[str, str], float]:
    """(table, row) → score for one printed label; empty when it is no standard row."""
    return dict(_scores(key(label), table_keys))


# Every report prints the same standard labels, and the grid reader scores each row's label again as it
# merges wrapped rows: memoized, a batch ingest runs difflib once per distinct label, not per occurrence.
@lru_cache(maxsize=1 << 16)
def _scores(text: str, table_keys: tuple[str, ...]) -> tuple[tuple[tuple[str, str], float], ...]:
    if not text or not _could_score(text, table_keys):
        return ()
    scores: dict[tuple[str, str], float] = {}
    for table_key in table_keys:
        for p in row_patterns(table_key):
            s = _score(text, p)
            if s > scores.get((p.table, p.row), 0.0):
                scores[(p.table, p.row)] = s
    return tuple(scores.items())


def _score(text: str, p: Pattern) -> float:
    if text == p.text:
        return len(p.text) + 10.0
    if p.exact_only:
        return 0.0
    if p.text in text:
        return float(len(p.text))
    if len(text) >= MIN_FRAGMENT and strip_numbering(text) in p.text and len(strip_numbering(text)) >= MIN_FRAGMENT:
        return 0.8 * len(strip_numbering(text))
    if len(strip_numbering(text)) >= 6 and len(p.text) >= 6:
        ratio = SequenceMatcher(None, strip_numbering(text), strip_numbering(p.text)).ratio()
        if ratio >= FUZZY:
            return 0.7 * ratio * len(strip_numbering(p.text))
    return 0.0


def best(scores: dict[tuple[str, str], float]) -> tuple[str, str] | None:
    return max(scores, key=scores.__getitem__) if scores else None


@cache
def column_patterns(table_key: str) -> tuple[tuple[str, str], ...]:
    """(column key, matching form) of one table's columns, longest first."""
    pairs = {
        (c.key, key(form)) for c in schema.table(table_key).columns for form in (c.label, *c.aliases)
    }
    return tuple(sorted(pairs, key=lambda p: -len(p[1])))


def match_column(label: str, table_key: str) -> str | None:
    """The column a printed header is: by its longest form inside the header text, else by the form it is one
    typo away from (`先行有效件数` for 现行有效件数, `本年废止件`)."""
    text = key(label)
    for col, form in column_patterns(table_key):
        if form and (form == text or form in text):
            return col
    return _misprinted_column(text, table_key)


@lru_cache(maxsize=1 << 12)
def _misprinted_column(text: str, table_key: str) -> str | None:
    if len(text) < MIN_FRAGMENT:
        return None
    ratio, col = max((SequenceMatcher(None, text, form).ratio(), col) for col, form in column_patterns(table_key))
    return col if ratio >= FUZZY else None


def resolve_columns(table_key: str, headers: Sequence[str | Header], template: Template,
                    complete: bool = False) -> tuple[Header, ...]:
    """The columns of a Table 2 part from its printed headers, falling back to the template's column order.

    A header no form matches takes the column at its position when the headers are as many as the template
    prints and every matched one sits at its own position. `complete`: the headers given are only those a
    label matched (flattened text, where an unmatched header is just text), so the template's columns are
    taken whenever the matched ones appear in its order, the others named by their standard label.
    `template` is the report's; the headers' own wording decides when it tells (infer.from_t2).
    """
    given = [h if isinstance(h, Header) else Header(h, None) for h in headers]
    named = [Header(h.label, match_column(h.label, table_key), h.cols) for h in given]
    template = infer.from_t2(table_key, ((h.column, h.label) for h in named)) or template
    expected = T2_COLUMNS[template].get(table_key, ())
    spec = schema.table(table_key)
    if complete and expected:
        found = [h.column for h in named]
        at = iter(expected)
        if all(any(c == e for e in at) for c in found):  # a subsequence of the template's columns, in order
            printed = {h.column: h for h in named}
            return tuple(printed.get(c, Header(spec.column(c).label, c)) for c in expected)
        return tuple(named)
    if len(named) == len(expected) and all(h.column in (None, e) for h, e in zip(named, expected, strict=True)):
        return tuple(Header(h.label, e, h.cols) for h, e in zip(named, expected, strict=True))
    return tuple(named)


def t2_item(text: str) -> str | None:
    """Table key of a `第二十条第（X）项` title anywhere in `text` (matching form)."""
    m = T2_TITLE.search(text)
    return T2_ITEMS.get(m.group(1)) if m else None
