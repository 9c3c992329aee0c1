"""Indicators computed from cells (issue #15 part 1): the catalogue, `compute()` and the questions that ask for them.

Core cases run on generated reports (tests/reportgen.py, every cell known) and hand-made facts; the shared cases
ask every indicator of every report of ../shared/corpus in Chinese and English and check the value against one
computed here, independently, from the hand-checked gold cells (tests/gold/shared_cells.jsonl).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from langchain_core.embeddings import DeterministicFakeEmbedding

from ingest.model import Fact
from ingest.pipeline import ingest
from ingest.settings import Settings
from ingest.store import Store
from qa import Engine
from qa.indicators import CATALOGUE, compute, indicator, named
from qa.understand import understand
from tests.reportgen import AGENCIES, random_spec, render

GOLD = Path(__file__).parent / "gold" / "shared_cells.jsonl"
_APPLICANTS = ("natural_person", "business", "research", "public_interest", "legal_service", "other_org")


def _fake_store(home: Path) -> Store:
    return Store(Settings(home=home, embed_model="fake"), embeddings=DeterministicFakeEmbedding(size=16))


def _percent(answer_value: str | None) -> float:
    assert answer_value is not None
    return float(answer_value.rstrip("%"))


def _cells(answer) -> set[tuple[str, int, str, str, str]]:
    return {(c.agency, c.year, c.table_key, c.row_key, c.column_key) for c in answer.citations}


# -- the catalogue ------------------------------------------------------------------------------------------------


def test_catalogue_is_data_with_both_names_and_schema_cells():
    from ingest.format import schema

    keys = [i.key for i in CATALOGUE]
    assert len(keys) == len(set(keys)) >= 7
    for ind in CATALOGUE:
        assert ind.zh and ind.en and ind.numerator and ind.denominator
        for _, term in ind.terms:
            spec = schema.table(term.table)
            assert all(spec.row(r) for r in term.rows) and spec.column(term.column)
    assert indicator("request_growth").years_back == 1
    assert indicator("review_correction").years_back == 0


@pytest.mark.parametrize(("text", "key"), [
    ("平潭2024年的实质公开率是多少？", "substantive_disclosure"),
    ("不予公开率", "non_disclosure"),  # not 公开率 inside it
    ("公开率是多少", "substantive_disclosure"),
    ("行政复议纠错率", "review_correction"),
    ("纠错率最高", "review_correction"),
    ("行政诉讼败诉率", "litigation_loss"),
    ("无法提供率", "unavailable"),
    ("申请量同比增长多少", "request_growth"),
    ("结转率", "carry_forward"),
    ("which agency had the highest correction rate in 2023?", "review_correction"),
    ("what was the non-disclosure rate", "non_disclosure"),
    ("the litigation loss rates", "litigation_loss"),
    ("year-on-year change in requests", "request_growth"),
    ("carry-forward rate", "carry_forward"),
    ("substantive disclosure rate", "substantive_disclosure"),
])
def test_indicator_names_in_both_languages(text, key):
    found = named(text)
    assert found is not None and found.key == key


@pytest.mark.parametrize("text", ["满意率", "平均办理天数", "satisfaction rate", "行政处罚多少件"])
def test_other_words_name_no_indicator(text):
    assert named(text) is None


# -- compute() on hand-made facts -----------------------------------------------------------------------------


def _fact(table: str, row: str, column: str, raw: str, **more) -> Fact:
    value = float(raw) if re.fullmatch(r"\d+", raw) else None
    return Fact(report_id="甲局:2023", agency="甲局", year=2023, template="2021", table=table, row=row,
                column=column, row_label=row, column_label=column, raw=raw, value=value, unit="件",
                kind="number" if value is not None else "blank", **more)


def _review(**cells: str) -> list[Fact]:
    return [_fact("review", "cases", column, raw) for column, raw in cells.items()]


def test_review_correction_rate_with_formula_inputs():
    facts = _review(review_upheld="3", review_corrected="2", review_other="1", review_pending="2", review_total="8")
    v = compute("review_correction", facts)
    assert v.value == pytest.approx(2 / 6 * 100)
    assert (v.numerator, v.denominator) == (2, 6)
    assert [(i.name_zh, i.sign, i.value) for i in v.inputs] == [("结果纠正", 1, 2), ("复议总计", 1, 8),
                                                                ("尚未审结", -1, 2)]


def test_a_blank_input_is_not_computable_naming_the_cell():
    facts = _review(review_upheld="3", review_corrected="", review_other="1", review_pending="0", review_total="6")
    v = compute("review_correction", facts)
    assert v.value is None and v.problem == "blank"
    assert v.cell == "行政复议 › 结果纠正"
    assert [f.column for f in v.facts] == ["review_corrected"]


def test_a_blank_that_the_printed_total_proves_zero_counts_as_zero():
    # 3 + blank + 1 + 0 = 4 = 总计: the blank 结果纠正 can only be 0
    facts = _review(review_upheld="3", review_corrected="", review_other="1", review_pending="0", review_total="4")
    v = compute("review_correction", facts)
    assert v.value == 0 and [f.column for i in v.inputs for f in i.zeroed] == ["review_corrected"]


def test_an_ambiguous_input_is_not_computable_with_its_candidates():
    facts = _review(review_upheld="3", review_corrected="1", review_other="1", review_pending="0", review_total="5")
    facts[1] = replace(facts[1], status="ambiguous", candidates=(1.0, 11.0), value=None)
    v = compute("review_correction", facts)
    assert (v.value, v.problem, v.candidates) == (None, "ambiguous", (1.0, 11.0))


def test_a_total_left_zero_while_its_parts_are_not_is_their_sum():
    facts = _review(review_upheld="10", review_corrected="1", review_other="0", review_pending="0", review_total="0")
    v = compute("review_correction", facts)
    assert v.value == pytest.approx(1 / 11 * 100)
    assert v.inputs[1].summed


def test_zero_denominator_and_missing_report_are_not_computable():
    facts = _review(review_upheld="0", review_corrected="0", review_other="0", review_pending="1", review_total="1")
    assert compute("review_correction", facts).problem == "zero"
    new = [_fact("requests", "new", "total", "10")]
    growth = compute("request_growth", new, None)
    assert (growth.value, growth.problem, growth.cell) == (None, "no_report", "甲局 2022")
    last = [replace(f, year=2022, report_id="甲局:2022", raw="8", value=8.0) for f in new]
    assert compute("request_growth", new, last).value == pytest.approx(25.0)
    assert compute("review_correction", new).problem == "missing"


# -- questions over generated reports ---------------------------------------------------------------------------

_GEN = [(AGENCIES[0], 2022), (AGENCIES[0], 2023), (AGENCIES[1], 2023), (AGENCIES[2], 2023)]


def _generated(base: Path):
    specs = {(a, y): random_spec(a, y, seed=11) for a, y in _GEN}
    files = [render(spec, "html", base / "files" / f"r{i}.html") for i, spec in enumerate(specs.values())]
    store = _fake_store(base / "home")
    results = ingest(files, store)
    assert all(r.status == "added" for r in results), [r.message for r in results]
    return store, specs


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return _generated(tmp_path_factory.mktemp("indicators_generated"))


@pytest.fixture
def fresh(tmp_path):
    """A store of its own, for tests that change cells."""
    return _generated(tmp_path)


def _expected(ind_key: str, numbers: dict, previous: dict | None = None) -> float | None:
    """The indicator from a report's known cells, written out independently of qa/indicators.py."""
    n = lambda *key: numbers[key] or 0.0  # noqa: E731
    req = lambda row: n("requests", row, "total")  # noqa: E731
    withheld = [r for (t, r, c) in numbers if t == "requests" and c == "total" and r.startswith("withheld_")]
    unavailable = [r for (t, r, c) in numbers if t == "requests" and c == "total" and r.startswith("unavailable_")]
    rev = lambda col: n("review", "cases", col)  # noqa: E731
    fractions = {
        "substantive_disclosure": (req("granted") + req("partly_granted"), req("total_handled")),
        "non_disclosure": (sum(req(r) for r in withheld), req("total_handled")),
        "unavailable": (sum(req(r) for r in unavailable), req("total_handled")),
        "review_correction": (rev("review_corrected"), rev("review_total") - rev("review_pending")),
        "litigation_loss": (rev("suit_direct_corrected") + rev("suit_after_review_corrected"),
                            rev("suit_direct_total") - rev("suit_direct_pending") + rev("suit_after_review_total")
                            - rev("suit_after_review_pending")),
        "carry_forward": (req("carried_forward"), req("total_handled")),
    }
    if ind_key == "request_growth":
        if previous is None:
            return None
        last = previous[("requests", "new", "total")] or 0.0
        fractions[ind_key] = (req("new") - last, last)
    num, den = fractions[ind_key]
    return None if den == 0 else num / den * 100


