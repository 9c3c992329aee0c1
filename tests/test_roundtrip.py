"""Round trip: a generated report with known cells, rendered in every format and every flattened-text layout,
read back by the readers and the fact extractor. Where the print keeps each cell apart (grids, one cell a line,
cells separated by a tab, `|` or U+3000, padding lines) every cell must come back as printed; where a flattened
page loses cell boundaries (blank cells dropped, a row's digits run together) a cell may come back ambiguous
where the print cannot tell, but never as a wrong value."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from ingest import readers
from ingest.model import Fact
from ingest.tables.extract import extract_facts
from tests.cellbench import VARIANTS, generated, run, spec_gold
from tests.reportgen import AGENCIES, Noise, Spec, Style, expected_facts, pdf_font, random_spec, render

_GLOSS = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")
_TOLERATED = "ambiguous"


@cache
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def _same(expected: str, printed: str) -> bool:
    """Equal as printed, up to Traditional glosses and spacing (the Traditional render rewrites text)."""
    def form(text: str) -> str:
        return _t2s().convert(_GLOSS.sub("", text)).replace("\xa0", "").replace(" ", "")

    return form(expected) == form(printed)


def _round_trip(spec: Spec, fmt: str, style: Style, folder: Path) -> tuple[dict, list[Fact]]:
    if fmt == "pdf" and pdf_font() is None:
        pytest.skip("PDF output needs apt package fonts-wqy-microhei")
    report = readers.read(render(spec, fmt, folder / f"{spec.template}.{fmt}", style))
    facts = extract_facts(report)
    return expected_facts(spec), facts


def _specs(noise: Noise) -> list[Spec]:
    return [random_spec(AGENCIES[20], 2020, seed=3, noise=noise), random_spec(AGENCIES[37], 2023, seed=4, noise=noise)]


# Layouts that keep every cell apart: all cells come back exactly, whatever the cell noise.
EXACT = {name: variant for name, variant in VARIANTS.items() if variant[0] != "txt"} | {
    "txt-lines": VARIANTS["txt-lines"],
}
# Every flattened-text layout of issue #12 and combinations (cellbench's variants).
TEXT = {name: style for name, (fmt, style) in VARIANTS.items() if fmt == "txt"}
# Flagged cells beyond those the print cannot tell (tests/unknowable.py), % of a report's cells.
FLAGGED_BOUND = {"runs": 3.0}
FLAGGED_ELSEWHERE = 0.5


def _mismatches(expected: dict, facts: list[Fact], tolerate_ambiguous: bool) -> list[str]:
    found = {(f.table, f.row, f.column): f for f in facts}
    out = []
    for key, raw in expected.items():
        fact = found.get(key)
        if fact is None:
            if raw or not tolerate_ambiguous:
                out.append(f"{key} missing, printed {raw!r}")
        elif tolerate_ambiguous and fact.status == _TOLERATED:
            continue
        elif not _same(raw, fact.raw) or fact.status != "ok":
            out.append(f"{key} printed {raw!r}, read {fact.raw!r} ({fact.status})")
    return out


@pytest.mark.parametrize("case", sorted(EXACT))
def test_every_cell_comes_back(case: str, tmp_path: Path) -> None:
    fmt, style = EXACT[case]
    for spec in _specs(Noise.heavy()):
        expected, facts = _round_trip(spec, fmt, style, tmp_path)
        assert _mismatches(expected, facts, tolerate_ambiguous=False) == [], spec.template


# Not the run-together layouts: run-together Table 2 rows have no sum identity to split them by.
@pytest.mark.parametrize("case", sorted(k for k, style in TEXT.items() if style.flatten != "runs"))
def test_flattened_clean_report_comes_back(case: str, tmp_path: Path) -> None:
    for spec in _specs(Noise()):
        expected, facts = _round_trip(spec, "txt", TEXT[case], tmp_path)
        assert _mismatches(expected, facts, tolerate_ambiguous=False) == [], spec.template


@pytest.mark.parametrize("case", sorted(TEXT))
def test_flattened_layout_reads_every_cell_it_prints(case: str, tmp_path: Path) -> None:
    """No cell wrong or missing; a cell flagged only where the print cannot tell, but for a few in run-together
    rows (the bound of issue #12); a layout that keeps blank cells apart gives every cell exactly."""
    style = TEXT[case]
    # the third spec's last Table 3 row ends in blank cells: what junk lines after a table test
    for spec in [*_specs(Noise.heavy()), random_spec(AGENCIES[7], 2021, seed=1, noise=Noise.heavy())]:
        path = render(spec, "txt", tmp_path / f"{spec.template}_{spec.seed}.txt", style)
        result = run(generated([(path, spec_gold(spec, path.name, style))], case, "txt"))
        bad = [f"{'/'.join(s.key)}: {s.outcome}, printed {s.gold_raw!r}, got {s.got}"
               for s in result.cells if s.outcome in ("wrong", "missed")]
        assert bad == [], spec.template
        decidable = [s for s in result.of("flagged") if not s.unknowable]
        bound = FLAGGED_BOUND.get(style.flatten, FLAGGED_ELSEWHERE)
        assert 100 * len(decidable) / len(result.cells) <= bound, [s.key for s in decidable]
        if not style.loses_blanks and style.flatten != "runs":
            assert {s.outcome for s in result.cells} == {"exact"}, spec.template


# AGENCIES[0]'s title reads `…人民政府2019年度政府信息公开…`: the agency must stop before the year.
@pytest.mark.parametrize("agency", [AGENCIES[37], AGENCIES[0]])
def test_agency_and_year_come_back(agency: str, tmp_path: Path) -> None:
    spec = random_spec(agency, 2019, seed=1)
    for fmt in ("html", "md", "txt"):
        report = readers.read(render(spec, fmt, tmp_path / f"r.{fmt}"))
        assert (report.agency, report.year, report.title) == (spec.agency, spec.year, spec.title), fmt
