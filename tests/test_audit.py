"""The report audit (qa/audit.py): the known defects of the shared corpus are found with both sides shown,
consistent generated reports raise nothing, a prose/table mismatch planted in a generated report is found with
its sentence and its cell, and the chat answers "有没有数据前后不一致的地方" from the findings."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from ingest import readers
from ingest.chunking import chunk
from ingest.doubt import doubt
from ingest.format.template import T2019, T2021
from ingest.model import Chunk
from ingest.pipeline import ingest
from ingest.settings import Settings
from ingest.store import Store
from ingest.tables.extract import extract_facts
from qa import Engine
from qa.audit import Finding, audit, audit_report, statements
from qa.understand import understand
from tests.conftest import SHARED_CORPUS
from tests.reportgen import FORMATS, Noise, Spec, Style, random_spec, render

AGENCY = "宜昌市夷陵区交通运输局"


def _audit_file(path: Path, agency: str | None = None, year: int | None = None) -> list[Finding]:
    """Read, extract and chunk one file as ingest does, then audit it (no store, no embedding)."""
    report = readers.read(path, agency=agency, year=year)
    facts = doubt(extract_facts(report))
    return audit_report(report.agency, report.year, facts, chunk(report, facts, Settings().chunk_chars))


def _with_prose(spec: Spec, old: str, new: str) -> Spec:
    """`spec` with one phrase of its overview rewritten (the tables untouched)."""
    overview = tuple(p.replace(old, new) for p in spec.prose["overview"])
    assert overview != spec.prose["overview"], f"{old!r} is not in the overview"
    return replace(spec, prose={**spec.prose, "overview": overview})


def _received_sentence(spec: Spec) -> str:
    """The overview's phrase that states the requests received (reportgen writes one of two wordings)."""
    new = int(spec.numbers[("requests", "new", "total")] or 0)
    for phrase in (f"共收到政府信息公开申请{new}件", f"全年新收申请{new}件"):
        if any(phrase in p for p in spec.prose["overview"]):
            return phrase
    raise AssertionError("no sentence states the requests received")


# -- generated reports -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("template", [T2019, T2021])
def test_consistent_generated_reports_raise_nothing(tmp_path: Path, fmt: str, template: str) -> None:
    for seed in range(3):
        year = 2020 if template == T2019 else 2023
        spec = random_spec(AGENCY, year, template=template, seed=seed)  # type: ignore[arg-type]
        path = render(spec, fmt, tmp_path / f"r{seed}.{fmt}")  # type: ignore[arg-type]
        findings = _audit_file(path, AGENCY, year)
        assert findings == [], [f.message_zh for f in findings]


def test_noisy_generated_reports_raise_only_completeness(tmp_path: Path) -> None:
    """Blank zeros and "/" for zero are the report's form, never a contradiction."""
    for seed in range(4):
        spec = random_spec(AGENCY, 2022, seed=seed, noise=Noise.heavy())
        path = render(spec, "html", tmp_path / f"r{seed}.html")
        findings = _audit_file(path, AGENCY, 2022)
        assert {f.kind for f in findings} <= {"completeness"}, [f.message_zh for f in findings]
        assert all(f.cells for f in findings if f.code in ("blank", "not-a-number"))


def test_prose_table_mismatch_is_found_with_both_sides(tmp_path: Path) -> None:
    spec = random_spec(AGENCY, 2023, seed=1)
    phrase = _received_sentence(spec)
    new = int(spec.numbers[("requests", "new", "total")] or 0)
    stated = new + 7
    wrong = _with_prose(spec, phrase, phrase.replace(f"{new}件", f"{stated}件"))
    findings = _audit_file(render(wrong, "html", tmp_path / "wrong.html"), AGENCY, 2023)
    [finding] = [f for f in findings if f.kind == "prose-vs-table"]
    assert (finding.stated, finding.table_value) == (stated, new)
    assert finding.prose is not None and f"{stated}件" in finding.prose.snippet
    assert finding.prose.section.startswith("一、总体情况")
    assert [(c.row_key, c.column_key, c.cell) for c in finding.cells] == [("new", "total", str(new))]
    assert str(stated) in finding.message_zh and str(new) in finding.message_zh
    assert finding.code == "mismatch" and finding.severity == "warning"