@pytest.mark.parametrize("ind", CATALOGUE, ids=lambda i: i.key)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_generated_reports_answer_every_indicator_with_formula_and_inputs(generated, ind, lang):
    store, specs = generated
    engine = Engine(store)
    for (agency, year), spec in specs.items():
        previous = specs.get((agency, year - 1))
        expected = _expected(ind.key, spec.numbers, previous.numbers if previous else None)
        question = (f"{agency}{year}年的{ind.zh}是多少？" if lang == "zh"
                    else f"What was the {ind.en} of {agency} in {year}?")
        answer = engine.answer(question)
        if expected is None:
            assert answer.kind == "indicator" and answer.value is None, answer.answer
            assert ("无法计算" if lang == "zh" else "cannot be computed") in answer.answer
            continue
        assert answer.kind == "indicator", answer.answer
        assert _percent(answer.value) == pytest.approx(expected, abs=0.005), answer.answer
        assert f"{ind.zh if lang == 'zh' else ind.en} = " in answer.answer
        assert answer.answer.rstrip().endswith(f"{expected:.2f}%") or "（" in answer.answer or "(" in answer.answer
        # every input cell is cited, of both reports for a year-on-year change
        cited = _cells(answer)
        for _, term in ind.terms:
            for row in term.rows:
                want = (agency, year + term.year_offset, term.table, row, term.column)
                assert want in cited or any(c[:4] == want[:4] and c[4] in _APPLICANTS for c in cited), (want, cited)


