"""How `department_cells.jsonl` was made: the gold of every printed standard cell of the department reports.

Run `python tests/gold/make_department_gold.py` from the repository root (needs ../shared/corpus) to rewrite
the file; `--check` compares instead of writing. The gold must not come from the project's extractor, so this
script imports nothing from `ingest/`: it knows only the fixed layout of the format (report-format.md).

- `departments/*.html`: the three standard tables are read positionally with BeautifulSoup. Table 2 is a stack
  of sub-tables, each a title row (第二十条第（X）项), a header row and data rows whose first cell is the row
  label and whose other cells are the values in the template's column order (2019 reports: the 2019
  columns). Table 3's data rows are the rows after its three header rows, in the format's order (25 rows, or
  23 where （六）其他处理 is one row); their last seven cells are the applicant columns. Table 4's last row holds
  its fifteen cells. Any other table (an extra 信息处理费 table) is not standard and is skipped.
- `departments/txt-only/*.txt` (crawler text, no HTML twin): every row's printed text is read every way it
  allows (a space always separates two cells, digits run together may hold several cells, no number but 0
  starts with 0); the sum identities then keep the readings that satisfy them (Table 3 rows, then its
  columns, Table 4 blocks) when any does. A cell every surviving reading agrees on is gold
  (`resolved_by: identities` when the identities were needed); the others are `unknowable`, with the
  values the print allows, so a flagged cell is the right outcome there.

Every table is checked by the sum identities; each failure is printed and must be one of `REVIEWED`, the
failures checked by hand against the page (real defects of the reports, kept as printed). Gold records each
cell as printed: `raw`, and `value` (null for blank or not a number).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Sequence
from itertools import product
from pathlib import Path

from bs4 import BeautifulSoup, Tag

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
OUT = ROOT / "tests" / "gold" / "department_cells.jsonl"

# ---------------------------------------------------------------- the fixed layout (report-format.md)

# Table 2 sub-tables by the item number of their title, with their columns per template.
T2_TABLES = {"一": "rules", "五": "licensing", "六": "enforcement", "八": "fees", "九": "procurement"}
T2_COLUMNS = {
    "2021": {"rules": ("issued", "repealed", "in_force"), "licensing": ("decisions",),
             "enforcement": ("decisions",), "fees": ("amount",)},
    "2019": {"rules": ("issued", "published", "in_force"),
             "licensing": ("items_last_year", "items_change", "decisions"),
             "enforcement": ("items_last_year", "items_change", "decisions"),
             "fees": ("items_last_year", "items_change"), "procurement": ("projects", "amount")},
}
# Table 2 row labels as printed (行政规范性文件 before 规范性文件: the longer label first).
T2_ROWS = {"规章": "regulations", "行政规范性文件": "normative_documents", "规范性文件": "normative_documents",
           "行政许可": "licensing", "其他对外管理服务事项": "other_services", "行政处罚": "penalty",
           "行政强制": "coercion", "行政事业性收费": "admin_fees", "政府集中采购": "procurement"}
T2_ROW_TABLE = {"regulations": "rules", "normative_documents": "rules", "licensing": "licensing",
                "other_services": "licensing", "penalty": "enforcement", "coercion": "enforcement",
                "admin_fees": "fees", "procurement": "procurement"}

# Table 3 rows in printed order, with the label text that identifies each (ordinal included for leaf rows).
T3_ROWS: tuple[tuple[str, str], ...] = (
    ("new", "一、本年新收政府信息公开申请数量"),
    ("carried_over", "二、上年结转政府信息公开申请数量"),
    ("granted", "（一）予以公开"),
    ("partly_granted", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    ("withheld_state_secret", "1.属于国家秘密"),
    ("withheld_law", "2.其他法律行政法规禁止公开"),
    ("withheld_security", "3.危及“三安全一稳定”"),
    ("withheld_third_party", "4.保护第三方合法权益"),
    ("withheld_internal", "5.属于三类内部事务信息"),
    ("withheld_process", "6.属于四类过程性信息"),
    ("withheld_enforcement_file", "7.属于行政执法案卷"),
    ("withheld_query", "8.属于行政查询事项"),
    ("unavailable_not_held", "1.本机关不掌握相关政府信息"),
    ("unavailable_needs_creation", "2.没有现成信息需要另行制作"),
    ("unavailable_unclear", "3.补正后申请内容仍不明确"),
    ("not_handled_petition", "1.信访举报投诉类申请"),
    ("not_handled_repeat", "2.重复申请"),
    ("not_handled_publication", "3.要求提供公开出版物"),
    ("not_handled_mass", "4.无正当理由大量反复申请"),
    ("not_handled_confirm", "5.要求行政机关确认或重新出具已获取信息"),
    ("other_overdue_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("other_unpaid_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ("other_misc", "3.其他"),
    ("other_handling", "（六）其他处理"),
    ("total_handled", "（七）总计"),
    ("carried_forward", "四、结转下年度继续办理"),
)
T3_2021 = tuple(r for r in T3_ROWS if r[0] != "other_handling")
T3_2019 = tuple(r for r in T3_ROWS if not r[0].startswith("other_") or r[0] == "other_handling")
T3_PARTS = ("granted", "partly_granted", "withheld_", "unavailable_", "not_handled_", "other_")  # sum to total_handled
T3_COLUMNS = ("natural_person", "business", "research", "public_interest", "legal_service", "other_org", "total")
T4_COLUMNS = tuple(f"{block}_{col}" for block in ("review", "suit_direct", "suit_after_review")
                   for col in ("upheld", "corrected", "other", "pending", "total"))

# Identity failures checked by hand against the printed page: real defects, kept as printed.
REVIEWED: dict[str, set[str]] = {
    # 农业农村局 2024 prints 0 in every 总计 cell of Table 3 while 自然人 holds the requests (3 new, 1 granted,
    # 2 withheld for third parties, 3 handled): each of those rows breaks its row sum.
    "departments/nyncj_2024.html": {"requests row new", "requests row granted", "requests row withheld_third_party",
                                    "requests row total_handled"},
    # 自然资源与生态环境局 2023: one 商业企业 request is 部分公开 and in （七）总计 (so those two rows' 总计, 8 and 19,
    # leave it out), while no 商业企业 request is new or carried over (一 + 二 = 0, 七 + 四 = 1).
    "departments/zrzyj_2023.html": {"requests row partly_granted", "requests row total_handled",
                                    "requests column business"},
    # 农业农村局 2021 (crawler text, every Table 3 row seven single digits, so one reading each): one of the
    # 3 new requests is from 其他 (2000013) and one 本机关不掌握 answer is too (1000012), but （七）总计 prints
    # 3000003, all 自然人: the 自然人 and 其他 columns break （七）总计 = sum of the results.
    "departments/txt-only/nyncj_2021.txt": {"requests column natural_person", "requests column other_org"},
    # Not failures, checked too: 金井片区 2022/2024 print the 商业企业 cell of 结转下年度 blank (blank counts as 0);
    # 海坛片区 2023 misspells the header 现行有效件数 (先行有效件数); 市场监督管理局 2025 prints 7.属于行政执法案件.
}

Cell = dict[str, object]


def _text(node: Tag) -> str:
    """A cell as printed: its text with runs of whitespace (non-breaking and full-width too) as one space."""
    return " ".join(node.get_text(" ").split())


_NUMBER = re.compile(r"([+-]?\d+(?:\.\d+)?)\s*(?:万元|元|件|批次|个)?")


def value(raw: str) -> float | None:
    """The number a printed cell states; None for blank or anything that is not one number."""
    m = _NUMBER.fullmatch(raw.strip())
    return float(m.group(1)) if m else None


def _cell(file: str, table: str, row: str, column: str, raw: str) -> Cell:
    return {"file": file, "table": table, "row": row, "column": column, "raw": raw, "value": value(raw)}


def template_of(year: int) -> str:
    """The 2019 trial format covered the 2019 and 2020 reports (report-format.md)."""
    return "2019" if year < 2021 else "2021"


def _year(name: str) -> int:
    return int(re.search(r"(\d{4})", name).group(1))


def _bare(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ---------------------------------------------------------------- HTML, positionally


def html_cells(path: Path, file: str) -> tuple[list[Cell], list[str]]:
    """Every printed standard cell of an HTML report, and notes for review (labels that differ, odd cells)."""
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")
    tables = soup.find_all("table")
    t2 = [t for t in tables if "第二十条" in _text(t.find("tr"))]
    t3 = [t for t in tables if "申请人情况" in _text(t.find("tr"))]
    t4 = [t for t in tables if _text(t.find("tr")).startswith("行政复议")]
    notes = [f"skipped non-standard table: {_text(t)[:40]}…" for t in tables if t not in (*t2, *t3, *t4)]
    assert len(t2) == len(t3) == len(t4) == 1, f"{file}: tables 2/3/4 found {len(t2)}/{len(t3)}/{len(t4)}"
    cells = _html_t2(t2[0], file, template_of(_year(path.name)))
    cells += _html_t3(t3[0], file, notes)
    last = t4[0].find_all("tr")[-1].find_all(["td", "th"])
    assert len(last) == 15, f"{file}: Table 4 last row has {len(last)} cells"
    cells += [_cell(file, "review", "cases", col, _text(c)) for col, c in zip(T4_COLUMNS, last, strict=True)]
    notes += [f"not a number: {c['table']}/{c['row']}/{c['column']} {c['raw']!r}" for c in cells
              if c["value"] is None and c["raw"]]
    return cells, notes


def _html_t2(table: Tag, file: str, template: str) -> list[Cell]:
    cells: list[Cell] = []
    sub = ""
    for tr in table.find_all("tr"):
        tds = [_text(c) for c in tr.find_all(["td", "th"])]
        title = re.fullmatch(r"第二十条第[（(]([一二三四五六七八九])[）)]项", _bare(tds[0]))
        if title:
            sub = T2_TABLES[title.group(1)]
            continue
        if _bare(tds[0]) == "信息内容":
            continue
        row = T2_ROWS.get(_bare(tds[0]))
        assert row and T2_ROW_TABLE[row] == sub, f"{file}: Table 2 row {tds[0]!r} under {sub}"
        columns = T2_COLUMNS[template][sub]
        assert len(tds) - 1 == len(columns), f"{file}: {tds} for columns {columns}"
        cells += [_cell(file, sub, row, col, raw) for col, raw in zip(columns, tds[1:], strict=True)]
    return cells


def _html_t3(table: Tag, file: str, notes: list[str]) -> list[Cell]:
    rows = table.find_all("tr")[3:]
    layout = {len(T3_2021): T3_2021, len(T3_2019): T3_2019}.get(len(rows))
    assert layout, f"{file}: Table 3 has {len(rows)} data rows"
    cells: list[Cell] = []
    for (key, label), tr in zip(layout, rows, strict=True):
        tds = tr.find_all(["td", "th"])
        assert all(int(c.get("colspan", 1)) == 1 for c in tds[-7:]), f"{file}: merged value cell in {key}"
        printed = _bare(_text(tds[-8]))
        if not label.endswith(printed) and printed not in label:
            notes.append(f"Table 3 row {key}: printed label {printed!r}, format {label!r}")
        cells += [_cell(file, "requests", key, col, _text(c)) for col, c in zip(T3_COLUMNS, tds[-7:], strict=True)]
    return cells


# ---------------------------------------------------------------- identities


def _n(cell: Cell | None) -> float:
    """A cell for the sums: blank (or absent) counts as zero, as reports print blank for zero."""
    return 0.0 if cell is None or cell["value"] is None else float(cell["value"])  # type: ignore[arg-type]


def _close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-6


def identity_failures(cells: Sequence[Cell]) -> set[str]:
    """Which sum identities of report-format.md the cells break, named `requests row R`, `requests column C`,
    `review block B`."""
    at = {(c["table"], c["row"], c["column"]): c for c in cells}
    rows = [key for key, _ in T3_ROWS if ("requests", key, "total") in at]
    out = set()
    for r in rows:
        if not _close(sum(_n(at.get(("requests", r, c))) for c in T3_COLUMNS[:6]), _n(at[("requests", r, "total")])):
            out.add(f"requests row {r}")
    parts = [r for r in rows if r.startswith(T3_PARTS)]
    for c in T3_COLUMNS if rows else ():
        col = {r: _n(at.get(("requests", r, c))) for r in rows}
        if not (_close(sum(col[r] for r in parts), col["total_handled"])
                and _close(col["new"] + col["carried_over"], col["total_handled"] + col["carried_forward"])):
            out.add(f"requests column {c}")
    for b in range(0, 15, 5):
        block = [_n(at.get(("review", "cases", c))) for c in T4_COLUMNS[b : b + 5]]
        if not _close(sum(block[:4]), block[4]):
            out.add(f"review block {T4_COLUMNS[b].rsplit('_', 1)[0]}")
    return out


# ---------------------------------------------------------------- flattened text, by readings


_PIECE = re.compile(r"[+-]?(?:0|[1-9]\d*)(?:\.\d+)?(?:万元|元)?")


def _splits(token: str, k: int) -> Iterator[tuple[str, ...]]:
    """Every way `token` is `k` numbers written together (no number but 0 starts with 0; a unit ends a number)."""
    if k == 1:
        if _PIECE.fullmatch(token):
            yield (token,)
        return
    for end in range(1, len(token)):
        if _PIECE.fullmatch(token[:end]):
            for rest in _splits(token[end:], k - 1):
                yield (token[:end], *rest)


def text_readings(text: str, n: int) -> list[tuple[str, ...]]:
    """Every reading of a flattened row's printed text as `n` cells: spaces separate cells, digits may run."""
    tokens = text.split()
    out: list[tuple[str, ...]] = []

    def place(i: int, left: int, acc: tuple[str, ...]) -> None:
        if i == len(tokens):
            if left == 0:
                out.append(acc)
            return
        for k in range(1, left - (len(tokens) - i - 1) + 1):
            for parts in _splits(tokens[i], k):
                place(i + 1, left - k, acc + parts)

    place(0, n, ())
    return out


