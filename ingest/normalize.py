"""Text normalization for both packages, in one place, and byte decoding.

Each form serves one comparison and they differ on purpose:
- `norm`: a line's matching form (sections, metadata, QA over lines); keeps spacing between Latin words;
- `clean`: printed text for display, characters unchanged;
- `match_form` / `key`: table labels, spacing and quotes dropped, each character mapped back to its offset;
- `compact`: one table cell's text for parsing a value, NFKC with every space and `?` gone;
- `fold`: questions and agency names in QA, case-folded too (English questions);
- `squash`: answers against expected phrases (evaluation), `norm` without any spacing, case-folded;
- `strip_numbering`: a label without its leading numbering, `bare_label` also without its note.

Canonical form of `norm`:
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
import unicodedata
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


# -- table labels and cells


# A pinyin gloss that scraped pages put after a Traditional character: `區(qū)`; any parenthesised Latin letters
# here, where `norm` asks for a tone mark (labels hold no Latin text of their own).
_KEY_GLOSS = re.compile(r"\((?:[a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+)\)")
# Characters that carry no meaning for matching labels: spacing, quotes, the `?` that stands for NBSP.
_KEY_DROP = set(" \t\r\n\u00a0\u3000\u200b\ufeff?？\"'“”‘’「」")
_KEY_FOLD = str.maketrans({"(": "（", ")": "）", "．": ".", "、": "、", ",": "，", ":": "：", ";": "；"})
_CELL_JUNK = str.maketrans("", "", "?？\u00a0\u3000\u200b\ufeff")
# Leading numbering of a label: `一、` `（一）` `(一)` `1.`.
_NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[)）]|\d+\.)")


def _simplify_each(text: str) -> str:
    """Traditional → Simplified, one character for one character (positions must survive)."""
    converted = simplify(text)
    if len(converted) == len(text):
        return converted
    return "".join(simplify(ch) or ch for ch in text)


def match_form(text: str) -> tuple[str, list[int]]:
    """The matching form of a table label and, for each of its characters, the index it came from.

    Labels arrive in Traditional characters with pinyin glosses, ASCII or full-width brackets and digits,
    broken by spaces and line ends, with curly or straight quotes; citing a cell needs the printed offset."""
    spans = [(m.start(), m.end()) for m in _KEY_GLOSS.finditer(text)]
    skip = {i for a, b in spans for i in range(a, b)}
    nfkc = unicodedata.normalize("NFKC", text)
    simple = _simplify_each(nfkc) if len(nfkc) == len(text) else None
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if i in skip:
            continue
        c = simple[i] if simple is not None else _simplify_each(unicodedata.normalize("NFKC", ch))
        for part in c:
            if part in _KEY_DROP:
                continue
            out.append(part.translate(_KEY_FOLD))
            index.append(i)
    return "".join(out), index


def key(text: str) -> str:
    """The matching form of a table label alone, for comparing two labels."""
    return match_form(text)[0]


def compact(raw: str) -> str:
    """A table cell without spacing or the `?` scraped pages print for a non-breaking space."""
    return "".join(unicodedata.normalize("NFKC", raw).translate(_CELL_JUNK).split())


def strip_numbering(text: str) -> str:
    """A label without its leading numbering (`2.重复申请` → `重复申请`, `（一）予以公开` → `予以公开`)."""
    return _NUMBERING.sub("", text)


# -- questions and answers (QA)


def fold(text: str) -> str:
    """NFKC (full-width digits and brackets), Traditional → Simplified, lower case, single spaces."""
    text = _t2s().convert(unicodedata.normalize("NFKC", text))
    return re.sub(r"\s+", " ", text).strip().lower()


def bare_label(label: str) -> str:
    """A label as a question says it: （一）予以公开 → 予以公开; 1.属于国家秘密 → 属于国家秘密; the note in brackets
    goes too."""
    text = strip_numbering(fold(label))
    return re.sub(r"\(.*?\)$", "", text) or text


def squash(text: str) -> str:
    """`norm` without any spacing, lower case: whether an answer holds a phrase, however it was spaced."""
    return re.sub(r"\s+", "", norm(text)).lower()


# -- bytes


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
