"""The web page's HTML builders: cited-cell highlighting, flags, and escaping of everything from a report."""

from __future__ import annotations

from dataclasses import replace

from bs4 import BeautifulSoup

from ingest.model import CellRef, Fact, Violation
from ingest.store import ReportInfo
from qa.model import Citation
from ui.web.render import (
    MAX_GROUPS,
    answer_text,
    chart_frame,
    corpus_rows,
    fact_table_html,
    sources_html,
)

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'
RID = "某某市某某局:2021"


def _fact(row: str, row_label: str, raw: str, column: str = "decisions", **kw) -> Fact:
    return Fact(RID, "某某市某某局", 2021, "2021", "enforcement", row, column, row_label, "本年处理决定数量", raw,
                None, "件", "number", ref=CellRef("r.txt", row=3), **kw)


def _citation(**kw) -> Citation:
    base = dict(report_id=RID, agency="某某市某某局", year=2021, source="r.txt",
                section="二、主动公开政府信息情况 › 第二十条第（六）项", table="第二十条第（六）项", row="行政处罚",
                column="本年处理决定数量", cell="3", page=4, table_key="enforcement", row_key="penalty",
                column_key="decisions")
    return Citation(**{**base, **kw})


def _report(**kw) -> ReportInfo:
    base = dict(id=RID, agency="某某市某某局", year=2021, title="某某市某某局2021年政府信息公开工作年度报告",
                source="r.txt", source_format="txt", template="2021", publish_date=None, content_hash="a" * 64,
                chunks=3, facts=2, violations=0, ingested_at="2025-01-01T00:00:00+00:00")
    return ReportInfo(**{**base, **kw})


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def test_table_follows_schema_order_and_marks_only_the_cited_cell() -> None:
    facts = [_fact("coercion", "行政强制", "0"), _fact("penalty", "行政处罚", "3")]
    soup = _soup(fact_table_html(facts, [("penalty", "decisions")]))
    labels = [th.get_text() for th in soup.select("tbody th")]
    assert labels == ["行政处罚", "行政强制"]  # schema order, not storage order
    cited = soup.select("td.cited")
    assert [td.get_text() for td in cited] == ["3"]
    assert cited[0].find_parent("tr").th.get_text() == "行政处罚"
    assert [th.get_text() for th in soup.select("thead th")] == ["", "本年处理决定数量"]


def test_table_keeps_raw_cells_and_escapes_them() -> None:
    facts = [_fact("penalty", EVIL, "117批次"), _fact("coercion", "行政强制", EVIL)]
    html = fact_table_html(facts, [])
    soup = _soup(html)
    assert not soup.find("script") and not soup.find("img")
    assert [td.get_text() for td in soup.select("td")] == ["117批次", EVIL]
    assert soup.select("tbody th")[0].get_text() == EVIL


def test_ambiguous_cell_shows_its_candidates() -> None:
    facts = [_fact("penalty", "行政处罚", "32", status="ambiguous", candidates=(3.0, 32.0))]
    citation = _citation(cell="32", status="ambiguous")
    soup = _soup(sources_html([citation], {(RID, "enforcement"): facts}, {RID: _report()}, {}))
    cell = soup.select_one("td.cited.ambiguous")
    assert cell is not None and "3 / 32" in cell["title"]
    assert "可能是 3 / 32" in soup.select_one(".src-flags").get_text()


def test_fact_card_names_report_section_page_and_file() -> None:
    facts = [_fact("penalty", "行政处罚", "3", note="2")]
    soup = _soup(sources_html([_citation()], {(RID, "enforcement"): facts}, {RID: _report()}, {}))
    card = soup.select_one("details.src-card")
    assert card.has_attr("open")
    assert "某某市某某局2021年政府信息公开工作年度报告" in card.summary.get_text()
    meta = card.select_one(".src-meta").get_text()
    assert "第二十条第（六）项" in meta and "第 4 页" in meta and "r.txt" in meta
    assert "不属于任何表头的数值 2" in card.select_one(".src-flags").get_text()
    assert card.select_one("td.cited").get_text() == "3"


