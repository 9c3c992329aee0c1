"""The metamorphic set: one gold cell asked many ways, every one of which must give that cell (issue #11).

For each agency of tests/data/agency_forms.jsonl (hand-written: the names users type), reports are rendered with
tests/reportgen.py and a sample of their gold cells (Tables 2, 3 and 4) is asked with the agency in every form —
full name, each Chinese short form, place only (governments and 管委会), each English form, a one-character
misprint — in Chinese and English, agency / year / metric first. Compares too: two years of one agency
(difference and percentage) and two agencies of one place (first named − second). Rows marked
`"printed": "misprint"` are the reverse case: their reports print the misprinted name, questions use the right one.

agency_forms.jsonl splits organ types into a dev and a holdout half: tune on dev, measure holdout.
agency_forms_holdout2.jsonl (half "holdout2") was written later by someone who had not read the engine's name
matching, before any holdout failure was looked at: 40 agencies of other places, levels and organs.

  python -m tests.metamorphic --half dev|holdout|holdout2|all --out FILE   write the set (eval format, with tags)
  python -m tests.metamorphic --run [--half …] [--home DIR]       render, ingest, ask qa.Engine, print accuracy
                                                                  per half × form × language, and consistency
Every item carries `tags`: half, form (full/zh/place/en/misprint), lang, order (agency/year/metric first),
op (value/years/percent/agencies), printed (name/misprint), fact (the variants of one fact share it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import cycle, groupby
from pathlib import Path
from typing import Literal

from qa.evaluate import CiteTarget, GoldItem, Outcome, Scores
from tests.golden import ROOT, en_metric, gold_value, pick, plain, zh_metric
from tests.reportgen import Spec, random_spec, render

FORMS = ROOT / "tests" / "data" / "agency_forms.jsonl"
FORMS_HOLDOUT2 = ROOT / "tests" / "data" / "agency_forms_holdout2.jsonl"
YEAR = 2023  # every agency's report; some agencies also have one of SECOND_YEARS
SECOND_YEARS = (2022, 2020)  # 2020: the 2019 trial template, so some compares cross templates
SEED = 11
Half = Literal["dev", "holdout", "holdout2"]
CellKey = tuple[str, str, str]

# Cells users compare (present in both templates).
_COMPARE_CELLS: tuple[CellKey, ...] = (
    ("requests", "new", "total"), ("enforcement", "penalty", "decisions"), ("licensing", "licensing", "decisions"),
    ("review", "cases", "review_total"), ("requests", "granted", "total"), ("enforcement", "coercion", "decisions"),
    ("rules", "normative_documents", "in_force"), ("requests", "carried_forward", "total"),
)
# Wordings of our own beside tests/golden.py's zh_metric / en_metric.
_ZH_WORDS: dict[CellKey, tuple[str, ...]] = {
    ("requests", "new", "total"): ("收到的政府信息公开申请", "新收的信息公开申请"),
    ("enforcement", "penalty", "decisions"): ("行政处罚决定", "作出的行政处罚"),
    ("enforcement", "coercion", "decisions"): ("行政强制决定",),
    ("licensing", "licensing", "decisions"): ("行政许可决定", "作出的行政许可"),
    ("review", "cases", "review_total"): ("政府信息公开行政复议案件", "被申请行政复议的案件"),
    ("requests", "granted", "total"): ("予以公开的申请",),
    ("requests", "carried_forward", "total"): ("结转下年度继续办理的申请",),
    ("rules", "normative_documents", "in_force"): ("现行有效的规范性文件",),
}
_EN_WORDS: dict[CellKey, tuple[str, ...]] = {
    ("requests", "new", "total"): ("information disclosure requests received", "new disclosure applications"),
    ("enforcement", "penalty", "decisions"): ("administrative penalty decisions", "penalties imposed"),
    ("enforcement", "coercion", "decisions"): ("administrative coercion decisions",),
    ("licensing", "licensing", "decisions"): ("administrative licensing decisions", "permits granted"),
    ("review", "cases", "review_total"): ("administrative reconsideration cases",),
    ("requests", "granted", "total"): ("requests granted in full",),
    ("requests", "carried_forward", "total"): ("requests carried forward to the next year",),
    ("rules", "normative_documents", "in_force"): ("normative documents in force",),
}
_ORDERS = ("agency", "year", "metric")
_VALUE: dict[str, dict[str, tuple[str, ...]]] = {
    "zh": {
        "agency": ("{agency}{year}年{metric}是多少？", "{agency}{year}年的{metric}有多少？"),
        "year": ("{year}年{agency}的{metric}是多少？", "{year}年，{agency}{metric}有多少？"),
        "metric": ("{metric}是多少？{agency}，{year}年", "请问{metric}有多少（{agency}{year}年）？"),
    },
    "en": {
        "agency": ("{agency}: how many {metric} in {year}?",
                   "For {agency}, what was the number of {metric} in {year}?"),
        "year": ("In {year}, how many {metric} did {agency} report?", "{year}: the number of {metric} of {agency}?"),
        "metric": ("Number of {metric} reported by {agency} for {year}?",
                   "How many {metric} were there at {agency} in {year}?"),
    },
}
_YEARS: dict[str, dict[str, str]] = {  # y1 earlier, y2 later: expected later − earlier
    "zh": {"agency": "{agency}{y2}年{metric}比{y1}年多多少？", "year": "{y1}年到{y2}年，{agency}的{metric}变化了多少？",
           "metric": "{metric}：{agency}{y2}年与{y1}年相比增减多少？"},
    "en": {"agency": "By how much did the number of {metric} of {agency} change from {y1} to {y2}?",
           "year": "From {y1} to {y2}, how did the number of {metric} of {agency} change?",
           "metric": "Change in {metric} for {agency}, {y1} to {y2}?"},
}
_PERCENT = {"zh": "{agency}{y2}年{metric}比{y1}年增长了百分之多少？",
            "en": "By what percentage did the number of {metric} of {agency} change from {y1} to {y2}?"}
_AGENCIES: dict[str, dict[str, str]] = {  # expected a − b (first named − second)
    "zh": {"agency": "{a}{year}年的{metric}比{b}多多少？", "year": "{year}年{a}和{b}的{metric}相差多少？",
           "metric": "{metric}，{year}年{a}比{b}多多少？"},
    "en": {"agency": "How many more {metric} did {a} report than {b} in {year}?",
           "year": "In {year}, what was the difference in {metric} between {a} and {b}?",
           "metric": "{metric} in {year}: {a} vs {b}?"},
}


@dataclass(frozen=True)
class AgencyForms:
    """One line of agency_forms.jsonl: an agency and the ways users write it."""

    name: str
    place: str
    zh: tuple[str, ...]
    place_only: tuple[str, ...]
    en: tuple[str, ...]
    misprint: str
    half: Half
    printed: Literal["name", "misprint"] = "name"  # "misprint": its reports print the misprinted name

    @classmethod
    def from_json(cls, data: dict) -> AgencyForms:
        return cls(name=data["name"], place=data["place"], zh=tuple(data["zh"]),
                   place_only=tuple(data.get("place_only") or ()), en=tuple(data["en"]), misprint=data["misprint"],
                   half=data["half"], printed=data.get("printed", "name"))

    @property
    def printed_name(self) -> str:
        """The name its reports print (and the store holds)."""
        return self.misprint if self.printed == "misprint" else self.name

    def forms(self) -> list[tuple[str, str]]:
        """(kind, text) for every way the name is written."""
        return [("full", self.name), *(("zh", f) for f in self.zh), *(("place", f) for f in self.place_only),
                *(("en", f) for f in self.en), ("misprint", self.misprint)]

    @property
    def years(self) -> tuple[int, ...]:
        """Its reports: YEAR for all, and for about half of the agencies an earlier year too (stable by name)."""
        digest = int(hashlib.sha1(self.name.encode()).hexdigest(), 16)
        return (SECOND_YEARS[digest // 2 % 2], YEAR) if digest % 2 == 0 else (YEAR,)


def load_forms(path: Path = FORMS, half: str = "all") -> list[AgencyForms]:
    """The agencies of `path` in `half` ("all": every one of that file)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    agencies = [AgencyForms.from_json(json.loads(line)) for line in lines if line.strip()]
    return [a for a in agencies if half in ("all", a.half)]


