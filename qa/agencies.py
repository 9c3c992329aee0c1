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
from functools import cache, lru_cache
from itertools import accumulate, product
from math import prod

from pypinyin import Style, lazy_pinyin, pinyin

from ingest.names import (
    HEAD_WORDS,
    LEVEL_WORDS,
    ORGAN_HEADS,
    ORGAN_WORDS,
    AgencyName,
    acronyms,
    area_name,
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
    without_city,
)
from ingest.normalize import fold
from qa.text import en_tokens, segmenter

# Places whose usual English name is not their pinyin.
_EXONYMS = {"西藏": ("tibet",), "内蒙古": ("inner mongolia",), "香港": ("hong kong",), "澳门": ("macau", "macao")}
_PLACE_LIKE = re.compile(r"[\u4e00-\u9fff]{2,6}?(?:省|自治区|市|自治州|州|区|县|旗)")
_ORGAN_LIKE = re.compile("的?[\u4e00-\u9fff]{0,10}?(?:" + "|".join(sorted(
    {h for h, shorts in ORGAN_HEADS for h in (h, *shorts)}, key=len, reverse=True)) + ")")
# Characters of organ heads: a name running on into one may have its head misprinted (科学技术萎员会).
_HEAD_CHARS = frozenset("".join(h for head, shorts in ORGAN_HEADS for h in (head, *shorts)))
# English head words beyond the vocabulary's: what people call an organ without naming its kind.
_EN_HEADS = frozenset(en_tokens("bureau department commission committee office administration government authority "
                                "center centre regulator agency"))
# Words of organ names too common to tell two organs apart.
_EN_WEAK = frozenset(en_tokens("affairs management administration administrative general people's office "
                               "bureau department commission committee government authority agency center "
                               "centre regulator service services " + " ".join(LEVEL_WORDS.values())))
# The subject of every question, not a name: "government information", "information-disclosure requests".
_EN_SUBJECT = re.compile(r"\bgovernment[- ]information\b|\binformation[- ]disclosure\b|\bopen government\b")
_HAN_CHAR = re.compile("[\u4e00-\u9fff]")
_SPECIFIC_HEAD = 4  # a head of this many characters names an organ without a place (管委会办公室, not 政府)
_MIN_FUZZY = 3  # names shorter than this are not corrected: one character of two is not a misprint
# A misprint is rare in jieba's dictionary, which holds the real place names: two names that are both common
# words there (北京/南京, 泰州 268/台州 158) are two places, not one misprinted (亳州 62/毫州 24 is one).
_COMMON_NAME = 100


