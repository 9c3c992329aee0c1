"""Cell-level accuracy of table extraction against gold (`python -m tests.cellbench [--json]`, and `make bench`).

Every gold cell (tests/gold/*.jsonl for the shared corpus; the printed cells of reports rendered by
tests/reportgen.py) is scored against the facts the extractor gives for its file, read without any store:

- exact: status ok or inconsistent, and the value equal (blank gold = blank fact; a gold cell that is no
  number, `/` or `无`, = a fact that is no number either);
- flagged: status ambiguous and the gold value among the candidates (blank counts as 0 there: candidates
  are numbers), or any ambiguous fact where the gold itself is `unknowable` from the print;
- missed: no fact for a printed cell;
- wrong: a value that differs, an ambiguous cell whose candidates exclude the truth, or a confident value
  where the gold says the print cannot tell.

Facts for cells the report does not print are counted as `extra`. Alternative forms of a report (alt-formats/,
departments/alt/) are scored against the gold of the same report (same file stem). Degraded scans of every shared
report (tests/scans.py: image-only PDFs read by OCR) are scored as the generated variant `scans`, format `scan`.
Extraction goes through `extract` alone, so a moved extractor is re-pointed in one place.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from ingest.model import Fact
from tests.reportgen import AGENCIES, Format, Noise, Spec, Style, pdf_font, random_spec, render
from tests.unknowable import unknowable_cells

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
GOLD = (ROOT / "tests" / "gold" / "shared_cells.jsonl", ROOT / "tests" / "gold" / "department_cells.jsonl")
# Folders of the shared corpus scored, and where the gold of a file in each lives (alternative forms: the
# report's own gold, found by file stem).
FOLDERS = {"reports": "reports", "alt-formats": "reports", "departments": "departments",
           "departments/alt": "departments", "departments/txt-only": "departments/txt-only"}
TARGETS = {"html": 99.0, "docx": 99.0, "pdf": 99.0, "md": 99.0, "txt-lines": 97.0, "txt-flattened": 97.0,
           "scan": 97.0}

Outcome = Literal["exact", "flagged", "missed", "wrong", "extra"]
OUTCOMES: tuple[Outcome, ...] = ("exact", "flagged", "missed", "wrong")  # of a gold cell; `extra` is a fact without one
Key = tuple[str, str, str]


def extract(path: Path) -> list[Fact]:
    """The facts of one file: the project's readers and table extraction (and the doubt OCR'd cells get, as
    ingest gives it), no embedding, no store."""
    from ingest.doubt import doubt
    from ingest.readers import read
    from ingest.tables.extract import extract_facts

    return doubt(extract_facts(read(path)))


@dataclass(frozen=True)
class GoldCell:
    """One printed cell as the gold records it; `readings` are the values the print allows when `unknowable`."""

    file: str
    table: str
    row: str
    column: str
    raw: str
    value: float | None
    unknowable: bool = False
    readings: tuple[float | None, ...] = ()

    @property
    def key(self) -> Key:
        return (self.table, self.row, self.column)


@dataclass(frozen=True)
class Case:
    """One file to score: its format (html, pdf, docx, md, txt-lines, txt-flattened), the group it is
    reported under (a corpus folder, or `generated/<variant>`) and the gold of its printed cells."""

    path: Path
    fmt: str
    group: str
    gold: tuple[GoldCell, ...]


@dataclass(frozen=True)
class Scored:
    """One gold cell's outcome, or an `extra` fact, with what the extractor gave (empty for a missed cell)."""

    file: str
    fmt: str
    group: str
    key: Key
    gold_raw: str
    outcome: Outcome
    got: str = ""
    unknowable: bool = False
    readings: tuple[float | None, ...] = ()
    confident: bool = False  # the fact claimed a value (status ok or inconsistent)


