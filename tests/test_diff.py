"""Year-on-year diff of one agency (issue #15 part 3): qa/diff.py, `reportqa diff` and the web tab's handler.

Core cases use two generated reports of one agency (every cell known) with problems sections written here, and
the fake embedding (identical sentences score 1, others near 0); the shared case uses the real model on the two
洪泽 reports, where the threshold was measured.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from click.testing import CliRunner
from langchain_core.embeddings import DeterministicFakeEmbedding

import ui.cli
from ingest.errors import ReportQAError
from ingest.pipeline import ingest
from ingest.settings import Settings
from ingest.store import Store
from qa.diff import CARRIED_OVER, diff, resolve_agency
from qa.indicators import CATALOGUE, compute
from tests.reportgen import AGENCIES, random_spec, render
from tests.test_web import WAIT_MS, browser, served  # noqa: F401 (fixtures of the browser test)

AGENCY = AGENCIES[4]
EARLIER = ("（一）存在的主要问题", "政策解读形式较为单一。部分信息更新不够及时。", "（二）改进措施",
           "加强答复文书审核，提升办理质量。")
LATER = ("（一）存在的主要问题", "部分信息更新不够及时。基层工作人员业务能力有待加强。", "（二）改进措施",
         "加强答复文书审核，提升办理质量。")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    base = tmp_path_factory.mktemp("diff_generated")
    specs = {}
    for year, problems in ((2022, EARLIER), (2023, LATER)):
        spec = random_spec(AGENCY, year, seed=3)
        specs[year] = replace(spec, prose={**spec.prose, "problems": problems})
    store = Store(Settings(home=base / "home", embed_model="fake"), embeddings=DeterministicFakeEmbedding(size=16))
    results = ingest([render(s, "html", base / f"r{y}.html") for y, s in specs.items()], store)
    assert all(r.status == "added" for r in results), [r.message for r in results]
    return store, specs


def test_changed_cells_with_signed_change_and_percent_of_the_earlier(generated):
    store, specs = generated
    result = diff(store, AGENCY, 2023, 2022)  # the years in either order: the earlier is the base
    assert (result.earlier, result.later) == (2022, 2023)
    before, after = specs[2022].numbers, specs[2023].numbers
    expected = {k for k in before.keys() & after.keys()
                if before[k] is not None and after[k] is not None and before[k] != after[k]}
    changed = {(c.table, c.row, c.column): c for c in result.cells if c.status == "changed"}
    assert set(changed) == expected
    for key, cell in changed.items():
        assert cell.change == pytest.approx(after[key] - before[key])
        if before[key]:
            assert cell.percent == pytest.approx((after[key] - before[key]) / before[key] * 100)
        else:
            assert cell.percent is None
    assert result.unchanged + len(result.cells) == len(before.keys() | after.keys())


def test_indicators_side_by_side(generated):
    store, _ = generated
    result = diff(store, AGENCY, 2022, 2023)
    assert [p.key for p in result.indicators] == [i.key for i in CATALOGUE]
    for pair in result.indicators:
        assert pair.earlier.value == compute(pair.key, store.facts(agency=AGENCY, year=2022)).value or (
            pair.key == "request_growth")
        assert pair.later.year == 2023 and pair.earlier.year == 2022
    growth = next(p for p in result.indicators if p.key == "request_growth")
    assert growth.earlier.problem == "no_report" and growth.later.value is not None


def test_problem_sentences_new_and_carried_over(generated):
    store, _ = generated
    result = diff(store, AGENCY, 2022, 2023)
    status = {s.text: s.carried for s in result.sentences}
    assert status == {"部分信息更新不够及时。": True, "基层工作人员业务能力有待加强。": False,
                      "加强答复文书审核，提升办理质量。": True}
    assert result.dropped == ("政策解读形式较为单一。",)
    assert all(s.similarity >= CARRIED_OVER for s in result.sentences if s.carried)


def test_markdown_and_json(generated):
    store, _ = generated
    result = diff(store, AGENCY, 2022, 2023)
    md = result.to_markdown()
    assert f"# {AGENCY}：2022年 → 2023年" in md
    assert "| 实质公开率 (substantive disclosure rate) |" in md
    assert "- **新增**" in md and "基层工作人员业务能力有待加强。" in md
    data = json.loads(json.dumps(result.to_json(), ensure_ascii=False))
    assert data["earlier"] == 2022 and {c["status"] for c in data["cells"]} <= {
        "changed", "not_comparable", "only_earlier", "only_later"}
    assert {i["key"] for i in data["indicators"]} == {i.key for i in CATALOGUE}


def test_cli_diff(generated, monkeypatch):
    store, _ = generated
    monkeypatch.setattr(ui.cli, "_store", lambda: store)
    out = CliRunner().invoke(ui.cli.cli, ["diff", AGENCY, "2022", "2023"])
    assert out.exit_code == 0, out.output
    assert "## 指标对比" in out.output
    out = CliRunner().invoke(ui.cli.cli, ["diff", AGENCY, "2022", "2023", "--json"])
    assert json.loads(out.output)["later"] == 2023
    out = CliRunner().invoke(ui.cli.cli, ["diff", AGENCY, "2018", "2023"])
    assert out.exit_code != 0 and "2018" in out.output and "2022, 2023" in out.output


def test_agency_as_users_write_it(generated):
    store, _ = generated
    assert resolve_agency(store, AGENCY) == AGENCY
    with pytest.raises(ReportQAError, match="agencies"):
        resolve_agency(store, "火星市气象局")


def test_web_tab_handler(generated):
    from ui.web.diff_page import HINT, DiffPage

    store, _ = generated
    page = DiffPage(store)
    assert page.show(None, None, None) == HINT
    assert "两个不同的年份" in page.show(AGENCY, "2023", "2023")
    assert "## 变化的单元格" in page.show(AGENCY, "2022", "2023")
    agency, first, second = page.refresh(None)
    assert agency.value == AGENCY and (first.value, second.value) == ("2022", "2023")


@pytest.mark.shared
def test_real_reports_with_the_real_model(shared_corpus, tmp_path):
    store = Store(Settings(home=tmp_path / "home"))
    reports = shared_corpus / "reports"
    results = ingest([reports / "hongze_2023.pdf", reports / "hongze_2024.pdf"], store)
    assert all(r.status == "added" for r in results)
    [agency] = store.agencies()
    result = diff(store, agency, 2023, 2024)
    new = next(c for c in result.cells if (c.table, c.row, c.column) == ("requests", "new", "total"))
    assert (new.before, new.after, new.change) == ("21", "95", 74)
    assert new.percent == pytest.approx(74 / 21 * 100)
    carried = [s.text for s in result.sentences if s.carried]
    # the plan restated from 2023 (一是扎实推进依申请公开工作…) and the training sentence (跟班学习制度…)
    assert len(carried) == 2 and any("扎实推进依申请公开工作" in t for t in carried)
    assert any("跟班学习制度" in t for t in carried)
    assert any(not s.carried and "典型案例" in s.text for s in result.sentences)
    review = next(p for p in result.indicators if p.key == "review_correction")
    assert review.earlier.value == pytest.approx(100 / 11) and review.later.value == pytest.approx(50.0)


@pytest.mark.browser
def test_the_web_tab_shows_the_diff(served, browser, tmp_path):  # noqa: F811 (the imported fixtures)
    """The 年度对比 tab fills its pickers from the store when opened and shows the Markdown diff."""
    agency = AGENCIES[5]
    files = [render(random_spec(agency, year, seed=5), "html", tmp_path / f"d{year}.html") for year in (2022, 2023)]
    assert all(r.status == "added" for r in ingest(files, served.store))
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(served.url, wait_until="load")
        page.get_by_role("tab", name="年度对比").click()
        page.get_by_label("对比的机构").click()
        page.get_by_role("option", name=agency, exact=True).click()
        page.wait_for_function("() => document.querySelector('#diff-year2 input').value === '2023'",
                               timeout=WAIT_MS)
        page.locator("#diff-run").click()
        page.wait_for_function("() => document.querySelector('#diff-output').innerText.includes('年 → ')",
                               timeout=WAIT_MS)
        text = page.locator("#diff-output").inner_text()
        assert f"{agency}：2022年 → 2023年" in text and "实质公开率" in text
    finally:
        context.close()
