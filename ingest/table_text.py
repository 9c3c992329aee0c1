"""The matching form of table text: what labels are compared on, with a map back to the printed text.

Labels arrive in Traditional characters with pinyin glosses (`區(qū)`), with ASCII or full-width
brackets and digits, broken by spaces and line ends, and with curly or straight quotes. Matching
needs one form for all of these; citing a cell needs the offset in the printed text, so every
character of the matching form remembers where it came from.
"""

from __future__ import annotations

import re
import unicodedata

from ingest.normalize import simplify

# A pinyin gloss that scraped pages put after a Traditional character: `區(qū)`.
_GLOSS = re.compile(r"\((?:[a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+)\)")
# Characters that carry no meaning for matching: spacing, quotes, the `?` that stands for NBSP.
_DROP = set(" \t\r\n\u00a0\u3000\u200b\ufeff?？\"'“”‘’「」")
_FOLD = str.maketrans({"(": "（", ")": "）", "．": ".", "、": "、", ",": "，", ":": "：", ";": "；"})


def _simplify(text: str) -> str:
    """Traditional → Simplified, one character for one character (positions must survive)."""
    converted = simplify(text)
    if len(converted) == len(text):
        return converted
    return "".join(simplify(ch) or ch for ch in text)


def match_form(text: str) -> tuple[str, list[int]]:
    """The matching form of `text` and, for each of its characters, the index it came from."""
    spans = [(m.start(), m.end()) for m in _GLOSS.finditer(text)]
    skip = {i for a, b in spans for i in range(a, b)}
    nfkc = unicodedata.normalize("NFKC", text)
    simple = _simplify(nfkc) if len(nfkc) == len(text) else None
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if i in skip:
            continue
        c = simple[i] if simple is not None else _simplify(unicodedata.normalize("NFKC", ch))
        for part in c:
            if part in _DROP:
                continue
            out.append(part.translate(_FOLD))
            index.append(i)
    return "".join(out), index


def key(text: str) -> str:
    """The matching form alone, for comparing two labels."""
    return match_form(text)[0]