def test_a_sentence_that_qualifies_its_scope_is_a_possible_scope_difference(tmp_path: Path) -> None:
    spec = random_spec(AGENCY, 2023, seed=1)
    phrase = _received_sentence(spec)
    new = int(spec.numbers[("requests", "new", "total")] or 0)
    carried = int(spec.numbers[("requests", "carried_over", "total")] or 0)
    # The office counts its own requests only (代表…), and another count adds the carried-over ones (一+二).
    scoped = _with_prose(spec, phrase, "办公室代表本机关" + phrase.replace(f"{new}件", f"{new + 5}件"))
    [finding] = [f for f in _audit_file(render(scoped, "html", tmp_path / "s.html"), AGENCY, 2023)
                 if f.kind == "prose-vs-table"]
    assert finding.code == "scope" and "代表" in finding.message_zh and "口径" in finding.message_zh
    if carried:
        both = _with_prose(spec, phrase, phrase.replace(f"{new}件", f"{new + carried}件"))
        [finding] = [f for f in _audit_file(render(both, "html", tmp_path / "b.html"), AGENCY, 2023)
                     if f.kind == "prose-vs-table"]
        assert finding.code == "scope" and "上年结转" in finding.message_zh
        assert {c.row_key for c in finding.cells} >= {"new", "carried_over"}


def _chunk(text: str, section: str = "一、总体情况") -> Chunk:
    return Chunk(id="x:0", text=f"标题\n{text}", report_id="局:2023", agency="局", year=2023, section=section,
                 section_key="overview", kind="text", source="x.html")


@pytest.mark.parametrize(("text", "expected"), [
    ("全年共受理政府信息公开申请21件，办结19件，结转下年度继续办理2件。",
     [("new", 21), ("total_handled", 19), ("carried_forward", 2)]),
    ("本年度全区共收到70件申请，及时依法依规办结69件，1件结转下年度继续办理。",
     [("new", 70), ("total_handled", 69), ("carried_forward", 1)]),
    ("给予同意公开答复 1 件，不予公开答复3件，区分处理后公开11件，因无法提供相关信息答复2件，其他处理2件。",
     [("granted", 1), ("withheld", 3), ("partly_granted", 11), ("unavailable", 2), ("other_handling", 2)]),
    ("予以公开及部分公开258件，占33.9%；", [("granted_or_partly", 258)]),
    ("共有行政诉讼案件1件、行政复议案件2件，均已结案。", [("suits", 1), ("review", 2)]),
    ("有 1 件涉及政府信息公开工作的行政复议。", [("review", 1)]),
    ("全年未发生因政府信息公开工作被申请行政复议或提起行政诉讼的情况。", [("review", 0), ("suits", 0)]),
    ("动态更新本年度制发的规范性文件88件。", [("t2:rules/normative_documents/issued", 88)]),
    ("集中公开现行有效行政规范性文件698件。", [("t2:rules/normative_documents/in_force", 698)]),
    ("作出行政处罚决定204起。", [("t2:enforcement/penalty/decisions", 204)]),
    # No table quantity: items published, documents of a kind, fees, counts in 条 of information, percentages.
    ("全年主动公开政府信息4511条，其中政策文件12件、政策解读8篇。", []),
    ("全年印发公文类政府信息共514条，其中主动公开130条、依申请公开363条、不予公开21条。", []),
    ("刊登政府规章、规范性文件等112件，部门规范性文件45件。", []),
    ("公示行政处罚信息57条。", []),
    ("收取信息处理费380元。", []),
    ("全年未发生因依申请公开被行政复议纠错的情况。", []),
])
def test_prose_statements_are_tied_to_their_quantity(text: str, expected: list[tuple[str, int]]) -> None:
    found = [(s.quantity, s.value) for s in statements([_chunk(text)], T2021)]
    assert found == expected