@dataclass
class Tally:
    """Outcome counts of one format, folder or variant; `confident` counts the wrong cells that claimed a value,
    `unknowable` the flagged cells whose print cannot tell (so only the rest could have been exact)."""

    counts: Counter = field(default_factory=Counter)

    def add(self, scored: Scored) -> None:
        self.counts[scored.outcome] += 1
        if scored.outcome == "wrong" and scored.confident:
            self.counts["confident"] += 1
        if scored.outcome == "flagged" and scored.unknowable:
            self.counts["unknowable"] += 1

    @property
    def cells(self) -> int:
        return sum(self.counts[o] for o in OUTCOMES)

    def pct(self, outcome: Outcome) -> float:
        return 100 * self.counts[outcome] / self.cells if self.cells else 0.0

    @property
    def told(self) -> float:
        """Exact, % of the cells the print can tell (all but the unknowable ones flagged)."""
        cells = self.cells - self.counts["unknowable"]
        return 100 * self.counts["exact"] / cells if cells else 0.0


# ---------------------------------------------------------------- scoring


def _blank(raw: str) -> bool:
    """Nothing printed but spacing or the `?` scraped pages show for a non-breaking space."""
    return not re.sub(r"[\s?？]", "", raw)


def _same(gold: GoldCell, fact: Fact) -> bool:
    if gold.value is None:
        return fact.value is None and _blank(gold.raw) == _blank(fact.raw)
    return fact.value is not None and math.isclose(fact.value, gold.value, rel_tol=1e-9, abs_tol=1e-9)


def score_cell(gold: GoldCell, fact: Fact | None) -> Outcome:
    if fact is None:
        return "missed"
    if fact.status == "ambiguous":
        truth = 0.0 if gold.value is None and _blank(gold.raw) else gold.value
        among = truth is not None and any(math.isclose(c, truth, abs_tol=1e-9) for c in fact.candidates)
        return "flagged" if gold.unknowable or among else "wrong"
    return "exact" if not gold.unknowable and _same(gold, fact) else "wrong"


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def _got(fact: Fact) -> str:
    if fact.status == "ambiguous":
        return f"{fact.raw!r} ambiguous [{', '.join(_number(c) for c in fact.candidates)}]"
    return f"{fact.raw!r} ({fact.status})"


def score(case: Case) -> list[Scored]:
    """Every gold cell of `case` scored, then the facts for cells the gold says the report does not print."""
    facts = {(f.table, f.row, f.column): f for f in extract(case.path)}
    out = []
    for g in case.gold:
        fact = facts.get(g.key)
        out.append(Scored(case.path.name, case.fmt, case.group, g.key, g.raw, score_cell(g, fact),
                          _got(fact) if fact else "", g.unknowable, g.readings,
                          fact is not None and fact.status != "ambiguous"))
    printed = {g.key for g in case.gold}
    return out + [Scored(case.path.name, case.fmt, case.group, k, "", "extra", _got(f))
                  for k, f in facts.items() if k not in printed]


# ---------------------------------------------------------------- cases


def load_gold(paths: Iterable[Path] = GOLD) -> dict[str, list[GoldCell]]:
    """Gold cells by file (`reports/pingtan_2019.html`, `departments/txt-only/x.txt`)."""
    gold: dict[str, list[GoldCell]] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            g = json.loads(line)
            cell = GoldCell(g["file"], g["table"], g["row"], g["column"], g["raw"], g["value"],
                            g.get("unknowable", False), tuple(g.get("readings", ())))
            gold.setdefault(cell.file, []).append(cell)
    return gold


def file_format(path: Path) -> str:
    """The format a corpus file is scored under: text is `txt-flattened` where the crawler ran a row's cells
    together (its `.txt` beside an HTML/PDF/DOCX form, department pages), `txt-lines` where it kept one cell a
    line (the seed report in reports/)."""
    fmt = path.suffix.lstrip(".")
    if fmt != "txt":
        return fmt
    return "txt-lines" if path.parent.name == "reports" else "txt-flattened"


REPORT_SUFFIXES = (".html", ".pdf", ".docx", ".md", ".txt")


def report_files(corpus: Path = CORPUS) -> list[tuple[str, Path]]:
    """(folder, file) for every report file of the scored folders."""
    return [(folder, p) for folder in FOLDERS for p in sorted((corpus / folder).glob("*"))
            if p.suffix in REPORT_SUFFIXES and p.name != "README.md"]


def gold_for(gold: dict[str, list[GoldCell]], folder: str, path: Path) -> list[GoldCell]:
    """The gold of a file: its report's cells in the folder's gold folder, by file stem; [] when there is none."""
    where = FOLDERS[folder]
    return next((cells for name, cells in gold.items()
                 if Path(name).parent.as_posix() == where and Path(name).stem == path.stem), [])