def test_the_formula_is_written_with_the_numbers(generated):
    store, specs = generated
    agency, year = _GEN[1]
    numbers = specs[agency, year].numbers
    answer = Engine(store).answer(f"{agency}{year}年的实质公开率是多少？")
    granted, partly, handled = (int(numbers["requests", r, "total"] or 0) for r in
                                ("granted", "partly_granted", "total_handled"))
    assert f"（{granted} + {partly}） ÷ {handled}" in answer.answer, answer.answer
    assert "实质公开率 = （予以公开 + 部分公开） ÷ 办理结果总计 × 100%" in answer.answer


@pytest.mark.parametrize(("question", "lowest"), [
    ("哪个机关2023年实质公开率最高？", False),
    ("2023年哪个部门的实质公开率最低", True),
    ("Which agency had the highest substantive disclosure rate in 2023?", False),
    ("Which agency had the lowest disclosure rate in 2023?", True),
])
def test_rankings_by_an_indicator(generated, question, lowest):
    store, specs = generated
    expected = {a: _expected("substantive_disclosure", s.numbers) for (a, y), s in specs.items() if y == 2023}
    order = sorted((a for a, v in expected.items() if v is not None), key=lambda a: expected[a], reverse=not lowest)
    answer = Engine(store).answer(question)
    assert answer.kind == "rank", answer.answer
    assert [a for a, _ in answer.chart] == order, answer.answer
    assert _percent(answer.value) == pytest.approx(expected[order[0]], abs=0.005)
    assert {c[0] for c in _cells(answer)} == set(order)


def test_a_ranking_says_which_agencies_it_leaves_out(fresh):
    store, _ = fresh
    agency = AGENCIES[2]
    with store._db() as db:  # its 尚未审结 and 总计 make no concluded review: the rate has no denominator
        db.execute(sa.text("UPDATE facts SET raw = '0', value = 0 WHERE report_id = :id AND tbl = 'review' "
                           "AND col LIKE 'review_%'"), {"id": f"{agency}:2023"})
    answer = Engine(store).answer("哪个部门2023年复议纠错率最高")
    assert answer.kind == "rank"
    assert agency not in [a for a, _ in answer.chart]
    assert f"{agency}（分母（复议总计 − 尚未审结）为 0）" in answer.answer, answer.answer


def test_a_deleted_input_cell_makes_the_indicator_not_computable(fresh):
    store, _ = fresh
    agency, year = _GEN[0]
    with store._db() as db:
        db.execute(sa.text("DELETE FROM facts WHERE report_id = :id AND tbl = 'requests' AND row = 'partly_granted'"),
                   {"id": f"{agency}:{year}"})
    answer = Engine(store).answer(f"{agency}{year}年的实质公开率是多少？")
    assert answer.value is None
    assert "无法计算" in answer.answer and "部分公开" in answer.answer, answer.answer
    answer = Engine(store).answer(f"What was the substantive disclosure rate of {agency} in {year}?")
    assert "cannot be computed" in answer.answer and "部分公开" in answer.answer, answer.answer