@dataclass(frozen=True)
class AgencyMatch:
    """What a question says about agencies."""

    agencies: tuple[str, ...] = ()  # named without doubt, in the order the question names them
    candidates: tuple[str, ...] = ()  # one mention that fits several agencies equally well: ask which
    unknown: str = ""  # a mention of an agency the store does not hold
    spans: tuple[tuple[int, int], ...] = ()  # where the names are in the normalized question
    starts: tuple[int, ...] = ()  # where each of `agencies` is named
    misprints: tuple[tuple[str, str], ...] = ()  # (as asked, the agency as printed) for names one character off


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
        # Near-name indexes, keyed by `_halves`: names → (agency, name, positions a misprint may take)
        self._fuzzy: dict[tuple[int, str, str], set[tuple[str, str, int]]] = {}
        self._last_halves: dict[tuple[int, str, str], set[tuple[str, str]]] = {}  # … (agency, form of its last place)
        self._english: dict[str, set[str]] = {}  # pinyin or exonym of a place → agencies
        self._english_last: dict[str, set[str]] = {}  # … of their last place
        self._syllables: dict[str, tuple[str, ...]] = {}  # place stem → its pinyin syllables
        self._acronyms: dict[str, set[str]] = {}  # English initials of an organ (drc, psb) → agencies
        for agency in agencies:
            self._add(agency)
        self._lengths = sorted({len(k) for d in (self._places, self._parents, self._organs, self._bodies)
                                for k in d}, reverse=True)
        self._fuzzy_lengths = sorted({size for size, _, _ in self._fuzzy}, reverse=True)

    # -- building -------------------------------------------------------------------------------

    def _add(self, agency: str) -> None:
        name = parse_name(fold(agency))
        organ = expand_organ(name.organ) if name.organ else ""
        entry = _Entry(name, organ)
        self.entries[agency] = entry
        *parents, last = name.places or ("",)
        zone = without_city(last) if last else ""  # 青岛西海岸新区: 青岛 is its city, 西海岸新区 the zone
        if zone:
            parents.append(last[: -len(zone)])
        if last:
            for form in place_forms(last):
                self._places.setdefault(form, set()).add(agency)
                for key in _halves(form):
                    self._last_halves.setdefault(key, set()).add((agency, form))
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
        for place in (*name.places, *((parents[-1], zone) if zone else ())):
            self._syllables[stem(place)] = tuple(lazy_pinyin(stem(place)))
            # A one-character stem is also said with its level (寿县 → Shou County or Shouxian).
            spoken = (_pinyin(stem(place)), _pinyin(place)) if len(stem(place)) == 1 else (_pinyin(stem(place)),)
            area = area_name(place)  # Guangxi (Zhuang Autonomous Region): the nationality is optional
            for key in {*spoken, *_spellings(area), *_EXONYMS.get(area, ())}:
                self._english.setdefault(key, set()).add(agency)
                if place in (last, zone):
                    self._english_last.setdefault(key, set()).add(agency)
        entry.en_words = {w for word in vocabulary_in(body) for w in en_tokens(ORGAN_WORDS[word])}
        for initials in acronyms(organ):
            self._acronyms.setdefault(initials, set()).add(agency)
            entry.en_words.add(initials)
        entry.en_heads = set(en_tokens(HEAD_WORDS.get(head, "")))
        if last:
            entry.en_heads |= set(en_tokens(LEVEL_WORDS.get(level(last), "")))

    def _fuzzy_add(self, text: str, agency: str, stem_only: int) -> None:
        """Index `text` for names one character off it (only within its first `stem_only` characters when given:
        a misprint changes a place's name, not its level)."""
        if len(text) < _MIN_FUZZY:
            return
        for key in _halves(text):
            self._fuzzy.setdefault(key, set()).add((agency, text, stem_only or len(text)))

    def _near_names(self, piece: str) -> set[tuple[str, str]]:
        """(agency, stored name) of the names one character off `piece`, misprint-shaped (see `_may_be_misprint`)."""
        found = set().union(*(self._fuzzy.get(key, ()) for key in _halves(piece)))
        return {(agency, name) for agency, name, within in found
                if _one_place_off(piece, name, within) and _may_be_misprint(piece, name)}

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
        misprints: list[tuple[str, str]] = []
        for mention in mentions:
            group, missing, misprint = self._resolve(mention, text, named_places)
            start, end = mention[0].start, mention[-1].end
            if misprint:
                misprints.append(misprint)
                organ_start = next(h.start for h in mention if h.kind != "place")
                start = min(start, organ_start - len(misprint[0]))
            if group:
                found.append((start, group, all(h.kind == "place" for h in mention)))
                spans.append((start, end))
            elif missing:
                unknown = unknown or missing
        # 沭阳县 asked, 沐阳县人民政府 printed (or the reverse), 湖南省住房和城乡建没厅: a near name longer than what
        # matched exactly stands for it. Looked for only where something may be misprinted: nothing or not all
        # matched, or a name runs on into words that end like an organ (建没厅 after 湖南省, 攺革委员会 after 发展).
        suspect = not found or unknown or any(_ORGAN_LIKE.match(text, m[-1].end)
                                              or _HEAD_CHARS & set(text[m[-1].end : m[-1].end + 2]) for m in mentions)
        for near, (a, b), misprint in self._misprinted(text) if suspect else ():
            if any(not (e - s < b - a) for s, e in spans if s < b and a < e):
                continue
            keep = [(f, sp) for f, sp in zip(found, spans, strict=True) if not (sp[0] < b and a < sp[1])]
            found = [f for f, _ in keep] + [near]
            spans = [sp for _, sp in keep] + [(a, b)]
            misprints, unknown = [*misprints, misprint], ""
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

    def _resolve(self, mention: list[_Hit], text: str, named_places: set[str]) -> tuple[tuple[str, ...], str,
                                                                                      tuple[str, str] | None]:
        """(agencies the mention fits best, "", a misprint it corrects) or ((), the mention as text when it names
        no stored agency, None)."""
        places = [h for h in mention if h.kind == "place"]
        organ = next((h for h in mention if h.kind != "place"), None)
        if organ is not None and not places and (near := self._near_place(text, organ)):
            return near[0], "", near[1]  # 亳州教育局 for a store printing 毫州市教育局
        if organ is not None and organ.kind == "body" and not places:
            return (), "", None
        said = text[mention[0].start:mention[-1].end]
        # Sets of the places' owners only, never of every agency: at 10^5 agencies that alone took milliseconds.
        pool = _narrowed([set(h.owners) for h in places]) if places else set()
        last_place = {a for a in pool if places[-1].owners.get(a) == 3}
        if organ is None:
            after = _organ_after(text, mention[-1].end)
            if after and len(after.removeprefix("的")) >= 2:
                return (), said + after, None  # 平潭卫健委: a place the store knows, an organ it does not
            governments = {a for a in last_place if self.entries[a].government}
            if not governments and len(last_place) < 2:
                return (), said, None  # one department of the place: its own government is not in the store
            return _best(dict.fromkeys(governments or last_place, 1)), "", None  # several departments: ask which
        if not places and (before := _place_before(text[:organ.start])):
            return (), before + said, None  # 北京市公安局: an organ the store has, in a place it does not
        if places:
            scores = {a: organ.owners[a] for a in last_place if a in organ.owners}
        else:
            scores = {a: organ.owners[a] for a in named_places if a in organ.owners} or organ.owners
        if not scores and places and (near := self._near_place(text, organ)):
            return near[0], "", near[1]  # 睢宁审批局 for 雎宁县行政审批局 beside a 睢宁县人民政府 printed right
        if not scores:
            return (), said, None
        return _best(scores), "", None

    def _near_place(self, text: str, organ: _Hit) -> tuple[tuple[str, ...], tuple[str, str]] | None:
        """The agencies of an organ named after a place one character off their own (汨罗公安局 for 汩罗市公安局)."""
        for size in range(4, 1, -1):
            start = organ.start - size
            if start < 0:
                continue
            piece = text[start:organ.start]
            near = {a: form for a, form in sorted(set().union(*(self._last_halves.get(k, ()) for k in _halves(piece))))
                    if a in organ.owners and _one_off(piece, form)}
            if near:
                best = _homophones(piece, near)
                return tuple(sorted(best)), (piece, self.entries[min(best)].name.name)
        return None

    def _misprinted(self, text: str) -> list[tuple[_Found, tuple[int, int], tuple[str, str]]]:
        """Names one character away from a stored name or place (same length, same level), longest first and
        not overlapping: each with where it is and (as asked, as printed)."""
        out: list[tuple[_Found, tuple[int, int], tuple[str, str]]] = []
        if not _HAN_CHAR.search(text):
            return out
        for size in self._fuzzy_lengths:
            for start in range(len(text) - size + 1):
                if any(a < start + size and start < b for _, (a, b), _ in out):
                    continue
                piece = text[start:start + size]
                hits = self._near_names(piece) if _HAN_CHAR.match(piece) else set()
                if not hits:
                    continue
                agencies = {a for a, _ in hits}
                organ = next((h for h in self._hits(text[start + size:]) if h.start == 0 and h.kind != "place"), None)
                if organ is not None:
                    agencies &= set(organ.owners)
                else:
                    agencies = {a for a in agencies if self.entries[a].government} or agencies
                printed = {a: p for a, p in hits if a in agencies}
                if agencies:
                    best = _homophones(piece, printed)
                    end = start + size + (organ.end if organ else 0)
                    name = self.entries[min(best)].name.name
                    out.append(((start, tuple(sorted(best)), False), (start, end), (piece, name)))
        return out

    def _match_english(self, text: str) -> tuple[list[_Found], list[tuple[int, int]], str, list[tuple[str, str]]]:
        """Agencies an English question names: the phrase around a place (pinyin) or an organ head word."""
        blanked = _EN_SUBJECT.sub(lambda m: " " * len(m.group()), text).replace("'", " ")
        located = list(re.finditer(r"[a-z]+", blanked))
        words = [m.group() for m in located]
        stems = [(en_tokens(w) or [w])[0] for w in words]
        places = self._english_places(words)
        heads = [j for j, s in enumerate(stems) if s in _EN_HEADS or words[j] in self._acronyms]
        found: list[_Found] = []
        spans: list[tuple[int, int]] = []
        misprints: list[tuple[str, str]] = []
        unknown = ""
        for a, b in _phrases(stems, heads, {i for p in places for i in range(p[0], p[1])}):
            where = (located[a].start(), located[b - 1].end())
            named = [p for p in places if a <= p[0] and p[1] <= b]
            place_words = {k for p in named for k in range(p[0], p[1])}
            asked = {stems[k] for k in range(a, b) if k not in place_words and stems[k] in _ENGLISH_VOCABULARY}
            asked |= {words[k] for k in range(a, b) if words[k] in self._acronyms}
            asked -= _EN_WEAK
            if not named and not asked:
                continue
            said = {stems[k] for k in range(a, b)}
            place_only = not asked and not said & _EN_ORGAN_HEADS
            near = any(p[3] for p in named)
            best = self._english_best([p[2] for p in named], asked, said, place_only)
            if not best and named and not near:
                # Suining asked where 睢宁县人民政府 is printed right and 雎宁县行政审批局 misprinted.
                best = self._english_best([self._near_english(words[p[0]]) for p in named], asked, said,
                                          place_only)
                near = bool(best)
            if best:
                found.append((where[0], best, place_only))
                spans.append(where)
                if near and len(best) == 1:  # Bozhou asked, 毫州市教育局 printed
                    misprints += [(words[p[0]], best[0]) for p in named]
            else:
                unknown = unknown or " ".join(words[a:b])
        return found, spans, unknown, misprints

    def _english_best(self, owners: list[dict[str, bool]], asked: set[str], said: set[str],
                      place_only: bool) -> tuple[str, ...]:
        """The agencies an English phrase fits best, given its places' owners: a place alone means the place's
        own government; otherwise the organ words decide."""
        pool = _narrowed([set(o) for o in owners]) if owners else set(self.entries)
        if place_only:
            return _best(dict.fromkeys((x for x in pool if any(o.get(x) for o in owners)
                                        and self.entries[x].government), 1))
        return _best(self._scores(pool, asked, said))

    def _scores(self, pool: set[str], asked: set[str], said: set[str]) -> dict[str, int]:
        """How well each agency of `pool` fits an English phrase: every organ word asked must be its own."""
        return {x: 10 * len(asked & e.en_words) + len(said & (e.en_heads | e.en_words))
                for x in pool if not asked - (e := self.entries[x]).en_words - e.en_heads}

    def _near_english(self, word: str) -> dict[str, bool]:
        """Agencies of the stored places whose pinyin is one syllable off `word` and rare in the dictionary, each
        with whether that place is its last."""
        return {x: x in self._english_last.get(key, set())
                for place, syllables in self._syllables.items()
                if _one_syllable_off(word, syllables) and _jieba_frequency(place) < _COMMON_NAME
                for key in ["".join(syllables)] for x in self._english[key]}

    def _english_places(self, words: list[str]) -> list[tuple[int, int, dict[str, bool], bool]]:
        """(first word, end word, agency → whether it is their last place, near) of each place an English
        question names by pinyin or exonym; when none, the places one syllable off a rare stored one (Shuyang
        for 沐阳), near."""
        places: list[tuple[int, int, dict[str, bool], bool]] = []
        i = 0
        while i < len(words):
            for n in (n for n in (3, 2, 1) if i + n <= len(words)):
                key = next((k for k in ("".join(words[i:i + n]), " ".join(words[i:i + n])) if k in self._english),
                           None)
                if key:
                    last = self._english_last.get(key, set())
                    places.append((i, i + n, {x: x in last for x in self._english[key]}, False))
                    i += n - 1
                    break
            i += 1
        if places:
            return places
        # A misspelt place is read only where a name goes on after it (Nanchong Municipal …, Shuyang County):
        # "change", "than" and "yuan" are one syllable off a place too.
        named = [k for k in range(len(words) - 1)
                 if (en_tokens(words[k + 1]) or [""])[0] in _ENGLISH_VOCABULARY
                 or (words[k + 1] == "s" and k + 2 < len(words)
                     and (en_tokens(words[k + 2]) or [""])[0] in _ENGLISH_VOCABULARY)]
        return [(i, i + 1, near, True) for i in named if (near := self._near_english(words[i]))]


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
        while a > 0 and a - 1 not in place_words and (stems[a - 1] in _ENGLISH_VOCABULARY or (
                stems[a - 1] in ("and", "&", "s") and a - 2 not in place_words)):
            a -= 1
        while a > 0 and (a - 1 in place_words or (stems[a - 1] == "s" and a - 2 in place_words)):
            a -= 1
        b = h + 1
        while b < n and stems[b] in ("of", "for"):  # Department of Education, Administration for Market Regulation
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


