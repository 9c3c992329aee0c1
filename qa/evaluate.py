"""Scoring the chatbot against a labelled question set, the same way a user's own set is scored.

Every question goes through an answerer's `answer(question, history)` (the chat's `qa.Engine`, or the
naive baseline in qa/baseline.py), so what is measured is what users get. Scores per question type
and overall: answer accuracy (numbers compared as decimals after unit/format normalization), citation
accuracy (schema keys of the cited cell, or the standard section), refusal precision/recall, retrieval
recall@5 and MRR for narrative questions, latency p50/p95; plus every failure with expected vs got.

A labelled set is JSONL, one question a line:
  {"id", "question", "type": "fact"|"compare"|"narrative"|"refusal", "agency", "year", "expected",
   "cite": {"table", "row", "column"} | {"section": key or [keys]} | [several, each may pin "year"/"agency"],
   "values": {label: value}, "history": [earlier questions] (follow-ups), "tags": {name: value}}
- fact: `expected` is the value; the answer must be a fact answer whose `value` equals it (a compare that
  happens to print the same number is wrong).
- compare: `expected` is the SIGNED difference; the answer must be a compare whose `value` equals it, sign included:
  later − earlier across years of one agency (whatever order the question names them in); across
  agencies the first named minus the second ("A 比 B 多多少", "A和B相差多少", "A vs B" = A − B), and
  "change from B to A" = A − B (the end minus the start). An `expected` ending in % is the signed relative
  change (`+12.5%`, `-7.2%`), to be printed in the answer with its sign to the same decimals.
- narrative: `expected` is a key phrase or number the answer must hold (may be empty).
- refusal: `expected` is empty; the answer must refuse.
`values` (any type) are quantities the answer must state, each as a number in its text, value or cited
cells: a compare's two compared values, or the several quantities one question asks for ("予以公开和不予公开
分别是多少": `values` with one entry each, `expected` empty, one `cite` target each). `tags` are free labels
for slicing scores (a metamorphic variant, a half); scoring ignores them.
Keys are ingest/format/schema.py's; sections are model.SECTION_TITLES keys.
"""

from __future__ import annotations

import json
import re
import statistics
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal, Protocol

from ingest.errors import ReportQAError
from ingest.format.schema import BY_KEY
from ingest.model import SECTION_TITLES
from ingest.normalize import norm, squash
from qa.model import Answer, Citation
from qa.text import language

ItemType = Literal["fact", "compare", "narrative", "refusal"]
ITEM_TYPES: tuple[ItemType, ...] = ("fact", "compare", "narrative", "refusal")
RANK_CUTOFF = 5  # recall@5: a narrative answer's first five citations are its retrieved passages

# A number as printed: optional sign, digits with optional thousands commas, optional decimals.
_NUMBER = re.compile(r"(?<![\d.])[+\-−]?\d+(?:,\d{3})*(?:\.\d+)?")
_PERCENT = re.compile(r"(?<![\d.])([+\-−]?\d+(?:\.\d+)?)\s*%")
# Content words of each standard section's heading, for citations whose section path is not in the store.
_SECTION_WORDS: dict[str, tuple[str, ...]] = {
    "overview": ("总体情况", "工作开展情况", "基本情况"),
    "proactive": ("主动公开",),
    "requests": ("收到和处理", "依申请"),
    "review": ("行政复议", "行政诉讼"),
    "problems": ("存在的", "问题", "改进", "下一步"),
    "other": ("其他需要报告",),
}


class EvalError(ReportQAError):
    """A labelled set that cannot be read: names the file, the line and the reason."""


class Answerer(Protocol):
    def answer(self, question: str, history: Sequence[str] = ()) -> Answer: ...


