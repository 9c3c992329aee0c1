"""Words of questions and labels: language, jieba tokens, English stems (their normal form: `ingest.normalize.fold`)."""

from __future__ import annotations

import logging
import re
from functools import cache
from types import ModuleType

import jieba

from ingest.format.schema import TABLES
from ingest.normalize import fold

jieba.setLogLevel(logging.WARNING)

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]+")


def language(text: str) -> str:
    """"en" when Latin words outweigh Chinese characters (agency names aside), else "zh"."""
    latin = sum(len(w) for w in _LATIN.findall(text))
    return "en" if latin > 2 * len(_CJK.findall(text)) else "zh"


@cache
def segmenter() -> ModuleType:
    """jieba, taught the words of the format's labels, so that a label word stays whole wherever a question puts
    it: its dictionary cut 制发规范性文件 into 制/发 at the start of a question, though not after 2022年."""
    for spec in TABLES:
        for label in (*spec.rows, *spec.columns):
            for text in (label.label, *label.aliases):
                for word in jieba.cut(fold(text)):
                    if len(word) > 1 and _CJK.search(word):
                        jieba.suggest_freq(word, tune=True)  # raises a word's count only where its parts win
    return jieba


def zh_tokens(text: str) -> list[str]:
    """jieba search-mode tokens (compound words and their parts), Chinese only."""
    return [t for t in segmenter().cut_for_search(text) if _CJK.search(t)]


def zh_nouns(text: str) -> list[str]:
    """Chinese nouns of two characters or more (jieba's part-of-speech tags): what a question asks about, as
    opposed to how it asks (verbs, measure words)."""
    return [w.word for w in _posseg().cut(text) if len(w.word) > 1 and _CJK.search(w.word)
            and (w.flag.startswith("n") or w.flag == "vn") and w.flag not in _NAMES]


# Names of places, people and organisations: who or where, never what is counted.
_NAMES = frozenset({"ns", "nr", "nt", "nrt", "nrfg"})


@cache
def _posseg():
    import jieba.posseg

    segmenter()
    return jieba.posseg


_STOP_WORDS_EN = (
    "a an the of in on at to for from by with and or is are was were be been did do does how many much what "
    "which who whom when where why this that these those it its their there number year years "
    "please tell me about show give"
)
_STOP_EN = frozenset(_STOP_WORDS_EN.split())
# Words English questions use for a label's word ("item count of the previous year" for "number of items
# last year"); a synonym of a stop word is one too.
_SYNONYMS_EN = {"previous": "last", "prior": "last", "preceding": "last", "count": "number"}
# "could not be provided" says the "unable to provide" of the labels.
_UNABLE = re.compile(r"\b(?:(?:could|can)\s*not|can't|couldn't)\s+(?:be\s+)?(?=[a-z])")


def en_tokens(text: str) -> list[str]:
    """Lower-case English word stems without stop words (penalties ~ penalty, received ~ receive)."""
    words = (_SYNONYMS_EN.get(w, w) for w in re.findall(r"[a-z]+", _UNABLE.sub("unable ", text.lower())))
    return [_stem(w) for w in words if w not in _STOP_EN and len(w) > 1]


def _stem(word: str) -> str:
    # A crude suffix stripper: labels and questions are short, and both sides go through it, so a
    # full stemmer (nltk, snowball) would add a dependency for no measurable gain.
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    if word.endswith("ly") and len(word) > 5:  # partially ~ partial
        word = word[:-2]
    for suffix in ("ure", "ing", "ed", "e"):  # disclosure ~ disclosed ~ disclose
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word
