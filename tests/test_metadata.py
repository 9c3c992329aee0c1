"""Who and when a report is about when no title says so: the agency and year from the body (ingest.metadata),
names read in running text (ingest.names), and the evidence recorded in the store and `reportqa list --json`.

Core tests use generated reports without their title line (tests/reportgen.py, `Style(titled=False)`) and short
bodies written here; `shared` tests cut the title and the page metadata off every real report and expect what the
whole file gives.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from langchain_core.embeddings import DeterministicFakeEmbedding

from ingest import assemble as assembling
from ingest import sections
from ingest.chrome import META_LINE
from ingest.draft import Draft
from ingest.errors import MissingMetadata
from ingest.metadata import body_agency, find_title
from ingest.model import Line
from ingest.names import owner, read_name, read_whole
from ingest.normalize import norm
from ingest.readers import READERS, docx, html, md, pdf, read, txt
from ingest.settings import Settings
from ingest.store import ReportInfo, Store
from tests.reportgen import FORMATS, Style, pdf_font, random_spec, render

PREAMBLE = "本报告根据《中华人民共和国政府信息公开条例》要求编制。"
SECTIONS = """一、总体情况
{overview}
二、主动公开政府信息情况
第二十条第（一）项
规章
0
三、收到和处理政府信息公开申请情况
一、本年新收政府信息公开申请数量
5
四、政府信息公开行政复议、行政诉讼情况
行政复议
0
五、存在的主要问题及改进情况
政策解读形式还不够丰富，下一步将加强。
六、其他需要报告的事项
本年度未收取信息处理费。
"""


def report_text(overview: str, preamble: str = PREAMBLE, closing: str = "") -> str:
    return f"{preamble}\n{SECTIONS.format(overview=overview)}{closing}"


def write(tmp_path: Path, text: str, name: str = "r.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- names in running text ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "places", "organ"),
    [
        ("青石综合实验区坚持以习近平新时代中国特色社会主义思想为指导", "青石综合实验区", ("青石综合实验区",), ""),
        ("常州市武进区人民政府办公室根据", "常州市武进区人民政府办公室", ("常州市", "武进区"), "人民政府办公室"),
        ("宜昌市夷陵区市场监督管理局2022年", "宜昌市夷陵区市场监督管理局", ("宜昌市", "夷陵区"), "市场监督管理局"),
        ("湖州市科委 2024 年深入贯彻", "湖州市科委", ("湖州市",), "科委"),
        ("区住建厅高度重视政务公开工作", "区住建厅", ("区",), "住建厅"),
        ("省教育厅按照省政府办公厅要求", "省教育厅", ("省",), "教育厅"),
        ("三明市住房和城乡建设局办公室联系", "三明市住房和城乡建设局办公室", ("三明市",), "住房和城乡建设局办公室"),
        ("常州市教育局局长", "常州市教育局", ("常州市",), "教育局"),
    ],
)
def test_read_name_where_the_text_does_not_mark_its_end(text: str, name: str, places: tuple, organ: str) -> None:
    found = read_name(text)
    assert found is not None and (found.name, found.places, found.organ) == (name, places, organ)


@pytest.mark.parametrize("text", ["深入推进全市政务公开", "根据省政府部署", "不断提升全区政务公开质量", "我局高度重视"])
def test_words_that_only_end_like_a_place_are_no_name(text: str) -> None:
    assert read_name(text) is None


@pytest.mark.parametrize(
    ("office", "owned_by"),
    [
        ("常州市武进区人民政府办公室", "常州市武进区人民政府"),
        ("青石综合实验区管委会办公室保密与电子政务处", "青石综合实验区管委会"),
        ("常州市卫生健康委员会办公室", "常州市卫生健康委员会"),
        ("金山片区管理局党政办公室", "金山片区管理局"),
        ("青石综合实验区社会事业局", "青石综合实验区社会事业局"),
    ],
)
def test_an_office_belongs_to_its_organ(office: str, owned_by: str) -> None:
    name = read_whole(office)
    assert name is not None and owner(name).name == owned_by


# --- the agency from the body ---------------------------------------------------------------------------


def test_subject_and_short_self_name_with_the_place_known() -> None:
    body = [
        "根据《河北省政府信息公开规定》，现公布本报告。",
        "2022年，省教育厅按照省政府办公厅要求深入推进政务公开，我厅全年主动公开政府信息300条。",
        "河北省教育厅政府信息主动公开目录已全面更新，我厅还加强了政策解读。",
    ]
    assert body_agency(body, [], []) == ("河北省教育厅", "body:subject")
    # the place only in a cited document's title: 省教育厅 is still 河北省's
    assert body_agency([body[0], body[1], "我厅加强了政策解读。"], [], []) == ("河北省教育厅", "body:subject")


def test_a_government_report_compiled_by_its_office_is_the_governments(tmp_path: Path) -> None:
    preamble = "本报告由青石县人民政府办公室根据《条例》要求编制。如对本报告有疑问，请与青石县人民政府办公室联系。"
    overview = "2022年，我县认真贯彻落实《条例》。县教育局、县民政局积极公开信息，我县全年主动公开信息1000条。"
    report = read(write(tmp_path, report_text(overview, preamble)))
    assert (report.agency, report.agency_source) == ("青石县人民政府", "body:compiler")


def test_an_agency_the_report_only_mentions_is_not_its_own(tmp_path: Path) -> None:
    overview = "2022年，我局按照青石市人民政府办公室要求做好政府信息公开工作，我局全年主动公开信息100条。"
    superior = report_text(overview, PREAMBLE + "如对本报告有疑问，请与青石市人民政府办公室联系。")
    with pytest.raises(MissingMetadata, match=r"superior\.txt: cannot find the agency"):
        read(write(tmp_path, superior, "superior.txt"))
    own = report_text(overview, PREAMBLE + "如对本报告有疑问，请与青石市交通运输局办公室联系。")
    report = read(write(tmp_path, own))
    assert (report.agency, report.agency_source) == ("青石市交通运输局", "body:contact")


def test_two_agencies_named_alike_is_ambiguous(tmp_path: Path) -> None:
    preamble = "本报告由青石市水利局编制。如对本报告有疑问，请与青石市交通运输局办公室联系。"
    with pytest.raises(MissingMetadata, match=r"two\.txt: cannot find the agency in the file; pass --agency"):
        read(write(tmp_path, report_text("2022年，本机关全年主动公开信息100条。", preamble), "two.txt"))


def test_a_report_that_never_names_its_agency_asks_for_it(tmp_path: Path) -> None:
    text = report_text("2022年，本机关坚持以人民为中心推进政务公开工作，全年主动公开政府信息300条。")
    with pytest.raises(MissingMetadata, match=r"nameless\.txt: cannot find the agency in the file; pass --agency"):
        read(write(tmp_path, text, "nameless.txt"))
    report = read(write(tmp_path, text, "nameless.txt"), agency="青石县人民政府")
    assert (report.agency, report.year, report.agency_source, report.year_source) == (
        "青石县人民政府", 2022, "cli", "overview")


def test_signature_and_place_government(tmp_path: Path) -> None:
    overview = "2023年，我区坚持以人民为中心推进政务公开。全年我区主动公开政府信息2000条。"
    closing = "青石综合实验区\n2024年1月20日\n"
    report = read(write(tmp_path, report_text(overview, closing=closing)))
    assert (report.agency, report.year) == ("青石综合实验区", 2023)
    assert (report.agency_source, report.year_source) == ("body:signature", "overview")


def test_year_from_the_statistics_period_before_the_overview(tmp_path: Path) -> None:
    preamble = "本报告中所列数据统计期限为 2022 年 1 月 1 日至 12 月 31 日。请与青石县人民政府办公室联系。"
    report = read(write(tmp_path, report_text("2023年，我县继续推进政务公开。", preamble)))
    assert (report.year, report.year_source) == (2022, "period")


# --- generated reports without a title line --------------------------------------------------------------

AGENCIES = ("湖州市德清县人民政府", "常州市卫生健康委员会", "宜昌市夷陵区市场监督管理局", "株洲市自然资源和规划局")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("agency", AGENCIES)
def test_generated_report_without_title(fmt: str, agency: str, tmp_path: Path) -> None:
    if fmt == "pdf" and pdf_font() is None:
        pytest.skip("PDF output needs apt package fonts-wqy-microhei")
    spec = random_spec(agency, 2022, seed=AGENCIES.index(agency))
    style = Style(chrome=fmt in ("html", "txt"), flatten="dropped", titled=False)
    path = render(spec, fmt, tmp_path / f"r.{fmt}", style)
    assert spec.title not in path.read_bytes().decode("utf-8", "ignore")
    report = read(path)
    assert (report.agency, report.year) == (agency, 2022)
    assert (report.agency_source, report.year_source) == ("body:contact", "period")
    titled = read(render(spec, fmt, tmp_path / f"t.{fmt}", replace(style, titled=True)))
    printed = "title" if fmt in ("txt", "md") else "meta"  # html, docx and pdf carry the title as metadata too
    assert (titled.agency, titled.year, titled.agency_source, titled.year_source) == (agency, 2022, printed, printed)


# --- real reports with their title cut off ---------------------------------------------------------------


def untitled(draft: Draft) -> Draft:
    """The draft of the page saved without its head: the title rows, the page-metadata lines before the body,
    any line repeating the title, and the title, publisher and date metadata removed."""
    norms = [norm(line.text) for line in draft.lines]
    rows, title, _ = find_title(norms, draft.titles)
    opens = next(i for i, n in enumerate(norms) if "。" in n or (
        not draft.lines[i].in_table and sections.detect(Line(draft.lines[i].text, n, 0))))
    head = {i for i in range(opens) if META_LINE.match(norms[i]) or re.search("年度报告|年报", norms[i])}
    drop = set(rows) | head | {i for i, n in enumerate(norms) if norm(title) and norm(title) in n}
    kept = [i for i in range(len(draft.lines)) if i not in drop]
    for table in draft.tables:
        if table.first_line is not None:
            table.first_line = kept.index(table.first_line) if table.first_line in kept else None
    draft.lines = [draft.lines[i] for i in kept]
    draft.titles.clear()
    draft.publishers.clear()
    draft.dates.clear()
    return draft


def read_untitled(path: Path, monkeypatch: pytest.MonkeyPatch):
    for reader in (txt, html, pdf, docx, md):
        monkeypatch.setattr(reader, "assemble", lambda draft, **kw: assembling.assemble(untitled(draft), **kw))
    return read(path)


def _real_reports() -> list[str]:
    from tests.conftest import SHARED_CORPUS

    folders = ("reports", "alt-formats", "departments", "departments/alt")
    return sorted(str(p.relative_to(SHARED_CORPUS)) for folder in folders for p in (SHARED_CORPUS / folder).glob("*")
                  if p.suffix in READERS and p.stem != "README")


@pytest.mark.shared
@pytest.mark.parametrize("name", _real_reports() or ["(no shared corpus)"])
def test_real_report_without_its_title(shared_corpus: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = read(shared_corpus / name)
    cut = read_untitled(shared_corpus / name, monkeypatch)
    assert (cut.agency, cut.year) == (whole.agency, whole.year)
    assert cut.agency_source.startswith("body:") and cut.year_source in ("period", "overview", "body")


# --- the evidence in the store and `reportqa list --json` ------------------------------------------------


def test_store_keeps_the_evidence_and_opens_an_older_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "reportqa.sqlite"
    with sqlite3.connect(db) as old:  # a store written before the two columns existed
        old.execute("CREATE TABLE reports (id TEXT PRIMARY KEY, agency TEXT, year INTEGER, title TEXT, source TEXT,"
                    " source_format TEXT, template TEXT, publish_date TEXT, content_hash TEXT, chunks INTEGER,"
                    " facts INTEGER, violations INTEGER, ingested_at TEXT)")
        old.execute("INSERT INTO reports VALUES ('甲局:2021','甲局',2021,'t','a.txt','txt',NULL,NULL,'h',1,0,0,'x')")
    settings = Settings(home=tmp_path, embed_model="fake")
    assert settings.db_path == db
    store = Store(settings, embeddings=DeterministicFakeEmbedding(size=16))
    assert [(r.agency, r.agency_source) for r in store.reports()] == [("甲局", None)]

    import ui.cli

    monkeypatch.setattr(ui.cli, "_store", lambda: store)
    spec = random_spec("常州市卫生健康委员会", 2022)
    path = render(spec, "md", tmp_path / "untitled.md", Style(titled=False))
    ingested = CliRunner().invoke(ui.cli.cli, ["ingest", str(path)])
    assert ingested.exit_code == 0, ingested.output
    listed = CliRunner().invoke(ui.cli.cli, ["list", "--json"])
    rows = {row["agency"]: row for row in json.loads(listed.output)}
    assert {k: rows["常州市卫生健康委员会"][k] for k in ("year", "agency_source", "year_source")} == {
        "year": 2022, "agency_source": "body:contact", "year_source": "period"}
    assert set(rows["甲局"]) == {f.name for f in ReportInfo.__dataclass_fields__.values()}


def test_the_titles_agency_is_not_lengthened_into_its_own_office(tmp_path: Path) -> None:
    """`请与X办公室办公室联系` names the office of the report's agency, not a fuller form of the agency's name."""
    preamble = ("青石市人民政府办公室2023年政府信息公开工作年度报告\n"
                "如对本报告有疑问，请与青石市人民政府办公室办公室联系。")
    report = read(write(tmp_path, report_text("2023年，本机关主动公开政府信息100条。", preamble=preamble)))
    assert (report.agency, report.year) == ("青石市人民政府办公室", 2023)
