"""Which table cell a question asks about: schema rows and columns matched by their words.

Every row and column of ingest/format/schema.py is an option described by the jieba tokens of its labels,
aliases and group label, and the English words of its `en` text. A question scores each table by the
best row plus the best column, tokens weighted by rarity (a word in every label says nothing). Group
labels without a row of their own (不予公开, 行政诉讼) become options that sum their members.
When no words match, the multilingual embedding model is the fallback, with a similarity floor so an
unrelated question is not forced onto a metric.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from langchain_core.embeddings import Embeddings

from ingest.format import schema
from ingest.format.schema import TABLES, Label, TableSpec
from ingest.normalize import bare_label, fold
from qa.text import en_tokens, zh_tokens

# Table 3's rows of requests received or carried (a breakdown of them is by applicant, not by outcome).
_INTAKE_ROWS = ("new", "carried_over", "carried_forward")
# A table's cell when the question names only its row (or only its column).
DEFAULT_COLUMN = {"rules": "in_force", "licensing": "decisions", "enforcement": "decisions", "fees": "amount",
                  "procurement": "projects", "requests": "total", "review": "review_total"}
DEFAULT_ROW = {"requests": "new", "review": "cases"}
_DEFAULTS = frozenset(DEFAULT_ROW.values())  # a default row wins a tie among rows the words fit as well
# A word in at most this many rows/columns can name one; commoner words (申请, 行政, 公开) only add weight.
_DISTINCTIVE_DF = 5
# ... or several commoner words together (withheld + process), weighing at least this much.
_ENOUGH_COMMON = 4.0
# Text a question quotes ("其他", “其他”, 「其他」) and what naming a label that way is worth.
_QUOTED = re.compile(r"[“\"「『']([^”\"」』']{1,30})[”\"」』']")
_QUOTED_BONUS = 10.0
# A word of a table's name in this many of its rows (and a third of them) names the table, not a row.
_REPEATED_TABLE_WORD = 3
# Words of table titles too common in questions to pick a table by.
_GENERIC_WORDS = ("政府 信息 政府信息 公开 情况 处理 行政 第二 十条 项 information disclosure administrative item "
                  "article format")
_GENERIC = frozenset(_GENERIC_WORDS.split()) | frozenset(en_tokens(_GENERIC_WORDS))
# English names of a column group's top label (行政诉讼): the schema's `en` names only its blocks.
_GROUP_EN = {"行政诉讼": ("lawsuit", "litigation", "sued")}
_GROUP_ZH = {"行政诉讼": ("起诉", "被诉", "诉讼")}
# How a yes-or-no question asks (有没有被起诉): its 没有 is no 没有现成信息.
_YES_NO = re.compile(r"有没有|是否|有无")
# … and of row groups: the verbs users say for an outcome ("how many were refused").
_ROW_GROUP_EN = {"不予公开": "refused denied rejected withheld", "不予处理": "not processed ignored"}
# The embedding fallback: multilingual-e5 puts every short question within 0.80-0.90 of every label, so
# what tells a real match is its lead over the next label. Measured on paraphrases ("how many fines were
# imposed": 0.862, lead 0.029) against unrelated questions (天气怎么样, 政务新媒体, 无人机: leads <= 0.010).
MIN_SIMILARITY = 0.85
MIN_MARGIN = 0.02
_NOISE_WORDS = "多少 几 个 件 年 年度 数量 情况 的 了 是 有 呢 吗 那 按 分 共 总共 一共 请问 多 少 哪些"
_NOISE_ZH = frozenset(_NOISE_WORDS.split())
# The bare verb users say for a label word (罚了多少次 → 处罚); jieba leaves it a single character.
_COLLOQUIAL = re.compile(r"(?<!处)罚(?!款)")
# English words that name the agency ("the Shuyang County government"), the subject ("government
# information") or the annual report itself ("did X report"), not a metric, as 政府信息 does in Chinese.
_NOISE_EN = frozenset({"government", "report", *en_tokens("information disclosure")})
# Phrases that name the report's subject, not a metric, in questions.
_SUBJECT = re.compile(r"政府信息公开|政务公开|信息公开|政府信息")


def _zh(text: str) -> set[str]:
    """Chinese words of two characters or more: single characters (新, 本, 总) name nothing alone."""
    return {t for t in zh_tokens(text) if len(t) > 1}


def _tokens(text: str) -> set[str]:
    text = _COLLOQUIAL.sub("处罚", _SUBJECT.sub(" ", _YES_NO.sub(" ", text)))
    return (_zh(text) - _NOISE_ZH) | (set(en_tokens(text)) - _NOISE_EN)


def _table_tokens(spec: TableSpec) -> set[str]:
    return _zh(fold(spec.title)) | set(en_tokens(spec.en))


@dataclass(frozen=True)
class Option:
    """A row or a column a question can name; a group option sums its `members`."""

    key: str
    label: str  # Simplified Chinese, as a citation shows it
    zh: frozenset[str]
    en: frozenset[str]
    phrases: tuple[str, ...]  # normalized printed forms, for an exact-phrase bonus
    members: tuple[str, ...] = ()
    leaves: tuple[frozenset[str], ...] = ()  # English words of each sense without its group ("other")
    parent: str = ""  # the group label it is printed under (其他处理 for 3.其他), bare
    parent_words: frozenset[str] = frozenset()  # the words of that label


@dataclass(frozen=True)
class Metric:
    table: str
    row: str
    column: str
    score: float
    rows: tuple[str, ...] = ()  # the cells to sum when the row or column is a group
    columns: tuple[str, ...] = ()
    label: str = ""
    row_named: bool = True  # the question names the row (not the table's default row)
    column_named: bool = True


@dataclass
class _TableOptions:
    spec: TableSpec
    rows: list[Option] = field(default_factory=list)
    columns: list[Option] = field(default_factory=list)
    words: frozenset[str] = frozenset()  # words of the table's name taken from its rows: they name the table


def _option(label: Label, *, in_block: bool = False) -> Option:
    texts = [label.label, *label.aliases]
    # A column in a block is also named by the block (复议后起诉 vs 未经复议直接起诉), with or without its
    # label; a group without a total of its own (不予公开, 法人或其他组织) is an option of its own.
    blocks = [b.strip() for b in label.parent.split("›")] if in_block else []
    forms = [*texts, *blocks, *(b + bare_label(label.label) for b in blocks)]
    phrases = tuple(dict.fromkeys(p for p in (bare_label(t) for t in forms) if len(p) >= 2))
    zh = {t for text in (*texts, label.parent.replace("›", " ")) for t in _zh(fold(text))}
    parent = bare_label(label.parent.split("›")[-1]) if label.parent else ""
    return Option(label.key, bare_label(label.label), frozenset(zh), frozenset(en_tokens(label.en)), phrases,
                  leaves=_leaves(label.en), parent=parent, parent_words=frozenset(_zh(parent) if parent else ()))


def _leaves(en: str) -> tuple[frozenset[str], ...]:
    """"other handling: other" → {other}; "number of items last year (2019 format)" → {item, last}."""
    senses = (re.sub(r"\(.*?\)", " ", sense).split(":")[-1] for sense in en.split(","))
    return tuple(leaf for leaf in (frozenset(en_tokens(s)) for s in senses) if leaf)


def _qualifiers(text: str) -> list[frozenset[str]]:
    """English words of each bracketed qualifier in a question: "penalties (item count of the previous year)"."""
    return [q for q in (frozenset(en_tokens(m)) for m in re.findall(r"\(([^()]*)\)", text)) if q]


def _group(key: str, label: str, members: Sequence[Option]) -> Option:
    """A group is named by the English words all its members share ("unable to provide"), not by any one
    member's words, so a question that qualifies the group ("(information would need to be created)")
    names the member; plus the verbs users say for it ("refused" for 不予公开)."""
    shared = frozenset.intersection(*(m.en for m in members)) | frozenset(en_tokens(_ROW_GROUP_EN.get(label, "")))
    return Option(key, label, frozenset(_zh(label)), shared, (label,), tuple(m.key for m in members))


def _options() -> list[_TableOptions]:
    tables = []
    table_df = Counter(t for spec in TABLES for t in set(en_tokens(spec.en)))
    for spec in TABLES:
        base_rows, words = _without_table_words(spec, [_option(r) for r in spec.rows], table_df)
        # A block prints its own total (行政复议 … 总计); a group (法人或其他组织) does not.
        blocks = {c.parent for c in spec.columns if c.parent and c.label == "总计"}
        base_columns = [_option(c, in_block=c.parent in blocks) for c in spec.columns]
        opts = _TableOptions(spec, list(base_rows), list(base_columns), words)
        row_labels = {bare_label(r.label) for r in spec.rows}
        for parent in dict.fromkeys(r.parent for r in spec.rows if r.parent):
            label = bare_label(parent)
            members = [o for o, r in zip(base_rows, spec.rows, strict=True) if r.parent == parent]
            if label not in row_labels and not parent.endswith("办理结果"):
                key = _common_prefix([m.key for m in members])
                opts.rows.append(_group(key, label, members))
        # Columns in blocks under one top-level parent (行政诉讼 › 未经复议直接起诉 / 复议后起诉):
        # the top-level name with an outcome sums the blocks (行政诉讼总计 = both blocks' totals).
        # Columns under a group label with no column of its own (法人或其他组织): the group sums them.
        column_parents = dict.fromkeys(c.parent for c in spec.columns if c.parent and " › " not in c.parent)
        for parent in column_parents:
            members = [o for o, c in zip(base_columns, spec.columns, strict=True) if c.parent == parent]
            if len(members) > 1 and parent not in {c.label for c in spec.columns}:
                opts.columns.append(_group(f"{spec.key}_{_common_prefix([m.key for m in members])}_group",
                                           bare_label(parent), members))
        tops: dict[tuple[str, str], list[Option]] = {}
        for option, column in zip(base_columns, spec.columns, strict=True):
            if " › " in column.parent:
                tops.setdefault((column.parent.split(" › ")[0], column.label), []).append(option)
        for (top, outcome), members in tops.items():
            if len(members) > 1:
                key = f"{_common_prefix([m.key for m in members])}_{members[0].key.rsplit('_', 1)[1]}"
                english = _GROUP_EN.get(top, ())
                phrases = (top + outcome, *english, *((top,) if members[0].key.endswith("total") else ()))
                opts.columns.append(Option(
                    key, f"{top} › {outcome}", frozenset(_zh(top + " " + outcome) | set(_GROUP_ZH.get(top, ()))),
                    frozenset({*english, *en_tokens(_outcome_en(spec, outcome))}), phrases,
                    tuple(m.key for m in members),
                ))
        tables.append(opts)
    return tables


def _without_table_words(spec: TableSpec, rows: list[Option], table_df: Counter[str]) -> tuple[list[Option],
                                                                                               frozenset[str]]:
    """Move from the rows to the table the words of its name (only its) that many rows repeat ("request"
    in "requests withheld: state secrets"): every question about the table says them, so they tell no row."""
    counts = Counter(t for row in rows for t in row.en)
    words = frozenset(t for t in en_tokens(spec.en)
                      if counts[t] >= _REPEATED_TABLE_WORD and 3 * counts[t] >= len(rows) and table_df[t] == 1)
    return [replace(row, en=row.en - words) for row in rows], words


def _outcome_en(spec: TableSpec, outcome: str) -> str:
    return next(c.en.split(":")[-1] for c in spec.columns if c.label == outcome)


def _common_prefix(keys: list[str]) -> str:
    parts = [k.split("_") for k in keys]
    common = []
    for words in zip(*parts, strict=False):
        if len(set(words)) > 1:
            break
        common.append(words[0])
    return "_".join(common) or keys[0]


def _said_whole(options: list[Option], text: str) -> set[str]:
    """The words of the options whose printed labels (three characters or more) `text` says whole."""
    return {t for o in options for p in o.phrases if len(p) >= 3 and p in text for t in _zh(p)}


class MetricMatcher:
    """Scores questions against every row and column of the standard tables; thread-safe."""

    def __init__(self, embeddings: Callable[[], Embeddings] | None = None) -> None:
        """`embeddings` returns the model when first needed, so the fact path never loads it."""
        self.tables = _options()
        options = [o for opts in self.tables for o in (*opts.rows, *opts.columns)]
        self._df = Counter(t for o in options for t in o.zh | o.en)
        self._weight = {t: math.log(1 + len(options) / n) for t, n in self._df.items()}
        table_df = Counter(t for opts in self.tables for t in _table_tokens(opts.spec))
        self._table_tokens = {
            opts.spec.key: frozenset(t for t in _table_tokens(opts.spec) if table_df[t] == 1) - _GENERIC
            for opts in self.tables
        }
        self._embeddings = embeddings
        self._vectors: np.ndarray | None = None
        self._vector_keys: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    def option(self, table: str, key: str, *, column: bool) -> Option | None:
        opts = next(o for o in self.tables if o.spec.key == table)
        return next((o for o in (opts.columns if column else opts.rows) if o.key == key), None)

    def match(self, text: str) -> Metric | None:
        """Best metric named by `text` (normalized, agency names and years removed), or None."""
        tokens = _tokens(text)
        best: tuple[tuple[float, bool], Metric] | None = None
        for opts in self.tables:
            spec = opts.spec
            table_score = (sum(self._weight.get(t, 2.0) for t in tokens & self._table_tokens[spec.key] - opts.words) / 2
                           + sum(self._weight.get(t, 2.0) for t in tokens & opts.words))
            row, column, score = self._best_pair(opts, tokens, text)
            if not (row or column or table_score):
                continue
            row_key = row.key if row else DEFAULT_ROW.get(spec.key, spec.rows[0].key)
            column_key = column.key if column else DEFAULT_COLUMN[spec.key]
            metric = replace(self._metric(spec.key, row_key, column_key, score + table_score),
                             row_named=row is not None, column_named=column is not None)
            # On a tie, a table whose row the words name wins over one named only by a column word ("fines" is a
            # row of 第二十条第（六）项, "issued" a column of 第二十条第（一）项).
            candidate = ((round(score + table_score, 6), row is not None), metric)
            if best is None or candidate[0] > best[0]:
                best = candidate
        return best[1] if best else None

    def _best_pair(self, opts: _TableOptions, tokens: set[str], text: str) -> tuple[Option | None, Option | None,
                                                                                     float]:
        """Best row and column together; a word serves one of them only (其他处理 is not 其他 + 处理), and the words
        of a label printed whole in the question belong to that label (法律 of 法律服务机构 names no row)."""
        in_rows, in_columns = _said_whole(opts.rows, text), _said_whole(opts.columns, text)
        row, row_score, used = self._best(opts.rows, tokens - in_columns, text)
        column, col_score, _ = self._best(opts.columns, tokens - used - in_rows, text)
        by_row = (row, column, row_score + col_score)
        column2, col_score2, used2 = self._best(opts.columns, tokens - in_rows, text)
        row2, row_score2, _ = self._best(opts.rows, tokens - used2 - in_columns, text)
        by_column = (row2, column2, row_score2 + col_score2)
        return by_row if by_row[2] >= by_column[2] else by_column

    def _best(self, options: list[Option], tokens: set[str], text: str) -> tuple[Option | None, float, set[str]]:
        """The option the words name best; it must share a distinctive word or a whole printed form."""
        best: tuple[tuple[float, bool, float, int], Option | None, set[str]] = ((0.0, False, 0.0, 0), None, set())
        qualifiers = _qualifiers(text)
        quoted = set(_QUOTED.findall(text))
        for i, option in enumerate(options):
            matched = tokens & (option.zh | option.en)
            phrases = [p for p in option.phrases if len(p) >= 3 and p in text]
            weight = sum(self._weight[t] for t in matched)
            # A bracketed qualifier that says exactly one sense of an option names it, however common
            # its words ("requests closed otherwise (other)" is 其他, not the longer 逾期不补正).
            named = next((leaf for leaf in option.leaves if leaf in qualifiers), frozenset())
            # So does its label quoted under its group (其他处理中“其他”), however short.
            exact = option.label in quoted and (not option.parent or option.parent in text)
            if not phrases and not named and not exact and weight < _ENOUGH_COMMON and not any(
                    self._df[t] <= _DISTINCTIVE_DF for t in matched):
                continue
            # Where a group's label is said whole, a member needs a distinctive word of its own ("因信息不存在而
            # 无法提供" is 无法提供, not 补正后申请内容仍不明确; "其他法人或组织" says no group label whole).
            if option.parent and option.parent in text and not phrases and not named and not exact and not any(
                    self._df[t] <= _DISTINCTIVE_DF for t in matched - option.parent_words):
                continue
            score = weight + len(phrases) + sum(self._weight.get(t, 0.0) for t in named) + _QUOTED_BONUS * exact
            # Ties go to a total or a table's default row (本年新收: 依申请公开了多少件), then to an option said, then
            # to one with fewer words of its own
            # (其他法人或组织 is 其他, not 商业企业 under the same parent), then to the one listed first.
            own = sum(self._weight[t] for t in option.zh | option.en)
            # A group whose label is not said loses a tie to a member (其他法人或组织 is 其他, not 法人或其他组织).
            said = not option.members or any(p in text for p in option.phrases)
            rank = (round(score, 6), option.key.endswith("total") or option.key in _DEFAULTS, said,
                    round(score / own, 6), -i)
            if rank > best[0]:
                best = (rank, option, matched)
        return best[1], best[0][0], best[2]

    def _metric(self, table: str, row: str, column: str, score: float) -> Metric:
        row_opt = self.option(table, row, column=False)
        col_opt = self.option(table, column, column=True)
        rows = row_opt.members if row_opt and row_opt.members else (row,)
        columns = col_opt.members if col_opt and col_opt.members else (column,)
        label = row_opt.label if row_opt else row
        return Metric(table, row, column, score, rows, columns, label)

    def label_words(self, metric: Metric, text: str) -> frozenset[str]:
        """The distinctive words of a metric's own row and column labels that `text` says."""
        options = (self.option(metric.table, metric.row, column=False),
                   self.option(metric.table, metric.column, column=True))
        own = {t for o in options if o for t in o.zh | o.en if self._df[t] <= _DISTINCTIVE_DF}
        return frozenset(_tokens(text) & own)

    def explained_words(self, metric: Metric, text: str) -> frozenset[str]:
        """The words of `text` that the metric's table title or its row and column labels use."""
        opts = next(o for o in self.tables if o.spec.key == metric.table)
        options = (self.option(metric.table, metric.row, column=False),
                   self.option(metric.table, metric.column, column=True))
        own = set(_table_tokens(opts.spec)).union(*(o.zh | o.en for o in options if o))
        return frozenset(_tokens(text) & own) - _GENERIC

    def phrases(self, metric: Metric) -> tuple[str, ...]:
        """The printed forms of the metric's row and column labels (本机关不掌握相关政府信息, 自然人)."""
        options = (self.option(metric.table, metric.row, column=False),
                   self.option(metric.table, metric.column, column=True))
        return tuple(p for o in options if o for p in o.phrases)

    def phrase_words(self, metric: Metric) -> frozenset[str]:
        """Every word of the metric's table title and row and column labels, said or not."""
        opts = next(o for o in self.tables if o.spec.key == metric.table)
        options = (self.option(metric.table, metric.row, column=False),
                   self.option(metric.table, metric.column, column=True))
        return frozenset(_table_tokens(opts.spec).union(*(o.zh | o.en for o in options if o)))

    def breakdown(self, metric: Metric) -> tuple[Metric, ...]:
        """The cells a question about a whole row or block means ("行政复议的结果如何", "how were the requests
        handled"): each outcome of a Table 4 block (or of both lawsuit blocks), each applicant column of a Table 3
        intake row, each outcome group of Table 3's handling; () for other tables."""
        if metric.table == schema.TABLE4.key:
            block = metric.column.rsplit("_", 1)[0]
            return tuple(self.with_column(metric, f"{block}_{outcome}") for outcome in schema.REVIEW_OUTCOMES
                         if self.option(metric.table, f"{block}_{outcome}", column=True))
        if metric.table != schema.TABLE3.key:
            return ()
        if metric.row in _INTAKE_ROWS:
            return tuple(self.with_column(metric, c.key) for c in schema.TABLE3.columns)
        opts = next(o for o in self.tables if o.spec.key == metric.table)
        outcomes = [o.key for o in opts.rows if o.members] + [r.key for r in schema.TABLE3.rows
                                                             if r.parent.endswith("办理结果")]
        order = [r.key for r in schema.TABLE3.rows]
        keys = sorted(outcomes, key=lambda k: order.index(self.option(metric.table, k, column=False).members[0]
                                                            if k not in order else k))
        return tuple(self._metric(metric.table, k, metric.column, metric.score) for k in keys)

    def with_column(self, metric: Metric, column: str) -> Metric:
        return self._metric(metric.table, metric.row, column, metric.score)

    def match_column(self, text: str, table: str) -> str | None:
        """A column of `table` named alone (按自然人分呢 → natural_person), for follow-ups."""
        opts = next(o for o in self.tables if o.spec.key == table)
        column, _, _ = self._best(opts.columns, _tokens(text), text)
        return column.key if column else None

    def match_by_embedding(self, text: str) -> Metric | None:
        """Closest row/column description by the embedding model, if above the similarity floor."""
        if self._embeddings is None or not text.strip():
            return None
        vectors = self._label_vectors()
        query = np.asarray(self._embeddings().embed_query(text), dtype=np.float32)
        sims = vectors @ (query / np.linalg.norm(query))
        order = np.argsort(-sims)
        best = int(order[0])
        runner_up = next((float(sims[i]) for i in order[1:] if self._vector_keys[i] != self._vector_keys[best]), 0.0)
        if sims[best] < MIN_SIMILARITY or sims[best] - runner_up < MIN_MARGIN:
            return None
        table, row, column = self._vector_keys[best]
        return self._metric(table, row, column, float(sims[best]))

    def _label_vectors(self) -> np.ndarray:
        with self._lock:
            if self._vectors is None:
                texts = []
                for opts in self.tables:
                    spec = opts.spec
                    for row in spec.rows:
                        self._vector_keys.append((spec.key, row.key, DEFAULT_COLUMN[spec.key]))
                        texts.append(f"{bare_label(row.label)} {row.en}")
                    if spec.key in DEFAULT_ROW:
                        for column in spec.columns:
                            self._vector_keys.append((spec.key, DEFAULT_ROW[spec.key], column.key))
                            texts.append(f"{column.parent} {column.label} {column.en}")
                vectors = np.asarray(self._embeddings().embed_documents(texts), dtype=np.float32)
                self._vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
            return self._vectors
