"""The evaluator: scorer unit tests on hand-made Answers, the labelled sets' shape, and the thresholds the
engine must meet on them (one store per session, ingested once with the real model)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qa.evaluate import (
    EvalError,
    EvalReport,
    GoldItem,
    Scores,
    contains_phrase,
    evaluate,
    heading_section_key,
    load_items,
    numbers,
    parse_number,
    percentile,
    same_value,
    score_answer,
)
from qa.model import Answer, Citation
from qa.text import language
from tests import golden

AGENCY = "西藏自治区住房和城乡建设厅"


def _fact(expected: str = "3", **more) -> GoldItem:
    return GoldItem.from_json({
        "id": "t", "question": "西藏住建厅2021年行政处罚多少件？", "type": "fact", "agency": AGENCY, "year": 2021,
        "expected": expected, "cite": {"table": "enforcement", "row": "penalty", "column": "decisions"}, **more,
    })


def _cell(table: str = "enforcement", row: str = "penalty", column: str = "decisions", year: int = 2021,
          agency: str = AGENCY, cell: str = "3") -> Citation:
    return Citation(report_id=f"{agency}:{year}", agency=agency, year=year, source="x.txt",
                    section="二、主动公开政府信息情况 › 第二十条第（六）项", table_key=table, row_key=row,
                    column_key=column, cell=cell)


def _passage(section: str, year: int = 2021) -> Citation:
    return Citation(report_id=f"{AGENCY}:{year}", agency=AGENCY, year=year, source="x.txt", section=section)


def _answer(value: str | None, *citations: Citation, kind: str = "fact", text: str = "") -> Answer:
    return Answer(question="q", answer=text or f"作出行政处罚决定 {value} 件。", kind=kind, value=value,
                  citations=list(citations))


# -- value normalization ------------------------------------------------------------------------


@pytest.mark.parametrize("got", ["3", "3件", "3.0", "+3", "３", " 3 件", "3.00"])
def test_numbers_equal_after_unit_and_format_normalization(got):
    assert same_value("3", got)


@pytest.mark.parametrize("got", ["4", "30", "0.3", None, "", "三"])
def test_different_or_missing_numbers_are_not_equal(got):
    assert not same_value("3", got)


def test_wan_yuan_amounts_compare_with_all_their_decimals():
    assert same_value("4068.208", "4068.208万元")
    assert same_value("4068.208万元", "4,068.2080")
    assert not same_value("4068.208", "4068.21")
    assert parse_number("117批次") == 117
    assert parse_number("-185") == -185
    assert parse_number("22（其中修订 16 件）") == 22


def test_narrative_phrase_matches_numbers_as_numbers_and_text_after_normalization():
    assert contains_phrase("我廳共開設4個政務新媒體", "4")
    assert not contains_phrase("我厅共开设14个政务新媒体", "4")
    assert contains_phrase("一是政府信息公開機制還不健全。", "机制还不健全")
    assert not contains_phrase("网站维护不到位", "机制还不健全")


# -- scoring one answer -------------------------------------------------------------------------


def test_right_value_and_cell_scores_both():
    outcome = score_answer(_fact(), _answer("3", _cell()))
    assert outcome.answer_ok and outcome.cite_ok and outcome.rank == 1


def test_right_value_from_the_wrong_cell_or_year_fails_citation():
    assert not score_answer(_fact(), _answer("3", _cell(row="coercion"))).cite_ok
    assert not score_answer(_fact(), _answer("3", _cell(year=2022))).cite_ok
    assert not score_answer(_fact(), _answer("3")).cite_ok


def test_a_refusal_clarification_or_compare_is_never_a_right_fact_answer():
    assert not score_answer(_fact(), _answer("3", _cell(), kind="refusal")).answer_ok
    assert not score_answer(_fact(), _answer("3", _cell(), kind="clarify")).answer_ok
    # A compare of another agency's 0 with this one's 3 prints 3 too.
    other = _cell(agency="拉萨市住房和城乡建设局", cell="0")
    assert not score_answer(_fact(), _answer("3", other, _cell(), kind="compare")).answer_ok


def _compare(expected: str, values: dict[str, str], *targets: dict, agency: str | None = AGENCY) -> GoldItem:
    return GoldItem.from_json({"id": "c", "question": "q", "type": "compare", "agency": agency,
                               "expected": expected, "values": values, "cite": list(targets)})


_PENALTY = {"table": "enforcement", "row": "penalty", "column": "decisions"}


def test_compare_needs_both_values_and_the_signed_difference():
    item = _compare("5", {"2021": "3", "2022": "8"}, {**_PENALTY, "year": 2021}, {**_PENALTY, "year": 2022})
    both = [_cell(cell="3"), _cell(year=2022, cell="8")]
    good = Answer("q", "2021年3件，2022年8件，增加5件。", "compare", "5", both)
    assert score_answer(item, good).ok
    wrong_sign = Answer("q", "2022年8件，2021年3件，减少5件", "compare", "-5", both)
    assert not score_answer(item, wrong_sign).answer_ok
    unsigned_text_only = Answer("q", "2022年8件，比2021年的3件多5件", "compare", None, both)
    assert not score_answer(item, unsigned_text_only).answer_ok
    one_year_only = Answer("q", "2022年8件，增加5件", "compare", "5", both[1:])
    assert not score_answer(item, one_year_only).cite_ok
    a_value_unsaid = Answer("q", "增加5件", "compare", "5", [])
    assert not score_answer(item, a_value_unsaid).answer_ok


def test_a_decrease_is_negative():
    item = _compare("-5", {"2021": "8", "2022": "3"}, {**_PENALTY, "year": 2021}, {**_PENALTY, "year": 2022})
    both = [_cell(cell="8"), _cell(year=2022, cell="3")]
    assert score_answer(item, Answer("q", "2022年3件，比2021年8件减少5件", "compare", "-5", both)).ok
    assert not score_answer(item, Answer("q", "2022年3件，2021年8件，相差5件", "compare", "5", both)).answer_ok


def test_compare_across_agencies_is_the_first_named_minus_the_second():
    other = "拉萨市住房和城乡建设局"
    item = _compare("-4", {AGENCY: "3", other: "7"}, {**_PENALTY, "year": 2021, "agency": AGENCY},
                    {**_PENALTY, "year": 2021, "agency": other}, agency=None)
    cells = [_cell(cell="3"), _cell(agency=other, cell="7")]
    assert score_answer(item, Answer("q", f"{AGENCY} 3件，{other} 7件，少4件", "compare", "-4", cells)).ok
    assert not score_answer(item, Answer("q", "多4件", "compare", "4", cells)).answer_ok
    assert not score_answer(item, Answer("q", "3件，7件", "compare", "-4", cells[:1])).cite_ok


def test_a_percentage_change_is_matched_with_its_sign_and_printed_decimals():
    item = _compare("-62.5%", {"2021": "8", "2022": "3"}, {**_PENALTY, "year": 2021}, {**_PENALTY, "year": 2022})
    both = [_cell(cell="8"), _cell(year=2022, cell="3")]
    assert score_answer(item, Answer("q", "2022年3件，2021年8件，减少5件（-62.5%）。", "compare", "-5", both)).ok
    assert score_answer(item, Answer("q", "3 vs 8: -5 (−62.50%).", "compare", "-5", both)).answer_ok
    assert not score_answer(item, Answer("q", "3 vs 8: down 62.5%.", "compare", "-5", both)).answer_ok
    assert not score_answer(item, Answer("q", "3 vs 8: -5 (-60%).", "compare", "-5", both)).answer_ok


def test_an_item_asking_several_quantities_needs_each_stated_and_cited():
    item = GoldItem.from_json({
        "id": "m", "question": "西藏住建厅2021年行政处罚和行政强制分别多少件？", "type": "fact", "agency": AGENCY,
        "year": 2021, "values": {"行政处罚": "3", "行政强制": "2"},
        "cite": [_PENALTY, {"table": "enforcement", "row": "coercion", "column": "decisions"}],
    })
    cells = [_cell(cell="3"), _cell(row="coercion", cell="2")]
    assert score_answer(item, Answer("q", "行政处罚3件，行政强制2件。", "fact", None, cells)).ok
    assert not score_answer(item, Answer("q", "行政处罚3件。", "fact", "3", cells[:1])).ok
    narrative = GoldItem.from_json({"id": "n", "question": "q", "type": "narrative", "expected": "",
                                    "values": {"发布": "1169", "原创": "159"}, "cite": {"section": "overview"}})
    said = Answer("q", "共发布1169篇公众号信息，其中原创类信息159篇。", "narrative", None, [_passage("一、总体情况")])
    assert score_answer(narrative, said).ok
    assert not score_answer(narrative, Answer("q", "共发布1169篇。", "narrative", None, said.citations)).answer_ok


def test_tags_round_trip_and_an_item_without_an_answer_is_rejected():
    item = _fact(tags={"form": "abbr", "half": "dev"})
    assert item.tags == {"form": "abbr", "half": "dev"}
    assert GoldItem.from_json(item.to_json()) == item
    with pytest.raises(ValueError, match="needs `expected` or `values`"):
        GoldItem.from_json({"id": "x", "question": "q", "type": "compare"})


def test_narrative_rank_is_the_first_citation_from_the_right_section():
    item = GoldItem.from_json({"id": "n", "question": "q", "type": "narrative", "agency": AGENCY, "year": 2021,
                               "expected": "机制还不健全", "cite": {"section": "problems"}})
    citations = [_passage("一、总体情况"), _passage("六、其他需要报告的事项"), _passage("五、存在的主要问题及改进情况")]
    outcome = score_answer(item, Answer("q", "政府信息公开机制还不健全。", "narrative", None, citations))
    assert outcome.ok and outcome.rank == 3


def test_heading_section_key_reads_table_keys_and_heading_words():
    assert heading_section_key(_cell()) == "proactive"
    assert heading_section_key(_passage("二、存在的問題及建議")) == "problems"
    assert heading_section_key(_passage("四、因政府信息公开工作被申请行政复议和提起行政诉讼情况")) == "review"
    assert heading_section_key(_passage("附件")) == ""


# -- aggregates ---------------------------------------------------------------------------------


def _refusal_item(i: int) -> GoldItem:
    return GoldItem(id=f"r{i}", question="q", type="refusal")


def test_refusal_precision_and_recall():
    refused = _answer(None, kind="refusal", text="没有该年度的报告")
    outcomes = [
        score_answer(_refusal_item(1), refused),  # right refusal
        score_answer(_refusal_item(2), refused),  # right refusal
        score_answer(_refusal_item(3), _answer("3", _cell())),  # answered what it should have refused
        score_answer(_fact(), refused),  # refused what it should have answered
        score_answer(_fact(), _answer("3", _cell())),
    ]
    scores = Scores.of(outcomes)
    assert scores.refusal_precision == pytest.approx(2 / 3)
    assert scores.refusal_recall == pytest.approx(2 / 3)
    assert Scores.of(outcomes[4:]).refusal_precision is None


def test_mrr_and_recall_at_5():
    item = GoldItem.from_json({"id": "n", "question": "q", "type": "narrative", "agency": AGENCY, "year": 2021,
                               "expected": "", "cite": {"section": "problems"}})
    other, right = _passage("一、总体情况"), _passage("五、存在的主要问题及改进情况")
    ranks = [[right], [other, right], [other] * 5 + [right], [other]]
    outcomes = [score_answer(item, Answer("q", "x", "narrative", None, c)) for c in ranks]
    scores = Scores.of(outcomes)
    assert scores.mrr == pytest.approx((1 + 1 / 2 + 1 / 6 + 0) / 4)
    assert scores.recall_at_5 == pytest.approx(2 / 4)


def test_percentile_is_nearest_rank():
    values = list(range(1, 21))
    assert percentile(values, 50) == 10
    assert percentile(values, 95) == 19
    assert percentile([], 95) == 0.0


class _Scripted:
    """An answerer with canned answers, standing in for the engine."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers = answers
        self.seen: list[tuple[str, tuple[str, ...]]] = []

    def answer(self, question: str, history=()) -> Answer:
        self.seen.append((question, tuple(history)))
        return self.answers[question]