def shared_cases(corpus: Path = CORPUS, gold: dict[str, list[GoldCell]] | None = None) -> list[Case]:
    """Every report file of the scored folders that has gold (a test checks that every one has)."""
    gold = load_gold() if gold is None else gold
    return [Case(path, file_format(path), folder, tuple(cells)) for folder, path in report_files(corpus)
            if (cells := gold_for(gold, folder, path))]


def spec_gold(spec: Spec, file: str, style: Style | None = None) -> list[GoldCell]:
    """The gold of a generated report: its printed cells (blank → no value; `/`, `-`, `无` → no value); rendered in
    `style`, a cell its print and the identities cannot tell is `unknowable` (tests/unknowable.py)."""
    lost = unknowable_cells(spec, style) if style is not None else set()
    return [GoldCell(file, t, r, c, raw, None if _blank(raw) else spec.numbers[(t, r, c)], (t, r, c) in lost)
            for (t, r, c), raw in spec.values.items()]


# Layout variants reportgen renders (the round-trip test's layouts), each scored as its own group: every way
# issue #12 lists that scraped text flattens a table, and combinations with line endings and split headers.
VARIANTS: dict[str, tuple[Format, Style]] = {
    "html": ("html", Style()),
    "html-chrome-split": ("html", Style(chrome=True, stacked=False)),
    "docx": ("docx", Style()),
    "docx-split": ("docx", Style(stacked=False)),
    "pdf": ("pdf", Style()),
    "md": ("md", Style()),
    "md-numbered": ("md", Style(numbered_headers=True)),
    "txt-lines": ("txt", Style(chrome=True)),
    "txt-padded": ("txt", Style(flatten="padded")),
    "txt-dropped": ("txt", Style(flatten="dropped")),
    "txt-traditional": ("txt", Style(traditional=True, junk=True)),
    "txt-runs": ("txt", Style(flatten="runs", endings="one-line", chrome=True)),
    "txt-runs-nbsp": ("txt", Style(flatten="runs", blank="\u00a0")),
    "txt-tab": ("txt", Style(flatten="tab")),
    "txt-spaces": ("txt", Style(flatten="spaces")),
    "txt-ideographic": ("txt", Style(flatten="ideographic")),
    "txt-pipe": ("txt", Style(flatten="pipe")),
    "txt-lines-cr": ("txt", Style(endings="cr", chrome=True)),
    "txt-padded-crlf-split": ("txt", Style(flatten="padded", endings="crlf", split_headers=True)),
    "txt-dropped-mixed-split": ("txt", Style(flatten="dropped", endings="mixed", split_headers=True)),
    "txt-runs-split": ("txt", Style(flatten="runs", split_headers=True, junk=True)),
    "txt-tab-one-line": ("txt", Style(flatten="tab", endings="one-line", chrome=True)),
    "txt-pipe-cr-split": ("txt", Style(flatten="pipe", endings="cr", split_headers=True)),
    "txt-ideographic-mixed": ("txt", Style(flatten="ideographic", endings="mixed", junk=True)),
    "txt-spaces-crlf-split": ("txt", Style(flatten="spaces", endings="crlf", split_headers=True, traditional=True)),
}
# Layouts scored as one cell a line (`txt-lines`); the others print a row a line or run it together.
_ONE_CELL_A_LINE = ("lines", "padded", "dropped")


def generated_specs() -> list[Spec]:
    """A few reports of both templates with noise: heavy, blank zeros, units and annotations."""
    return [random_spec(AGENCIES[20], 2020, seed=3, noise=Noise.heavy()),
            random_spec(AGENCIES[37], 2023, seed=4, noise=Noise.heavy()),
            random_spec(AGENCIES[55], 2019, seed=5, noise=Noise(blank_zeros=0.5)),
            random_spec(AGENCIES[90], 2022, seed=6, noise=Noise(units=True, annotations=True, blank_zeros=0.3))]


def generated_format(fmt: Format, style: Style) -> str:
    if fmt != "txt":
        return fmt
    return "txt-lines" if style.flatten in _ONE_CELL_A_LINE else "txt-flattened"