def test_applicant_sub_statements_take_their_column() -> None:
    text = "我局共收到政府信息公开申请3份，其中法人申请1件、自然人申请2件。"
    found = [(s.quantity, s.columns[0], s.value) for s in statements([_chunk(text)], T2021)]
    assert found == [("new", "total", 3), ("new", "business", 1), ("new", "natural_person", 2)]
    everyone = "我局共收到公民、法人及其他组织提出的政府信息公开申请21件。"
    assert [(s.columns, s.value) for s in statements([_chunk(everyone)], T2021)] == [(("total",), 21)]


# -- the chat ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Two reports of one agency: 2022 consistent, 2023 with the prose's request count changed."""
    home = tmp_path_factory.mktemp("audit")
    good = random_spec(AGENCY, 2022, seed=2)
    spec = random_spec(AGENCY, 2023, seed=1)
    phrase = _received_sentence(spec)
    new = int(spec.numbers[("requests", "new", "total")] or 0)
    bad = _with_prose(spec, phrase, phrase.replace(f"{new}件", f"{new + 7}件"))
    files = [render(s, "html", home / "in" / f"r{s.year}.html", Style()) for s in (good, bad)]
    store = Store(Settings(home=home / "store", embed_model="fake"), embeddings=DeterministicFakeEmbedding(size=16))
    assert [r.status for r in ingest(files, store, agency=AGENCY)] == ["added", "added"]
    return store


def test_audit_questions_are_understood() -> None:
    for q in ("平潭2024年报告有没有数据前后不一致的地方？", "这份报告的数据是否一致", "表格和正文有矛盾吗",
              "Are there inconsistencies in X's 2024 report?", "Does the 2023 report contradict itself?"):
        assert understand(q, agencies=[AGENCY]).audit, q
    for q in ("2023年收到多少申请？", "存在的主要问题是什么？", "How many requests were received in 2023?"):
        assert not understand(q, agencies=[AGENCY]).audit, q


def test_chat_answers_from_the_findings(store: Store) -> None:
    engine = Engine(store)
    answer = engine.answer(f"{AGENCY}2023年报告有没有数据前后不一致的地方？")
    assert answer.kind == "audit" and answer.value == "1", answer.answer
    new = next(c for c in answer.citations if c.row_key == "new")
    prose = next(c for c in answer.citations if not c.table_key)
    assert f"{int(new.cell) + 7}件" in prose.snippet and prose.section.startswith("一、总体情况")
    assert f"为 {int(new.cell) + 7}，表格为 {new.cell}" in answer.answer
    clean = engine.answer(f"Are there inconsistencies in {AGENCY}'s 2022 report?")
    assert clean.kind == "audit" and clean.value == "0" and "No inconsistencies" in clean.answer
    latest = engine.answer(f"{AGENCY}的报告数据有矛盾吗")  # no year: the latest report, said so
    assert latest.kind == "audit" and "2023" in latest.answer and latest.value == "1"
    assert engine.answer(f"{AGENCY}2019年报告有没有数据前后不一致的地方？").kind == "refusal"


def test_audit_of_a_stored_report_matches_the_file(store: Store) -> None:
    [finding] = [f for f in audit(store, f"{AGENCY}:2023") if f.kind == "prose-vs-table"]
    assert finding.agency == AGENCY and finding.year == 2023
    assert audit(store, f"{AGENCY}:2022") == []
    assert audit(store, "无此机关:2022") == []


# -- the shared corpus: known defects ----------------------------------------------------------------------------

REPORTS = SHARED_CORPUS / "reports"
DEPARTMENTS = SHARED_CORPUS / "departments"


@pytest.mark.shared
def test_hongze_2023_review_totals_contradict_their_parts() -> None:
    findings = _audit_file(REPORTS / "hongze_2023.pdf")
    broken = [f for f in findings if f.kind == "identity"]
    assert len(broken) == 2 and all("结果维持" in f.message_zh for f in broken)
    assert {"各项之和为 11，报告所印合计为 0", "各项之和为 5，报告所印合计为 0"} <= {
        f.message_zh.split("：")[-1].rstrip("。") for f in broken}
    cells = {(c.column_key, c.cell) for f in broken for c in f.cells}
    assert {("review_upheld", "10"), ("review_total", "0"), ("suit_after_review_upheld", "5")} <= cells


