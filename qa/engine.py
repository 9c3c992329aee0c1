"""The question-answering engine: understand → look up facts or retrieve passages → tagged events.

One Engine serves many threads (web users). What it derives from the store — the report list, the
agency alias index, the BM25 index — is rebuilt under a lock whenever `Store.generation()` changes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from langchain_core.language_models import BaseChatModel

from ingest.format.schema import BY_KEY
from ingest.normalize import bare_label
from ingest.store import ReportInfo, Store
from qa import compose
from qa.agencies import AgencyIndex
from qa.facts import Reading, citation, describe, fmt, read
from qa.metrics import MetricMatcher
from qa.model import Answer, AnswerEvent, AnswerKind, Query
from qa.retrieve import HybridRetriever
from qa.understand import understand


@dataclass(frozen=True)
class _Corpus:
    """What the engine derives from one generation of the store."""

    generation: int
    reports: tuple[ReportInfo, ...]
    index: AgencyIndex
    retriever: HybridRetriever

    def years(self, agency: str) -> list[int]:
        return sorted(r.year for r in self.reports if r.agency == agency)

    def has(self, agency: str, year: int) -> bool:
        return any(r.agency == agency and r.year == year for r in self.reports)


class Engine:
    """Answers questions over one store; thread-safe."""

    def __init__(self, store: Store, llm: BaseChatModel | None = None) -> None:
        self.store = store
        self.llm = llm
        self._lock = threading.Lock()
        self._corpus: _Corpus | None = None
        self._matcher: MetricMatcher | None = None

    # -- public ----------------------------------------------------------------------------------

    def answer_stream(self, question: str, history: Sequence[str] = (), *, agency: str | None = None,
                      year: int | None = None) -> Iterator[AnswerEvent]:
        """Answer `question` (after the earlier questions `history`) as a stream of tagged events."""
        corpus = self._current()
        query = understand(question, history, corpus.index, matcher=self._metric_matcher())
        yield from _Answering(self, corpus, query, agency, year).run()

    def answer(self, question: str, history: Sequence[str] = (), *, agency: str | None = None,
               year: int | None = None) -> Answer:
        """The whole answer at once (the CLI's and the evaluator's form)."""
        start = time.perf_counter()
        text: list[str] = []
        result = Answer(question=question, answer="", kind="refusal")
        for event in self.answer_stream(question, history, agency=agency, year=year):
            if event.channel == "text":
                text.append(event.text)
            elif event.channel == "kind":
                result.kind = event.text  # type: ignore[assignment]
            elif event.channel == "value":
                result.value = event.text
            elif event.channel == "citation" and event.citation:
                result.citations.append(event.citation)
            elif event.channel == "chart":
                result.chart = event.points
        result.answer = "".join(text)
        result.latency_ms = round((time.perf_counter() - start) * 1000, 1)
        return result

    # -- caches ----------------------------------------------------------------------------------

    def _current(self) -> _Corpus:
        generation = self.store.generation()
        corpus = self._corpus
        if corpus is not None and corpus.generation == generation:
            return corpus
        with self._lock:
            if self._corpus is None or self._corpus.generation != generation:
                reports = tuple(self.store.reports())
                self._corpus = _Corpus(generation, reports, AgencyIndex(sorted({r.agency for r in reports})),
                                       HybridRetriever(self.store))
            return self._corpus

    def _metric_matcher(self) -> MetricMatcher:
        with self._lock:
            if self._matcher is None:
                self._matcher = MetricMatcher(lambda: self.store.embeddings)
            return self._matcher


class _Answering:
    """One question being answered: the query, made concrete against the corpus, then rendered."""

    def __init__(self, engine: Engine, corpus: _Corpus, query: Query, agency: str | None, year: int | None):
        self.engine, self.corpus, self.zh = engine, corpus, query.language == "zh"
        self.query = _apply_filters(query, agency, year)
        self.filter_agency, self.filter_year = agency, year

    def run(self) -> Iterator[AnswerEvent]:
        q = self.query
        if not self.corpus.reports:
            return self._refuse("资料库中还没有报告。" if self.zh else "The corpus holds no reports yet.")
        if self.filter_agency and q.agencies and self.filter_agency not in q.agencies:
            return self._refuse(
                f"筛选条件限定为{self.filter_agency}，而问题问的是{'、'.join(q.agencies)}。" if self.zh else
                f"The agency filter is {self.filter_agency}, but the question asks about {', '.join(q.agencies)}.")
        if q.unknown_agency and not q.agencies:
            available = "、".join(sorted({r.agency for r in self.corpus.reports}))
            return self._refuse(
                f"资料库中没有“{q.unknown_agency}”的报告。现有机关：{available}。" if self.zh else
                f"The corpus has no report of \"{q.unknown_agency}\". Agencies available: {available}.")
        if q.candidates and not q.agencies:
            return self._clarify(q.candidates)
        if q.narrative or q.table is None:
            return self._narrative()
        return self._facts()

    # -- shared pieces ---------------------------------------------------------------------------

    def _emit(self, kind: AnswerKind, text: str, citations=(), value: str | None = None,
              chart: tuple[tuple[str, float], ...] = ()) -> Iterator[AnswerEvent]:
        yield AnswerEvent("kind", kind)
        if value is not None:
            yield AnswerEvent("value", value)
        yield AnswerEvent("text", text)
        for c in citations:
            yield AnswerEvent("citation", citation=c)
        if chart:
            yield AnswerEvent("chart", points=chart)

    def _refuse(self, text: str) -> Iterator[AnswerEvent]:
        return self._emit("refusal", text)

    def _clarify(self, candidates: Sequence[str]) -> Iterator[AnswerEvent]:
        names = "、".join(candidates) if self.zh else "; ".join(candidates)
        return self._emit("clarify", f"问题中的机关可能指：{names}。请说明是哪一个。" if self.zh else
                          f"The agency in the question could be any of: {names}. Which one do you mean?")

    def _years_for(self, agency: str) -> tuple[list[int], list[int]]:
        """(years to answer, years asked but absent) for one agency."""
        q = self.query
        have = self.corpus.years(agency)
        if not have:
            return [], list(q.years)
        asked = list(q.years) + [max(have) + o for o in q.year_offsets]
        if not asked:
            return (have if q.operation == "trend" else [max(have)]), []
        return [y for y in asked if y in have], [y for y in asked if y not in have]

    def _agencies(self) -> list[str]:
        q = self.query
        if q.agencies:
            return list(q.agencies)
        everyone = sorted({r.agency for r in self.corpus.reports})
        if q.years:
            return [a for a in everyone if any(self.corpus.has(a, y) for y in q.years)]
        return everyone

    # -- table answers ---------------------------------------------------------------------------

    def _facts(self) -> Iterator[AnswerEvent]:
        q = self.query
        agencies = self._agencies()
        if not agencies:
            years = "、".join(map(str, q.years))
            have = sorted({r.year for r in self.corpus.reports})
            listed = "、".join(map(str, have)) if self.zh else ", ".join(map(str, have))
            return self._refuse(f"资料库中没有 {years} 年的报告。现有年度：{listed}。" if self.zh else
                                f"The corpus has no report for {years}. Years available: {listed}.")
        if q.operation in ("rank", "total") and not q.agencies:
            return self._across(agencies)
        if len(agencies) > 1 and not q.agencies and q.operation != "compare":
            return self._each(agencies)
        readings: list[Reading] = []
        missing: list[str] = []
        defaulted = not q.years and not q.year_offsets and q.operation != "trend"
        for agency in agencies:
            years, absent = self._years_for(agency)
            if absent or not years:
                have = "、".join(map(str, self.corpus.years(agency)))
                asked = "、".join(map(str, absent))
                missing.append(f"资料库中没有{agency} {asked} 年的报告（现有：{have}）。" if self.zh else
                               f"The corpus has no {asked} report of {agency} (available: {have}).")
            readings += [read(self.engine.store, agency, y, q.table, q.rows or (q.row,), q.columns or (q.column,))
                         for y in years]
        if not readings:
            return self._refuse(" ".join(missing))
        absent_metric = [r for r in readings if not r.found]
        if len(absent_metric) == len(readings):
            return self._refuse(self._metric_missing(readings))
        if q.operation == "trend" or (q.operation == "compare" and len(readings) > 1):
            return self._series(readings, missing, absent_metric)
        return self._single(readings[0], missing, defaulted)

    def _single(self, reading: Reading, missing: list[str], defaulted: bool) -> Iterator[AnswerEvent]:
        label_zh, label_en = self._labels(reading)
        text = describe(reading, label_zh, label_en, self.zh)
        if defaulted:
            text = (f"（问题未指明年度，按{reading.agency}最新的 {reading.year} 年报告回答。）" if self.zh else
                    f"(No year given: using {reading.agency}'s latest report, {reading.year}.) ") + text
        text = " ".join([*missing, text]) if missing else text
        value = fmt(reading.value) if reading.value is not None else None
        return self._emit("fact", text, [citation(f) for f in reading.facts], value)

    def _series(self, readings: list[Reading], missing: list[str], absent: list[Reading]) -> Iterator[AnswerEvent]:
        q = self.query
        label_zh, label_en = self._labels(readings[0])
        by_agency = len({r.agency for r in readings}) > 1
        lines = [describe(r, label_zh, label_en, self.zh) for r in readings if r.found]
        lines += [self._metric_missing([r]) for r in absent]
        points = tuple((f"{r.agency} {r.year}" if by_agency else str(r.year), r.value)
                       for r in readings if r.value is not None)
        value = None
        kind: AnswerKind = "trend" if q.operation == "trend" else "compare"
        if kind == "compare" and len(points) == 2 and len(readings) == 2:
            (a_label, a), (b_label, b) = points
            diff = b - a
            pct = f"{diff / a * 100:+.1f}%" if a else ""
            value = fmt(diff)
            lines.append(f"{b_label} 比 {a_label} {'增加' if diff >= 0 else '减少'} {fmt(abs(diff))}"
                         f"{f'（{pct}）' if pct else ''}。" if self.zh else
                         f"{b_label} vs {a_label}: {fmt(diff):s}{f' ({pct})' if pct else ''}.")
        elif kind == "trend" and points:
            first, last = points[0], points[-1]
            lines.append(f"共 {len(points)} 个年度，{first[0]} 为 {fmt(first[1])}，{last[0]} 为 {fmt(last[1])}。"
                         if self.zh else f"{len(points)} years: {fmt(first[1])} in {first[0]}, "
                         f"{fmt(last[1])} in {last[0]}.")
        text = "\n".join([*missing, *lines])
        return self._emit(kind, text, [citation(f) for r in readings for f in r.facts], value, points)

    def _across(self, agencies: list[str]) -> Iterator[AnswerEvent]:
        """Ranking or total across agencies for one year (the asked one, else the latest in the corpus)."""
        q = self.query
        year = q.years[0] if q.years else max(r.year for r in self.corpus.reports)
        readings = [read(self.engine.store, a, year, q.table, q.rows or (q.row,), q.columns or (q.column,))
                    for a in agencies if self.corpus.has(a, year)]
        usable = sorted((r for r in readings if r.value is not None), key=lambda r: -(r.value or 0))
        if not usable:
            none = f"资料库中没有 {year} 年的报告。" if self.zh else f"No report for {year} in the corpus."
            return self._refuse(self._metric_missing(readings) if readings else none)
        label_zh, label_en = self._labels(usable[0])
        skipped = [r.agency for r in readings if r.value is None]
        if q.operation == "total":
            total = sum(r.value or 0 for r in usable)
            text = (f"{year}年，{len(usable)} 个机关的{label_zh}合计 {fmt(total)}。" if self.zh else
                    f"In {year}, {label_en} across {len(usable)} agencies total {fmt(total)}.")
            value = fmt(total)
        else:
            ranked = [f"{i + 1}. {r.agency}：{fmt(r.value or 0)}" for i, r in enumerate(usable)]
            title = f"{year}年{label_zh}排名：" if self.zh else f"{year} ranking by {label_en}:"
            text = "\n".join([title, *ranked])
            value = fmt(usable[0].value or 0)
        if skipped:
            text += (f"\n（无可用数值：{'、'.join(skipped)}）" if self.zh else
                     f"\n(No usable value: {', '.join(skipped)}.)")
        points = tuple((r.agency, r.value or 0.0) for r in usable)
        kind: AnswerKind = "rank"
        return self._emit(kind, text, [citation(f) for r in usable for f in r.facts], value, points)

    def _each(self, agencies: list[str]) -> Iterator[AnswerEvent]:
        """No agency named and several fit: give each one's value and ask which was meant."""
        q = self.query
        readings = []
        for agency in agencies:
            years, _ = self._years_for(agency)
            readings += [read(self.engine.store, agency, y, q.table, q.rows or (q.row,), q.columns or (q.column,))
                         for y in years[-1:]]
        found = [r for r in readings if r.found]
        if not found:
            return self._refuse(self._metric_missing(readings))
        label_zh, label_en = self._labels(found[0])
        lines = [describe(r, label_zh, label_en, self.zh) for r in found]
        intro = ("问题未指明机关，资料库中有多个机关的报告，分别为：" if self.zh else
                 "The question names no agency and several agencies' reports fit; for each:")
        outro = "请说明是哪一个机关。" if self.zh else "Which agency do you mean?"
        return self._emit("clarify", "\n".join([intro, *lines, outro]), [citation(f) for r in found for f in r.facts])

    def _labels(self, reading: Reading) -> tuple[str, str]:
        """How the metric is named in a sentence, in Chinese and in English."""
        q = self.query
        spec = BY_KEY[q.table or ""]
        row = next((r for r in spec.rows if r.key == q.row), None)
        column_key = reading.column or q.column
        column = next((c for c in spec.columns if c.key == column_key), None)
        matcher = self.engine._metric_matcher()
        row_zh = bare_label(row.label) if row else (
            opt.label if (opt := matcher.option(spec.key, q.row or "", column=False)) else "")
        row_en = row.en.split(",")[0] if row else row_zh
        if column is None:
            group = matcher.option(spec.key, q.column or "", column=True)
            col_zh = group.label.replace(" › ", "") if group else ""
            col_en = "lawsuits (both kinds), " + col_zh if group else ""
        else:
            col_zh = bare_label(column.label).removesuffix("(单位:万元)")
            col_zh = f"{column.parent.replace(' › ', '')}{col_zh}" if column.parent and spec.key == "review" else col_zh
            col_en = column.en
        if spec.key == "review":
            return f"{col_zh}的案件数", col_en
        if column_key == "decisions":
            return f"作出的{row_zh}决定", f"{row_en} (decisions made)"
        if spec.key == "requests" and column_key == "total":
            return row_zh, row_en
        return f"{row_zh}（{col_zh}）", f"{row_en} ({col_en})"

    def _metric_missing(self, readings: list[Reading]) -> str:
        label_zh, label_en = self._labels(readings[0]) if readings else ("", "")
        where = "、".join(f"{r.agency} {r.year}" for r in readings)
        return (f"{where} 年的报告中没有{label_zh}这一项。" if self.zh else
                f"The {where} report has no {label_en} cell.")

    # -- narrative answers -----------------------------------------------------------------------

    def _narrative(self) -> Iterator[AnswerEvent]:
        q = self.query
        report_ids = self._narrative_reports()
        if report_ids == []:
            return self._refuse(self._no_report_text())
        k = self.engine.store.settings.top_k
        hits = self.corpus.retriever.search(q.question, k=k, report_ids=report_ids)
        topic = compose.topic_section(q.question)
        if topic and report_ids:
            # The section a topic is reported in is read whole: ranking may miss it across languages.
            seen = {c.id for c, _ in hits}
            hits += [(c, 0.0) for c in self.corpus.retriever.section(topic, report_ids) if c.id not in seen]
        exclude = set()
        for agency in q.agencies:
            for name in (agency, *self.corpus.index.aliases_in(q.question, agency)):
                exclude |= compose.content_words(name)
        found = compose.extract(q.question, hits, exclude, q.quantity)
        missing = "; ".join(found.unmentioned)
        if not found.passages:
            return self._refuse(
                "报告中没有找到与该问题相关的内容（资料库不含此项信息）。" if self.zh else
                "Nothing in the reports answers this; the corpus does not hold that information."
                + (f" The reports never mention: {missing}." if missing else ""))
        return self._narrative_events(found.passages, missing)

    def _narrative_events(self, passages: list[compose.Passage], missing: str) -> Iterator[AnswerEvent]:
        yield AnswerEvent("kind", "narrative")
        if missing and not self.zh:
            yield AnswerEvent("text", f"(The reports never mention: {missing}.)\n")
        streamed = False
        if self.engine.llm is not None:
            try:
                for piece in compose.phrase_with_llm(self.engine.llm, self.query.question, passages, self.zh):
                    streamed = True
                    yield AnswerEvent("text", piece)
            except Exception:  # a failing LLM server must not lose the answer: fall back to the passages
                if streamed:
                    yield AnswerEvent("text", "\n")
        if not streamed:
            yield AnswerEvent("text", compose.extractive_text(passages, self.zh))
        for p in passages:
            yield AnswerEvent("citation", citation=compose.citation(p))

    def _narrative_reports(self) -> list[str] | None:
        """Reports a narrative question is restricted to; None for all; [] when none fits."""
        q = self.query
        if not q.agencies and not q.years and not q.year_offsets:
            return None
        ids = []
        for agency in q.agencies or sorted({r.agency for r in self.corpus.reports}):
            have = self.corpus.years(agency)
            if not have:
                continue
            asked = list(q.years) + [max(have) + o for o in q.year_offsets]
            years = [y for y in asked if y in have] if asked else ([max(have)] if q.agencies else have)
            ids += [f"{agency}:{y}" for y in years]
        return ids

    def _no_report_text(self) -> str:
        q = self.query
        parts = []
        for agency in q.agencies or sorted({r.agency for r in self.corpus.reports}):
            parts.append(f"{agency}：{'、'.join(map(str, self.corpus.years(agency)))}")
        asked = "、".join(map(str, q.years)) or "、".join(str(o) for o in q.year_offsets)
        return (f"资料库中没有 {asked} 年的相应报告。现有：{'；'.join(parts)}。" if self.zh else
                f"The corpus has no report for {asked}. Available: {'; '.join(parts)}.")


def _apply_filters(query: Query, agency: str | None, year: int | None) -> Query:
    """The UI's agency/year pickers restrict the question when it does not say otherwise."""
    if agency and not query.agencies:
        query = replace(query, agencies=(agency,), candidates=(), unknown_agency="")
    if year and not query.years and not query.year_offsets:
        query = replace(query, years=(year,))
    return query
