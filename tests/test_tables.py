"""Standard tables → facts: every recognition path on small hand-built reports, the seed report in the
repo, and (marked `shared`) the real corpus against its hand-checked gold cells."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from ingest.format import identities, schema
from ingest.model import Cell, Line, Report, Table
from ingest.normalize import compact, norm
from ingest.readers import read
from ingest.tables.cells import fills, parse
from ingest.tables.extract import extract_facts
from ingest.tables.readings import row_sums

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "tests" / "gold" / "shared_cells.jsonl"
T3 = [r for r in schema.TABLE3.rows if r.key != "other_handling"]  # the 2021 rows, in printed order


def _report(lines: list[str] = (), tables: tuple[Table, ...] = (), year: int = 2022) -> Report:
    out, offset = [], 0
    for text in lines:
        out.append(Line(text, norm(text), offset))
        offset += len(text) + 1
    return Report("测试局", year, "测试局年报", "t.txt", "txt", "0", tuple(out), (), tables)


def _table(index: int, rows: list[list[str | tuple[str, int, int]]]) -> Table:
    """A grid from rows of cell texts; (text, rowspan, colspan) for a merged cell. Columns are grid columns."""
    taken: set[tuple[int, int]] = set()
    grid = []
    for r, row in enumerate(rows):
        cells, c = [], 0
        for item in row:
            text, rs, cs = item if isinstance(item, tuple) else (item, 1, 1)
            while (r, c) in taken:
                c += 1
            cells.append(Cell(text, norm(text), r, c, rs, cs))
            taken.update((r + i, c + j) for i in range(rs) for j in range(cs))
            c += cs
        grid.append(tuple(cells))
    return Table(index, tuple(grid))


def _facts(report: Report) -> dict[tuple[str, str, str], object]:
    return {(f.table, f.row, f.column): f for f in extract_facts(report)}


def _t3_values(total_new: int = 5) -> dict[str, list[int]]:
    """Table 3 values that satisfy every identity: `total_new` new requests, one of them from a company."""
    zero = [0] * 7
    values = {r.key: list(zero) for r in T3}
    values["new"] = [total_new - 1, 1, 0, 0, 0, 0, total_new]
    values["granted"] = [total_new - 1, 0, 0, 0, 0, 0, total_new - 1]
    values["withheld_process"] = [0, 1, 0, 0, 0, 0, 1]
    values["total_handled"] = [total_new - 1, 1, 0, 0, 0, 0, total_new]
    return values


# ---------------------------------------------------------------- grids


def test_grid_with_spans_maps_every_cell_with_its_position():
    t2 = _table(0, [
        [("第二十条第（一）项", 1, 4)],
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
        ["规章", "1", "", "/"],
        ["行政规范性文件", "22（其中修订 16 件）", "3", "40"],
        [("第二十条第（五）项", 1, 4)],
        ["信息内容", ("本年处理决定数量", 1, 3)],
        ["行政许可", ("117批次", 1, 3)],
        [("第二十条第（八）项", 1, 4)],
        ["信息内容", ("本年收费金额（单位：万元）", 1, 3)],
        ["行政事业性收费", ("9116.360125", 1, 3)],
    ])
    values = _t3_values()
    header = [[("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 3, 3), ("申请人情况", 1, 7)],
              [("自然人", 2, 1), ("法人或其他组织", 1, 5), ("总计", 2, 1)],
              ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]]
    body = []
    for i, r in enumerate(T3):
        cells = [str(v) for v in values[r.key]]
        label = [(r.label, 1, 3)] if r.key in ("new", "carried_over", "carried_forward") else (
            [("三、本年度办理结果", 23, 1), (r.label, 1, 2)] if i == 2 else [(r.label, 1, 2)])
        body.append(label + cells)
    t4 = _table(2, [
        [("行政复议", 1, 5), ("行政诉讼", 1, 10)],
        [*[(w, 2, 1) for w in ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")],
         ("未经复议直接起诉", 1, 5), ("复议后起诉", 1, 5)],
        ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 2,
        ["1", "0", "0", "1", "2", "0", "0", "0", "0", "0", "", "", "", "", ""],
    ])
    facts = _facts(_report(tables=(t2, _table(1, header + body), t4)))
    f = facts[("rules", "normative_documents", "issued")]
    assert (f.value, f.raw, f.status) == (22, "22（其中修订 16 件）", "ok")
    assert (f.ref.table_index, f.ref.row, f.ref.col) == (0, 3, 1)
    assert facts[("rules", "regulations", "repealed")].kind == "blank"
    assert facts[("rules", "regulations", "repealed")].value is None
    assert facts[("rules", "regulations", "in_force")].kind == "na"
    lic = facts[("licensing", "licensing", "decisions")]
    assert (lic.value, lic.unit) == (117, "批次")
    fee = facts[("fees", "admin_fees", "amount")]
    assert (fee.value, fee.unit) == (9116.360125, "万元")
    for r in T3:
        for j, c in enumerate(schema.TABLE3.columns):
            assert facts[("requests", r.key, c.key)].value == values[r.key][j], (r.key, c.key)
    assert facts[("review", "cases", "review_total")].value == 2
    assert facts[("review", "cases", "suit_after_review_total")].kind == "blank"
    assert {f.template for f in facts.values()} == {"2021"}
    assert all(f.status == "ok" for f in facts.values())


def test_grid_row_missing_a_cell_is_ambiguous_not_guessed():
    t2 = _table(0, [
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
        ["规章", "22", "235"],
    ])
    facts = _facts(_report(tables=(t2,)))
    assert all(facts[("rules", "regulations", c)].status == "ambiguous" for c in ("issued", "repealed", "in_force"))
    assert facts[("rules", "regulations", "issued")].candidates == (0, 22)  # blank (as 0) or 22


def test_docx_merged_cells_repeated_in_every_spanned_cell():
    t2 = _table(0, [
        ["第二十条第（六）项"] * 4,
        ["信息内容", "本年处理决定数量", "本年处理决定数量", "本年处理决定数量"],
        ["行政处罚", "1330", "1330", "1330"],
        ["行政强制", "54", "54", "54"],
    ])
    facts = _facts(_report(tables=(t2,)))
    f = facts[("enforcement", "penalty", "decisions")]
    assert (f.value, f.note) == (1330, "")
    assert facts[("enforcement", "coercion", "decisions")].value == 54


# ---------------------------------------------------------------- flattened text


def _t3_lines(values: dict[str, list[int]], render) -> list[str]:
    note = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    lines = ["三、收到和处理政府信息公开申请情况", note]
    lines += ["申请人情况", "自然人", "法人或其他组织", "总计"]
    lines += ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    for r in T3:
        lines += render(r.label, values[r.key])
    return [*lines, "四、政府信息公开行政复议、行政诉讼情况"]


def test_flat_one_cell_per_line_with_blank_lines_kept():
    values = _t3_values()

    def render(label, row):
        return [label, *("" if v == 0 else str(v) for v in row)]

    facts = _facts(_report(_t3_lines(values, render)))
    f = facts[("requests", "withheld_process", "business")]
    assert (f.value, f.status, f.ref.row) == (1, "ok", f.ref.row)
    blank = facts[("requests", "withheld_process", "natural_person")]
    assert (blank.kind, blank.value) == ("blank", None)
    assert facts[("requests", "new", "total")].value == 5


def test_flat_run_together_digits_with_a_unique_split():
    values = _t3_values(total_new=71)
    lines = _t3_lines(values, lambda label, row: [label + "".join(str(v) for v in row)])
    facts = _facts(_report([" ".join(lines)]))
    assert facts[("requests", "new", "natural_person")].value == 70
    assert facts[("requests", "new", "business")].value == 1
    assert facts[("requests", "new", "total")].value == 71
    assert facts[("requests", "granted", "natural_person")].value == 70
    assert all(f.status == "ok" for f in facts.values() if f.table == "requests")


def test_flat_run_together_digits_with_an_ambiguous_split_keeps_candidates():
    # `270020130` reads as 27,0,0,2,0,1,30 or 2,7,0,0,20,1,30: both add up, and no other row is there to tell.
    lines = ["三、收到和处理政府信息公开申请情况（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
             "（一）予以公开270020130（二）部分公开（区分处理的，只计这一情形，不计其他情形）0000000",
             "四、政府信息公开行政复议、行政诉讼情况"]
    facts = _facts(_report(lines))
    f = facts[("requests", "granted", "natural_person")]
    assert (f.status, f.value, f.candidates) == ("ambiguous", None, (2, 27))
    assert facts[("requests", "granted", "total")].value == 30
    assert facts[("requests", "granted", "total")].status == "ok"


def test_table2_run_together_signed_values_are_never_guessed():
    lines = ["第二十条第（六）项信息内容上一年项目数量本年增/减处理决定数量行政处罚2648-18538行政强制1262629",
             "三、收到和处理政府信息公开申请情况"]
    facts = _facts(_report(lines, year=2020))
    change = facts[("enforcement", "penalty", "items_change")]
    assert change.status == "ambiguous" and -185 in change.candidates
    assert change.template == "2019"


@pytest.mark.parametrize("sep", ["\t", "\u3000", " | "])
def test_flat_row_a_line_with_a_separator_keeps_blank_cells(sep: str):
    values = _t3_values()
    facts = _facts(_report(_t3_lines(values, lambda label, row: [sep.join([label, *("" if v == 0 else str(v)
                                                                                     for v in row)])])))
    assert all(f.status == "ok" for k, f in facts.items() if k[0] == "requests")
    assert facts[("requests", "withheld_process", "business")].value == 1
    blank = facts[("requests", "withheld_process", "natural_person")]
    assert (blank.kind, blank.value) == ("blank", None)


@pytest.mark.parametrize(("after", "blank"), [(2, 2), (3, 3), (2, 1)])
def test_flat_padding_lines_between_cells_are_decided_by_the_table_width(after: int, blank: int):
    """A browser's text content pads every cell alike; a double-spaced page pads only printed lines."""
    values = _t3_values()

    def padded(label, row):
        out, pending = [label], after - 1  # line ends after the label, as after a printed cell
        for v in row:
            if v == 0:
                out += [""] * pending
                pending = blank
                continue
            out += [""] * pending + [str(v)]
            pending = after - 1
        return [*out, *[""] * pending, *[""] * 2]  # the row's own padding, then more between rows

    facts = _facts(_report(_t3_lines(values, padded)))
    assert all(f.status == "ok" for k, f in facts.items() if k[0] == "requests")
    for r in T3:
        for j, c in enumerate(schema.TABLE3.columns):
            f = facts[("requests", r.key, c.key)]
            assert (f.value or 0) == values[r.key][j] and (f.kind == "blank") == (values[r.key][j] == 0), (r.key, c.key)