def test_violations_of_the_cited_table_are_flagged() -> None:
    violations = [
        Violation(RID, "enforcement", "a+b = <b>c</b>", "decisions", 5.0, 4.0),
        Violation(RID, "requests", "一+二 = （七）总计+四", "total", 9.0, 8.0),
    ]
    facts = [_fact("penalty", "行政处罚", "3")]
    soup = _soup(sources_html([_citation()], {(RID, "enforcement"): facts}, {RID: _report()}, {RID: violations}))
    flagged = [li.get_text() for li in soup.select("li.violation")]
    assert flagged == ["勾稽关系不成立：a+b = <b>c</b>（decisions）应为 5，报告为 4"]


def test_narrative_citation_shows_escaped_passage_with_its_section() -> None:
    citation = Citation(RID, "某某市某某局", 2021, "r.txt", "五、存在的主要问题及改进情况 › " + EVIL,
                        snippet=f"公开渠道有待拓宽。{EVIL}\n下一步")
    soup = _soup(sources_html([citation], {}, {RID: _report(title=EVIL)}, {}))
    assert not soup.find("script") and not soup.find("img")
    assert soup.select_one("blockquote.src-passage").get_text() == f"公开渠道有待拓宽。{EVIL}\n下一步"
    assert any(EVIL in div.get_text() for div in soup.select(".src-meta"))
    assert soup.summary.get_text() == EVIL


def test_cells_of_one_table_share_a_card_and_cards_are_capped() -> None:
    facts = [_fact("penalty", "行政处罚", "3"), _fact("coercion", "行政强制", "1")]
    both = [_citation(), _citation(row="行政强制", row_key="coercion", cell="1")]
    soup = _soup(sources_html(both, {(RID, "enforcement"): facts}, {RID: _report()}, {}))
    assert len(soup.select("details.src-card")) == 1
    assert [td.get_text() for td in soup.select("td.cited")] == ["3", "1"]

    many = [_citation(report_id=f"局{i}:2021", agency=f"局{i}") for i in range(MAX_GROUPS + 2)]
    soup = _soup(sources_html(many, {}, {}, {}))
    assert len(soup.select("details.src-card")) == MAX_GROUPS
    assert "另有 2 处来源" in soup.get_text()


def test_passages_of_one_section_share_a_card() -> None:
    section = "五、存在的主要问题及改进情况"
    passages = [Citation(RID, "某某市某某局", 2021, "r.txt", section, snippet=text) for text in ("甲", "乙")]
    other = Citation(RID, "某某市某某局", 2021, "r.txt", "六、其他需要报告的事项", snippet="丙")
    soup = _soup(sources_html([*passages, other], {}, {RID: _report()}, {}))
    cards = soup.select("details.src-card")
    assert [[q.get_text() for q in card.select("blockquote")] for card in cards] == [["甲", "乙"], ["丙"]]


def test_no_citations_says_so() -> None:
    assert "没有引用来源" in _soup(sources_html([], {}, {}, {})).get_text()


def test_answer_text_is_escaped_for_the_chatbot() -> None:
    assert answer_text("3 件<script>x</script> & 1") == "3 件&lt;script&gt;x&lt;/script&gt; &amp; 1"


def test_chart_frame_keeps_answer_order() -> None:
    frame = chart_frame((("2021", 3.0), ("2019", 1.0)))
    assert frame["label"].tolist() == ["2021", "2019"]
    assert frame["value"].tolist() == [3.0, 1.0]


def test_corpus_rows_show_check_status() -> None:
    ok, bad = corpus_rows([_report(), replace(_report(), violations=2, template=None)])
    assert ok[6] == "通过" and ok[3] == "2021"
    assert bad[6] == "2 处勾稽不符" and bad[3] == "未识别"