# -- the labelled set ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CiteTarget:
    """One thing a correct answer must cite: a standard cell (schema keys) or a standard section.

    `section` lists acceptable section keys (any one will do); `year`/`agency` pin the report when
    the question spans several (compare), else the item's own agency/year apply.
    """

    table: str = ""
    row: str = ""
    column: str = ""
    section: tuple[str, ...] = ()
    year: int | None = None
    agency: str | None = None

    @classmethod
    def from_json(cls, data: Mapping) -> CiteTarget:
        section = data.get("section") or ()
        return cls(
            table=data.get("table", ""), row=data.get("row", ""), column=data.get("column", ""),
            section=(section,) if isinstance(section, str) else tuple(section),
            year=data.get("year"), agency=data.get("agency"),
        )

    def to_json(self) -> dict:
        data: dict = {"table": self.table, "row": self.row, "column": self.column} if self.table else {}
        if self.section:
            data["section"] = self.section[0] if len(self.section) == 1 else list(self.section)
        if self.year is not None:
            data["year"] = self.year
        if self.agency:
            data["agency"] = self.agency
        return data


@dataclass(frozen=True)
class GoldItem:
    """One labelled question (one JSONL line)."""

    id: str
    question: str
    type: ItemType
    agency: str | None = None
    year: int | None = None
    expected: str = ""
    cite: tuple[CiteTarget, ...] = ()
    values: dict[str, str] = field(default_factory=dict)
    history: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping) -> GoldItem:
        if data.get("type") not in ITEM_TYPES:
            raise ValueError(f"type must be one of {', '.join(ITEM_TYPES)}, not {data.get('type')!r}")
        if not data.get("question"):
            raise ValueError("question is missing")
        if data["type"] in ("fact", "compare") and data.get("expected") in (None, "") and not data.get("values"):
            raise ValueError(f"a {data['type']} item needs `expected` or `values`")
        cite = data.get("cite") or ()
        targets = (cite,) if isinstance(cite, Mapping) else tuple(cite)
        for target in targets:
            if target.get("table") and target["table"] not in BY_KEY:
                raise ValueError(f"unknown table key {target['table']!r} (see ingest/format/schema.py)")
            sections = target.get("section") or ()
            for key in (sections,) if isinstance(sections, str) else sections:
                if key not in SECTION_TITLES:
                    raise ValueError(f"unknown section key {key!r} (one of {', '.join(SECTION_TITLES)})")
        return cls(
            id=str(data.get("id", "")), question=data["question"], type=data["type"], agency=data.get("agency"),
            year=data.get("year"), expected=str(data.get("expected", "")),
            cite=tuple(CiteTarget.from_json(t) for t in targets),
            values={str(k): str(v) for k, v in (data.get("values") or {}).items()},
            history=tuple(data.get("history") or ()),
            tags={str(k): str(v) for k, v in (data.get("tags") or {}).items()},
        )

    def to_json(self) -> dict:
        data: dict = {"id": self.id, "question": self.question, "type": self.type, "agency": self.agency,
                      "year": self.year, "expected": self.expected}
        cites = [t.to_json() for t in self.cite]
        data["cite"] = cites[0] if len(cites) == 1 else cites
        if self.values:
            data["values"] = self.values
        if self.history:
            data["history"] = list(self.history)
        if self.tags:
            data["tags"] = self.tags
        return data


