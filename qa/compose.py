"""Narrative answers: the most relevant sentences of the retrieved passages, each cited by section.

Extractive by default, so every sentence shown is printed in a report. With a chat model the
sentences may be rephrased, from those passages only, while the citations stay the extracted ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from ingest.model import Chunk
from ingest.normalize import fold
from qa import glossary
from qa.model import NarrativeResult, Passage, Query
from qa.text import en_tokens, zh_tokens

_SENTENCE = re.compile(r"[^。；！？!?\n]+[。；！？!?]?")
# Words every report uses; they say nothing about which sentence answers a question.
_COMMON_WORDS = (
    "政府 信息 公开 政府信息 工作 情况 年度 报告 本 年 我 厅 局 委 区 县 市 进一步 加强 有关 相关 什么 哪些 如何 怎么 "
    "怎样 多少 主要 的 了 是 在 和 与 及 等 有 呢 吗 那 report agency government information disclosure work year "
    "what which how did does"
)
_COMMON = frozenset(_COMMON_WORDS.split())
# Questions about these topics look first in the sections that report them (report-format.md): how much was
# published proactively is told in 总体情况 and again under 主动公开政府信息情况.
_TOPIC_SECTIONS = (
    (re.compile(r"问题|不足|改进|整改|计划|下一步|今后|problem|shortcoming|improv|weakness|plan|next year"),
     ("problems",)),
    (re.compile(r"处理费|收费|fee|charge"), ("other",)),
    (re.compile(r"主动公开|公开了?多少条|proactive|publish"), ("overview", "proactive")),
    (re.compile(r"平台|网站|新媒体|公众号|培训|组织|领导|platform|website|media|training|overall|总体"), ("overview",)),
)
MAX_SENTENCES = 3
_DIGIT = re.compile(r"\d")
# A sub-heading alone on its line ("（一）存在的主要问题") is a label, not an answer.
_SUBHEAD = re.compile(r"^[（(][一二三四五六七八九十]+[)）][^。；，,]{0,12}$")
# A number a sentence states, with its unit: 1312篇, 139.7万, 99.21%, 800元.
# A code is no quantity: no leading zero (0861 of a phone number), no digits joined by "-" (0861-3095520).
_STATED = re.compile(r"(?<![\d.\-])(?:0|[1-9]\d*)(?:,\d{3})*(?:\.\d+)?(?![\d\-])(?:万|亿)?"
                     r"(?:%|元|条|篇|件|个|次|人次|批次|项|期|场|家|份|人)?")
_DATE_AFTER = re.compile(r"\s*(?:年|月|日|号)")
# The measure word a question asks in (多少条, 几个, how many … items is no help: English has none).
_ASKED_UNIT = re.compile(r"(?:多少|几)(批次|人次|万元|元|条|篇|个|件|次|场|项|人|期|家|份)")
_UNIT_BONUS = 1.5
# A clause that says there was none of what was asked (未收取, 没有发生, 无): its answer is zero.
_NONE = re.compile(r"未|没有|无|零")


def content_words(text: str) -> set[str]:
    """The words of a question that a relevant sentence should share (no agency/report boilerplate)."""
    norm = fold(text)
    return {t for t in (*zh_tokens(norm), *en_tokens(norm)) if t not in _COMMON and len(t) > 1}


def topic_sections(question: str) -> tuple[str, ...]:
    """The standard sections a narrative question's topic is reported in, () when none is implied."""
    return next((keys for pattern, keys in _TOPIC_SECTIONS if pattern.search(fold(question))), ())


