"""Narrative answers: the most relevant sentences of the retrieved passages, each cited by section.

Extractive by default, so every sentence shown is printed in a report. With a chat model the
sentences may be rephrased, from those passages only, while the citations stay the extracted ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from ingest.model import Chunk
from ingest.normalize import fold
from qa import glossary
from qa.model import Citation
from qa.text import en_tokens, zh_tokens

_SENTENCE = re.compile(r"[^。；！？!?\n]+[。；！？!?]?")
# Words every report uses; they say nothing about which sentence answers a question.
_COMMON_WORDS = (
    "政府 信息 公开 政府信息 工作 情况 年度 报告 本 年 我 厅 局 委 区 县 市 进一步 加强 有关 相关 什么 哪些 如何 怎么 "
    "怎样 多少 主要 的 了 是 在 和 与 及 等 有 呢 吗 那 report agency government information disclosure work year "
    "what which how did does"
)
_COMMON = frozenset(_COMMON_WORDS.split())
# Questions about these topics look first in the section that reports them (report-format.md).
_TOPIC_SECTIONS = (
    (re.compile(r"问题|不足|改进|整改|problem|shortcoming|improv|weakness"), "problems"),
    (re.compile(r"处理费|收费|fee|charge"), "other"),
    (re.compile(r"平台|网站|新媒体|公众号|培训|组织|领导|主动公开|platform|website|media|training|overall|总体|"
                r"proactive|publish"), "overview"),
)
MAX_SENTENCES = 3
_DIGIT = re.compile(r"\d")
# A sub-heading alone on its line ("（一）存在的主要问题") is a label, not an answer.
_SUBHEAD = re.compile(r"^[（(][一二三四五六七八九十]+[)）][^。；，,]{0,12}$")


@dataclass(frozen=True)
class Passage:
    """One extracted sentence and the chunk it came from."""

    text: str
    chunk: Chunk
    score: float


def content_words(text: str) -> set[str]:
    """The words of a question that a relevant sentence should share (no agency/report boilerplate)."""
    norm = fold(text)
    return {t for t in (*zh_tokens(norm), *en_tokens(norm)) if t not in _COMMON and len(t) > 1}


def topic_section(question: str) -> str:
    """The standard section a narrative question's topic is reported in, "" when none is implied."""
    return next((key for pattern, key in _TOPIC_SECTIONS if pattern.search(fold(question))), "")


@dataclass(frozen=True)
class Extraction:
    """What the passages give for a question, and the words of it they never mention."""

    passages: list[Passage]
    unmentioned: tuple[str, ...] = ()  # "visits (访问/浏览/点击)": English question words no sentence renders


def extract(question: str, chunks: Sequence[tuple[Chunk, float]], exclude: set[str], quantity: bool) -> Extraction:
    """Best sentences of `chunks` for `question`: those sharing a content word with it (an English word by
    its glossary renderings), or any sentence of the section its topic names.

    No passages when nothing relates, or when a word the glossary knows is printed in no candidate
    sentence while the question asks for a number or mentions nothing else the glossary knows: the
    reports do not hold that ("number of website visits" and sentences about the website)."""
    words = content_words(question) - exclude
    rendered = {w: glossary.chinese_for(w) for w in words if glossary.chinese_for(w)}
    topic = topic_section(question)
    passages: list[Passage] = []
    said: set[str] = set()
    for rank, (chunk, _) in enumerate(chunks):
        heading_words = content_words(chunk.section)
        in_topic = bool(topic) and chunk.section_key == topic
        # A heading says what its sentences are: those under 存在的主要问题 are problems without saying 问题.
        heading = fold(chunk.section)
        said |= {w for w, forms in rendered.items() if any(f in heading for f in forms)}
        body = chunk.text.split("\n", 1)[1] if "\n" in chunk.text else chunk.text
        for sentence in _SENTENCE.findall(body):
            sentence = sentence.strip()
            if len(sentence) < 6 or _SUBHEAD.match(sentence):
                continue
            norm = fold(sentence)
            own = (words & content_words(sentence)) | {
                w for w, forms in rendered.items() if any(f in norm for f in forms)}
            said |= own
            if not own and not in_topic:
                continue
            hits = len(own) + 0.5 * len(words & heading_words)
            if quantity and _DIGIT.search(norm):
                hits += 1.0
            score = hits + (1.5 if in_topic else 0.0) + 1.0 / (rank + 1)
            passages.append(Passage(sentence, chunk, score))
    unmentioned = tuple(f"{w} ({'/'.join(rendered[w])})" for w in sorted(rendered.keys() - said))
    if unmentioned and (quantity or not rendered.keys() & said):
        return Extraction([], unmentioned)
    passages.sort(key=lambda p: -p.score)
    seen: set[str] = set()
    best = []
    for p in passages:
        # Sentences far below the best one are noise that happens to share a word.
        if p.text not in seen and p.score >= passages[0].score / 2:
            seen.add(p.text)
            best.append(p)
    return Extraction(best[:MAX_SENTENCES], unmentioned)


def citation(passage: Passage) -> Citation:
    c = passage.chunk
    return Citation(report_id=c.report_id, agency=c.agency, year=c.year, source=c.source, section=c.section,
                    page=c.page, snippet=passage.text)


def extractive_text(passages: Sequence[Passage], zh: bool) -> str:
    lines = []
    for p in passages:
        where = f"（{p.chunk.agency}{p.chunk.year}年 › {p.chunk.section}）" if zh else (
            f" ({p.chunk.agency} {p.chunk.year}, {p.chunk.section})")
        lines.append(f"{p.text}{where}")
    intro = "报告原文中最相关的内容：" if zh else "The most relevant passages of the reports:"
    return intro + "\n" + "\n".join(f"- {line}" for line in lines)


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