def generated(files: Sequence[tuple[Path, Sequence[GoldCell]]], variant: str, fmt: str) -> list[Case]:
    """The hook for generated layouts: (rendered file, its gold cells) pairs scored under `generated/<variant>`."""
    return [Case(path, fmt, f"generated/{variant}", tuple(cells)) for path, cells in files]


def scan_cases(folder: Path, corpus: Path = CORPUS, names: Sequence[str] | None = None) -> list[Case]:
    """Degraded scans of the shared reports (all, or the file `names`) written into `folder`, with the gold of
    the cells each prints; none when the corpus is absent."""
    from tests.scans import corpus_scans

    if not (corpus / "reports").is_dir():
        return []
    return generated(corpus_scans(corpus / "reports", load_gold(), folder, names), "scans", "scan")


def generated_cases(folder: Path, variants: dict[str, tuple[Format, Style]] = VARIANTS) -> list[Case]:
    """Render `generated_specs()` in every variant into `folder`, with their gold."""
    cases = []
    for variant, (fmt, style) in variants.items():
        if fmt == "pdf" and pdf_font() is None:
            continue
        files = []
        for spec in generated_specs():
            path = render(spec, fmt, folder / variant / f"{spec.template}_{spec.year}_{spec.seed}.{fmt}", style)
            files.append((path, spec_gold(spec, f"generated/{variant}/{path.name}", style)))
        cases += generated(files, variant, generated_format(fmt, style))
    return cases


# ---------------------------------------------------------------- running and reporting


@dataclass(frozen=True)
class Result:
    cells: tuple[Scored, ...]

    def tally(self, attr: str) -> dict[str, Tally]:
        """Counts by `fmt` or `group`."""
        out: dict[str, Tally] = {}
        for s in self.cells:
            out.setdefault(getattr(s, attr), Tally()).add(s)
        return out

    def of(self, outcome: Outcome) -> list[Scored]:
        return [s for s in self.cells if s.outcome == outcome]


def run(cases: Iterable[Case]) -> Result:
    return Result(tuple(s for case in cases for s in score(case)))


def _table(title: str, tallies: dict[str, Tally], targets: dict[str, float] | None = None) -> list[str]:
    head = (f"| {title} | cells | exact | flagged (of which unknowable) | missed | wrong (of which confident) "
            "| extra |")
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    lines = [head + " exact of the cells the print can tell |", rule + "---|"] if targets else [head, rule]
    for name, t in tallies.items():
        row = (f"| {name} | {t.cells} | {t.pct('exact'):.1f}% | {t.pct('flagged'):.1f}% "
               f"({100 * t.counts['unknowable'] / t.cells if t.cells else 0:.1f}%) | {t.pct('missed'):.1f}% "
               f"| {t.counts['wrong']} ({t.counts['confident']}) | {t.counts['extra']} |")
        if targets:
            target = targets.get(name)
            met = "" if target is None else f"{t.told:.1f}% (≥ {target:g}%: {'met' if t.told >= target else 'NOT met'})"
            row += f" {met} |"
        lines.append(row)
    return lines


def _listing(title: str, cells: Sequence[Scored]) -> list[str]:
    """Cells listed one line per printed row and extractor answer: a run-together row fails as a whole."""
    if not cells:
        return [f"{title}: none."]
    rows: dict[tuple[str, str, str, str], list[Scored]] = {}
    for s in cells:
        rows.setdefault((f"{s.group}/{s.file}", f"{s.key[0]}/{s.key[1]}", s.got, s.outcome), []).append(s)
    lines = [f"{title} ({len(cells)} cells):", "", "| file | table/row | columns | gold | got |",
             "|---|---|---|---|---|"]
    for (file, row, got, _), group in rows.items():
        gold = ", ".join("not printed" if s.outcome == "extra" else repr(s.gold_raw) if not s.unknowable
                         else f"unknowable {[_number(v) for v in s.readings if v is not None]}" for s in group)
        lines.append(f"| {file} | {row} | {', '.join(s.key[2] for s in group)} | {gold} | {got or '(no fact)'} |")
    return lines


def _ordered(tallies: dict[str, Tally], order: Sequence[str]) -> dict[str, Tally]:
    return {k: tallies[k] for k in sorted(tallies, key=lambda k: (order.index(k) if k in order else len(order), k))}