def _row_ok(reading: tuple[str, ...]) -> bool:
    return _close(sum(value(x) or 0 for x in reading[:6]), value(reading[6]) or 0)


def _block_ok(reading: tuple[str, ...]) -> bool:
    return all(_close(sum(value(x) or 0 for x in reading[b : b + 4]), value(reading[b + 4]) or 0)
               for b in range(0, 15, 5))


def _segment(body: str, start: int, end: int) -> str:
    """The value text of a row: what follows its label up to the next thing that is not a cell."""
    return re.match(r"[\d\s\u3000.+\-万元]*", body[start:end]).group(0)


def _find(body: str, label: str, pos: int) -> int:
    at = body.find(label, pos)
    assert at >= 0, f"label {label!r} not found after {pos}"
    return at


Readings = list[tuple[str, ...]]


def txt_cells(path: Path, file: str) -> tuple[list[Cell], list[str]]:
    """Every printed standard cell of a crawler-text report, as far as the print and the identities tell."""
    body = path.read_text(encoding="utf-8").split("正文", 1)[1]
    rows: dict[tuple[str, str], tuple[tuple[str, ...], Readings, Readings]] = {}  # columns, printed, kept

    t2_at = _find(body, "第二十条第（一）项", 0)
    t3_at = _find(body, "三、收到和处理政府信息公开申请情况", t2_at)
    titles = [m for m in re.finditer(r"第二十条第（(.)）项", body[:t3_at]) if m.start() >= t2_at]
    for m, end in zip(titles, [*(t.start() for t in titles[1:]), t3_at], strict=True):
        sub = T2_TABLES[m.group(1)]
        columns = T2_COLUMNS[template_of(_year(path.name))][sub]
        taken = ""
        for label, row in T2_ROWS.items():
            at = body.find(label, m.end(), end)
            if at < 0 or T2_ROW_TABLE[row] != sub or label in taken:
                continue
            taken += label
            printed = text_readings(_segment(body, at + len(label), end), len(columns))
            rows[(sub, row)] = (columns, printed, printed)

    layout = T3_2019 if "1.申请人无正当理由" not in body[t3_at:] else T3_2021
    starts, pos = [], t3_at
    for _, label in layout:
        pos = _find(body, label, pos)
        starts.append(pos)
        pos += len(label)
    t4_at = _find(body, "四、政府信息公开行政复议", pos)
    printed3 = {key: text_readings(_segment(body, at + len(label), end), 7)
                for (key, label), at, end in zip(layout, starts, [*starts[1:], t4_at], strict=True)}
    kept3 = _narrow_columns({k: [r for r in rs if _row_ok(r)] or rs for k, rs in printed3.items()})
    rows.update({("requests", k): (T3_COLUMNS, printed3[k], kept3[k]) for k in printed3})

    t5_at = _find(body, "五、", t4_at)
    t4 = text_readings(_segment(body, body.rfind("总计", t4_at, t5_at) + 2, t5_at), 15)
    rows[("review", "cases")] = (T4_COLUMNS, t4, [r for r in t4 if _block_ok(r)] or t4)

    cells, notes = [], []
    for (table, row), (columns, printed, kept) in rows.items():
        assert kept, f"{file}: no reading of {table}/{row}"
        for i, col in enumerate(columns):
            options = sorted({r[i] for r in kept}, key=lambda x: (value(x) or 0, x))
            cell = _cell(file, table, row, col, options[0])
            if len(options) > 1:
                cell.update(raw="", value=None, unknowable=True, readings=[value(x) for x in options])
                notes.append(f"unknowable {table}/{row}/{col}: {options}")
            elif len({r[i] for r in printed}) > 1:
                cell["resolved_by"] = "identities"
            cells.append(cell)
    return cells, notes