def test_evaluate_runs_history_and_reports_markdown_json_and_predictions(tmp_path):
    items = [
        _fact(),
        GoldItem.from_json({"id": "f2", "question": "2022年呢？", "type": "fact", "agency": AGENCY, "year": 2022,
                            "expected": "8", "history": ["西藏住建厅2021年行政处罚多少件？"],
                            "cite": {"table": "enforcement", "row": "penalty", "column": "decisions"}}),
        GoldItem(id="r", question="2030年呢？", type="refusal"),
    ]
    engine = _Scripted({
        items[0].question: _answer("3", _cell()),
        "2022年呢？": _answer("7", _cell(year=2022, cell="7")),
        "2030年呢？": _answer(None, kind="refusal", text="没有2030年的报告"),
    })
    report = evaluate(engine, items, baseline=engine, section_of=heading_section_key, name="t")
    assert ("2022年呢？", ("西藏住建厅2021年行政处罚多少件？",)) in engine.seen
    scores = report.scores()
    assert scores["fact"].answer_accuracy == 0.5 and scores["refusal"].refusal_recall == 1
    assert [o.item.id for o in report.failures()] == ["f2"]
    markdown = report.to_markdown()
    assert "engine / baseline" in markdown and "| f2 | fact |" in markdown and "'8'" in markdown
    json.dumps(report.to_json(), ensure_ascii=False)
    preds = tmp_path / "preds.jsonl"
    report.write_predictions(preds)
    lines = [json.loads(line) for line in preds.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["t", "f2", "r"] and lines[0]["value"] == "3"


# -- the naive baseline ---------------------------------------------------------------------------


def test_naive_baseline_answers_with_the_first_number_of_the_best_window(tmp_path):
    from langchain_core.embeddings import DeterministicFakeEmbedding

    from ingest.model import Chunk
    from ingest.settings import Settings
    from ingest.store import Store
    from qa.baseline import NaiveRAG
    from tests.test_store import _report

    store = Store(Settings(home=tmp_path, embed_model="fake"), embeddings=DeterministicFakeEmbedding(size=16))
    report = _report()
    texts = [("二、主动公开政府信息情况", "proactive", "2021年我局作出行政处罚决定3件。"),
             ("五、存在的主要问题及改进情况", "problems", "政策解读形式较为单一。" * 40)]
    chunks = [Chunk(id=f"{report.id}:{i}", text=f"标题\n{text}", report_id=report.id, agency=report.agency,
                    year=report.year, section=section, section_key=key, kind="text", source=report.source)
              for i, (section, key, text) in enumerate(texts)]
    store.put(report, [], [], chunks)
    naive = NaiveRAG(store, chunk_chars=100, k=50)
    answer = naive.answer("行政处罚多少件？")
    windows = [c.snippet for c in answer.citations]
    assert len(windows) > 4 and all(len(w) <= 100 for w in windows)
    assert {c.section for c in answer.citations} == {t[0] for t in texts}
    said = [n for n in numbers(windows[0]) if n != 2021]  # a year is not an answer
    assert (answer.kind, answer.value) == (("fact", str(said[0])) if said else ("narrative", None))
    assert any("决定3件" in w for w in windows)
    assert naive.answer("存在哪些问题").kind == "narrative"


# -- the labelled sets ----------------------------------------------------------------------------


def test_bad_labelled_lines_name_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "q", "type": "fact", "expected": "3"}\n'
                   '{"id": "b", "question": "q", "type": "guess"}\n',
                   encoding="utf-8")
    with pytest.raises(EvalError, match=r"bad.jsonl:2: type must be one of"):
        load_items(bad)
    bad.write_text('{"id": "a", "question": "q", "type": "fact", "expected": "3", "cite": {"table": "nope"}}\n',
                   encoding="utf-8")
    with pytest.raises(EvalError, match="unknown table key 'nope'"):
        load_items(bad)