def extract(query: Query, chunks: Sequence[tuple[Chunk, float]], required: Sequence[str] = ()) -> NarrativeResult:
    """Best sentences of `chunks` for the question: those sharing a content word with it (an English word by
    its glossary renderings), or any sentence of the section its topic names. `required` words (what no table
    cell explains): a sentence must print one of them to count, and the more it prints the better it ranks.

    No passages when nothing relates, or when a word the glossary knows is printed in no candidate sentence
    while the question asks for a number or mentions nothing else the glossary knows: the reports do not hold
    that ("number of website visits" and sentences about the website). When the question asks for a number,
    the number the best sentence states is the answer's value."""
    words = set(query.content)
    asked = _ASKED_UNIT.search(query.question)
    unit = asked.group(1) if asked else ""
    rendered = {w: glossary.chinese_for(w) for w in words if glossary.chinese_for(w)}
    needed = [tuple(fold(f) for f in (glossary.chinese_for(w) or (w,))) for w in required]
    topic = query.topic
    passages: list[Passage] = []
    said: set[str] = set()
    for rank, (chunk, _) in enumerate(chunks):
        heading_words = content_words(chunk.section)
        in_topic = chunk.section_key in topic
        # A heading says what its sentences are: those under 存在的主要问题 are problems without saying 问题.
        heading = fold(chunk.section)
        said |= {w for w, forms in rendered.items() if any(f in heading for f in forms)}
        body = chunk.text.split("\n", 1)[1] if "\n" in chunk.text else chunk.text
        for sentence in _SENTENCE.findall(body):
            sentence = sentence.strip()
            if len(sentence) < 6 or _SUBHEAD.match(sentence):
                continue
            norm = fold(sentence)
            printed = sum(any(f in norm for f in forms) for forms in needed)
            if needed and not printed:
                continue
            own = (words & content_words(sentence)) | {
                w for w, forms in rendered.items() if any(f in norm for f in forms)}
            said |= own
            if not own and not in_topic and not needed:
                continue
            hits = len(own) + 0.5 * len(words & heading_words) + 2.0 * printed
            if query.quantity and _DIGIT.search(norm):
                hits += 1.0 + (_UNIT_BONUS if unit and re.search(rf"\d\s*{unit}", norm) else 0.0)
            score = hits + (1.5 if in_topic else 0.0) + 1.0 / (rank + 1)
            passages.append(Passage(sentence, chunk, score))
    unmentioned = tuple(f"{w} ({'/'.join(rendered[w])})" for w in sorted(rendered.keys() - said))
    if unmentioned and (query.quantity or not rendered.keys() & said) and not needed:
        return NarrativeResult((), unmentioned=unmentioned)
    passages.sort(key=lambda p: -p.score)
    seen: set[str] = set()
    best = []
    for p in passages:
        # Sentences far below the best one are noise that happens to share a word.
        if p.text not in seen and p.score >= passages[0].score / 2:
            seen.add(p.text)
            best.append(p)
    best = best[:MAX_SENTENCES]
    # The number must come from a sentence about what the best one is about (政务新媒体 … 多少条 is not answered
    # by the count of all information published).
    topmost = fold(best[0].text) if best else ""
    key = {w for w in words if w in topmost} | {f for forms in needed for f in forms if f in topmost}
    value = _stated_value(best, key, needed, unit) if query.quantity and best else None
    return NarrativeResult(tuple(best), value, unmentioned)


def _stated_value(passages: Sequence[Passage], words: set[str], needed: list[tuple[str, ...]],
                  unit: str) -> str | None:
    """The number a sentence states for the question: the first after the words it shares with the question
    (a year or a date is no answer) and in the unit the question asks in (多少条: 4511条, not 2个), in the best
    sentence that has one and all of `words`."""
    for passage in passages:
        norm = fold(passage.text)
        if not all(w in norm for w in words):
            continue
        anchors = [norm.find(f) for forms in needed for f in forms if f in norm]
        anchors += [norm.find(w) for w in words if w in norm]
        start = min(anchors) if anchors else 0
        numbers = [m for m in _STATED.finditer(norm) if not _DATE_AFTER.match(norm, m.end())]
        if unit:  # a number in another unit answers something else (2个 new-media accounts for 多少条)
            numbers = [m for m in numbers if m.group().endswith(unit)]
        after = [m for m in numbers if m.start() >= start] or numbers
        if after:
            return after[0].group()
        clause = norm[max(norm.rfind("，", 0, start), norm.rfind(",", 0, start)) + 1:start + 1]
        if _NONE.search(clause):
            return "0"  # 未收取信息处理费: the sentence states none
    return None


def phrase_with_llm(llm: BaseChatModel, question: str, passages: Sequence[Passage], zh: bool) -> Iterator[str]:
    """Stream an answer the chat model writes from `passages` only (the caller keeps the citations)."""
    sources = "\n".join(f"[{i + 1}] {p.chunk.agency} {p.chunk.year} › {p.chunk.section}: {p.text}"
                        for i, p in enumerate(passages))
    system = (
        "You answer questions about Chinese government information-disclosure annual reports. Use only the "
        "numbered passages given; do not add facts or numbers that are not in them; refer to passages as [n]. "
        + ("Answer in Simplified Chinese." if zh else "Answer in English.")
    )
    messages = [SystemMessage(system), HumanMessage(f"Passages:\n{sources}\n\nQuestion: {question}")]
    for piece in llm.stream(messages):
        if piece.content:
            yield str(piece.content)
