"""The report generator: values satisfy the identities, every format renders and carries the cells,
output is deterministic by seed."""

from __future__ import annotations

import re
from pathlib import Path

import pdfplumber
import pytest
from bs4 import BeautifulSoup
from docx import Document

from ingest.format.layout import t3_rows
from ingest.format.schema import TABLE3, TABLE4
from tests.reportgen import (
    AGENCIES,
    FORMATS,
    Noise,
    Spec,
    Style,
    corpus_specs,
    expected_facts,
    pdf_font,
    random_spec,
    render,
    standard_cells,
    write_corpus,
)

needs_font = pytest.mark.skipif(pdf_font() is None, reason="PDF output needs apt package fonts-wqy-microhei")
AGENCY = AGENCIES[0]


def _spec(template: str = "2021", seed: int = 1, noise: Noise | None = None) -> Spec:
    return random_spec(AGENCY, 2021 if template == "2021" else 2019, template=template, seed=seed, noise=noise)


def _identity_errors(spec: Spec) -> list[str]:
    n = spec.numbers
    rows = t3_rows(spec.template)
    parts = [r for r in rows if TABLE3.row(r).parent and r != "total_handled"]
    errors = []
    for c in (col.key for col in TABLE3.columns):
        def v(row: str, col: str = c) -> float:
            return n["requests", row, col] or 0

        if v("new") + v("carried_over") != v("total_handled") + v("carried_forward"):
            errors.append(f"一+二 != 七+四 in {c}")
        if v("total_handled") != sum(v(r) for r in parts):
            errors.append(f"总计 != parts in {c}")
    for r in rows:
        applicants = sum(n["requests", r, col.key] or 0 for col in TABLE3.columns[:-1])
        if applicants != (n["requests", r, "total"] or 0):
            errors.append(f"total column in {r}")
    for block in ("review", "suit_direct", "suit_after_review"):
        parts4 = [n["review", "cases", f"{block}_{p}"] or 0 for p in ("upheld", "corrected", "other", "pending")]
        if sum(parts4) != n["review", "cases", f"{block}_total"]:
            errors.append(f"block {block}")
    return errors


@pytest.mark.parametrize("template", ["2019", "2021"])
def test_identities_hold_for_many_specs(template: str) -> None:
    for seed in range(40):
        spec = _spec(template, seed, Noise.heavy() if seed % 2 else Noise())
        assert _identity_errors(spec) == [], seed


def test_every_standard_cell_has_a_value() -> None:
    for template, n_rows in (("2021", 25), ("2019", 23)):
        spec = _spec(template)
        assert list(expected_facts(spec)) == list(standard_cells(template))
        assert sum(1 for t, _, c in spec.values if t == "requests" and c == "total") == n_rows
        assert sum(1 for t, _, _ in spec.values if t == "review") == 15
    assert ("procurement", "procurement", "amount") in _spec("2019").values
    assert ("procurement", "procurement", "amount") not in _spec("2021").values


def test_noise_shows_in_the_printed_cells() -> None:
    raws = [v for seed in range(10) for v in _spec("2019", seed, Noise.heavy()).values.values()]
    raws += [v for seed in range(10) for v in _spec("2021", seed, Noise.heavy()).values.values()]
    assert "" in raws
    assert any(re.fullmatch(r"\d+(件|批次)", v) for v in raws)
    assert any("其中修订" in v for v in raws)
    assert any(v.startswith("+") for v in raws)
    assert any(v.endswith("元") for v in raws)
    clean = [v for seed in range(10) for v in _spec("2021", seed).values.values()]
    assert all(re.fullmatch(r"\d+(\.\d+)?", v) for v in clean)


def test_deterministic_by_seed(tmp_path: Path) -> None:
    assert _spec(seed=3) == _spec(seed=3)
    assert _spec(seed=3).values != _spec(seed=4).values
    for fmt in ("html", "md", "txt"):
        a = render(_spec(seed=3), fmt, tmp_path / f"a.{fmt}").read_bytes()
        assert a == render(_spec(seed=3), fmt, tmp_path / f"b.{fmt}").read_bytes()
    assert corpus_specs(5, seed=2) == corpus_specs(5, seed=2)


@pytest.mark.parametrize("template", ["2019", "2021"])
def test_html_tables_carry_the_cells(template: str, tmp_path: Path) -> None:
    spec = _spec(template, noise=Noise(blank_zeros=0.5))
    path = render(spec, "html", tmp_path / "r.html", Style(chrome=True))
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")
    tables = soup.find_all("table")
    assert len(tables) == 3  # Table 2 stacked as Word pages print it
    assert soup.find(attrs={"rowspan": True}) and soup.find(attrs={"colspan": True})
    last_row = [td.get_text().replace("\xa0", "") for td in tables[-1].find_all("tr")[-1].find_all("td")]
    assert last_row == [spec.values["review", "cases", c.key] for c in TABLE4.columns]
    assert spec.title in soup.get_text() and "无障碍" in soup.get_text()


def test_docx_has_merged_tables(tmp_path: Path) -> None:
    spec = _spec("2021")
    doc = Document(str(render(spec, "docx", tmp_path / "r.docx", Style(stacked=False))))
    assert len(doc.tables) == 6  # four Table 2 sub-tables, Table 3, Table 4
    t3 = doc.tables[4]
    assert len(t3.rows) == 3 + 25
    assert t3.cell(5, 0).text == "三、本年度办理结果" == t3.cell(26, 0).text  # merged down the results rows
    assert [c.text for c in doc.tables[5].rows[-1].cells] == [spec.values["review", "cases", c.key]
                                                             for c in TABLE4.columns]
    assert doc.paragraphs[0].text == spec.title


