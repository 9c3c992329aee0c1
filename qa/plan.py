"""The planner: a `Query` made concrete against the corpus, as one typed `Result`.

Every decision about what the answer is lives here — which reports, which cells, which order a comparison
takes, when to refuse and when to ask back — and none about wording (qa/render.py phrases results). Numbers
are computed from the cells `qa.facts.read` returns; passages come from the hybrid retriever.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from ingest.normalize import fold
from ingest.store import ReportInfo, Store
from qa import audit, compose, glossary, indicators
from qa.agencies import AgencyIndex
from qa.facts import read
from qa.model import (
    AuditResult,
    Clarify,
    Comparison,
    FactResult,
    IndicatorResult,
    IndicatorValue,
    NarrativeResult,
    Query,
    Ranking,
    Reading,
    Refusal,
    Result,
    Series,
)
from qa.retrieve import HybridRetriever


@dataclass(frozen=True)
class Corpus:
    """What the engine derives from one generation of the store."""

    generation: int
    reports: tuple[ReportInfo, ...]
    index: AgencyIndex
    retriever: HybridRetriever

    @cached_property
    def _years(self) -> dict[str, list[int]]:
        """Agency → the years it has reports for: built once, so no question scans every report."""
        years: dict[str, list[int]] = {}
        for r in self.reports:
            years.setdefault(r.agency, []).append(r.year)
        return {agency: sorted(years[agency]) for agency in sorted(years)}

    @property
    def agencies(self) -> list[str]:
        return list(self._years)

    def years(self, agency: str) -> list[int]:
        return self._years.get(agency, [])

    def has(self, agency: str, year: int) -> bool:
        return year in self._years.get(agency, ())


def plan(query: Query, corpus: Corpus, store: Store, *, agency: str | None = None,
         year: int | None = None) -> Result:
    """The result that answers `query`; `agency`/`year` are the chat's filters."""
    return _Planner(query, corpus, store, agency).result(_apply_filters(query, agency, year))


def _apply_filters(query: Query, agency: str | None, year: int | None) -> Query:
    """The UI's agency/year pickers restrict the question when it does not say otherwise."""
    if agency and not query.agencies:
        query = replace(query, agencies=(agency,), candidates=(), unknown_agency="")
    if year and not query.years and not query.year_offsets:
        query = replace(query, years=(year,))
    return query