def test_flat_year_opening_the_next_paragraph_is_prose():
    values = _t3_values(total_new=2)
    lines = _t3_lines(values, lambda label, row: [label + "".join(str(v) for v in row)])
    lines[-2] += "2025年，我局共收到政府信息公开申请2件。"
    lines.insert(0, "第二十条第（八）项信息内容本年收费金额（单位：万元）行政事业性收费02025年，我局公开信息395条。")
    facts = _facts(_report([" ".join(lines)], year=2025))
    fee = facts[("fees", "admin_fees", "amount")]
    assert (fee.raw, fee.value, fee.status) == ("0", 0, "ok")
    forward = [facts[("requests", "carried_forward", c.key)] for c in schema.TABLE3.columns]
    assert [f.value for f in forward] == [0] * 7 and {f.status for f in forward} == {"ok"}


def test_flat_misprinted_row_label_is_found_by_its_place_and_likeness():
    values = _t3_values()
    values["withheld_enforcement_file"] = [1, 0, 0, 0, 0, 0, 1]
    values["granted"] = [3, 0, 0, 0, 0, 0, 3]

    def render(label, row):
        return [label.replace("执法案卷", "执法案件") + "".join(str(v) for v in row)]

    facts = _facts(_report([" ".join(_t3_lines(values, render))]))
    assert facts[("requests", "withheld_enforcement_file", "natural_person")].value == 1
    assert facts[("requests", "withheld_process", "business")].value == 1
    assert all(f.status == "ok" for k, f in facts.items() if k[0] == "requests")


