"""End to end: real ingest of corpus/xizang_zjt_2021.txt and generated reports into a real store
(SQLite + Chroma + the multilingual e5 model), then questions in Chinese and English."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from ingest.normalize import fold
from ingest.pipeline import ingest
from ingest.settings import Settings
from ingest.store import Store
from qa import Engine
from qa.facts import fmt
from qa.render import display
from tests.reportgen import Spec, random_spec, render

ROOT = Path(__file__).resolve().parents[1]
XIZANG = "西藏自治区住房和城乡建设厅"
WUJIN = "常州市武进区人民政府"
YEARS = (2021, 2022, 2023)


@pytest.fixture(scope="session")
def specs() -> dict[int, Spec]:
    return {year: random_spec(WUJIN, year, seed=7) for year in YEARS}


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory, specs: dict[int, Spec]) -> Store:
    """One store for the session: the model loads once and every test reads the same corpus."""
    home = tmp_path_factory.mktemp("qa")
    files = [render(spec, "html", home / "in" / f"wujin_{year}.html") for year, spec in specs.items()]
    store = Store(Settings(home=home / "store"))
    results = ingest([ROOT / "corpus" / "xizang_zjt_2021.txt"], store)
    # The generated reports' agency is given, as `reportqa ingest --agency` would: these tests are about
    # answering, and metadata extraction has its own tests.
    results += ingest(files, store, agency=WUJIN)
    assert [r.status for r in results] == ["added"] * 4, results
    return store


@pytest.fixture(scope="session")
def engine(store: Store) -> Engine:
    return Engine(store)


def number(spec: Spec, table: str, row: str, column: str) -> str:
    value = spec.numbers[(table, row, column)]
    assert value is not None
    return fmt(value)


def test_user_example_cites_the_penalty_cell(engine: Engine) -> None:
    answer = engine.answer("2021年西藏住建厅行政处罚多少件？")
    assert (answer.kind, answer.value) == ("fact", "3")
    cite = answer.citations[0]
    assert (cite.agency, cite.year, cite.table_key, cite.row_key, cite.cell) == (XIZANG, 2021, "enforcement",
                                                                                  "penalty", "3")
    assert cite.row == "行政处罚" and cite.table == "第二十条第（六）项"
    assert "3" in answer.answer and XIZANG in answer.answer


def test_english_question_english_answer(engine: Engine) -> None:
    answer = engine.answer("How many administrative penalties did the Tibet housing department make in 2021?")
    assert (answer.kind, answer.value) == ("fact", "3")
    assert answer.answer.startswith("In 2021")


def test_values_of_generated_reports(engine: Engine, specs: dict[int, Spec]) -> None:
    spec = specs[2022]
    answer = engine.answer("2022年武进区政府行政处罚多少件？")
    assert answer.value == number(spec, "enforcement", "penalty", "decisions")
    answer = engine.answer("How many requests were granted in full by Wujin District in 2022?")
    assert answer.value == number(spec, "requests", "granted", "total")
    assert answer.citations[0].row_key == "granted" and answer.citations[0].column_key == "total"
    answer = engine.answer("武进区2022年复议纠正多少件")
    assert answer.value == number(spec, "review", "cases", "review_corrected")


def test_no_year_uses_the_latest_report_and_says_so(engine: Engine, specs: dict[int, Spec]) -> None:
    answer = engine.answer("武进区新收申请多少件？")
    assert answer.value == number(specs[2023], "requests", "new", "total")
    assert "2023" in answer.answer and answer.citations[0].year == 2023


def test_compare_gives_both_values_and_the_difference(engine: Engine, specs: dict[int, Spec]) -> None:
    answer = engine.answer("武进区2021年和2023年新收申请比较")
    a = specs[2021].numbers[("requests", "new", "total")]
    b = specs[2023].numbers[("requests", "new", "total")]
    assert answer.kind == "compare" and answer.value == fmt(b - a)
    assert {c.year for c in answer.citations} == {2021, 2023}
    assert [p[1] for p in answer.chart] == [a, b]


def test_trend_covers_every_year(engine: Engine) -> None:
    answer = engine.answer("武进区历年行政处罚")
    assert answer.kind == "trend"
    assert [p[0] for p in answer.chart] == ["2021", "2022", "2023"]
    assert len(answer.citations) == 3


def test_three_turn_conversation(engine: Engine, specs: dict[int, Spec]) -> None:
    turns = ["2021年武进区新收申请多少？", "那2022年呢？", "按自然人分呢"]
    answers = [engine.answer(q, turns[:i]) for i, q in enumerate(turns)]
    assert answers[0].value == number(specs[2021], "requests", "new", "total")
    assert answers[1].value == number(specs[2022], "requests", "new", "total")
    assert answers[2].value == number(specs[2022], "requests", "new", "natural_person")
    assert answers[2].citations[0].column == "自然人"


def test_english_follow_up_sums_both_kinds_of_lawsuit(engine: Engine, specs: dict[int, Spec]) -> None:
    history = ["How many administrative penalties did Wujin District make in 2022?"]
    answer = engine.answer("what about lawsuits?", history)
    spec = specs[2022]
    expected = spec.numbers[("review", "cases", "suit_direct_total")] + spec.numbers[
        ("review", "cases", "suit_after_review_total")]
    assert answer.value == fmt(expected)
    assert {c.column_key for c in answer.citations} == {"suit_direct_total", "suit_after_review_total"}


def test_refusals_say_what_exists(engine: Engine) -> None:
    absent_year = engine.answer("2030年武进区行政处罚多少件？")
    assert absent_year.kind == "refusal" and "2021、2022、2023" in absent_year.answer
    assert absent_year.value is None and not absent_year.citations
    absent_agency = engine.answer("北京市海淀区2022年行政处罚多少件？")
    assert absent_agency.kind == "refusal" and XIZANG in absent_agency.answer
    absent_metric = engine.answer("2022年武进区有多少名公务员？")
    assert absent_metric.kind == "refusal" and absent_metric.value is None
    other_agency_year = engine.answer("and the Tibet housing department?", ["2022年武进区行政处罚多少件？"])
    assert other_agency_year.kind == "refusal" and "2021" in other_agency_year.answer


def test_narrative_cites_the_right_section(engine: Engine) -> None:
    answer = engine.answer("西藏住建厅存在哪些问题？")
    assert answer.kind == "narrative" and answer.citations
    assert "问题" in fold(answer.citations[0].section)
    # Quoted in Simplified without the scraped page's pinyin glosses; the citation keeps the original text.
    snippet = answer.citations[0].snippet
    assert "(wù)" in snippet and display(snippet) in answer.answer and "(wù)" not in answer.answer


def test_english_narrative_reads_chinese_prose_through_the_glossary(engine: Engine) -> None:
    answer = engine.answer("How many government new-media accounts did the Tibet housing department run in 2021?")
    assert answer.kind == "narrative"
    snippet = fold(answer.citations[0].snippet)
    assert "4个政务" in snippet and "新媒体" in snippet
    absent = engine.answer("What was the Tibet housing department's number of website visits in 2021?")
    assert absent.kind == "refusal" and "visit (访问/浏览/点击)" in absent.answer


def test_fee_in_prose_is_a_narrative_answer(engine: Engine) -> None:
    answer = engine.answer("武进区2022年信息处理费收了多少？")
    assert answer.kind == "narrative"
    assert any("信息处理费" in c.snippet and c.year == 2022 for c in answer.citations)


def test_fake_llm_phrases_narrative_and_keeps_citations(store: Store) -> None:
    llm = GenericFakeChatModel(messages=iter([AIMessage(content="主要问题是信息公开机制还不健全 [1]。")]))
    answer = Engine(store, llm=llm).answer("西藏住建厅存在哪些问题？")
    assert answer.kind == "narrative"
    assert answer.answer == "主要问题是信息公开机制还不健全 [1]。"
    assert answer.citations and "问题" in fold(answer.citations[0].section)


def test_no_agency_and_several_fit_asks_back(engine: Engine) -> None:
    answer = engine.answer("how many administrative penalties in 2021")
    assert answer.kind == "clarify" and {c.agency for c in answer.citations} == {XIZANG, WUJIN}


def test_filters_restrict_the_question(engine: Engine, specs: dict[int, Spec]) -> None:
    answer = engine.answer("行政处罚多少件", agency=WUJIN, year=2022)
    assert answer.value == number(specs[2022], "enforcement", "penalty", "decisions")


def test_stream_events_and_json(engine: Engine) -> None:
    events = list(engine.answer_stream("2021年西藏住建厅行政处罚多少件？"))
    assert events[0].channel == "kind" and events[0].text == "fact"
    assert {e.channel for e in events} >= {"value", "text", "citation"}
    data = engine.answer("2021年西藏住建厅行政处罚多少件？").to_json()
    assert data["value"] == "3" and data["citations"][0]["row"] == "行政处罚"


def test_one_engine_serves_threads(engine: Engine) -> None:
    questions = ["2021年西藏住建厅行政处罚多少件？", "武进区历年行政处罚", "西藏住建厅存在哪些问题？"] * 3
    expected = {q: engine.answer(q).answer for q in set(questions)}
    results: dict[int, str] = {}

    def ask(i: int, q: str) -> None:
        results[i] = engine.answer(q).answer

    threads = [threading.Thread(target=ask, args=(i, q)) for i, q in enumerate(questions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i] for i in range(len(questions))] == [expected[q] for q in questions]


def test_engine_sees_reports_ingested_after_it_started(tmp_path: Path, store: Store) -> None:
    fresh = Store(Settings(home=tmp_path / "store"), embeddings=store.embeddings)
    engine = Engine(fresh)
    assert engine.answer("2021年西藏住建厅行政处罚多少件？").kind == "refusal"
    ingest([ROOT / "corpus" / "xizang_zjt_2021.txt"], fresh)
    assert engine.answer("2021年西藏住建厅行政处罚多少件？").value == "3"


# -- issue #11: the right cell or an honest refusal, comparisons in the question's own terms -------------------


def test_a_change_over_years_is_later_minus_earlier_whatever_order_the_question_names(
        engine: Engine, specs: dict[int, Spec]) -> None:
    a = specs[2021].numbers[("requests", "new", "total")]
    b = specs[2023].numbers[("requests", "new", "total")]
    for question in ("武进区2023年收到的申请比2021年多多少？", "武进区2021年收到的申请比2023年少多少？",
                     "How did Wujin District's new requests change from 2021 to 2023?"):
        answer = engine.answer(question)
        assert (answer.kind, answer.value) == ("compare", fmt(b - a)), question
    percent = engine.answer("武进区2023年收到的申请比2021年增长了百分之多少？")
    assert percent.value == f"{(b - a) / a * 100:+.1f}%" and percent.value in percent.answer


def test_two_agencies_compare_the_same_cell_first_named_minus_second(
        engine: Engine, specs: dict[int, Spec]) -> None:
    wujin = specs[2021].numbers[("enforcement", "penalty", "decisions")]
    for question, value in (("2021年武进区的行政处罚比西藏住建厅多多少件？", wujin - 3),
                            ("2021年西藏住建厅的行政处罚比武进区多多少件？", 3 - wujin),
                            ("2021年与武进区相比，西藏住建厅的行政处罚多多少件？", 3 - wujin)):
        answer = engine.answer(question)
        assert (answer.kind, answer.value) == ("compare", fmt(value)), question
        assert {(c.agency, c.row_key) for c in answer.citations} == {(WUJIN, "penalty"), (XIZANG, "penalty")}


@pytest.mark.parametrize("question", [
    "2022年武进区政府信息公开申请的平均办理天数是多少？",
    "What was the average number of days Wujin District took to answer a request in 2022?",
    "2022年武进区政府信息公开工作的群众满意率是多少？",
    "What satisfaction rate did the public give Wujin District's disclosure work in 2022?",
    "2022年武进区政府信息公开工作经费预算是多少？",
    "How large was Wujin District's disclosure budget in 2022?",
    "2022年武进区政府网站的访问量是多少？",
    "How many website visits did Wujin District's portal get in 2022?",
    "2022年武进区召开了多少场新闻发布会？",
    "How many press conferences did Wujin District hold in 2022?",
])
def test_quantities_no_cell_or_sentence_gives_are_refused(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.kind == "refusal" and answer.value is None and not answer.citations, answer.answer


def test_several_quantities_in_one_question_each_with_its_cell(engine: Engine, specs: dict[int, Spec]) -> None:
    spec = specs[2022]
    answer = engine.answer("武进区2022年收到多少申请？其中自然人多少？")
    assert {(c.row_key, c.column_key) for c in answer.citations} == {("new", "total"), ("new", "natural_person")}
    assert number(spec, "requests", "new", "total") in answer.answer
    assert number(spec, "requests", "new", "natural_person") in answer.answer
    both = engine.answer("How many requests did Wujin District grant in 2022 and how many were refused?")
    assert {c.row_key for c in both.citations} >= {"granted", "withheld_state_secret"}


def test_a_question_about_a_whole_block_answers_with_its_cells(engine: Engine, specs: dict[int, Spec]) -> None:
    spec = specs[2022]
    answer = engine.answer("武进区2022年行政复议的结果如何？")
    assert answer.kind == "fact"
    cells = {c.column_key: c.cell for c in answer.citations}
    assert set(cells) == {f"review_{o}" for o in ("upheld", "corrected", "other", "pending", "total")}
    assert all(number(spec, "review", "cases", k) in answer.answer for k in cells)
    withheld = engine.answer("武进区2022年不予公开多少？")
    rows = [r for r in spec.numbers if r[0] == "requests" and r[1].startswith("withheld_") and r[2] == "total"]
    assert withheld.value == fmt(sum(spec.numbers[r] or 0 for r in rows))
    assert len(withheld.citations) == len(rows) and "相加" in withheld.answer