def load_items(path: Path) -> list[GoldItem]:
    """Read a labelled JSONL file; a bad line raises EvalError naming the file, line and reason."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise EvalError(f"{path}: cannot read the labelled set ({err})") from err
    items = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            items.append(GoldItem.from_json(json.loads(line)))
        except (ValueError, TypeError, AttributeError) as err:
            raise EvalError(f"{path}:{number}: {err}") from err
    if not items:
        raise EvalError(f"{path}: no questions in the labelled set")
    return items


# -- comparing values ---------------------------------------------------------------------------


def numbers(text: str) -> list[Decimal]:
    """Every number printed in `text`, as exact decimals ("3件" → 3, "4,068.208万元" → 4068.208, "+12" → 12)."""
    found = []
    for match in _NUMBER.finditer(unicodedata.normalize("NFKC", text)):
        raw = match.group().replace(",", "").replace("−", "-").lstrip("+")
        try:
            found.append(Decimal(raw))
        except InvalidOperation:
            continue
    return found


def parse_number(text: str | None) -> Decimal | None:
    """The first number in `text`, or None; "3", "3件", "3.0" and "+3" all give 3."""
    found = numbers(text or "")
    return found[0] if found else None


def percentages(text: str) -> list[Decimal]:
    """Every percentage printed in `text`, signed as printed ("+12.5%" → 12.5, "（-7.2%）" → -7.2)."""
    return [Decimal(m.group(1).replace("−", "-").lstrip("+"))
            for m in _PERCENT.finditer(unicodedata.normalize("NFKC", text))]


def same_percent(expected: str, text: str) -> bool:
    """`text` prints the signed percentage `expected` ("-7.2%"), rounded to the decimals `expected` has."""
    want = parse_number(expected)
    if want is None:
        return False
    places = Decimal(1).scaleb(want.as_tuple().exponent)
    return any(have.quantize(places) == want for have in percentages(text))


def same_value(expected: str, got: str | None) -> bool:
    """Equal as decimals when `expected` is a number (万元 amounts keep every decimal); else equal text."""
    want = parse_number(expected)
    if want is None:
        return norm(expected) == norm(got or "")
    have = parse_number(got)
    return have is not None and have == want


def contains_phrase(text: str, phrase: str) -> bool:
    """A narrative answer holds the key phrase (a number is matched as a number, text after normalization)."""
    if not phrase:
        return True
    if re.fullmatch(r"\s*[+\-]?[\d,.]+\s*\S{0,3}\s*", phrase) and (want := parse_number(phrase)) is not None:
        return want in numbers(text)
    return squash(phrase) in squash(text)


# -- scoring one answer -------------------------------------------------------------------------


SectionOf = Callable[[Citation], str]


def heading_section_key(citation: Citation) -> str:
    """A citation's standard section: its table's section, else the content words of its top heading."""
    if citation.table_key in BY_KEY:
        return BY_KEY[citation.table_key].section
    path = [norm(part) for part in citation.section.split(" › ") if part.strip()]
    for part in path:
        for key, words in _SECTION_WORDS.items():
            if any(w in part for w in words):
                return key
    return ""


def store_section_key(store) -> SectionOf:
    """Section keys as the store's chunks recorded them (what the readers decided), headings as fallback."""
    known = {(c.report_id, c.section): c.section_key for c in store.chunks() if c.section_key}

    def section_of(citation: Citation) -> str:
        if citation.table_key in BY_KEY:
            return BY_KEY[citation.table_key].section
        return known.get((citation.report_id, citation.section)) or heading_section_key(citation)

    return section_of


def _same_agency(want: str | None, got: str) -> bool:
    return not want or squash(want) == squash(got)


def _cites(target: CiteTarget, item: GoldItem, citation: Citation, section_of: SectionOf) -> bool:
    year = target.year if target.year is not None else item.year
    agency = target.agency or item.agency
    if year is not None and citation.year != year:
        return False
    if not _same_agency(agency, citation.agency):
        return False
    if target.table:
        return (citation.table_key, citation.row_key, citation.column_key) == (target.table, target.row, target.column)
    return section_of(citation) in target.section


def _first_rank(item: GoldItem, citations: Sequence[Citation], section_of: SectionOf) -> int | None:
    for rank, citation in enumerate(citations, 1):
        if any(_cites(t, item, citation, section_of) for t in item.cite):
            return rank
    return None


def _states(item: GoldItem, answer: Answer) -> bool:
    """Every quantity of `values` is said: in the answer's text, its value or a cited cell."""
    said = numbers(" ".join([answer.answer, answer.value or "", *(c.cell for c in answer.citations)]))
    return all(parse_number(v) in said for v in item.values.values())