def test_misprinted_column_header_takes_its_column_by_position():
    t2 = _table(0, [
        [("第二十条第（一）项", 1, 4)],
        ["信息内容", "本年制发件数", "本年废止件", "先行有效件数"],
        ["规章", "0", "0", "0"],
        ["行政规范性文件", "1", "0", "7"],
    ])
    facts = _facts(_report(tables=(t2,)))
    assert facts[("rules", "normative_documents", "repealed")].value == 0
    assert facts[("rules", "normative_documents", "in_force")].value == 7
    flat = _facts(_report(["第二十条第（一）项 信息内容 本年制发件数 本年废止件数 先行有效件数 规章000规范性文件107"]))
    assert [flat[("rules", "normative_documents", c)].value for c in ("issued", "repealed", "in_force")] == [1, 0, 7]


def test_flat_blank_cell_printed_as_a_space_in_a_run_together_row():
    values = _t3_values()
    values["carried_forward"] = [0] * 7

    def render(label, row):
        cells = "".join(str(v) for v in row)
        return [f"{label} {cells[:1]} {cells[2:]}" if label.startswith("四、") else f"{label} {cells}"]

    facts = _facts(_report([" ".join(_t3_lines(values, render))]))
    forward = [facts[("requests", "carried_forward", c.key)] for c in schema.TABLE3.columns]
    assert [(f.raw, f.status) for f in forward[:3]] == [("0", "ok"), ("", "ok"), ("0", "ok")]


