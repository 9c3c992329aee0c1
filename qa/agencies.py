"""Which agencies a question names, matched against the agencies in the store.

Names are matched by their structure (ingest/names.py), never by a list of today's agencies: a mention is a run of
places (平潭, 淮安洪泽, 河北省) followed by an organ in any of its derived short forms (发改局, 住建厅, 审批局),
or either alone. A place alone means the place's own government; an organ alone means the agency of that organ in
the place the question names elsewhere, or the only one the store holds. English mentions are read as places by
pinyin and organs by the organ vocabulary's English words, within the phrase around an organ head word
("the Pingtan Public Security Bureau"). A name one character away from a stored one (an OCR'd 沐阳县 for 沭阳县)
is answered from it, and the match says how the store prints it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate, product

from pypinyin import lazy_pinyin

from ingest.names import (
    HEAD_WORDS,
    LEVEL_WORDS,
    ORGAN_HEADS,
    ORGAN_WORDS,
    AgencyName,
    expand_organ,
    head_forms,
    level,
    organ_forms,
    parse_name,
    place_forms,
    split_organ,
    stem,
    units,
    vocabulary_in,
)
from ingest.normalize import fold
from qa.text import en_tokens

# Places whose usual English name is not their pinyin.
_EXONYMS = {"西藏": ("tibet",), "内蒙古": ("inner mongolia",), "香港": ("hong kong",), "澳门": ("macau", "macao")}
_PLACE_LIKE = re.compile(r"[\u4e00-\u9fff]{2,6}?(?:省|自治区|市|自治州|州|区|县|旗)")
_ORGAN_LIKE = re.compile("的?[\u4e00-\u9fff]{0,10}?(?:" + "|".join(sorted(
    {h for h, shorts in ORGAN_HEADS for h in (h, *shorts)}, key=len, reverse=True)) + ")")
# English head words beyond the vocabulary's: what people call an organ without naming its kind.
_EN_HEADS = frozenset(en_tokens("bureau department commission committee office administration government authority "
                                "center centre regulator agency"))
# Words of organ names too common to tell two organs apart.
_EN_WEAK = frozenset(en_tokens("affairs management administration administrative general people's office "
                               "bureau department commission committee government authority agency center "
                               "centre regulator " + " ".join(LEVEL_WORDS.values())))
# The subject of every question, not a name: "government information", "information-disclosure requests".
_EN_SUBJECT = re.compile(r"\bgovernment[- ]information\b|\binformation[- ]disclosure\b|\bopen government\b")
_PLACE_BEFORE = re.compile(r"[\u4e00-\u9fff]{2,6}?(?:省|自治区|市|自治州|州|区|县|旗)的?$")
_SPECIFIC_HEAD = 4  # a head of this many characters names an organ without a place (管委会办公室, not 政府)
_MIN_FUZZY = 3
# A misprint is rare in jieba's dictionary, which holds the real place names: two names that are both common
# words there (北京/南京, 泰州/台州) are two places, not one misprinted.
_COMMON_NAME = 10  # names shorter than this are not corrected: one character of two is not a misprint


@dataclass(frozen=True)
class AgencyMatch:
    """What a question says about agencies."""

    agencies: tuple[str, ...] = ()  # named without doubt, in the order the question names them
    candidates: tuple[str, ...] = ()  # one mention that fits several agencies equally well: ask which
    unknown: str = ""  # a mention of an agency the store does not hold
    spans: tuple[tuple[int, int], ...] = ()  # where the names are in the normalized question
    starts: tuple[int, ...] = ()  # where each of `agencies` is named
    misprints: tuple[tuple[str, str], ...] = ()  # (as asked, as the store prints it) for names one character off


_Found = tuple[int, tuple[str, ...], bool]  # (where, agencies it fits best, named by a place alone)


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    kind: str  # place | organ | body
    owners: dict[str, int]  # agency → how well this form names it (3 exact, 2 every content word, 1 loose)


@dataclass
class _Entry:
    """One stored agency as the matcher sees it."""

    name: AgencyName
    organ: str  # the organ in full (a stored short form expanded through the vocabulary)
    en_words: set[str] = field(default_factory=set)  # vocabulary words of the organ
    en_heads: set[str] = field(default_factory=set)  # head and level words

    @property
    def government(self) -> bool:
        body, head = split_organ(self.organ)
        return self.name.is_government or (body in ("", "管理") and head in ("局", "委员会", "管理委员会"))


class AgencyIndex:
    """Name index over the agencies of a store (rebuild when the store changes)."""

    def __init__(self, agencies: Iterable[str]) -> None:
        self.entries: dict[str, _Entry] = {}
        self._places: dict[str, set[str]] = {}  # place form → agencies whose LAST place it is
        self._parents: dict[str, set[str]] = {}  # place form → agencies with it before their last place
        self._organs: dict[str, dict[str, int]] = {}  # organ form (head included) → agency → quality
        self._bodies: dict[str, dict[str, int]] = {}  # body form without head: only right after a place
        self._fuzzy: dict[str, set[tuple[str, str]]] = {}  # name with one character as "?" → (agency, name)
        self._english: dict[str, set[str]] = {}  # pinyin or exonym of a place → agencies
        self._english_last: dict[str, set[str]] = {}  # … of their last place
        self._syllables: dict[str, tuple[str, ...]] = {}  # place stem → its pinyin syllables
        for agency in agencies:
            self._add(agency)
        self._lengths = sorted({len(k) for d in (self._places, self._parents, self._organs, self._bodies)
                                for k in d}, reverse=True)
        self._fuzzy_lengths = sorted({len(k) for k in self._fuzzy})

    # -- building -------------------------------------------------------------------------------

    def _add(self, agency: str) -> None:
        name = parse_name(fold(agency))
        organ = expand_organ(name.organ) if name.organ else ""
        entry = _Entry(name, organ)
        self.entries[agency] = entry
        *parents, last = name.places or ("",)
        if last:
            for form in place_forms(last):
                self._places.setdefault(form, set()).add(agency)
                self._fuzzy_add(form, agency, stem_only=len(stem(last)))
            for parent in parents:
                for form in place_forms(parent):
                    self._parents.setdefault(form, set()).add(agency)
        self._fuzzy_add(name.name, agency, stem_only=0)
        body, head = split_organ(organ)
        heads = set(head_forms(head)) if not body else set()
        for form, quality in _organ_qualities(organ).items():
            # A head alone (政府, 办, 局) names an organ only after a place: 政府 in 政府信息 is none.
            where = self._bodies if form in heads and len(form) < _SPECIFIC_HEAD else self._organs
            where.setdefault(form, {})[agency] = max(quality, where.get(form, {}).get(agency, 0))
        if len(body) >= 2:
            for form, quality in _organ_qualities(body).items():
                if len(form) >= 2:
                    self._bodies.setdefault(form, {})[agency] = quality
        for place in name.places:
            self._syllables[stem(place)] = tuple(lazy_pinyin(stem(place)))
            for key in (_pinyin(stem(place)), *_EXONYMS.get(stem(place), ())):
                self._english.setdefault(key, set()).add(agency)
                if place == last:
                    self._english_last.setdefault(key, set()).add(agency)
        entry.en_words = {w for word in vocabulary_in(body) for w in en_tokens(ORGAN_WORDS[word])}
        entry.en_heads = set(en_tokens(HEAD_WORDS.get(head, "")))
        if last:
            entry.en_heads |= set(en_tokens(LEVEL_WORDS.get(level(last), "")))

    def _fuzzy_add(self, text: str, agency: str, stem_only: int) -> None:
        """Index `text` with each character in turn unknown (only within the first `stem_only` characters when
        given: a misprint changes a place's name, not its level)."""
        if len(text) < _MIN_FUZZY:
            return
        for i in range(stem_only or len(text)):
            self._fuzzy.setdefault(text[:i] + "?" + text[i + 1:], set()).add((agency, text))

    # -- matching -------------------------------------------------------------------------------

    def match(self, question: str) -> AgencyMatch:
        """Agencies named in `question`, Chinese or English."""
        text = fold(question)
        hits = self._hits(text)
        mentions = _mentions(hits, text)
        found: list[_Found] = []
        spans: list[tuple[int, int]] = []
        unknown = ""
        named_places = {a for m in mentions for h in m if h.kind == "place" for a in h.owners}
        for mention in mentions:
            group, missing = self._resolve(mention, text, named_places)
            start, end = mention[0].start, mention[-1].end
            if group:
                found.append((start, group, all(h.kind == "place" for h in mention)))
                spans.append((start, end))
            elif missing:
                unknown = unknown or missing
        misprints: list[tuple[str, str]] = []
        if not found:
            # 沭阳县 asked, 沐阳县人民政府 printed (or the reverse): the only near name stands for it.
            found, spans, misprints = self._misprinted(text)
            unknown = "" if found else unknown
        if not found and not unknown:
            found, spans, unknown, misprints = self._match_english(text)
        if not found and not unknown:
            unknown = _unknown_name(text)
        found.sort()
        firsts = {group[0]: start for start, group, _ in reversed(found) if len(group) == 1}
        agencies = tuple(dict.fromkeys(group[0] for _, group, _ in found if len(group) == 1))
        # A bare place beside a named agency is context (the Haitan Area Administration … on the Pingtan portal).
        candidates = next((group for _, group, place_only in found
                           if len(group) > 1 and not (place_only and agencies)), ())
        return AgencyMatch(agencies, candidates, unknown, tuple(spans), tuple(firsts[a] for a in agencies),
                           tuple(misprints))

    def aliases_in(self, question: str, agency: str) -> list[str]:
        """The names of `agency` a question uses (西藏住建厅), so their words are not taken for its topic."""
        text = fold(question)
        match = self.match(question)
        return [text[s:e] for s, e in match.spans] if agency in match.agencies else []

    def _hits(self, text: str) -> list[_Hit]:
        """Longest non-overlapping place, organ and body forms in `text` (a substring lookup per length, so a
        store of many agencies costs no more per question than a store of few)."""
        candidates: list[_Hit] = []
        for size in self._lengths:
            for start in range(len(text) - size + 1):
                piece = text[start:start + size]
                if piece in self._places or piece in self._parents:
                    owners = dict.fromkeys(self._places.get(piece, ()), 3) | dict.fromkeys(
                        self._parents.get(piece, ()), 1)
                    candidates.append(_Hit(start, start + size, "place", owners))
                if piece in self._organs:
                    candidates.append(_Hit(start, start + size, "organ", self._organs[piece]))
                if piece in self._bodies:
                    candidates.append(_Hit(start, start + size, "body", self._bodies[piece]))
        chosen: list[_Hit] = []
        for hit in sorted(candidates, key=lambda h: (-(h.end - h.start), h.kind != "place", h.start)):
            if not any(c.start < hit.end and hit.start < c.end for c in chosen):
                chosen.append(hit)
        return sorted(chosen, key=lambda h: h.start)

    def _resolve(self, mention: list[_Hit], text: str, named_places: set[str]) -> tuple[tuple[str, ...], str]:
        """(agencies the mention fits best, "" ) or ((), the mention as text when it names no stored agency)."""
        places = [h for h in mention if h.kind == "place"]
        organ = next((h for h in mention if h.kind != "place"), None)
        if organ is not None and organ.kind == "body" and not places:
            return (), ""
        said = text[mention[0].start:mention[-1].end]
        pool = set(self.entries)
        for hit in places:
            pool &= set(hit.owners)
        last_place = {a for a in pool if places and places[-1].owners.get(a) == 3}
        if organ is None:
            after = _organ_after(text, mention[-1].end)
            if after and len(after.removeprefix("的")) >= 2:
                return (), said + after  # 平潭卫健委: a place the store knows, an organ it does not
            governments = {a for a in last_place if self.entries[a].government}
            if not governments and len(last_place) < 2:
                return (), said  # one department of the place: its own government is not in the store
            return _best(dict.fromkeys(governments or last_place, 1)), ""  # several departments: ask which
        if not places and (before := _PLACE_BEFORE.search(text[:organ.start])) and parse_name(before.group()).places:
            return (), before.group() + said  # 北京市公安局: an organ the store has, in a place it does not
        scores = {a: q for a, q in organ.owners.items() if a in (last_place if places else pool)}
        if not places and named_places:
            scores = {a: q for a, q in scores.items() if a in named_places} or scores
        if not scores:
            return (), said
        return _best(scores), ""

    def _misprinted(self, text: str) -> tuple[list[_Found], list[tuple[int, int]], list[tuple[str, str]]]:
        """A name one character away from a stored name or place (same length, same level)."""
        for size in sorted(self._fuzzy_lengths, reverse=True):
            for start in range(len(text) - size + 1):
                piece = text[start:start + size]
                hits = {pair for i in range(size) for pair in self._fuzzy.get(piece[:i] + "?" + piece[i + 1:], ())
                        if pair[1] != piece and _may_be_misprint(piece, pair[1])}
                if not hits or not re.search("[\u4e00-\u9fff]", piece):
                    continue
                agencies = {a for a, _ in hits}
                organ = next((h for h in self._hits(text[start + size:]) if h.start == 0 and h.kind != "place"), None)
                if organ is not None:
                    agencies &= set(organ.owners)
                else:
                    agencies = {a for a in agencies if self.entries[a].government} or agencies
                printed = sorted({p for a, p in hits if a in agencies})
                if agencies:
                    end = start + size + (organ.end if organ else 0)
                    return [(start, tuple(sorted(agencies)), False)], [(start, end)], [(piece, printed[0])]
        return [], [], []

    def _match_english(self, text: str) -> tuple[list[_Found], list[tuple[int, int]], str, list[tuple[str, str]]]:
        """Agencies an English question names: the phrase around a place (pinyin) or an organ head word."""
        blanked = _EN_SUBJECT.sub(lambda m: " " * len(m.group()), text).replace("'", " ")
        located = list(re.finditer(r"[a-z]+", blanked))
        words = [m.group() for m in located]
        stems = [(en_tokens(w) or [w])[0] for w in words]
        places, misprints = self._english_places(words)
        heads = [j for j, s in enumerate(stems) if s in _EN_HEADS]
        found: list[_Found] = []
        spans: list[tuple[int, int]] = []
        unknown = ""
        for a, b in _phrases(stems, heads, {i for p in places for i in range(p[0], p[1])}):
            where = (located[a].start(), located[b - 1].end())
            named = [p for p in places if a <= p[0] and p[1] <= b]
            place_words = {k for p in named for k in range(p[0], p[1])}
            asked = {stems[k] for k in range(a, b) if k not in place_words and stems[k] in _ENGLISH_VOCABULARY}
            asked -= _EN_WEAK
            if not named and not asked:
                continue
            pool = set(self.entries)
            for _, _, owners in named:
                pool &= set(owners)
            said = {stems[k] for k in range(a, b)}
            if not asked and not said & _EN_ORGAN_HEADS:  # a place alone: its own government
                own = {x for x in pool if named[-1][2][x] and self.entries[x].government}
                if own:
                    found.append((where[0], _best(dict.fromkeys(own, 1)), True))
                    spans.append(where)
                else:
                    unknown = unknown or " ".join(words[a:b])
                continue
            scores = {x: 10 * len(asked & e.en_words) + len(said & (e.en_heads | e.en_words))
                      for x in pool if not asked - (e := self.entries[x]).en_words - e.en_heads}
            if scores:
                found.append((where[0], _best(scores), False))
                spans.append(where)
            else:
                unknown = unknown or " ".join(words[a:b])
        return found, spans, unknown, misprints

    def _english_places(self, words: list[str]) -> tuple[list[tuple[int, int, dict[str, bool]]],
                                                         list[tuple[str, str]]]:
        """(first word, end word, agency → whether it is their last place) of each place an English question
        names by pinyin or exonym; when none, a place one syllable off a rare stored one (Shuyang for 沐阳)."""
        places: list[tuple[int, int, dict[str, bool]]] = []
        i = 0
        while i < len(words):
            for n in (n for n in (3, 2, 1) if i + n <= len(words)):
                key = next((k for k in ("".join(words[i:i + n]), " ".join(words[i:i + n])) if k in self._english),
                           None)
                if key:
                    last = self._english_last.get(key, set())
                    places.append((i, i + n, {x: x in last for x in self._english[key]}))
                    i += n - 1
                    break
            i += 1
        if places:
            return places, []
        for i, word in enumerate(words):
            for place, syllables in self._syllables.items():
                if _one_syllable_off(word, syllables) and _jieba_frequency(place) < _COMMON_NAME:
                    owners = {x: parse_name(self.entries[x].name.name).places[-1].startswith(place)
                              for x in self._english["".join(syllables)]}
                    printed = next(self.entries[x].name.name for x, last in owners.items() if last) if any(
                        owners.values()) else place
                    return [(i, i + 1, owners)], [(word, printed)]
        return [], []


def _organ_qualities(organ: str) -> dict[str, int]:
    """Each form of an organ with how fully it names it: 3 the organ as printed, 2 every content word of its
    body represented (发改局), 1 some left out (资源局 for 自然资源和规划局)."""
    if not organ:
        return {}
    body, _ = split_organ(organ)
    content = [u for u in units(body) if u not in ("和", "与", "及")]
    out: dict[str, int] = {}
    for form in organ_forms(organ):
        out[form] = 3 if form == organ else 2 if _represents(form, content) else 1
    return out


def _represents(form: str, content: list[str]) -> bool:
    """Does every content unit of the body leave at least its first character in `form`, in order?"""
    pos = 0
    for unit in content:
        at = form.find(unit[0], pos)
        if at < 0:
            return False
        pos = at + 1
    return True


def _best(scores: dict[str, int]) -> tuple[str, ...]:
    if not scores:
        return ()
    top = max(scores.values())
    return tuple(sorted(a for a, s in scores.items() if s == top))


def _mentions(hits: list[_Hit], text: str) -> list[list[_Hit]]:
    """Adjacent hits (at most 的 between them) as one mention: places, then at most one organ or body."""
    mentions: list[list[_Hit]] = []
    for hit in hits:
        current = mentions[-1] if mentions else None
        joined = current is not None and text[current[-1].end:hit.start] in ("", "的")
        if joined and current[-1].kind == "place" and hit.kind in ("place", "organ", "body"):  # type: ignore[index]
            current.append(hit)  # type: ignore[union-attr]
        else:
            mentions.append([hit])
    return mentions


def _phrases(stems: list[str], heads: list[int], place_words: set[int]) -> list[tuple[int, int]]:
    """Word ranges of English agency names, read by how they are built: [place] [organ words] HEAD
    ("the Pingtan Public Security Bureau", "Pingtan's market regulator") or HEAD of [organ words] [of place]
    ("Department of Industry and Information Technology"); a place alone with its level words ("Jinjing Area").
    Words before the place belong to the question, not the name ("requests withheld … for the Changzhou …")."""
    n = len(stems)
    spans: list[tuple[int, int]] = []
    for h in heads:
        a = h
        while a > 0 and a - 1 not in place_words and (stems[a - 1] in _ENGLISH_VOCABULARY or stems[a - 1] in
                                                      ("and", "&", "s")):
            a -= 1
        while a > 0 and (a - 1 in place_words or (stems[a - 1] == "s" and a - 2 in place_words)):
            a -= 1
        b = h + 1
        while b < n and stems[b] == "of":
            c = b + 1
            while c < n and (stems[c] in _ENGLISH_VOCABULARY or stems[c] in ("and", "&", "the") or c in place_words):
                c += 1
            if c == b + 1:
                break
            b = c
        spans.append((a, b))
    for k in sorted(place_words):
        if not any(a <= k < b for a, b in spans):
            b = k + 1
            while b < n and (b in place_words or stems[b] in _ENGLISH_VOCABULARY):
                b += 1
            spans.append((k, b))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        while a < b and stems[a] in ("the", "and", "s", "of"):
            a += 1
        while b > a and stems[b - 1] in ("the", "and", "s", "of"):
            b -= 1
        if merged and a < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        elif a < b:
            merged.append((a, b))
    return merged


_EN_ORGAN_HEADS = frozenset(w for words in HEAD_WORDS.values() for w in en_tokens(words)) - frozenset(
    en_tokens("government people's"))
_ENGLISH_VOCABULARY = frozenset(
    w for table in (ORGAN_WORDS, HEAD_WORDS, LEVEL_WORDS) for words in table.values() for w in en_tokens(words)
) | _EN_HEADS


def _pinyin(text: str) -> str:
    return "".join(lazy_pinyin(text)).lower()


def _organ_after(text: str, at: int) -> str:
    """An organ-like word right after position `at` (卫健委 in 平潭卫健委2023年), "" when none: its head must end a
    word (处 in 行政处罚 is no 处), as jieba segments the text."""
    m = _ORGAN_LIKE.match(text, at)
    if not m:
        return ""
    ends = set(accumulate(len(w) for w in _jieba_cut(text[at:])))
    organ = m.group().removeprefix("的")
    body = split_organ(organ)[0]
    # The body must be an organ's (its vocabulary words, or a short form of one): 本年新收政府 is none.
    known = not body or vocabulary_in(body) or expand_organ(organ) != organ
    return m.group() if m.end() - at in ends and known else ""


@cache
def _jieba_cut(text: str) -> tuple[str, ...]:
    import jieba

    return tuple(jieba.cut(text))


def _unknown_name(text: str) -> str:
    """A place-like word (北京市, 朝阳区) or an organ of the vocabulary (公安局) that matched no agency: the question
    names one the store lacks."""
    for m in _PLACE_LIKE.finditer(text):
        place = m.group()
        if len(stem(place)) >= 2 and parse_name(place).places:
            return place + _organ_after(text, m.end()).removeprefix("的")
    for body, head in product(ORGAN_WORDS, ("局", "厅", "委员会", "委", "办公室", "办")):
        if (name := body + head) in text:
            return name
    return ""


def _may_be_misprint(asked: str, printed: str) -> bool:
    """Two names one character apart are one name misprinted unless both are common words (two real places)."""
    at = next(i for i, (a, b) in enumerate(zip(asked, printed, strict=True)) if a != b)
    words = [_word_around(name, at) for name in (asked, printed)]
    return min(_jieba_frequency(w) for w in words) < _COMMON_NAME


def _word_around(name: str, at: int) -> str:
    """The place stem that holds position `at` (沭阳县人民政府, 0 → 沭阳)."""
    parsed = parse_name(name)
    pos = 0
    for place in parsed.places:
        if pos <= at < pos + len(place):
            return stem(place) or place
        pos += len(place)
    return name


@cache
def _jieba_frequency(word: str) -> int:
    import jieba

    jieba.initialize()
    return jieba.dt.FREQ.get(word, 0)


def _one_syllable_off(word: str, syllables: tuple[str, ...]) -> bool:
    """`word` is the pinyin of `syllables` with exactly one syllable replaced (shuyang for mu·yang)."""
    if len(syllables) < 2 or word == "".join(syllables):
        return False
    for i in range(len(syllables)):
        head, tail = "".join(syllables[:i]), "".join(syllables[i + 1:])
        middle = len(word) - len(head) - len(tail)
        if 1 <= middle <= 6 and word.startswith(head) and word.endswith(tail):
            return True
    return False