def _answer_ok(item: GoldItem, answer: Answer) -> bool:
    if item.type == "refusal":
        return answer.kind == "refusal"
    if answer.kind in ("refusal", "clarify") or not _states(item, answer):
        return False
    if item.type == "narrative":
        return contains_phrase(answer.answer, item.expected)
    if answer.kind != item.type:
        return False
    if not item.expected:
        return True
    if item.type == "compare" and item.expected.rstrip().endswith("%"):
        return same_percent(item.expected, " ".join([answer.answer, answer.value or ""]))
    return same_value(item.expected, answer.value)


@dataclass(frozen=True)
class Outcome:
    """One question's result for one answerer."""

    item: GoldItem
    answer: Answer
    answer_ok: bool
    cite_ok: bool
    rank: int | None  # first citation matching a cite target, 1-based
    latency_ms: float

    @property
    def ok(self) -> bool:
        return self.answer_ok and self.cite_ok

    @property
    def got(self) -> str:
        first = self.answer.citations[0] if self.answer.citations else None
        where = (
            f" citing {first.report_id} {first.table_key or first.section}"
            f"{'/' + first.row_key + '/' + first.column_key if first.table_key else ''}"
            if first else " (no citation)"
        )
        value = f"value={self.answer.value!r} " if self.answer.value is not None else ""
        text = " ".join(self.answer.answer.split())
        return f"{self.answer.kind}: {value}{text[:160]}{where}"


def score_answer(item: GoldItem, answer: Answer, section_of: SectionOf = heading_section_key,
                 latency_ms: float | None = None) -> Outcome:
    """Score one answer against its labelled item (usable on hand-made Answers)."""
    rank = _first_rank(item, answer.citations, section_of) if item.cite else None
    if item.type == "refusal":
        cite_ok = answer.kind == "refusal"
    else:
        cite_ok = all(
            any(_cites(t, item, c, section_of) for c in answer.citations) for t in item.cite
        ) and bool(answer.citations)
    return Outcome(item, answer, _answer_ok(item, answer), cite_ok, rank,
                   answer.latency_ms if latency_ms is None else latency_ms)


# -- aggregate scores ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """Scores of one group of outcomes (one question type, or all)."""

    n: int
    answer_accuracy: float
    citation_accuracy: float
    accuracy: float  # right answer and right citation
    refusal_precision: float | None  # of the answers that refused, how many should have
    refusal_recall: float | None  # of the questions that should be refused, how many were
    recall_at_5: float | None  # narrative: a matching passage among the first five citations
    mrr: float | None
    p50_ms: float
    p95_ms: float

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> Scores:
        n = len(outcomes)
        refused = [o for o in outcomes if o.answer.kind == "refusal"]
        should = [o for o in outcomes if o.item.type == "refusal"]
        ranked = [o for o in outcomes if o.item.type == "narrative"]
        latencies = [o.latency_ms for o in outcomes]
        return cls(
            n=n,
            answer_accuracy=_share(o.answer_ok for o in outcomes),
            citation_accuracy=_share(o.cite_ok for o in outcomes),
            accuracy=_share(o.ok for o in outcomes),
            refusal_precision=_share(o.item.type == "refusal" for o in refused) if refused else None,
            refusal_recall=_share(o.answer.kind == "refusal" for o in should) if should else None,
            recall_at_5=_share(o.rank is not None and o.rank <= RANK_CUTOFF for o in ranked) if ranked else None,
            mrr=statistics.fmean(1 / o.rank if o.rank else 0.0 for o in ranked) if ranked else None,
            p50_ms=percentile(latencies, 50),
            p95_ms=percentile(latencies, 95),
        )


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values): p95 of 20 latencies is the 19th smallest."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def group_scores(outcomes: Sequence[Outcome]) -> dict[str, Scores]:
    """Scores per question type present, then "overall"."""
    groups = {t: [o for o in outcomes if o.item.type == t] for t in ITEM_TYPES}
    scores = {t: Scores.of(group) for t, group in groups.items() if group}
    scores["overall"] = Scores.of(outcomes)
    return scores