@pytest.mark.parametrize("question", ["平潭2024年的满意率是多少？", "What was the satisfaction rate of 平潭 in 2024?",
                                      "实质公开率和满意率分别是多少"])
def test_an_unknown_ratio_is_still_refused(question):
    q = understand(question, agencies=["平潭综合实验区"])
    assert q.unaccounted or not q.indicator, q


def test_a_follow_up_keeps_the_indicator():
    q = understand("那2023年呢", history=["平潭2024年的实质公开率是多少？"], agencies=["平潭综合实验区"])
    assert (q.indicator, q.years, q.agencies) == ("substantive_disclosure", (2023,), ("平潭综合实验区",))
    q = understand("行政处罚呢", history=["平潭2024年的实质公开率是多少？"], agencies=["平潭综合实验区"])
    assert not q.indicator and q.asks


# -- the shared corpus: every indicator of every report, against the gold cells ----------------------------------

_NAMED = {"shanghai_kewei_2024.md": "上海市科学技术委员会", "shuyang_2025.md": "沭阳县人民政府"}


@pytest.fixture(scope="module")
def shared_store(shared_corpus, tmp_path_factory):
    store = _fake_store(tmp_path_factory.mktemp("indicators_shared"))
    reports = shared_corpus / "reports"
    results = ingest([p for p in sorted(reports.iterdir()) if p.name not in _NAMED], store)
    for name, agency in _NAMED.items():
        results += ingest([reports / name], store, agency=agency)
    assert all(r.status != "error" for r in results)
    return store


def _gold() -> dict[str, dict[tuple[str, str, str], float | None]]:
    cells: dict[str, dict] = defaultdict(dict)
    for line in GOLD.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        cells[Path(d["file"]).name][(d["table"], d["row"], d["column"])] = d["value"]
    return cells


def _clean(ind_key: str, gold: dict, previous: dict | None) -> bool:
    """Whether every input cell of the indicator is printed as a number in the gold, with each total filled in
    (the cases the straightforward formula decides; the rest are checked one by one below)."""
    ind = indicator(ind_key)
    for _, term in ind.terms:
        cells = gold if term.year_offset == 0 else previous
        if cells is None:
            return ind_key == "request_growth"  # no report of the year before: not computable, checked as such
        for row in term.rows:
            if cells.get((term.table, row, term.column)) is None:
                return False
    if ind.numerator[0].table == "review":
        for block in ("review", "suit_direct", "suit_after_review"):
            parts = sum(gold[("review", "cases", f"{block}_{o}")] or 0 for o in ("upheld", "corrected", "other",
                                                                                  "pending"))
            if parts != (gold[("review", "cases", f"{block}_total")] or 0):
                return False
    return True


# Hand-checked against the printed reports: the cases where a blank or an unfilled total decides.
_SPECIAL = {
    # 总计 column of Table 3 left blank: each row's 总计 is the sum of its applicant columns
    ("shanghai_szfbgt_2019.html", "substantive_disclosure"): (261 + 14, 805),
    ("shanghai_szfbgt_2019.html", "non_disclosure"): (35, 805),  # blank rows: （七）总计 805 is made up without them
    ("shanghai_szfbgt_2019.html", "unavailable"): (337, 805),
    # 结转下年度继续办理's 总计 blank beside 自然人 1 (34 + 2 = 35 + 1)
    ("shanghai_kewei_2024.md", "carry_forward"): (1, 35),
    # 复议后起诉总计 printed 0 beside 结果维持 5: 5 concluded suits, none corrected
    ("hongze_2023.pdf", "litigation_loss"): (0, 5),
    # blank 结果纠正 and 其他结果, but 5 + 2 = 7 = 总计 proves them 0
    ("shanghai_szfbgt_2019.html", "review_correction"): (0, 5),
    # the 复议后起诉 block is blank throughout, its 总计 too: nothing proves its 结果纠正 is 0
    ("shanghai_szfbgt_2019.html", "litigation_loss"): "blank",
    # 复议总计 printed 0 beside 10 + 1 + 0 + 0: their sum
    ("hongze_2023.pdf", "review_correction"): (1, 11),
    # Table 4 blank except 尚未审结 1 = 总计 1: no concluded case
    ("xizang_zjt_2021.txt", "review_correction"): "zero",
    ("xizang_zjt_2021.txt", "litigation_loss"): "blank",
}