def spec_of(agency: AgencyForms, year: int) -> Spec:
    return random_spec(agency.printed_name, year, seed=SEED)


def render_reports(agencies: Iterable[AgencyForms], out_dir: Path) -> list[Path]:
    """Every report of `agencies` as HTML in `out_dir` (one file per agency and year)."""
    paths = []
    for agency in agencies:
        stem = hashlib.sha1(agency.name.encode()).hexdigest()[:10]
        paths += [render(spec_of(agency, y), "html", out_dir / f"m_{stem}_{y}.html") for y in agency.years]
    return paths


# -- the set ----------------------------------------------------------------------------------------


def _langs(kind: str) -> tuple[str, ...]:
    """English forms go into English questions; Chinese ones into both (people mix them)."""
    return ("en",) if kind == "en" else ("zh", "en")


def _metric(key: CellKey, lang: str, turn: int) -> str:
    words = (zh_metric(*key), *_ZH_WORDS.get(key, ())) if lang == "zh" else (en_metric(*key), *_EN_WORDS.get(key, ()))
    return words[turn % len(words)]


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] if text[:1].islower() else text


def _cite(key: CellKey, **pin) -> CiteTarget:
    return CiteTarget(table=key[0], row=key[1], column=key[2], **pin)


def _percent(earlier: str, later: str) -> str | None:
    a, b = Decimal(earlier), Decimal(later)
    if a == 0:
        return None
    change = ((b - a) / a * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{change:+}%"


class _Builder:
    def __init__(self, agencies: Sequence[AgencyForms]) -> None:
        self.agencies = agencies
        self.items: list[GoldItem] = []
        self.turn = 0  # rotates templates and metric wordings

    def add(self, question: str, owner: AgencyForms, tags: dict[str, str], **attrs) -> None:
        self.turn += 1
        tags = {"half": owner.half, "printed": owner.printed, **tags}
        self.items.append(GoldItem(id=f"meta-{len(self.items) + 1:05d}", question=_sentence(question), tags=tags,
                                   **attrs))

    def values(self, agency: AgencyForms) -> None:
        """Four cells (Table 2, a main and a detail row of Table 3, Table 4), each asked in every form."""
        spec = spec_of(agency, YEAR)
        gold = {k: v for k in spec.values if (v := gold_value(spec, k)) is not None}
        picked = pick(gold, random.Random(f"meta|{agency.name}"))
        for key in (picked[0], picked[3], picked[5], picked[6]):
            fact = f"{agency.printed_name}|{YEAR}|{'/'.join(key)}"
            for kind, text in agency.forms():
                for lang in _langs(kind):
                    order = _ORDERS[self.turn % 3]
                    template = _VALUE[lang][order][self.turn // 3 % 2]
                    question = template.format(agency=text, year=YEAR, metric=_metric(key, lang, self.turn))
                    self.add(question, agency, {"form": kind, "lang": lang, "order": order, "op": "value",
                                                "fact": fact},
                             type="fact", agency=agency.printed_name, year=YEAR, expected=gold[key],
                             cite=(_cite(key),))

    def years(self, agency: AgencyForms) -> None:
        if len(agency.years) < 2:
            return
        y1, y2 = agency.years
        early, late = spec_of(agency, y1), spec_of(agency, y2)
        keys = [k for k in _COMPARE_CELLS if gold_value(early, k) is not None and gold_value(late, k) is not None]
        keys.sort(key=lambda k: gold_value(early, k) == gold_value(late, k))  # a zero difference hides the sign
        cells = cycle(keys[:4])
        for kind, text in agency.forms():
            for lang in _langs(kind):
                key = next(cells)
                v1, v2 = gold_value(early, key), gold_value(late, key)
                order = _ORDERS[self.turn % 3]
                name = agency.printed_name
                common = {"type": "compare", "agency": name, "values": {str(y1): v1, str(y2): v2},
                          "cite": (_cite(key, year=y1, agency=name), _cite(key, year=y2, agency=name))}
                fact = f"{agency.printed_name}|{y1}-{y2}|{'/'.join(key)}"
                metric = _metric(key, lang, self.turn)
                self.add(_YEARS[lang][order].format(agency=text, y1=y1, y2=y2, metric=metric), agency,
                         {"form": kind, "lang": lang, "order": order, "op": "years", "fact": fact},
                         expected=plain(Decimal(v2) - Decimal(v1)), **common)
                if kind in ("full", "en") and (percent := _percent(v1, v2)):
                    self.add(_PERCENT[lang].format(agency=text, y1=y1, y2=y2, metric=metric), agency,
                             {"form": kind, "lang": lang, "order": "agency", "op": "percent", "fact": fact},
                             expected=percent, **common)

    def pairs(self) -> None:
        """Two agencies of one place, both ways round, each in the same kind of form."""
        by_place = defaultdict(list)
        for agency in self.agencies:
            by_place[agency.place].append(agency)
        for group in by_place.values():
            for a, b in ((a, b) for a in group for b in group if a is not b):
                self.pair(a, b)

    def pair(self, a: AgencyForms, b: AgencyForms) -> None:
        specs = spec_of(a, YEAR), spec_of(b, YEAR)
        keys = [k for k in _COMPARE_CELLS if all(gold_value(s, k) is not None for s in specs)]
        keys.sort(key=lambda k: gold_value(specs[0], k) == gold_value(specs[1], k))
        b_forms = dict(b.forms())  # one text per kind: b's kind, else its first Chinese short form
        for (kind, text), key in zip(dict(a.forms()).items(), cycle(keys[:3]), strict=False):
            other = b_forms.get(kind) or b.zh[0]
            va, vb = (gold_value(s, key) for s in specs)
            for lang in _langs(kind):
                order = _ORDERS[self.turn % 3]
                metric = _metric(key, lang, self.turn)
                question = _AGENCIES[lang][order].format(a=text, b=other, year=YEAR, metric=metric)
                self.add(question, a, {"form": kind, "lang": lang, "order": order, "op": "agencies",
                                       "fact": f"{a.printed_name}-{b.printed_name}|{YEAR}|{'/'.join(key)}"},
                         type="compare", year=YEAR, expected=plain(Decimal(va) - Decimal(vb)),
                         values={a.printed_name: va, b.printed_name: vb},
                         cite=(_cite(key, agency=a.printed_name), _cite(key, agency=b.printed_name)))


def build(agencies: Sequence[AgencyForms]) -> list[GoldItem]:
    """The metamorphic set over `agencies` (deterministic)."""
    builder = _Builder(agencies)
    for agency in agencies:
        builder.values(agency)
        builder.years(agency)
    builder.pairs()
    return builder.items


# -- scoring ----------------------------------------------------------------------------------------------


def _said(outcome: Outcome) -> tuple:
    """What one variant answered: its kind, value and first cited cell."""
    answer = outcome.answer
    first = answer.citations[0] if answer.citations else None
    where = (first.report_id, first.table_key, first.row_key, first.column_key) if first else None
    return answer.kind, answer.value, where


def consistency(outcomes: Sequence[Outcome]) -> tuple[float, float, int]:
    """Over the facts (variants sharing a `fact` tag): share answered alike by every variant, share right in
    every variant, number of facts."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[o.item.tags["fact"]].append(o)
    if not groups:
        return 0.0, 0.0, 0
    alike = sum(len({_said(o) for o in g}) == 1 for g in groups.values())
    right = sum(all(o.ok for o in g) for g in groups.values())
    return alike / len(groups), right / len(groups), len(groups)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _table(outcomes: Sequence[Outcome], rows: Sequence[str], columns: Sequence[str], title: str) -> list[str]:
    """Accuracy (right value and cell) with n, one row per value of tag `rows`, one column per tag `columns`."""

    def label(o: Outcome, tags: Sequence[str]) -> str:
        return " ".join(o.item.tags[t] for t in tags)

    col_values = sorted({label(o, columns) for o in outcomes})
    lines = [f"### {title}", "", f"| {' × '.join(rows)} | " + " | ".join(col_values) + " | all |",
             "|---|" + "---:|" * (len(col_values) + 1)]
    for row in sorted({label(o, rows) for o in outcomes}):
        mine = [o for o in outcomes if label(o, rows) == row]
        cells = []
        for col in [*col_values, None]:
            group = [o for o in mine if col is None or label(o, columns) == col]
            cells.append(f"{_pct(Scores.of(group).accuracy)} ({len(group)})" if group else "–")
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def summary(outcomes: Sequence[Outcome], failures: int = 30) -> str:
    """Markdown: accuracy per half × form × language, per half × operation, consistency, some failures."""
    lines = [f"## Metamorphic set: {len(outcomes)} questions", ""]
    lines += _table(outcomes, ("half", "form"), ("lang",), "Accuracy by half × agency form × language")
    lines += _table(outcomes, ("half", "op"), ("lang",), "Accuracy by half × operation × language")
    lines += _table(outcomes, ("half", "printed"), ("form",), "Reports printing a misprinted name (printed=misprint)")
    lines += ["### Consistency (value questions: all variants of one fact give the same answer and cell)", "",
              "| half | facts | alike | all right |", "|---|---:|---:|---:|"]
    values = [o for o in outcomes if o.item.tags["op"] == "value"]
    for half, group in groupby(sorted(values, key=lambda o: o.item.tags["half"]), key=lambda o: o.item.tags["half"]):
        alike, right, n = consistency(list(group))
        lines.append(f"| {half} | {n} | {_pct(alike)} | {_pct(right)} |")
    wrong = [o for o in outcomes if not o.ok]
    lines += ["", f"### Failures: {len(wrong)} (first {min(failures, len(wrong))})", ""]
    lines += [f"- `{o.item.id}` {o.item.tags['half']}/{o.item.tags['form']}/{o.item.tags['lang']}: "
              f"{o.item.question} — want {o.item.expected or o.item.values} at {o.item.agency}; got {o.got}"
              for o in wrong[:failures]]
    return "\n".join(lines) + "\n"


# -- running ----------------------------------------------------------------------------------------------


def build_store(agencies: Sequence[AgencyForms], home: Path):
    """Render the reports of `agencies` under `home` and ingest them into a store there (private home)."""
    from ingest.pipeline import ingest
    from ingest.settings import Settings
    from ingest.store import Store

    store = Store(Settings(home=home / "store"))
    results = ingest(render_reports(agencies, home / "reports"), store)
    failed = [r for r in results if r.status == "error"]
    if failed:
        raise RuntimeError(f"ingest failed: {failed}")
    return store


def run(agencies: Sequence[AgencyForms], home: Path) -> list[Outcome]:
    from qa import Engine
    from qa.evaluate import evaluate

    store = build_store(agencies, home)
    return evaluate(Engine(store), build(agencies), name="metamorphic").outcomes


def _write(items: Iterable[GoldItem], path: Path) -> Iterator[str]:
    with path.open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")
            yield item.id


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.metamorphic", description=__doc__.split("\n")[0])
    parser.add_argument("--half", choices=("dev", "holdout", "holdout2", "all"), default="all")
    parser.add_argument("--out", type=Path, help="write the set here (JSONL); with --run, the Markdown summary")
    parser.add_argument("--run", action="store_true", help="render, ingest, ask the engine, print the scores")
    parser.add_argument("--home", type=Path, help="store and rendered reports (default: a temporary folder); "
                        "reusing one skips unchanged reports")
    parser.add_argument("--failures", type=int, default=30, help="failures to list")
    args = parser.parse_args(argv)
    agencies = load_forms(FORMS_HOLDOUT2) if args.half == "holdout2" else load_forms(half=args.half)
    if not args.run:
        if not args.out:
            parser.error("give --out FILE to write the set, or --run")
        written = list(_write(build(agencies), args.out))
        print(f"wrote {args.out}: {len(written)} questions over {len(agencies)} agencies ({args.half})")
        return
    if args.home:
        text = summary(run(agencies, args.home), args.failures)
    else:
        with tempfile.TemporaryDirectory(prefix="reportqa-metamorphic-") as tmp:
            text = summary(run(agencies, Path(tmp)), args.failures)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
