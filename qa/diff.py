"""Year-on-year diff of one agency (issue #15 part 3): cells that changed, indicators side by side, and the
sentences of 存在的主要问题及改进情况 set against each other.

`diff(store, agency, year1, year2)` compares the earlier report with the later one, whatever order the years
are given in: every cell printed in both with a different number (signed change, and the change as a percentage
of the earlier value), cells one template prints and the other does not, cells that cannot be compared (blank,
text, ambiguous); every indicator of qa/indicators.py for both years; and each sentence of the later report's
problems section, matched to the earlier report's most similar sentence by the store's embedding model: at
`CARRIED_OVER` cosine or more it is carried over, below it is new; earlier sentences nothing matches are dropped.

`CARRIED_OVER` was measured on the real consecutive-year pairs of ../shared/corpus (平潭 2019→2020 … 2023→2024,
洪泽 2023→2024; 41 later-year sentences, multilingual-e5-small): sentences restated the next year score 0.971–0.979
against their earlier form, while the closest sentences that are not restatements (same topic, new wording:
"丰富政策解读形式" against "持续认真贯彻《条例》") reach 0.951–0.962, and unrelated ones 0.89–0.94. A sentence
restated only in part, or split differently (0.931, 0.948), counts as new: the model's scores cannot tell those
from same-topic sentences.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ingest.errors import ReportQAError
from ingest.format import schema
from ingest.model import Fact
from ingest.normalize import fold
from ingest.store import Store
from qa import indicators
from qa.agencies import AgencyIndex
from qa.compose import _SENTENCE, _SUBHEAD
from qa.facts import fmt
from qa.model import IndicatorValue
from qa.render import display

CARRIED_OVER = 0.965
PROBLEMS = "problems"


@dataclass(frozen=True)
class CellChange:
    table: str
    row: str
    column: str
    label: str  # the cell as printed: table › row · column
    before: str | None  # the raw cell text; None when the report does not print the cell
    after: str | None
    change: float | None = None  # later − earlier, when both are numbers
    percent: float | None = None  # the change as a percentage of the earlier value (None when that is 0)
    status: str = "changed"  # changed | only_earlier | only_later | not_comparable


@dataclass(frozen=True)
class SentenceMatch:
    text: str  # a sentence of the later report (Simplified, as shown)
    match: str  # the earlier report's most similar sentence ("" when it has none)
    similarity: float
    carried: bool  # at CARRIED_OVER or above


@dataclass(frozen=True)
class IndicatorPair:
    key: str
    zh: str
    en: str
    earlier: IndicatorValue
    later: IndicatorValue

    @property
    def change(self) -> float | None:
        if self.earlier.value is None or self.later.value is None:
            return None
        return self.later.value - self.earlier.value


@dataclass(frozen=True)
class ReportDiff:
    agency: str
    earlier: int
    later: int
    cells: tuple[CellChange, ...]
    unchanged: int  # cells printed in both with the same number
    indicators: tuple[IndicatorPair, ...]
    sentences: tuple[SentenceMatch, ...]  # the later report's problems section, in order
    dropped: tuple[str, ...]  # sentences of the earlier one that no later sentence carries over
    threshold: float = CARRIED_OVER
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict:
        data = asdict(self)
        data["indicators"] = [
            {"key": p.key, "zh": p.zh, "en": p.en, "change": _round(p.change),
             **{side: _indicator_json(getattr(p, side)) for side in ("earlier", "later")}}
            for p in self.indicators
        ]
        for cell in data["cells"]:
            cell["change"], cell["percent"] = _round(cell["change"]), _round(cell["percent"])
        for s in data["sentences"]:
            s["similarity"] = round(s["similarity"], 4)
        return data

    def to_markdown(self) -> str:
        a, b = self.earlier, self.later
        lines = [f"# {self.agency}：{a}年 → {b}年", ""]
        lines += [f"## 变化的单元格 (changed cells)：{len(self.cells)} 个；相同 {self.unchanged} 个", ""]
        if self.cells:
            lines += [f"| 单元格 | {a} | {b} | 变化 | 变化% |", "|---|---|---|---|---|"]
            for c in self.cells:
                change = _signed(c.change) if c.change is not None else _STATUS[c.status]
                pct = f"{c.percent:+.1f}%" if c.percent is not None else "—"
                lines.append(f"| {c.label} | {_cell(c.before)} | {_cell(c.after)} | {change} | {pct} |")
        lines += ["", "## 指标对比 (indicators)", "", f"| 指标 | {a} | {b} | 变化（百分点） |", "|---|---|---|---|"]
        for p in self.indicators:
            change = f"{p.change:+.2f}" if p.change is not None else "—"
            lines.append(f"| {p.zh} ({p.en}) | {_value(p.earlier)} | {_value(p.later)} | {change} |")
        lines += ["", f"## 存在的主要问题及改进情况：新增与延续 (相似度 ≥ {self.threshold} 视为延续)", ""]
        if not self.sentences:
            lines.append(f"（{b}年报告中没有找到这一部分。）")
        for s in self.sentences:
            if s.carried:
                lines.append(f"- 延续 ({s.similarity:.3f})：{s.text}\n  - {a}年：{s.match}")
            else:
                lines.append(f"- **新增** ({s.similarity:.3f})：{s.text}")
        if self.dropped:
            lines += ["", f"{a}年有而{b}年未再提及：", *(f"- {t}" for t in self.dropped)]
        lines += [*(f"\n{n}" for n in self.notes)]
        return "\n".join(lines).rstrip() + "\n"


_STATUS = {"only_earlier": "仅前一年", "only_later": "仅后一年", "not_comparable": "无法比较", "changed": ""}


def _round(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else round(x, 4)


def _signed(x: float) -> str:
    return ("+" if x > 0 else "") + fmt(x)


def _cell(raw: str | None) -> str:
    if raw is None:
        return "（无此格）"
    return raw.strip() or "（空白）"


def _value(v: IndicatorValue) -> str:
    if v.value is None:
        return f"无法计算（{v.problem}: {v.cell}）"
    ind = indicators.indicator(v.key)
    return f"{'+' if ind.signed and v.value > 0 else ''}{v.value:.2f}%"


def _indicator_json(v: IndicatorValue) -> dict:
    return {"value": _round(v.value), "numerator": v.numerator, "denominator": v.denominator,
            "problem": v.problem, "cell": v.cell}


def resolve_agency(store: Store, text: str) -> str:
    """The stored agency `text` names, written as users write agencies (qa/agencies.py); ReportQAError otherwise,
    naming the candidates or the agencies there are."""
    agencies = store.agencies()
    if text in agencies:
        return text
    found = AgencyIndex(sorted(agencies)).match(fold(text))
    if len(found.agencies) == 1:
        return found.agencies[0]
    if found.candidates or len(found.agencies) > 1:
        raise ReportQAError(f"“{text}” could be any of: {'、'.join(found.candidates or found.agencies)}")
    raise ReportQAError(f"no reports of “{text}” in the store; agencies: {'、'.join(agencies) or '(none)'}")


def diff(store: Store, agency: str, year1: int, year2: int) -> ReportDiff:
    """The diff of `agency`'s reports of the two years (the earlier one is the base)."""
    earlier, later = sorted((year1, year2))
    before = store.facts(agency=agency, year=earlier)
    after = store.facts(agency=agency, year=later)
    cells, unchanged = _cells(before, after)
    previous = {y: store.facts(agency=agency, year=y - 1) or None for y in (earlier, later)}
    pairs = tuple(
        IndicatorPair(ind.key, ind.zh, ind.en,
                      indicators.compute(ind, before, previous[earlier], agency=agency, year=earlier),
                      indicators.compute(ind, after, previous[later], agency=agency, year=later))
        for ind in indicators.CATALOGUE
    )
    old = problem_sentences(store, f"{agency}:{earlier}")
    new = problem_sentences(store, f"{agency}:{later}")
    matches, dropped = match_sentences(store, old, new)
    return ReportDiff(agency, earlier, later, cells, unchanged, pairs, matches, dropped)