@pytest.mark.shared
def test_hongze_2024_prose_17_requests_against_table_95_shows_both_sides() -> None:
    findings = _audit_file(REPORTS / "hongze_2024.pdf")
    [finding] = [f for f in findings if f.kind == "prose-vs-table"]
    assert (finding.stated, finding.table_value) == (17, 95)
    assert finding.code == "scope" and "代表" in finding.message_zh  # 区政府办代表区政府: a scope difference
    assert finding.prose is not None and "17 件" in finding.prose.snippet
    assert [(c.row_key, c.column_key, c.cell) for c in finding.cells] == [("new", "total", "95")]
    assert not [f for f in findings if f.kind == "identity"]


@pytest.mark.shared
def test_department_defects_are_found() -> None:
    # 农业农村局 2024: every 总计 of Table 3 is 0 while 自然人 holds the requests; the prose says 3, 法人 1, 自然人 2.
    findings = _audit_file(DEPARTMENTS / "nyncj_2024.html")
    prose = {(f.stated, f.table_value) for f in findings if f.kind == "prose-vs-table"}
    assert {(3, 0), (1, 0), (2, 3)} <= prose
    assert any("总计栏与之不符" in f.message_zh for f in findings)
    assert any(f.kind == "identity" for f in findings)
    # 市场监督管理局 2025: the prose says 2 requests 无法提供 where the table says 0.
    findings = _audit_file(DEPARTMENTS / "scjgj_2025.html")
    assert any(f.kind == "prose-vs-table" and "无法提供" in f.message_zh and (f.stated, f.table_value) == (2, 0)
               for f in findings)
    # 自然资源与生态环境局 2023 leaves a 商业企业 request out of 总计; 金井片区 2022 leaves a cell blank.
    assert any(f.kind == "identity" for f in _audit_file(DEPARTMENTS / "zrzyj_2023.html"))
    blank = [f for f in _audit_file(DEPARTMENTS / "jjpq_2022.html") if f.code == "blank"]
    assert [c.row_key for f in blank for c in f.cells] == ["carried_forward"]


# -- where the findings are shown --------------------------------------------------------------------------------


def test_check_command_prints_findings_and_json(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from click.testing import CliRunner

    from ui.cli import cli

    monkeypatch.setenv("REPORTQA_HOME", str(store.settings.home))
    out = CliRunner().invoke(cli, ["check", f"{AGENCY}:2023"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].startswith(f"{AGENCY}:2023 (r2023.html): ") and "identity violations" in lines[0]
    assert "  audit: 1 findings (0 identity, 1 prose-vs-table, 0 completeness)" in lines
    assert any(line.startswith("    prose (一、总体情况") for line in lines)
    assert any(line.startswith("    cell: 收到和处理政府信息公开申请情况 › 一、本年新收") for line in lines)
    data = json.loads(CliRunner().invoke(cli, ["check", f"{AGENCY}:2023", "--json"]).output)
    [finding] = data["findings"]
    assert finding["kind"] == "prose-vs-table" and finding["prose"]["snippet"] and finding["cells"]
    assert data["violations"] == [] and data["coverage"][0]["found"] == data["coverage"][0]["expected"]


def test_corpus_tab_shows_the_audit_escaped(store: Store) -> None:
    from ui.web.corpus_page import CorpusPage
    from ui.web.render import audit_html

    page = CorpusPage(store)
    html = page.show_audit(f"{AGENCY}:2023")
    assert "正文与表格" in html and "一、总体情况" in html and "一、本年新收政府信息公开申请数量" in html
    assert "未发现问题" in page.show_audit(f"{AGENCY}:2022") and page.show_audit(None) == ""
    [finding] = [f for f in audit(store, f"{AGENCY}:2023") if f.kind == "prose-vs-table"]
    assert finding.prose is not None
    hostile = replace(finding, prose=replace(finding.prose, snippet="<script>alert(1)</script>"))
    shown = audit_html("<b>报告</b>", [hostile])
    assert "<script>" not in shown and "&lt;script&gt;" in shown and "&lt;b&gt;" in shown