_MAX_SPELLINGS = 16


def _spellings(place: str) -> set[str]:
    """The pinyin of a place name in every reading of its characters (三都澳: sanduao, not only sandouao), up to
    _MAX_SPELLINGS, the usual reading first among them."""
    readings = [sorted(_readings(char)) for char in place]
    spellings = {_pinyin(place)}
    if prod(len(r) for r in readings) <= _MAX_SPELLINGS:
        spellings |= {"".join(p) for p in product(*readings)}
    return spellings


def _narrowed(places: list[set[str]]) -> set[str]:
    """Agencies of every named place (one at least), the last named first; a place none of them has is a parent
    the stored names leave out (江西 in 江西赣州市场监管局 for 赣州市市场监督管理局), not a contradiction."""
    pool = set(places[-1])
    for owners in reversed(places[:-1]):
        if pool & owners:
            pool &= owners
    return pool


def _place_before(text: str) -> str:
    """The place-like word that ends `text` (辽宇省 in 2023年辽宇省), shortest first, "" when none."""
    text = text.removesuffix("的")
    for size in range(3, 9):
        word = text[-size:]
        if len(word) == size and level(word) and len(stem(word)) >= 2 and parse_name(word).places == (word,):
            return word
    return ""


def _organ_after(text: str, at: int) -> str:
    """An organ-like word right after position `at` (卫健委 in 平潭卫健委2023年), "" when none: its head must end a
    word (处 in 行政处罚 is no 处), as jieba segments the text."""
    m = _ORGAN_LIKE.match(text, at)
    if not m:
        return ""
    ends = set(accumulate(len(w) for w in _jieba_cut(text[at:])))
    organ = m.group().removeprefix("的")
    if organ[:1] in "和与及、，,比较" or parse_name(organ).places:
        return ""  # the next name of a list or comparison (寿县和寿县教育局, 余杭比余杭区教育局), not its organ
    body = split_organ(organ)[0]
    # The body must be an organ's (its vocabulary words, or a short form of one): 本年新收政府 is none.
    known = not body or vocabulary_in(body) or expand_organ(organ) != organ
    return m.group() if m.end() - at in ends and known else ""