def test_flat_dropped_blank_cells_are_ambiguous_with_blank_among_the_candidates():
    values = _t3_values()
    lines = _t3_lines(values, lambda label, row: [label, *(str(v) for v in row if v)])
    facts = _facts(_report(lines))
    f = facts[("requests", "withheld_process", "business")]
    assert f.status == "ambiguous" and 0 in f.candidates and 1 in f.candidates
    assert facts[("requests", "new", "total")].value == 5


def test_every_reading_of_a_run_together_row_is_kept():
    """`887` before two blank cells shown by non-breaking spaces: 88 | 7 and 8 | 87 both make 95."""
    got = fills(["887", "0", "95"], 7, glued=True, marks=(0, 1, 2, 0), spaces=(0, 1, 2, 0), unshown=False,
                sums=row_sums([identities.APPLICANTS], [c.key for c in schema.TABLE3.columns]))
    assert sorted(f.texts for f in got) == [("8", "87", "", "0", "", "", "95"), ("88", "7", "", "0", "", "", "95")]


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_txt_line_endings_read_as_line_feeds(newline: str, tmp_path: Path):
    values = _t3_values()
    lines = ["测试局2022年政府信息公开工作年度报告", *_t3_lines(values, lambda label, row: [label, *(
        "" if v == 0 else str(v) for v in row)])]
    lf, other = tmp_path / "lf.txt", tmp_path / "cr.txt"
    lf.write_text("\n".join(lines), encoding="utf-8")
    other.write_bytes(newline.join(lines).encode("utf-8"))
    def cells(path: Path) -> dict:
        return {(f.table, f.row, f.column): (f.raw, f.status) for f in extract_facts(read(path))}
    assert cells(other) == cells(lf) and cells(lf)[("requests", "new", "total")] == ("5", "ok")


def test_seed_mixed_template_keeps_the_extra_value_in_a_note():
    facts = _facts(read(ROOT / "corpus" / "xizang_zjt_2021.txt"))
    penalty = facts[("enforcement", "penalty", "decisions")]
    assert (penalty.value, penalty.status) == (3, "ok")
    assert penalty.note == "2"
    assert facts[("licensing", "licensing", "decisions")].raw == "117批次"
    assert facts[("rules", "normative_documents", "in_force")].value == 98
    assert facts[("requests", "other_handling", "total")].template == "2019"
    assert facts[("requests", "new", "natural_person")].kind == "blank"
    assert facts[("review", "cases", "review_pending")].value == 1


@pytest.mark.parametrize(
    ("raw", "value", "unit", "kind"),
    [("117批次", 117, "批次", "number"), ("251000元", 251000, "元", "number"), ("-185", -185, "", "number"),
     ("+1036", 1036, "", "number"), ("22（其中修订 16 件）", 22, "", "number"), ("0", 0, "", "zero"),
     ("?0", 0, "", "zero"), ("\u00a0", None, "", "blank"), ("不适用", None, "", "na"), ("/", None, "", "na"),
     ("4068.208", 4068.208, "", "number"), ("详见附件", None, "", "text")],
)
def test_cell_values(raw, value, unit, kind):
    p = parse(raw)
    assert (p.value, p.unit, p.kind) == (value, unit, kind)


# ---------------------------------------------------------------- the real corpus


def _gold() -> dict[str, dict[tuple[str, str, str], dict]]:
    gold: dict[str, dict[tuple[str, str, str], dict]] = defaultdict(dict)
    for line in GOLD.read_text(encoding="utf-8").splitlines():
        g = json.loads(line)
        gold[Path(g["file"]).stem][(g["table"], g["row"], g["column"])] = g
    return gold


def _exact(fact, g: dict) -> bool:
    if g["value"] is None:
        return fact.value is None and compact(fact.raw) == compact(g["raw"])
    return fact.value is not None and abs(fact.value - g["value"]) < 1e-9


@pytest.mark.shared
def test_shared_corpus_against_gold(shared_corpus):
    gold = _gold()
    files = sorted((shared_corpus / "reports").iterdir()) + sorted((shared_corpus / "alt-formats").iterdir())
    exact = total = 0
    for path in files:
        facts = {(f.table, f.row, f.column): f for f in extract_facts(read(path))}
        cells = gold[path.stem]
        assert cells, f"no gold for {path.name}"
        for k, g in cells.items():
            f = facts.get(k)
            if f is None or f.status == "ambiguous":
                continue
            assert _exact(f, g), f"{path.name} {k}: got {f.raw!r} ({f.value}), gold {g['raw']!r} ({g['value']})"
            if path.parent.name == "reports":
                exact += 1
        if path.parent.name == "reports":
            total += len(cells)
    assert exact / total >= 0.995, f"{exact}/{total}"