class _Planner:
    def __init__(self, query: Query, corpus: Corpus, store: Store, agency_filter: str | None) -> None:
        self.corpus, self.store, self.agency_filter = corpus, store, agency_filter
        self.asked_agencies = query.agencies

    def result(self, q: Query) -> Result:
        if not self.corpus.reports:
            return Refusal("empty")
        if self.agency_filter and self.asked_agencies and self.agency_filter not in self.asked_agencies:
            return Refusal("filter", asked="、".join(self.asked_agencies), available=(self.agency_filter,))
        if q.unknown_agency and not q.agencies:
            return Refusal("unknown_agency", asked=q.unknown_agency, available=tuple(self.corpus.agencies))
        if q.candidates and not q.agencies and q.operation not in ("rank", "total"):
            return Clarify(q.candidates)
        if q.audit:
            return self._audit(q)
        if q.unaccounted and not q.narrative and (q.asks or q.quantity):
            return self._unaccounted(q)
        if q.indicator:
            return self._indicator(q)
        if q.narrative or not q.asks:
            return self._narrative(q)
        return self._facts(q)

    # -- which reports -------------------------------------------------------------------------------------

    def _years_for(self, q: Query, agency: str) -> tuple[list[int], list[int]]:
        """(years to answer, years asked but absent) for one agency; no year asked means the latest report
        (every report for a trend)."""
        have = self.corpus.years(agency)
        if not have:
            return [], list(q.years)
        asked = list(q.years) + [max(have) + o for o in q.year_offsets]
        if not asked:
            return (have if q.operation == "trend" else [max(have)]), []
        return [y for y in asked if y in have], [y for y in asked if y not in have]

    def _report_ids(self, q: Query) -> list[str] | None:
        """Reports a question is restricted to; None for all; [] when none fits."""
        if not q.agencies and not q.years and not q.year_offsets:
            return None
        ids = []
        for agency in q.agencies or self.corpus.agencies:
            years, absent = self._years_for(q, agency)
            have = self.corpus.years(agency)
            years += [y - 1 for y in absent if q.ahead and y - 1 in have]  # plans for 2026: the 2025 report
            if not q.agencies and not q.years and not q.year_offsets:
                years = self.corpus.years(agency)
            ids += [f"{agency}:{y}" for y in years]
        return ids

    # -- words no cell explains ----------------------------------------------------------------------------

    def _unaccounted(self, q: Query) -> Result:
        """A question naming something no row or column holds: answered from a sentence that states it, else
        refused (never with the nearest cell)."""
        ids = self._report_ids(q)
        if ids == []:
            return self._no_report(q)
        text = self.corpus.retriever.text(ids)
        absent = [w for w in q.unaccounted if not any(fold(f) in text for f in _renderings(w))]
        if not absent:
            found = self._narrative(q, required=q.unaccounted)
            if isinstance(found, NarrativeResult) and (found.value or not q.quantity):
                return found
        return Refusal("not_held", asked="; ".join(_said(w) for w in absent or q.unaccounted), available=_HELD)

    # -- table answers -------------------------------------------------------------------------------------

    def _facts(self, q: Query) -> Result:
        agencies = list(q.agencies) or [a for a in self.corpus.agencies
                                        if not q.years or any(self.corpus.has(a, y) for y in q.years)]
        if not agencies:
            return self._no_report(q)
        if q.operation in ("rank", "total") and not q.agencies:
            return self._across(q, q.candidates or agencies)  # "which Pingtan department": those of Pingtan
        if len(agencies) > 1 and not q.agencies and q.operation != "compare":
            return self._each(q, agencies)
        ask = q.asks[0]
        readings: list[Reading] = []
        for agency in agencies:
            years, absent = self._years_for(q, agency)
            if absent or not years:
                return Refusal("no_report", asked=f"{agency} {'、'.join(map(str, absent))}",
                               available=tuple(map(str, self.corpus.years(agency))))
            readings += [read(self.store, agency, y, ask) for y in years]
        if not any(r.found for r in readings):
            return Refusal("no_cell", readings=tuple(readings))
        if q.operation == "compare" and len(readings) == 2:
            return Comparison(readings[0], readings[1])
        if q.operation in ("trend", "compare") and len(readings) > 1:
            return Series(tuple(readings))
        first = readings[0]
        many = tuple(read(self.store, first.agency, first.year, a) for a in q.asks[1:])
        return FactResult((first, *many), defaulted_year=not q.years and not q.year_offsets)

    def _across(self, q: Query, agencies: Sequence[str]) -> Result:
        """Ranking or total across agencies for one year (the asked one, else the latest in the corpus)."""
        year = q.years[0] if q.years else max(r.year for r in self.corpus.reports)
        readings = [read(self.store, a, year, q.asks[0]) for a in agencies if self.corpus.has(a, year)]
        usable = sorted((r for r in readings if r.value is not None), key=lambda r: -(r.value or 0))
        if not usable:
            return Refusal("no_cell", readings=tuple(readings)) if readings else Refusal(
                "no_report", asked=str(year), available=tuple(map(str, self._all_years())))
        skipped = tuple(r.agency for r in readings if r.value is None)
        return Ranking(year, tuple(usable), skipped, total=q.operation == "total")

    def _each(self, q: Query, agencies: Sequence[str]) -> Result:
        """No agency named and several fit: each one's latest value, and a question back."""
        readings = []
        for agency in agencies:
            years, _ = self._years_for(q, agency)
            readings += [read(self.store, agency, y, q.asks[0]) for y in years[-1:]]
        found = tuple(r for r in readings if r.found)
        if not found:
            return Refusal("no_cell", readings=tuple(readings))
        return Clarify(tuple(agencies), found)

    def _no_report(self, q: Query) -> Refusal:
        asked = "、".join(map(str, q.years)) or "、".join(str(o) for o in q.year_offsets)
        if q.agencies:
            available = tuple(f"{a}：{'、'.join(map(str, self.corpus.years(a)))}" for a in q.agencies)
            return Refusal("no_report", asked=f"{'、'.join(q.agencies)} {asked}", available=available)
        return Refusal("no_report", asked=asked, available=tuple(map(str, self._all_years())))

    def _all_years(self) -> list[int]:
        return sorted({r.year for r in self.corpus.reports})

    # -- indicators computed from cells (qa/indicators.py) --------------------------------------------------

    def _indicator(self, q: Query) -> Result:
        """One indicator for the reports asked; ranked across agencies for 最高 / lowest; the agencies of the year
        (or each one's latest report) when none is named."""
        if q.operation in ("rank", "total") and not q.agencies:
            agencies = q.candidates or self.corpus.agencies
            year = q.years[0] if q.years else max(r.year for r in self.corpus.reports) + min(q.year_offsets, default=0)
            values = [self._indicator_value(q.indicator, a, year) for a in agencies if self.corpus.has(a, year)]
            if not values:
                return Refusal("no_report", asked=str(year), available=tuple(map(str, self._all_years())))
            ranked = sorted((v for v in values if v.computable), key=lambda v: v.value or 0.0, reverse=not q.lowest)
            # the agencies a vague name fits (上海哪个部门) are each accounted for, those without that year's report too
            absent = [IndicatorValue(q.indicator, a, year, None, problem="no_report", cell=f"{a} {year}")
                      for a in q.candidates if not self.corpus.has(a, year)]
            return IndicatorResult(tuple(ranked), ranking=True, lowest=q.lowest, year=year,
                                   skipped=(*(v for v in values if not v.computable), *absent),
                                   defaulted_year=not q.years and not q.year_offsets)
        values: list[IndicatorValue] = []
        for agency in q.agencies or self.corpus.agencies:
            years, absent = self._years_for(q, agency)
            if q.agencies and (absent or not years):
                return Refusal("no_report", asked=f"{agency} {'、'.join(map(str, absent))}",
                               available=tuple(map(str, self.corpus.years(agency))))
            values += [self._indicator_value(q.indicator, agency, y) for y in sorted(years)]
        if not values:
            return self._no_report(q)
        return IndicatorResult(tuple(values), defaulted_year=not q.years and not q.year_offsets)

    def _indicator_value(self, key: str, agency: str, year: int) -> IndicatorValue:
        ind = indicators.indicator(key)
        previous = None
        if ind.years_back and self.corpus.has(agency, year - ind.years_back):
            previous = self.store.facts(agency=agency, year=year - ind.years_back)
        return indicators.compute(ind, self.store.facts(agency=agency, year=year), previous, agency=agency, year=year)
    # -- audit ----------------------------------------------------------------------------------------------

    def _audit(self, q: Query) -> Result:
        """Whether one report contradicts itself: its audit's findings (the latest report when no year is asked)."""
        agencies = list(q.agencies)
        if len(agencies) != 1:
            return Clarify(tuple(agencies) or tuple(self.corpus.agencies))
        years, absent = self._years_for(q, agencies[0])
        if absent or not years:
            return self._no_report(q)
        found = audit.audit(self.store, f"{agencies[0]}:{years[0]}")
        order = {"error": 0, "warning": 1, "info": 2}
        findings = tuple(sorted(found, key=lambda f: (audit.KINDS.index(f.kind), order[f.severity])))
        return AuditResult(agencies[0], years[0], findings, defaulted_year=not q.years and not q.year_offsets)

    # -- narrative answers ---------------------------------------------------------------------------------

    def _narrative(self, q: Query, required: Sequence[str] = ()) -> Result:
        report_ids = self._report_ids(q)
        if report_ids == []:
            return self._no_report(q)
        retriever = self.corpus.retriever
        hits = retriever.search(q.question, k=self.store.settings.top_k, report_ids=report_ids)
        for key in q.topic if report_ids else ():
            # The sections a topic is reported in are read whole: ranking may miss them across languages.
            seen = {c.id for c, _ in hits}
            hits += [(c, 0.0) for c in retriever.section(key, report_ids) if c.id not in seen]
        if required:
            seen = {c.id for c, _ in hits}
            forms = tuple(fold(f) for w in required for f in _renderings(w))
            hits += [(c, 0.0) for c in retriever.containing([forms], report_ids) if c.id not in seen]
        found = compose.extract(q, hits, required)
        if not found.passages:
            return Refusal("nothing_relevant", asked="; ".join(found.unmentioned))
        return found


# What every report holds, for refusals that say what to ask instead.
_HELD = ("主动公开（第二十条表）", "收到和处理政府信息公开申请", "行政复议和行政诉讼", "总体情况",
         "存在的主要问题及改进情况", "其他需要报告的事项")


def _said(word: str) -> str:
    """A question word as a refusal names it: an English word with the Chinese it was looked for as."""
    forms = glossary.chinese_for(word)
    return f"{word} ({'/'.join(forms)})" if forms else word


def _renderings(word: str) -> tuple[str, ...]:
    """How a question word can be printed in a report: itself (Chinese), its glossary renderings (English)."""
    return glossary.chinese_for(word) or (word,)
