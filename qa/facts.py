"""Table answers computed in code from stored facts: one value, a comparison, a trend, a ranking.

No number here is generated: every value is read from `Store.facts`, summed only where the question
names a group (不予公开 = its eight rows), and cited cell by cell. Blank, ambiguous and inconsistent
cells are said to be so instead of being turned into numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from ingest.format.schema import BY_KEY, Label
from ingest.model import SECTION_TITLES, Fact
from ingest.normalize import bare_label
from ingest.store import Store
from qa.model import Citation


@dataclass(frozen=True)
class Reading:
    """The cells one question needs from one report, and what they add up to."""

    agency: str
    year: int
    facts: tuple[Fact, ...]
    value: float | None  # None: blank, not applicable, text, ambiguous, or missing
    blank: bool = False  # every cell is blank in the report
    ambiguous: bool = False
    inconsistent: bool = False
    column: str = ""  # the column actually read (a default column may be missing in a 2019 report)

    @property
    def found(self) -> bool:
        return bool(self.facts)


def read(store: Store, agency: str, year: int, table: str, rows: tuple[str, ...],
         columns: tuple[str, ...]) -> Reading:
    """Look up the cells rows × columns of one report; a missing row falls back to its sub-rows
    (2021 reports split （六）其他处理 into three), a missing default column to the row's first column."""
    facts = store.facts(agency=agency, year=year, table=table)
    by_cell = {(f.row, f.column): f for f in facts}
    spec = BY_KEY[table]
    picked: list[Fact] = []
    used_column = columns[0] if len(columns) == 1 else ""
    for row, column in product(rows, columns):
        if (row, column) in by_cell:
            picked.append(by_cell[(row, column)])
            continue
        children = [r.key for r in spec.rows if r.parent and bare_label(r.parent) == bare_label(_label(spec.rows, row))]
        found = [by_cell[(c, column)] for c in children if (c, column) in by_cell]
        if found:
            picked.extend(found)
        elif len(columns) == 1 and (other := next((f for f in facts if f.row == row), None)):
            picked.append(other)
            used_column = other.column
    if not picked:
        return Reading(agency, year, (), None)
    ambiguous = any(f.status == "ambiguous" for f in picked)
    inconsistent = any(f.status == "inconsistent" for f in picked)
    blank = all(f.kind == "blank" for f in picked)
    numbers = [f.value for f in picked if f.value is not None]
    value = None if ambiguous or not numbers else sum(numbers)
    return Reading(agency, year, tuple(picked), value, blank, ambiguous, inconsistent, used_column)


def _label(labels: tuple[Label, ...], key: str) -> str:
    return next((label.label for label in labels if label.key == key), key)


def fmt(value: float) -> str:
    """3.0 → "3", -12.0 → "-12", 0.1234 → "0.1234" (no float noise)."""
    if value == int(value):
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def citation(fact: Fact) -> Citation:
    """The cell a fact was read from, with the standard labels in Simplified Chinese."""
    spec = BY_KEY[fact.table]
    row = next((r for r in spec.rows if r.key == fact.row), None)
    column = next((c for c in spec.columns if c.key == fact.column), None)
    section = SECTION_TITLES.get(spec.section, "")
    if spec.key in ("rules", "licensing", "enforcement", "fees", "procurement"):
        section = f"{section} › {spec.title}"
    column_label = column.label if column else fact.column_label
    if column and column.parent:
        column_label = f"{column.parent} › {column.label}"
    return Citation(
        report_id=fact.report_id,
        agency=fact.agency,
        year=fact.year,
        source=fact.ref.source,
        section=section,
        table=spec.title,
        row=row.label if row else fact.row_label,
        column=column_label,
        cell=fact.raw,
        page=fact.ref.page,
        snippet=f"{fact.row_label} | {fact.column_label} | {fact.raw or '（空白）'}",
        table_key=fact.table,
        row_key=fact.row,
        column_key=fact.column,
        status=fact.status,
    )


def describe(reading: Reading, label: str, label_en: str, zh: bool) -> str:
    """One sentence for one report's reading, saying blank/ambiguous/inconsistent where so."""
    unit = reading.facts[0].unit if reading.facts else ""
    who = reading.agency
    if reading.ambiguous:
        options = sorted({fmt(c) for f in reading.facts for c in f.candidates})
        raw = "、".join(f.raw for f in reading.facts)
        if zh:
            return (f"{reading.year}年，{who}的{label}无法确定：报告中该行数字连写或缺格（原文“{raw}”），"
                    f"可能的值为 {' 或 '.join(options)}。")
        return (f"In {reading.year}, {who}'s {label_en} cannot be read with certainty: the row is flattened in the "
                f"report (printed \"{raw}\"); it could be {' or '.join(options)}.")
    if reading.value is None:
        raw = "、".join(f.raw for f in reading.facts)
        if zh:
            state = "为空白（未填写，不视为 0）" if reading.blank else f"填写为“{raw}”，不是数字"
            return f"{reading.year}年，{who}的报告中{label}一栏{state}。"
        state = "is blank in the report (not filled in; not taken as 0)" if reading.blank else (
            f"reads \"{raw}\", which is not a number")
        return f"In {reading.year}, the {label_en} cell of {who}'s report {state}."
    value = fmt(reading.value)
    unit_en = {"件": "", "万元": " (10,000 yuan)", "元": " yuan"}.get(unit, f" {unit}")
    sentence = (f"{reading.year}年，{who}{label}为 {value} {unit}。" if zh
                else f"In {reading.year}, {who} reported {value}{unit_en} for {label_en}.")
    notes = [f.note for f in reading.facts if f.note]
    if notes:
        sentence += (f"（注意：报告在该格旁另印有不属于任何表头的数值：{'；'.join(notes)}）" if zh
                     else f" (Note: the report prints an extra value under no column next to it: {'; '.join(notes)}.)")
    if reading.inconsistent:
        sentence += ("（注意：该表的勾稽关系在报告中不成立，数值按原文引用。）" if zh
                     else " (Note: the table's sum identity is broken in the report; the value is quoted as printed.)")
    return sentence
