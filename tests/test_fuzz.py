"""Fuzzing the text, Markdown and HTML readers (and the table and chunking stages after them) with
report-shaped junk: the only exception allowed out is the project's own IngestError.

Two kinds of example, so that they reach deep into the parsers instead of failing the first check:
generated reports (tests/reportgen.py, every format style) with random line edits (cut, repeat, swap,
split, join, junk, truncation), and free text and markup built from the report's own vocabulary
(schema labels, section headings, numbers, pinyin glosses, page footers) with controls and broken tags.
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import readers
from ingest.checks import check
from ingest.chunking import chunk
from ingest.errors import IngestError
from ingest.format.schema import TABLES
from ingest.model import SECTION_TITLES
from ingest.tables.extract import extract_facts
from tests.reportgen import AGENCIES, Style, random_spec, render

FUZZ = settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

_WORDS = sorted(
    {*SECTION_TITLES.values(), *(t.title for t in TABLES), *(label.label for t in TABLES for label in t.rows),
     *(label.label for t in TABLES for label in t.columns), *(p for t in TABLES for label in t.rows
                                                              for p in (label.parent, *label.aliases) if p)}
    | {"某某市某某局2022年政府信息公开工作年度报告", "政府信息公开工作年度报告", "发布机构", "发布日期 2023-01-31",
       "區(qū)", "?", "— 5 —", "- 3 -", "申请人情况", "法人或其他组织", "行政诉讼", "未经复议直接起诉", "复议后起诉",
       "22（其中修订 16 件）", "117批次", "+1036", "-185", "0.000123", "/", "无", "不适用", "１２３", "2019", "2021"}
)
_JUNK = st.sampled_from(["\x00", "\x07", "\x1b", "\x85", "\u200b", "\ufeff", "\u202e", "\ud800", "\udfff", "\ufffd",
                         "\u3000", "\xa0", "\r", "\t", "|", "---", "#", "*", "```", ">"])
_TOKEN = st.one_of(
    st.sampled_from(_WORDS), st.integers(-10**6, 10**9).map(str), st.text(max_size=8), _JUNK,
)
_LINE = st.lists(_TOKEN, max_size=8).flatmap(lambda parts: st.sampled_from(["", " ", "\t", "|"]).map(
    lambda sep: sep.join(parts)))
_TEXT = st.lists(_LINE, max_size=60).map("\n".join)

_SPAN = st.sampled_from(["0", "1", "2", "3", "-1", "x", "", "2.5", "1000000", "99999999999999999999"])
_TAGS = ["table", "tbody", "thead", "tr", "td", "th", "p", "div", "span", "b", "h1", "h2", "br", "ul", "li",
         "script", "style", "caption", "title", "meta"]


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    attrs = st.lists(st.tuples(st.sampled_from(["rowspan", "colspan", "class", "style", "charset"]), _SPAN),
                     max_size=2).map(lambda pairs: "".join(f' {k}="{v}"' for k, v in pairs))
    return st.builds(
        lambda tag, attr, inner, closed: f"<{tag}{attr}>{''.join(inner)}{f'</{tag}>' if closed else ''}",
        st.sampled_from(_TAGS), attrs, st.lists(children, max_size=6), st.booleans(),
    )


_ENTITIES = st.sampled_from(["&#xD800;", "&#0;", "&#x110000;", "&nbsp;", "&amp", "<!--", "]]>"])
_HTML_TEXT = st.one_of(_TOKEN.map(html.escape), _TOKEN, _ENTITIES)
_HTML = st.recursive(_HTML_TEXT, _element, max_leaves=80).map(lambda body: f"<html><body>{body}</body></html>")

_EDIT = st.tuples(
    st.sampled_from(["cut", "repeat", "swap", "split", "join", "junk", "truncate"]),
    st.floats(0, 1), st.integers(1, 30), _LINE,
)
_STYLES = [Style(), Style(flatten="dropped", junk=True), Style(flatten="runs"), Style(traditional=True, chrome=True)]


def _edit(lines: list[str], edit: tuple[str, float, int, str]) -> list[str]:
    op, where, size, junk = edit
    i = int(where * len(lines))
    if op == "cut":
        return lines[:i] + lines[i + size:]
    if op == "repeat":
        return lines[:i] + lines[i:i + size] * 2 + lines[i + size:]
    if op == "swap" and i + size < len(lines):
        lines = list(lines)
        lines[i], lines[i + size] = lines[i + size], lines[i]
        return lines
    if op == "split" and i < len(lines):
        cut = size % (len(lines[i]) + 1)
        return [*lines[:i], lines[i][:cut], lines[i][cut:], *lines[i + 1:]]
    if op == "join":
        return [*lines[:i], "".join(lines[i:i + size]), *lines[i + size:]]
    if op == "junk":
        return [*lines[:i], junk, *lines[i:]]
    if op == "truncate":
        return lines[:i]
    return lines


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def bases(folder: Path) -> list[tuple[str, str]]:
    """Generated reports as (suffix, text): both templates, txt in every flattening, md, html."""
    out = []
    for i, year in enumerate((2020, 2023)):
        spec = random_spec(AGENCIES[i * 50], year)
        for j, style in enumerate(_STYLES):
            out.append((".txt", render(spec, "txt", folder / f"base{i}{j}.txt", style).read_text(encoding="utf-8")))
        for fmt in ("md", "html"):
            out.append((f".{fmt}", render(spec, fmt, folder / f"base{i}.{fmt}").read_text(encoding="utf-8")))
    return out


def _survives(folder: Path, data: str | bytes, suffix: str) -> None:
    """Read `data` as a file with `suffix`, then extract, check and chunk as the pipeline does."""
    path = folder / f"fuzz{suffix}"
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    try:
        report = readers.read(path)
    except IngestError:
        return
    facts = extract_facts(report)
    check(facts)
    chunk(report, facts, 400)


@FUZZ
@given(pick=st.integers(0, 11), edits=st.lists(_EDIT, min_size=1, max_size=6))
def test_edited_reports_raise_only_ingest_errors(folder: Path, bases, pick: int, edits) -> None:
    suffix, text = bases[pick]
    lines = text.splitlines()
    for edit in edits:
        lines = _edit(lines, edit)
    _survives(folder, "\n".join(lines), suffix)


@FUZZ
@given(text=_TEXT, suffix=st.sampled_from([".txt", ".md"]))
def test_text_readers_raise_only_ingest_errors(folder: Path, text: str, suffix: str) -> None:
    _survives(folder, text, suffix)


@FUZZ
@given(page=_HTML)
def test_html_reader_raises_only_ingest_errors(folder: Path, page: str) -> None:
    _survives(folder, page, ".html")


@FUZZ
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".txt", ".md", ".html"]))
def test_arbitrary_bytes_raise_only_ingest_errors(folder: Path, data: bytes, suffix: str) -> None:
    _survives(folder, data, suffix)