@cache
def _jieba_cut(text: str) -> tuple[str, ...]:
    return tuple(segmenter().cut(text))


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


def _halves(text: str) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    """Keys of `text` in a near-name index: a name one character off another shares its first or its second half
    with it, so two lookups find every candidate."""
    half = len(text) // 2
    return (len(text), "L", text[:half]), (len(text), "R", text[half:])


def _one_place_off(asked: str, printed: str, within: int) -> bool:
    """Exactly one character different, among the first `within` characters."""
    diffs = [i for i, (a, b) in enumerate(zip(asked, printed, strict=True)) if a != b]
    return len(diffs) == 1 and diffs[0] < within


def _one_off(asked: str, printed: str) -> bool:
    """Same length, one character different, and not two real names (see `_may_be_misprint`)."""
    return (len(asked) == len(printed) and sum(a != b for a, b in zip(asked, printed, strict=True)) == 1
            and _may_be_misprint(asked, printed))


def _homophones(asked: str, printed: dict[str, str]) -> set[str]:
    """Of several near names, those that can sound like the asked one (a typist's slip is a homophone: 琢州 for
    涿州, not 泉州); all of them when none does."""
    same = {a for a, name in printed.items()
            if all(_readings(x) & _readings(y) for x, y in zip(asked, name, strict=True))}
    return same or set(printed)


@cache
def _readings(char: str) -> frozenset[str]:
    """Every pinyin reading of a character (琢: zhuo and zuo)."""
    return frozenset(pinyin(char, style=Style.NORMAL, heteronym=True)[0])


def _may_be_misprint(asked: str, printed: str) -> bool:
    """Two names one character apart are one name misprinted unless both are common words (two real places)."""
    at = next(i for i, (a, b) in enumerate(zip(asked, printed, strict=True)) if a != b)
    words = [_word_around(name, at) for name in (asked, printed)]
    return min(_jieba_frequency(w) for w in words) < _COMMON_NAME


@lru_cache(maxsize=1 << 16)  # the same near names come up for question after question
def _word_around(name: str, at: int) -> str:
    """The place stem that holds position `at` (沭阳县人民政府, 0 → 沭阳)."""
    parsed = parse_name(name)
    pos = 0
    for place in parsed.places:
        if pos <= at < pos + len(place):
            return stem(place) if len(stem(place)) >= 2 else place  # 寺县, not 寺: one character is any word
        pos += len(place)
    return name


@cache
def _jieba_frequency(word: str) -> int:
    return segmenter().dt.FREQ.get(word, 0)


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