def section(real: Result, gen: Result) -> list[str]:
    """The BENCHMARKS.md section: a table per format, per folder, per generated variant; wrong, extra, missed."""
    formats = list(TARGETS)
    lines = ["## Cell accuracy (table extraction against gold)", "",
             "Every printed standard cell of the shared corpus (tests/gold/; alternative forms scored against their "
             "report's gold) and of reports rendered by tests/reportgen.py, scored by `python -m tests.cellbench`: "
             "exact = confident and right; flagged = ambiguous with the truth among the candidates (or the print "
             "cannot tell); missed = no fact; wrong = a confident wrong value, or candidates without the truth; "
             "extra = facts for cells the report does not print. Unknowable: gold cells the print cannot tell (the "
             "department gold's; for generated reports, cells whose print and sum identities allow another "
             "reading, tests/unknowable.py); the exact target counts the other cells.", ""]
    if real.cells:
        lines += ["Shared corpus, by format:", "", *_table("format", _ordered(real.tally("fmt"), formats), TARGETS),
                  "", "Shared corpus, by folder:", "", *_table("folder", _ordered(real.tally("group"), list(FOLDERS))),
                  ""]
    if gen.cells:
        lines += [f"Generated reports ({len(generated_specs())} per layout: 2019 and 2021 templates, noisy cells; "
                  "`scans`: every shared report scanned), by format:", "",
                  *_table("format", _ordered(gen.tally("fmt"), formats), TARGETS), "", "By layout variant:", "",
                  *_table("variant", gen.tally("group")), ""]
        scanned = Result(tuple(s for s in gen.cells if s.fmt == "scan"))
        if scanned.cells:
            lines += ["Scans (tests/scans.py: 150–300 dpi, tilted, one page of a longer report upside down, blurred, "
                      "grey paper, a red seal over a table, JPEG), by report:", "",
                      *_table("scan", scanned.tally("file")), ""]
    for outcome, title in (("wrong", "Wrong cells"), ("extra", "Facts for cells not printed (extra)"),
                           ("missed", "Missed cells")):
        lines += [*_listing(title, real.of(outcome) + gen.of(outcome)), ""]
    return lines[:-1]


def to_json(real: Result, gen: Result) -> dict:
    """Counts per format, folder and variant, and every scored cell that is not exact."""
    def summary(result: Result, attr: str) -> dict:
        return {k: {"cells": t.cells, **{o: t.counts[o] for o in (*OUTCOMES, "confident", "unknowable", "extra")}}
                for k, t in result.tally(attr).items()}

    return {"shared": {"by_format": summary(real, "fmt"), "by_folder": summary(real, "group")},
            "generated": {"by_format": summary(gen, "fmt"), "by_variant": summary(gen, "group"),
                          "scans_by_report": summary(Result(tuple(s for s in gen.cells if s.fmt == "scan")), "file")},
            "not_exact": [asdict(s) for s in (*real.cells, *gen.cells) if s.outcome != "exact"]}


def bench(corpus: Path = CORPUS, with_generated: bool = True, with_scans: bool = True) -> tuple[Result, Result]:
    """Score the shared corpus (when present) and, unless told not to, the generated layouts and the scans of the
    shared reports (OCR: about half a minute a report)."""
    real = run(shared_cases(corpus)) if corpus.is_dir() else Result(())
    if not with_generated:
        return real, Result(())
    with tempfile.TemporaryDirectory(prefix="reportqa-cellbench-") as tmp:
        scans = scan_cases(Path(tmp) / "scans", corpus) if with_scans else []
        return real, run([*generated_cases(Path(tmp)), *scans])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.cellbench", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the shared corpus root")
    parser.add_argument("--no-generated", action="store_true", help="score the shared corpus only")
    parser.add_argument("--no-scans", action="store_true", help="skip the scans of the shared reports (OCR)")
    parser.add_argument("--json", action="store_true", help="JSON: counts and every cell that is not exact")
    args = parser.parse_args(argv)
    real, gen = bench(args.corpus, not args.no_generated, not args.no_scans)
    if args.json:
        json.dump(to_json(real, gen), sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        print("\n".join(section(real, gen)))


if __name__ == "__main__":
    main()
