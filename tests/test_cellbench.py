"""The cell-accuracy benchmark: how a cell is scored, the generated-layout hook, and (marked `shared`) the gold
of the department reports and no wrong cell on the real corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.model import Fact
from tests import cellbench
from tests.cellbench import GoldCell, generated, load_gold, run, score_cell, spec_gold
from tests.gold import make_department_gold
from tests.reportgen import AGENCIES, Noise, random_spec, render


def _gold(raw: str, value: float | None, unknowable: bool = False) -> GoldCell:
    return GoldCell("f.txt", "requests", "new", "total", raw, value, unknowable)


def _fact(raw: str, value: float | None, status: str = "ok", candidates: tuple[float, ...] = ()) -> Fact:
    return Fact("A:2022", "A", 2022, "2021", "requests", "new", "total", "", "", raw, value, "件", "number",
                status, candidates)  # type: ignore[arg-type]


@pytest.mark.parametrize(("gold", "fact", "outcome"), [
    (_gold("12", 12), _fact("12件", 12), "exact"),
    (_gold("12", 12), _fact("12", 12, "inconsistent"), "exact"),
    (_gold("", None), _fact("", None), "exact"),
    (_gold("/", None), _fact("无", None), "exact"),  # no number either way
    (_gold("", None), _fact("0", 0), "wrong"),  # blank is printed, not zero
    (_gold("12", 12), _fact("21", 21), "wrong"),
    (_gold("12", 12), None, "missed"),
    (_gold("12", 12), _fact("1212", None, "ambiguous", (1, 12, 121)), "flagged"),
    (_gold("12", 12), _fact("1212", None, "ambiguous", (1, 121)), "wrong"),
    (_gold("", None), _fact("000000", None, "ambiguous", (0,)), "flagged"),  # blank read as a zero candidate
    (_gold("", None), _fact("000000", None, "ambiguous", ()), "wrong"),
    (_gold("", None, unknowable=True), _fact("9234", None, "ambiguous", (9, 92)), "flagged"),
    (_gold("", None, unknowable=True), _fact("9", 9), "wrong"),  # confident where the print cannot tell
])
def test_score_cell(gold: GoldCell, fact: Fact | None, outcome: str) -> None:
    assert score_cell(gold, fact) == outcome


def test_generated_hook_scores_a_rendered_report(tmp_path: Path) -> None:
    spec = random_spec(AGENCIES[3], 2022, seed=2, noise=Noise(units=True, blank_zeros=0.5))
    path = render(spec, "html", tmp_path / "r.html")
    result = run(generated([(path, spec_gold(spec, "r.html"))], "html", "html"))
    assert len(result.cells) == len(spec.values) == 200
    assert {s.outcome for s in result.cells} == {"exact"}
    assert result.tally("group")["generated/html"].pct("exact") == 100.0


@pytest.mark.shared
def test_department_gold_covers_every_report(shared_corpus: Path) -> None:
    gold = load_gold()
    files = cellbench.report_files(shared_corpus)
    assert len(files) == 13 + 8 + 12 + 12 + 7
    assert [p.name for folder, p in files if not cellbench.gold_for(gold, folder, p)] == []
    for path in sorted((shared_corpus / "departments").glob("*.html")):
        cells = gold[f"departments/{path.name}"]
        rows = {c.row for c in cells if c.table == "requests"}
        assert len(rows) in (23, 25) and len([c for c in cells if c.table == "review"]) == 15, path.name
        assert {c.table for c in cells} >= {"rules", "licensing", "enforcement", "fees"}, path.name
    def cell(file: str, *key: str) -> tuple[str, float | None]:
        g = next(g for g in gold[f"departments/{file}"] if g.key == key)
        return g.raw, g.value

    # real defects, kept as printed: 总计 printed 0 beside 3 requests; a blank cell of 结转下年度
    assert cell("nyncj_2024.html", "requests", "new", "natural_person") == ("3", 3)
    assert cell("nyncj_2024.html", "requests", "new", "total") == ("0", 0)
    assert cell("jjpq_2022.html", "requests", "carried_forward", "business") == ("", None)
    assert cell("txt-only/lywtj_2022.txt", "licensing", "licensing", "decisions") == ("12", 12)


@pytest.mark.shared
def test_department_gold_is_what_the_gold_maker_makes(shared_corpus: Path) -> None:
    cells, problems = make_department_gold.make()
    assert problems == []
    made = {(c["file"], c["table"], c["row"], c["column"]): (c["raw"], c["value"]) for c in cells}
    committed = {(g.file, *g.key): (g.raw, g.value) for cs in load_gold().values() for g in cs
                 if g.file.startswith("departments/")}
    assert made == committed


@pytest.mark.shared
@pytest.mark.parametrize("folder", list(cellbench.FOLDERS))
def test_no_wrong_cell_on_the_shared_corpus(shared_corpus: Path, folder: str) -> None:
    cases = [c for c in cellbench.shared_cases(shared_corpus) if c.group == folder]
    wrong = [f"{s.file} {'/'.join(s.key)}: gold {s.gold_raw!r}, got {s.got}" for s in run(cases).of("wrong")]
    assert cases and wrong == []