# -- the report -----------------------------------------------------------------------------------


@dataclass
class EvalReport:
    """Outcomes of the engine (and optionally the baseline) on one labelled set."""

    outcomes: list[Outcome]
    baseline: list[Outcome] | None = None
    name: str = ""

    def scores(self, system: Literal["engine", "baseline"] = "engine") -> dict[str, Scores]:
        outcomes = self.outcomes if system == "engine" else (self.baseline or [])
        return group_scores(outcomes)

    def scores_by_language(self, system: Literal["engine", "baseline"] = "engine") -> dict[str, dict[str, Scores]]:
        outcomes = self.outcomes if system == "engine" else (self.baseline or [])
        return {
            lang: group_scores(group)
            for lang in ("zh", "en")
            if (group := [o for o in outcomes if language(o.item.question) == lang])
        }

    def failures(self, system: Literal["engine", "baseline"] = "engine") -> list[Outcome]:
        outcomes = self.outcomes if system == "engine" else (self.baseline or [])
        return [o for o in outcomes if not o.ok]

    def predictions(self) -> list[dict]:
        """One `reportqa ask --json` object per question, with the item id."""
        return [{"id": o.item.id, **o.answer.to_json()} for o in self.outcomes]

    def write_predictions(self, path: Path) -> None:
        with Path(path).open("w", encoding="utf-8") as out:
            for line in self.predictions():
                out.write(json.dumps(line, ensure_ascii=False) + "\n")

    def to_json(self) -> dict:
        data = {
            "name": self.name,
            "engine": {k: vars(v) for k, v in self.scores().items()},
            "failures": [_failure_json(o) for o in self.failures()],
        }
        if self.baseline is not None:
            data["baseline"] = {k: vars(v) for k, v in self.scores("baseline").items()}
        return data

    def to_markdown(self) -> str:
        title = f"# Evaluation{': ' + self.name if self.name else ''}"
        lines = [title, "", f"{len(self.outcomes)} questions.", ""]
        systems: list[Literal["engine", "baseline"]] = ["engine"] + (["baseline"] if self.baseline else [])
        lines += _scores_table(self, systems)
        lines += ["", "## By language (engine)", "", _HEADER, _RULE]
        for lang, by_type in self.scores_by_language().items():
            lines += [_row(f"{lang} {kind}", s) for kind, s in by_type.items()]
        failures = self.failures()
        lines += ["", f"## Failures (engine): {len(failures)}", ""]
        if failures:
            lines += ["| id | type | question | expected | got | wrong |", "|---|---|---|---|---|---|"]
            lines += [_failure_row(o) for o in failures]
        return "\n".join(lines) + "\n"


_HEADER = "| group | n | answer | citation | both | refusal P | refusal R | recall@5 | MRR | p50 ms | p95 ms |"
_RULE = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"


def _scores_table(report: EvalReport, systems: Sequence[Literal["engine", "baseline"]]) -> list[str]:
    if len(systems) == 1:
        return ["## Scores", "", _HEADER, _RULE, *(_row(kind, s) for kind, s in report.scores().items())]
    engine, naive = report.scores("engine"), report.scores("baseline")
    lines = [
        "## Scores: engine vs naive RAG baseline", "",
        "| group | n | answer | citation | both | refusal R | recall@5 | MRR | p50 ms | p95 ms |",
        "|---|---:|---|---|---|---|---|---|---|---|",
    ]
    for kind, e in engine.items():
        b = naive[kind]
        pairs = [(_pct(e.answer_accuracy), _pct(b.answer_accuracy)),
                 (_pct(e.citation_accuracy), _pct(b.citation_accuracy)), (_pct(e.accuracy), _pct(b.accuracy)),
                 (_pct(e.refusal_recall), _pct(b.refusal_recall)), (_pct(e.recall_at_5), _pct(b.recall_at_5)),
                 (_num(e.mrr, 3), _num(b.mrr, 3)), (_num(e.p50_ms, 0), _num(b.p50_ms, 0)),
                 (_num(e.p95_ms, 0), _num(b.p95_ms, 0))]
        lines.append(f"| {kind} | {e.n} | " + " | ".join(f"{x} / {y}" for x, y in pairs) + " |")
    lines += ["", "Each cell: engine / baseline."]
    return lines


