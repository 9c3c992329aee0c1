"""Hostile input through `ingest.pipeline.ingest`: every bad file gets an error naming it and the reason,
the good file beside it in the same run is ingested, and the store holds nothing of the bad one.
Files that are only awkward (legacy encodings, controls, surrogates, huge tables) ingest correctly."""

from __future__ import annotations

import json
import re
import shutil
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from langchain_core.embeddings import DeterministicFakeEmbedding

from ingest.pipeline import FileResult, ingest
from ingest.settings import Settings
from ingest.store import Store
from tests import hostile
from tests.reportgen import AGENCIES, random_spec, render

SPEC = random_spec(AGENCIES[40], 2022)  # the awkward-but-valid files are this report
OTHER = random_spec(AGENCIES[90], 2023)  # the good file ingested beside each bad one
# Characters no stored text may carry: C0/C1 controls other than newline and tab, lone surrogates, bidi overrides.
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    settings = Settings(home=tmp_path / "store", embed_model="fake", max_upload_mb=50)
    return Store(settings, embeddings=DeterministicFakeEmbedding(size=16))


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    return hostile.zip_bomb_docx(SPEC, tmp_path_factory.mktemp("bomb"))


@pytest.fixture(scope="module")
def many_member_bomb(tmp_path_factory) -> Path:
    return hostile.many_member_bomb_docx(SPEC, tmp_path_factory.mktemp("many_member_bomb"))


def _good(folder: Path) -> Path:
    return render(OTHER, "html", folder / "good.html")


def _run(store: Store, paths: list[Path], **kwargs) -> dict[str, FileResult]:
    return {Path(r.path).name: r for r in ingest(paths, store, **kwargs)}


def _stored_text(store: Store) -> list[str]:
    texts = [c.text for c in store.chunks()]
    texts += [f.raw for f in store.facts()] + [f.row_label for f in store.facts()]
    texts += [r.title for r in store.reports()] + [r.agency for r in store.reports()]
    return texts


def _facts(store: Store, report_id: str) -> dict[tuple[str, str, str], str]:
    return {(f.table, f.row, f.column): f.raw for f in store.facts(report_id=report_id)}