def _cells(before: list[Fact], after: list[Fact]) -> tuple[tuple[CellChange, ...], int]:
    old = {(f.table, f.row, f.column): f for f in before}
    new = {(f.table, f.row, f.column): f for f in after}
    order = [k for k in old] + [k for k in new if k not in old]
    out: list[CellChange] = []
    unchanged = 0
    for key in order:
        a, b = old.get(key), new.get(key)
        label = cell_label(*key)
        if a is None or b is None:
            status = "only_later" if a is None else "only_earlier"
            out.append(CellChange(*key, label, a.raw if a else None, b.raw if b else None, status=status))
            continue
        usable = a.status != "ambiguous" and b.status != "ambiguous"
        if usable and a.value is not None and b.value is not None:
            if a.value == b.value:
                unchanged += 1
                continue
            change = b.value - a.value
            percent = change / a.value * 100 if a.value else None
            out.append(CellChange(*key, label, a.raw, b.raw, change, percent))
        elif a.raw.strip() == b.raw.strip() and usable:
            unchanged += 1  # blank both years, or the same text
        else:
            out.append(CellChange(*key, label, a.raw, b.raw, status="not_comparable"))
    rank = {"changed": 0, "not_comparable": 1, "only_earlier": 2, "only_later": 3}
    return tuple(sorted(out, key=lambda c: rank[c.status])), unchanged


def cell_label(table: str, row: str, column: str) -> str:
    """Table 2's cells under their sub-table's title; Tables 3 and 4 as qa/indicators.py names their cells."""
    label = indicators.cell_label(table, row, column)
    spec = schema.table(table)
    return f"{spec.title} › {label}" if spec.section == "proactive" else label


def problem_sentences(store: Store, report_id: str) -> list[str]:
    """The sentences of a report's 存在的主要问题及改进情况 section, in order, each once (as shown: Simplified)."""
    out: list[str] = []
    for chunk in store.chunks([report_id]):
        if chunk.section_key != PROBLEMS:
            continue
        body = chunk.text.split("\n", 1)[1] if "\n" in chunk.text else chunk.text  # the first line is its heading
        for sentence in _SENTENCE.findall(body):
            text = display(sentence.strip())
            if len(text) >= 6 and not _SUBHEAD.match(text) and text not in out:
                out.append(text)
    return out


def match_sentences(store: Store, old: list[str], new: list[str],
                    threshold: float = CARRIED_OVER) -> tuple[tuple[SentenceMatch, ...], tuple[str, ...]]:
    """Each new sentence with its most similar old one (cosine of the store's embeddings) and whether it is carried
    over; the old sentences no new one carries over."""
    if not new:
        return (), tuple(old)
    if not old:
        return tuple(SentenceMatch(t, "", 0.0, False) for t in new), ()
    vectors = np.asarray(store.embeddings.embed_documents([*old, *new]), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    sims = vectors[len(old):] @ vectors[: len(old)].T
    matches = []
    kept: set[int] = set()
    for i, text in enumerate(new):
        j = int(np.argmax(sims[i]))
        carried = bool(sims[i, j] >= threshold)
        if carried:
            kept.add(j)
        matches.append(SentenceMatch(text, old[j], float(sims[i, j]), carried))
    return tuple(matches), tuple(t for j, t in enumerate(old) if j not in kept)