def _narrow_columns(t3: dict[str, list[tuple[str, ...]]], limit: int = 100_000) -> dict[str, list[tuple[str, ...]]]:
    """Keep the row readings that some choice of all rows' readings satisfying the column identities uses."""
    open_rows = [k for k, rs in t3.items() if len(rs) > 1]
    size = 1
    for k in open_rows:
        size *= len(t3[k])
    if not open_rows or size > limit:
        return t3
    kept: dict[str, set[tuple[str, ...]]] = {k: set() for k in open_rows}
    for choice in product(*(t3[k] for k in open_rows)):
        rows = {**{k: rs[0] for k, rs in t3.items()}, **dict(zip(open_rows, choice, strict=True))}
        cells = [{"table": "requests", "row": k, "column": c, "value": value(x)}
                 for k, r in rows.items() for c, x in zip(T3_COLUMNS, r, strict=True)]
        if not any(f.startswith("requests column") for f in identity_failures(cells)):
            for k in open_rows:
                kept[k].add(rows[k])
    if not any(kept.values()):
        return t3
    return {k: [r for r in rs if k not in kept or r in kept[k]] for k, rs in t3.items()}


# ---------------------------------------------------------------- main


def make() -> tuple[list[Cell], list[str]]:
    cells: list[Cell] = []
    problems: list[str] = []
    sources = [(p, html_cells) for p in sorted((CORPUS / "departments").glob("*.html"))]
    sources += [(p, txt_cells) for p in sorted((CORPUS / "departments" / "txt-only").glob("*.txt"))]
    for path, read in sources:
        file = path.relative_to(CORPUS).as_posix()
        got, notes = read(path, file)
        known = [c for c in got if not c.get("unknowable")]
        failures = identity_failures(known)  # unknowable cells are Table 2's here, which has no identities
        assert all(c["table"] not in ("requests", "review") for c in got if c.get("unknowable")), file
        unreviewed = failures - REVIEWED.get(file, set())
        print(f"{file}: {len(got)} cells, {len(got) - len(known)} unknowable, identity failures "
              f"{sorted(failures) or 'none'}", file=sys.stderr)
        for note in notes:
            print(f"  {note}", file=sys.stderr)
        problems += [f"{file}: unreviewed identity failure {f}" for f in sorted(unreviewed)]
        problems += [f"{file}: reviewed failure {f} no longer seen" for f in REVIEWED.get(file, set()) - failures]
        cells += got
    return cells, problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    args = parser.parse_args(argv)
    cells, problems = make()
    for p in problems:
        print(f"PROBLEM {p}", file=sys.stderr)
    text = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cells)
    if args.check:
        same = OUT.read_text(encoding="utf-8") == text
        print("gold unchanged" if same else "gold differs from the committed file", file=sys.stderr)
        return 0 if same and not problems else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(cells)} cells to {OUT}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