@needs_font
def test_pdf_text_layer_has_the_labels(tmp_path: Path) -> None:
    spec = _spec("2021", noise=Noise(blank_zeros=0.3))
    with pdfplumber.open(render(spec, "pdf", tmp_path / "r.pdf")) as pdf:
        pages = [page.extract_text() for page in pdf.pages]
    text = "\n".join(pages)
    assert len(pages) >= 2 and "- 1 -" in pages[0]
    for label in (spec.title, "第二十条第（一）项", "行政规范性文件", "本年收费金额（单位：万元）",
                  "一、本年新收政府信息公开申请数量", "4.保护第三方合法权益", "六、其他需要报告的事项"):
        assert label in text, label
    assert str(spec.values["rules", "normative_documents", "in_force"]) in text


def test_md_tables_and_numbered_headers(tmp_path: Path) -> None:
    spec = _spec("2021")
    text = render(spec, "md", tmp_path / "r.md").read_text(encoding="utf-8")
    assert f"# {spec.title}" in text and "| 信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |" in text
    broken = render(spec, "md", tmp_path / "b.md", Style(numbered_headers=True)).read_text(encoding="utf-8")
    assert "| 类别 | 数据1 | 数据2 | 数据3 | 数据4 | 数据5 | 数据6 | 总计 |" in broken
    assert "商业企业" not in broken


def test_txt_flattening_variants(tmp_path: Path) -> None:
    spec = _spec("2021", noise=Noise(blank_zeros=1.0))
    row = [spec.values["requests", "new", c.key] for c in TABLE3.columns]

    def text(**style) -> str:
        return render(spec, "txt", tmp_path / "r.txt", Style(**style)).read_bytes().decode("utf-8")

    label = "一、本年新收政府信息公开申请数量"
    assert "\n".join([label, *row]) in text(flatten="lines")
    assert "\n\n" not in text(flatten="dropped")
    assert label + "".join(row) in text(flatten="runs")
    one_line = text(flatten="runs", endings="one-line")
    assert label + "".join(row) in one_line and one_line.count("\n") == 1
    assert "\t".join([label, *row]) in text(flatten="tab")
    assert "\u3000".join([label, *row]) in text(flatten="ideographic")
    assert f"| {' | '.join([label, *row])} |" in text(flatten="pipe")
    assert re.search(label + "".join(rf" +{v}" if v else "" for v in row), text(flatten="spaces"))
    padded = text(flatten="padded")
    assert re.search(f"{label}\n\n\n?{re.escape(row[0])}", padded) and "\n\n\n\n" in padded
    glossed = render(spec, "txt", tmp_path / "t.txt", Style(traditional=True, junk=True, chrome=True))
    traditional = glossed.read_text(encoding="utf-8")
    assert "數(shù)" in traditional and "公開" in traditional and "\n?\n" in traditional
    assert "当前位置" not in traditional


@pytest.mark.parametrize(("endings", "newline"), [("crlf", "\r\n"), ("cr", "\r")])
def test_txt_line_endings(endings: str, newline: str, tmp_path: Path) -> None:
    spec = _spec("2021")
    lf = render(spec, "txt", tmp_path / "lf.txt", Style(flatten="tab")).read_bytes()
    other = render(spec, "txt", tmp_path / "o.txt", Style(flatten="tab", endings=endings)).read_bytes()
    assert other == lf.replace(b"\n", newline.encode())
    mixed = render(spec, "txt", tmp_path / "m.txt", Style(flatten="padded", endings="mixed")).read_bytes()
    assert b"\r\n" in mixed and b"\r" in mixed.replace(b"\r\n", b"") and b"\n" in mixed.replace(b"\r\n", b"")
    padded = render(spec, "txt", tmp_path / "p.txt", Style(flatten="padded")).read_bytes()
    assert mixed.decode("utf-8").splitlines() == padded.decode("utf-8").splitlines()  # the same lines, read back


def test_txt_header_cells_split_over_lines(tmp_path: Path) -> None:
    spec = _spec("2021", noise=Noise.heavy())
    text = render(spec, "txt", tmp_path / "s.txt", Style(flatten="tab", split_headers=True)).read_text("utf-8")
    assert "一、本年新收政府信息公开申请数量" not in text
    assert "一、本年新收政府信息公开申请数量" in text.replace("\n", "")
    assert all(v in text for v in spec.values.values())  # values are never split


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders(fmt: str, tmp_path: Path) -> None:
    if fmt == "pdf" and pdf_font() is None:
        pytest.skip("PDF output needs apt package fonts-wqy-microhei")
    for template in ("2019", "2021"):
        path = render(_spec(template, noise=Noise.heavy()), fmt, tmp_path / f"{template}.{fmt}")
        assert path.stat().st_size > 1000


def test_write_corpus(tmp_path: Path) -> None:
    formats = ("html", "md", "txt")
    paths = write_corpus(tmp_path, 9, formats, seed=5)
    assert [p.suffix for p in paths] == [".html", ".md", ".txt"] * 3
    specs = corpus_specs(9, seed=5)
    assert len({(s.agency, s.year) for s in specs}) == 9
    for path, spec in zip(paths, specs, strict=True):
        assert spec.agency in path.read_text(encoding="utf-8") or path.suffix == ".txt"


def test_agencies_avoid_the_real_corpus() -> None:
    real = ("平潭", "洪泽", "淮安", "上海", "沭阳", "西藏")
    assert not [a for a in AGENCIES if any(r in a for r in real)]
    assert len(AGENCIES) * 7 >= 1000  # enough distinct (agency, year) reports for the scale benchmark
