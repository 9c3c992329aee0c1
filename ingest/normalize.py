"""Text normalization shared by every reader and by QA matching, and byte decoding.

`norm` gives the matching form of a printed string; the printed string itself is kept for display.
Canonical form chosen here:
- Simplified characters (OpenCC t2s), pinyin glosses after Han characters dropped (`區(qū)` → 区);
- half-width digits and latin letters (`２０２１` → `2021`, `ＡＰＰ` → `APP`);
- full-width parentheses （） always, since they wrap Chinese labels (`第二十条第(一)项` → `第二十条第（一）项`);
- full-width ，：；！？ after a Han character (`为:第一项` → `为：第一项`), half-width elsewhere (`09:52`);
- `?` placeholders for lost characters, NBSP, zero-width and other junk removed; whitespace collapsed to one
  space and dropped between two CJK characters (`结果 纠正`, `结果\\n纠正` → `结果纠正`).
"""

from __future__ import annotations

import codecs
import re
from functools import cache

import charset_normalizer
import opencc

from ingest.errors import IngestError

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# CJK characters and CJK/full-width punctuation: whitespace between two of these carries no meaning.
_WIDE = _HAN + r"\u3001-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\u201c\u201d\u2018\u2019"
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
# A gloss is a parenthesised lowercase syllable with at least one tone mark, after a Han character (spacing between).
_GLOSS = re.compile(rf"(?<=[{_HAN}])\s*[(（][a-zü]*[{_TONED}][a-zü{_TONED}]*[)）]")
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\ufffe\uffff]")
_JUNK = re.compile("[\u00ad\u200b-\u200f\u2060\ufeff\ufffd]")
_SPACES = re.compile("[\\s\u00a0\u2000-\u200a\u3000\u202f\u205f]+")
_BETWEEN_WIDE = re.compile(rf"(?<=[{_WIDE}]) (?=[{_WIDE}])")
_ENUM_SPACE = re.compile(rf"(?<=\d[.、]) (?=[{_HAN}])")  # "1. 属于" → "1.属于"
_QUESTION = re.compile(rf"(?<![{_HAN}])\?|\?(?=\?)")  # `?` not ending a Chinese sentence is a lost character
_AFTER_HAN_PUNCT = re.compile(rf"(?<=[{_HAN}])[,:;!?]")
_HALF_TO_FULL = str.maketrans({",": "，", ":": "：", ";": "；", "!": "！", "?": "？"})
# Full-width ASCII forms → ASCII, except the parentheses and sentence punctuation kept full-width.
_WIDTH = str.maketrans(
    {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F) if chr(c) not in "（），：；！？"} | {"(": "（", ")": "）"}
)


@cache
def _t2s() -> opencc.OpenCC:
    """One converter per process: building it loads OpenCC's dictionaries."""
    return opencc.OpenCC("t2s")


def scrub(text: str) -> str:
    """Remove what is never printed: C0/C1 controls (tabs and newlines stay), lone surrogates, bidi
    overrides, non-characters. Applied to every text a reader keeps, so nothing downstream has to."""
    return _UNPRINTABLE.sub("", text)


def simplify(text: str) -> str:
    """Traditional → Simplified only, nothing else changed (same length for the reports' vocabulary)."""
    return _t2s().convert(text)


def clean(text: str) -> str:
    """Printed text without junk, pinyin glosses or extra whitespace, characters unchanged: for display."""
    text = _QUESTION.sub("", _GLOSS.sub("", _JUNK.sub("", text)))
    return _SPACES.sub(" ", text).strip()


def norm(text: str) -> str:
    """Matching form of `text` (see module docstring); idempotent."""
    text = _GLOSS.sub("", _QUESTION.sub("", _JUNK.sub("", text)))  # `一??(ū)`: the gloss shows once `?` goes
    text = _t2s().convert(text)
    text = _AFTER_HAN_PUNCT.sub(lambda m: m.group().translate(_HALF_TO_FULL), text)
    text = text.translate(_WIDTH)
    text = _SPACES.sub(" ", text).strip()
    text = _BETWEEN_WIDE.sub("", text)
    return _ENUM_SPACE.sub("", text)


_MAGIC = (
    (b"%PDF", "PDF"),
    (b"PK\x03\x04", "zip archive (an Office document?)"),
    (b"\xd0\xcf\x11\xe0", "legacy Office file"),
)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode(data: bytes, source: str) -> str:
    """Bytes → text: a BOM wins, then UTF-8 (a few broken sequences tolerated), then GB18030 (a superset of
    GBK/GB2312, what Chinese government sites use), then charset-normalizer's best guess. Binary content
    (a PDF or Office file behind a text extension) is refused rather than decoded into garbage."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise IngestError(source, f"the content is a {kind}, not text: rename the file to its real extension")
    text = _decode(data, source)
    if not text.strip():
        raise IngestError(source, "empty file (nothing but whitespace)")
    return text


def _decode(data: bytes, source: str) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding)
    text = data.decode("utf-8", errors="replace")
    if text.count("\ufffd") <= max(3, len(text) // 1000):
        return text  # UTF-8 with a few broken sequences (CESU-8 surrogates, a cut byte): keep it
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise IngestError(source, "cannot tell the text encoding (not UTF-8, GBK/GB18030 or another known one)")
    return str(best)