def test_core_set_covers_every_type_both_languages_and_follow_ups():

    items = load_items(golden.CORE_SET)
    assert len(items) >= 150
    assert {i.type for i in items} == {"fact", "compare", "narrative", "refusal"}
    assert sum(language(i.question) == "en" for i in items) >= 0.3 * len(items)
    assert sum(bool(i.history) for i in items) >= 10
    assert len({i.year for i in items if i.agency == golden.MAIN}) >= 5
    assert len({i.id for i in items}) == len(items)


def test_generated_part_of_the_core_set_is_what_the_builder_makes():
    on_disk = [json.loads(line) for line in golden.CORE_SET.read_text(encoding="utf-8").splitlines()]
    generated = [line for line in on_disk if line["id"].startswith(golden.GEN_PREFIX)]
    assert generated == [item.to_json() for item in golden.build_core()]


# -- the engine on the labelled sets (real store, real model) ------------------------------------


@pytest.fixture(scope="session")
def core_store(tmp_path_factory):
    from ingest.pipeline import ingest
    from ingest.settings import Settings
    from ingest.store import Store

    base = tmp_path_factory.mktemp("golden_core")
    files = base / "files"
    files.mkdir()
    shutil.copy(golden.SEED_REPORT, files / golden.SEED_REPORT.name)
    golden.render_core_reports(files)
    store = Store(Settings(home=base / "home"))
    results = ingest([files], store)
    assert all(r.status != "error" for r in results), [r for r in results if r.status == "error"]
    return store