def _num(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _row(label: str, s: Scores) -> str:
    return (f"| {label} | {s.n} | {_pct(s.answer_accuracy)} | {_pct(s.citation_accuracy)} | {_pct(s.accuracy)} "
            f"| {_pct(s.refusal_precision)} | {_pct(s.refusal_recall)} | {_pct(s.recall_at_5)} | {_num(s.mrr, 3)} "
            f"| {s.p50_ms:.0f} | {s.p95_ms:.0f} |")


def _expected_text(item: GoldItem) -> str:
    cites = "; ".join(
        f"{t.table}/{t.row}/{t.column}" if t.table else "section " + "|".join(t.section) for t in item.cite
    )
    want = "refusal" if item.type == "refusal" else repr(item.expected)
    if item.values:
        want += " stating " + ", ".join(f"{k}={v}" for k, v in item.values.items())
    return f"{want}{' citing ' + cites if cites else ''}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _failure_row(o: Outcome) -> str:
    wrong = ", ".join(w for w, bad in (("answer", not o.answer_ok), ("citation", not o.cite_ok)) if bad)
    return (f"| {o.item.id} | {o.item.type} | {_cell(o.item.question)} | {_cell(_expected_text(o.item))} "
            f"| {_cell(o.got)} | {wrong} |")


def _failure_json(o: Outcome) -> dict:
    return {"id": o.item.id, "type": o.item.type, "question": o.item.question, "expected": _expected_text(o.item),
            "got": o.got, "answer_ok": o.answer_ok, "cite_ok": o.cite_ok}


# -- running --------------------------------------------------------------------------------------


def run_items(answerer: Answerer, items: Sequence[GoldItem], section_of: SectionOf = heading_section_key,
              progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Ask every question (with its history) and score it; latency measured around the call."""
    outcomes = []
    for item in items:
        start = time.perf_counter()
        answer = answerer.answer(item.question, item.history)
        outcome = score_answer(item, answer, section_of, (time.perf_counter() - start) * 1000)
        outcomes.append(outcome)
        if progress:
            progress(outcome)
    return outcomes


def evaluate(engine: Answerer, items: Sequence[GoldItem], *, baseline: Answerer | None = None,
             section_of: SectionOf | None = None, name: str = "") -> EvalReport:
    """Run `items` through the engine (and the baseline, when given) and score both the same way.

    `section_of` maps a citation to its standard section key; by default the engine's store decides
    (`engine.store`), falling back to heading words.
    """
    if section_of is None:
        store = getattr(engine, "store", None)
        section_of = store_section_key(store) if store is not None else heading_section_key
    return EvalReport(
        outcomes=run_items(engine, items, section_of),
        baseline=run_items(baseline, items, section_of) if baseline is not None else None,
        name=name,
    )


def run_eval(path: Path, store, engine: Answerer, *, baseline: bool = False, out: Path | None = None) -> EvalReport:
    """`reportqa eval FILE [--baseline] [--out PREDS.jsonl]`: load, run, write predictions when asked."""
    items = load_items(path)
    naive = None
    if baseline:
        from qa.baseline import NaiveRAG

        naive = NaiveRAG(store)
    report = evaluate(engine, items, baseline=naive, section_of=store_section_key(store), name=Path(path).name)
    if out is not None:
        report.write_predictions(out)
    return report


__all__ = [
    "CiteTarget", "EvalError", "EvalReport", "GoldItem", "Outcome", "Scores", "contains_phrase", "evaluate",
    "load_items", "numbers", "parse_number", "percentages", "percentile", "run_eval", "same_percent", "same_value",
    "score_answer",
]