@pytest.mark.shared
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_shared_corpus_indicators_match_the_gold_cells(shared_store, lang):
    gold = _gold()
    engine = Engine(shared_store)
    reports = {r.source: r for r in shared_store.reports()}
    by_agency_year = {(r.agency, r.year): r.source for r in reports.values()}
    checked, wrong = 0, []
    for source, report in sorted(reports.items()):
        cells = gold[source]
        previous_source = by_agency_year.get((report.agency, report.year - 1))
        previous = gold[previous_source] if previous_source else None
        for ind in CATALOGUE:
            question = (f"{report.agency}{report.year}年的{ind.zh}是多少？" if lang == "zh"
                        else f"What was the {ind.en} of {report.agency} in {report.year}?")
            answer = engine.answer(question)
            special = _SPECIAL.get((source, ind.key))
            if special is None and not _clean(ind.key, cells, previous):
                continue  # the straightforward formula cannot tell; the special cases above cover the real ones
            checked += 1
            if isinstance(special, str):
                ok = answer.value is None and ("无法计算" in answer.answer or "cannot be computed" in answer.answer)
            else:
                if special is not None:
                    expected = special[0] / special[1] * 100
                else:
                    numbers = {k: v for k, v in cells.items()}
                    expected = _expected(ind.key, numbers, previous)
                ok = (answer.value is None) if expected is None else (
                    answer.value is not None and abs(_percent(answer.value) - expected) < 0.005)
            # every input cell cited: each of the formula's cells of that report
            if ok and answer.value is not None:
                cited = _cells(answer)
                ok = all((report.agency, report.year + t.year_offset, t.table, r, t.column) in cited
                         or any(c[:4] == (report.agency, report.year + t.year_offset, t.table, r)
                                and c[4] in _APPLICANTS for c in cited)
                         for _, t in ind.terms for r in t.rows)
            if not ok:
                wrong.append((source, ind.key, answer.value, answer.answer[:200]))
    assert checked == len(reports) * len(CATALOGUE)
    assert not wrong, wrong


@pytest.mark.shared
@pytest.mark.parametrize(("question", "lowest"), [
    ("哪个部门2023年复议纠错率最高", False),
    ("Which agency had the highest correction rate in 2023?", False),
    ("2024年哪个机关的实质公开率最低？", True),
    ("Which agency had the lowest substantive disclosure rate in 2024?", True),
])
def test_shared_rankings(shared_store, question, lowest):
    answer = Engine(shared_store).answer(question)
    assert answer.kind == "rank", answer.answer
    values = [v for _, v in answer.chart]
    assert values == sorted(values, reverse=not lowest) and len(values) >= 2
    if "纠错" in question or "correction" in question:
        # 平潭 2023: 1 of 2 concluded reviews corrected; 洪泽 2023: 1 of 10 + 1
        assert answer.chart[0] == ("平潭综合实验区", pytest.approx(50.0)), answer.answer
        assert answer.chart[1] == ("淮安市洪泽区人民政府", pytest.approx(100 / 11)), answer.answer


def test_ratio_words_beside_an_indicator_are_explained_by_it():
    q = understand("平潭2024年不予公开率的比例是多少", agencies=["平潭综合实验区"])
    assert (q.indicator, q.unaccounted) == ("non_disclosure", ())


def test_every_year_of_one_agency(generated):
    store, specs = generated
    agency = AGENCIES[0]
    answer = Engine(store).answer(f"{agency}历年的实质公开率")
    years = sorted(y for a, y in specs if a == agency)
    assert answer.kind == "indicator" and [p[0] for p in answer.chart] == [str(y) for y in years], answer.answer
    assert "未指明年度" not in answer.answer


@pytest.mark.shared
def test_a_ranking_among_the_agencies_a_vague_name_fits(shared_store):
    answer = Engine(shared_store).answer("上海哪个部门的实质公开率最高")
    assert answer.kind == "rank" and [a for a, _ in answer.chart] == ["上海市人民政府办公厅"], answer.answer
    # no year asked: the latest year; the other 上海 agency has no report of it and is named as left out
    assert "2025" in answer.answer and "上海市科学技术委员会（需要" in answer.answer, answer.answer