@pytest.fixture(scope="session")
def core_report(core_store) -> EvalReport:
    from qa import Engine

    return evaluate(Engine(core_store), load_items(golden.CORE_SET), name="golden_core")


def _fact_accuracy(report: EvalReport, lang: str) -> float:
    return report.scores_by_language()[lang]["fact"].accuracy


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_fact_questions_get_the_right_value_and_cell(core_report, lang):
    accuracy = _fact_accuracy(core_report, lang)
    assert accuracy >= 0.98, core_report.to_markdown()


def test_questions_about_absent_data_are_refused(core_report):
    scores = core_report.scores()
    assert scores["refusal"].refusal_recall == 1.0, core_report.to_markdown()
    assert scores["overall"].refusal_precision == 1.0, core_report.to_markdown()


@pytest.mark.shared
def test_shared_set_fact_questions_and_refusals(shared_corpus, tmp_path_factory):
    from ingest.pipeline import ingest
    from ingest.settings import Settings
    from ingest.store import Store
    from qa import Engine

    path = Path(golden.SHARED_SET)
    if not path.exists():
        pytest.fail(f"{path} is missing: run `python -m tests.golden` once tests/gold/shared_cells.jsonl exists")
    store = Store(Settings(home=tmp_path_factory.mktemp("golden_shared")))
    reports = shared_corpus / "reports"
    # Two files never print their agency's official name (MANIFEST.md: 上海市科委 only, and 沭 OCR-read as 沐
    # throughout); a user supplies it with `--agency`, as here. test_readers checks the names as printed.
    named = {"shanghai_kewei_2024.md": "上海市科学技术委员会", "shuyang_2025.md": "沭阳县人民政府"}
    results = ingest([p for p in sorted(reports.iterdir()) if p.name not in named], store)
    for name, agency in named.items():
        results += ingest([reports / name], store, agency=agency)
    assert all(r.status != "error" for r in results)
    report = evaluate(Engine(store), load_items(path), name="golden_shared")
    facts = [o for o in report.outcomes if o.item.type == "fact"]
    # A cell the extractor flagged (a lost column in 上海 2025's Markdown) must be answered as uncertain,
    # with the true value among the candidates it names, never as a sure number; the rest must be right.
    flagged = [o for o in facts if o.answer.value is None and any(c.status == "ambiguous" for c in o.answer.citations)]
    assert all(any(same_value(o.item.expected, str(n)) for n in numbers(o.answer.answer)) for o in flagged), [
        (o.item.id, o.answer.answer) for o in flagged
    ]
    assert len(flagged) <= 0.05 * len(facts)
    for lang in ("zh", "en"):
        asked = [o for o in facts if o not in flagged and language(o.item.question) == lang]
        assert sum(o.ok for o in asked) >= 0.98 * len(asked), report.to_markdown()
        # Narrative answers must quote the key phrase from the right section, English questions included.
        assert report.scores_by_language()[lang]["narrative"].accuracy >= 0.9, report.to_markdown()
    assert report.scores()["refusal"].refusal_recall == 1.0, report.to_markdown()