BAD: dict[str, tuple[Callable[[Path], Path], str]] = {
    # case: (builder, pattern the reason must match)
    "empty pdf": (lambda d: hostile.empty(d, "empty.pdf"), r"(?i)empty"),
    "empty html": (lambda d: hostile.empty(d, "empty.html"), r"(?i)empty"),
    "empty txt": (lambda d: hostile.empty(d, "empty.txt"), r"(?i)empty"),
    "empty docx": (lambda d: hostile.empty(d, "empty.docx"), r"(?i)empty"),
    "blank txt": (lambda d: hostile.write(d, "blank.txt", " \n\t\u3000\n"), r"(?i)empty|no text|not a .*report"),
    "garbage pdf": (lambda d: hostile.garbage(d, "garbage.pdf"), r"(?i)pdf"),
    "garbage docx": (lambda d: hostile.garbage(d, "garbage.docx"), r"(?i)docx|word|zip"),
    "truncated pdf": (hostile.truncated_pdf, r"(?i)damaged|truncated|broken|corrupt|incomplete"),
    "encrypted pdf": (hostile.encrypted_pdf, r"(?i)password|encrypt"),
    "scanned pdf": (hostile.scanned_pdf, r"OCR"),
    "oversized": (lambda d: hostile.oversized(d, 50 * 1024 * 1024 + 1), r"50 MB"),
    "longer than a report": (lambda d: hostile.too_long_text(SPEC, d), r"1,\d{3},\d{3} characters.*at most 1,000,000"),
    "news page": (hostile.news_html, r"(?i)not .*report|annual report"),
    "no agency or year": (lambda d: hostile.without_metadata(SPEC, d), r"--agency|--year"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_file_is_refused_and_others_still_ingest(store: Store, tmp_path: Path, case: str) -> None:
    build, reason = BAD[case]
    bad = build(tmp_path)
    results = _run(store, [bad, _good(tmp_path)])
    assert results["good.html"].status == "added"
    error = results[bad.name]
    assert error.status == "error" and error.report_id is None
    assert not error.message.startswith("unexpected"), f"an unplanned exception escaped: {error.message}"
    assert re.search(reason, error.message), error.message
    assert [r.agency for r in store.reports()] == [OTHER.agency]
    assert store.count_vectors() == sum(r.chunks for r in store.reports())
    assert store.generation() == 1


def test_zip_bomb_is_refused_before_inflating(store: Store, tmp_path: Path, bomb: Path) -> None:
    began = time.monotonic()
    results = _run(store, [bomb, _good(tmp_path)])
    seconds = time.monotonic() - began
    error = results[bomb.name]
    assert error.status == "error" and not error.message.startswith("unexpected"), error.message
    assert re.search(r"(?i)zip|compress|inflat|expand|too large|bomb", error.message), error.message
    assert results["good.html"].status == "added"
    print(f"zip bomb refused in {seconds:.1f} s: {error.message}")


def test_many_member_bomb_is_refused_before_inflating(store: Store, tmp_path: Path, many_member_bomb: Path) -> None:
    """Parts each small enough alone, a gigabyte together: refused from the zip directory, so the memory
    the refusal takes is a few times the upload, not what it would inflate to."""
    assert _run(store, [_good(tmp_path)])["good.html"].status == "added"  # store opened: its imports not counted
    tracemalloc.start()
    try:
        error = _run(store, [many_member_bomb])[many_member_bomb.name]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert error.status == "error" and "zip bomb" in error.message, error.message
    assert re.search(r"inflate to \d+ MB in 1\d\d members \(at most 128 MB\)", error.message), error.message
    assert peak < 16 * many_member_bomb.stat().st_size, f"{peak / 2**20:.0f} MB"
    assert [r.agency for r in store.reports()] == [OTHER.agency]
    print(f"\n{many_member_bomb.stat().st_size / 2**20:.1f} MB bomb refused; memory peak {peak / 2**20:.1f} MB: "
          f"{error.message}")


def test_metadata_can_be_given_when_the_file_lacks_it(store: Store, tmp_path: Path) -> None:
    path = hostile.without_metadata(SPEC, tmp_path)
    result = _run(store, [path], agency=SPEC.agency, year=SPEC.year)[path.name]
    assert (result.status, result.report_id) == ("added", f"{SPEC.agency}:{SPEC.year}"), result.message


def test_generic_title_is_not_taken_for_an_agency(store: Store, tmp_path: Path) -> None:
    """"政府信息公开工作年度报告" alone names no agency (not "政府"): the year given, the agency is still missing."""
    path = hostile.without_metadata(SPEC, tmp_path)
    result = _run(store, [path], year=SPEC.year)[path.name]
    assert result.status == "error" and "agency" in result.message, (result.report_id, result.message)


def test_report_without_tables_keeps_its_prose(store: Store, tmp_path: Path) -> None:
    path = hostile.without_tables(SPEC, tmp_path)
    result = _run(store, [path])[path.name]
    assert result.status == "added", result.message
    assert result.facts == 0 and result.chunks > 0
    assert re.search(r"(?i)table", result.message), result.message
    assert any(SPEC.prose["problems"][1][:10] in c.text for c in store.chunks())


def test_missing_tables_are_named_in_the_result(store: Store, tmp_path: Path) -> None:
    path = hostile.without_tables(SPEC, tmp_path, holding=("本年新收", "结果维持"))  # Tables 3 and 4 gone
    result = _run(store, [path])[path.name]
    assert result.status == "added" and result.facts > 0, result.message
    assert "tables not found: 收到和处理政府信息公开申请情况、政府信息公开行政复议、行政诉讼情况" in result.message


@pytest.mark.parametrize(
    ("encoding", "declare"),
    [("gbk", None), ("gbk", ""), ("gb18030", None), ("gb18030", "gb2312"), ("gb18030", "")],
    ids=["gbk", "gbk-undeclared", "gb18030", "gb18030-labelled-gb2312", "gb18030-undeclared"],
)
def test_legacy_chinese_encodings_read_like_utf8(store: Store, tmp_path: Path, encoding: str, declare: str) -> None:
    legacy = hostile.legacy_encoded_html(SPEC, tmp_path, encoding, declare=declare)
    utf8 = hostile.write(tmp_path, "utf8.html", legacy.read_bytes().decode(encoding), "utf-8")
    first = _run(store, [utf8])["utf8.html"]
    assert first.status == "added", first.message
    want = (_facts(store, first.report_id), sorted(c.text for c in store.chunks()))
    result = _run(store, [legacy])[legacy.name]
    assert (result.status, result.report_id) == ("replaced", first.report_id), result.message
    assert (_facts(store, result.report_id), sorted(c.text for c in store.chunks())) == want
    assert not any("\ufffd" in text for text in _stored_text(store))
    if encoding == "gb18030":
        assert any(hostile.BEYOND_GBK in c.text for c in store.chunks())


def test_same_report_under_two_names_is_one_report(store: Store, tmp_path: Path) -> None:
    first = render(SPEC, "html", tmp_path / "a" / "report.html")
    second = tmp_path / "b" / "年报（转载）.html"
    second.parent.mkdir()
    shutil.copy(first, second)
    results = ingest([first, second], store)
    assert [r.status for r in results] == ["added", "unchanged"]
    assert len(store.reports()) == 1
    assert store.count_vectors() == store.reports()[0].chunks


def test_same_report_in_another_format_replaces_it(store: Store, tmp_path: Path) -> None:
    results = ingest([render(SPEC, "html", tmp_path / "r.html"), render(SPEC, "md", tmp_path / "r.md")], store)
    assert [r.status for r in results] == ["added", "replaced"]
    assert len(store.reports()) == 1 and store.reports()[0].source == "r.md"
    assert store.count_vectors() == store.reports()[0].chunks


@pytest.mark.parametrize("fmt", ["txt", "html"])
@pytest.mark.parametrize(
    "build", [hostile.with_control_chars, hostile.with_lone_surrogates], ids=["controls", "surrogates"]
)
def test_control_characters_and_surrogates_are_cleaned(store: Store, tmp_path: Path, build, fmt: str) -> None:
    path = build(SPEC, tmp_path, fmt)
    result = _run(store, [path])[path.name]
    assert result.status == "added", result.message
    assert result.report_id == f"{SPEC.agency}:{SPEC.year}"
    texts = _stored_text(store)
    assert [t for t in texts if _FORBIDDEN.search(t)] == []
    json.dumps(texts, ensure_ascii=False).encode("utf-8")  # what the CLI and the web page print
    assert store.facts(report_id=result.report_id)


@pytest.mark.parametrize("build", [hostile.with_big_table, hostile.big_flat_text], ids=["html", "txt"])
def test_twenty_thousand_row_table_finishes(store: Store, tmp_path: Path, build) -> None:
    fmt = "html" if build is hostile.with_big_table else "txt"
    plain = render(SPEC, fmt, tmp_path / f"plain.{fmt}")
    big = build(SPEC, tmp_path)
    began = time.monotonic()
    result = _run(store, [big])[big.name]
    seconds = time.monotonic() - began
    assert result.status == "added", result.message
    big_facts = _facts(store, result.report_id)
    assert _run(store, [plain])[plain.name].status == "replaced"
    assert big_facts == _facts(store, result.report_id), "the appendix table changed the standard tables"
    print(f"20,000-row {fmt} table: {seconds:.1f} s, {result.chunks} chunks")


def test_absurd_spans_do_not_explode(store: Store, tmp_path: Path) -> None:
    """Browsers clamp colspan to 1000 and rowspan to 65534; a reader must not build a 10^12-cell grid."""
    text = hostile.page(SPEC, tmp_path).replace("<td>", '<td rowspan="1000000000" colspan="1000000000">', 1)
    path = hostile.write(tmp_path, "spans.html", text)
    result = _run(store, [path])[path.name]
    assert result.status in ("added", "error") and not result.message.startswith("unexpected"), result.message


def test_cli_exits_1_and_names_the_bad_file(store: Store, tmp_path: Path, monkeypatch) -> None:
    import ui.cli

    monkeypatch.setattr(ui.cli, "_store", lambda: store)
    bad = hostile.encrypted_pdf(tmp_path)
    outcome = CliRunner().invoke(ui.cli.cli, ["ingest", str(bad), str(_good(tmp_path))])
    assert outcome.exit_code == 1
    error_line = next(line for line in outcome.output.splitlines() if line.startswith("error"))
    assert str(bad) in error_line and re.search(r"(?i)password|encrypt", error_line)
    assert [r.agency for r in store.reports()] == [OTHER.agency]


@pytest.mark.shared
def test_blank_template_is_not_a_report(store: Store, shared_corpus: Path, tmp_path: Path) -> None:
    template = shared_corpus / "template-2021.docx"
    result = _run(store, [template], agency="某某局", year=2021)[template.name]
    assert result.status == "error" and not result.message.startswith("unexpected"), result.message
    assert re.search(r"(?i)not .*report|template|blank|filled", result.message), result.message
    assert store.reports() == []
