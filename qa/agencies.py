"""Which agencies a question names, matched against the agencies in the store.

Aliases are derived from the structure of Chinese agency names — a chain of places (淮安市 › 洪泽区)
followed by an organ (人民政府, 住房和城乡建设厅, 科学技术委员会) — never listed per agency: places
lose their admin suffix (洪泽区 → 洪泽), organs get their usual abbreviations (住建厅, 科委, 政府), and
English questions match places by pinyin (pypinyin) or exonym and organs by a small gazetteer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import product

from pypinyin import lazy_pinyin

from ingest.normalize import fold

# Admin-division suffixes, longest first so 自治区 wins over 区.
_PLACE_SUFFIXES = ("特别行政区", "综合实验区", "自治区", "自治州", "自治县", "实验区", "开发区", "新区", "地区",
                   "省", "市", "州", "盟", "区", "县", "旗")
# A stem of two or more characters first (常州市, not 常 + 州), then one-character county names (沛县).
_PLACE = re.compile(r"[\u4e00-\u9fff]{2,7}?(?:" + "|".join(_PLACE_SUFFIXES) + r")|[\u4e00-\u9fff](?:县|市|区|旗)")
# First characters that make a word, not a place, of stem + suffix (城市, 社区, 全市, 本区 …).
_NOT_PLACE_STARTS = frozenset("城都社园景辖市本全各该我每此其郊片街校老新两三多年月日的在和与及是对从向到")

# Abbreviations of organ words, applied independently (住房和城乡建设厅 → 住建厅 / 住房城乡建设厅).
_ORGAN_ABBREVIATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("人民政府办公厅", ("政府办公厅", "政府办", "府办")),
    ("人民政府办公室", ("政府办公室", "政府办", "府办")),
    ("人民政府", ("政府",)),
    ("住房和城乡建设", ("住建", "住房城乡建设")),
    ("科学技术委员会", ("科委", "科技委员会", "科技委")),
    ("科学技术", ("科技",)),
    ("发展和改革委员会", ("发改委", "发展改革委")),
    ("人力资源和社会保障", ("人社", "人力资源社会保障")),
    ("市场监督管理", ("市场监管",)),
    ("卫生健康委员会", ("卫健委", "卫生健康委")),
    ("文化和旅游", ("文旅", "文化旅游")),
    ("生态环境", ("环保", "环境保护")),  # the bureau's name before the 2018 reform
    ("交通运输", ("交通",)),
    ("农业农村", ("农业",)),
    ("应急管理", ("应急",)),
    ("医疗保障", ("医保",)),
    ("委员会", ("委",)),
    ("办公室", ("办",)),
)
_ORGAN_FORMS = frozenset(form for long, shorts in _ORGAN_ABBREVIATIONS for form in (long, *shorts))
# An organ named right after a place (北京市公安局): specific endings only, since 委/办 end many words.
_ORGAN_AFTER_PLACE = re.compile(r"^的?(?:人民政府办公厅|人民政府|政府|办公厅|[\u4e00-\u9fff]{1,8}?(?:委员会|厅|局))")

# Organ words in English (a small gazetteer). Generic words only break ties between the agencies of
# one place; a distinctive word that none of them has means an agency the store does not hold.
_ORGAN_EN: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("人民政府", ("government",)),
    ("办公厅", ("office", "general")),
    ("办公室", ("office",)),
    ("住房和城乡建设", ("housing", "urban", "rural", "construction")),
    ("科学技术", ("science", "technology")),
    ("委员会", ("commission", "committee")),
    ("发展和改革", ("development", "reform")),
    ("公安", ("police", "security")),
    ("教育", ("education",)),
    ("财政", ("finance",)),
    ("民政", ("civil",)),
    ("司法", ("justice",)),
    ("商务", ("commerce",)),
    ("水利", ("water",)),
    ("交通运输", ("transport", "transportation")),
    ("生态环境", ("ecology", "environment", "environmental")),
    ("自然资源", ("resources",)),
    ("卫生健康", ("health",)),
    ("市场监督管理", ("market",)),
    ("人力资源和社会保障", ("labor", "labour")),
    ("农业农村", ("agriculture", "agricultural")),
    ("税务", ("tax", "taxation")),
    ("统计", ("statistics",)),
    ("审计", ("audit",)),
    ("厅", ("department",)),
    ("局", ("bureau",)),
)
_GENERIC_EN = frozenset({"government", "office", "general", "department", "bureau", "commission", "committee"})
_DISTINCTIVE_EN = frozenset(w for _, words in _ORGAN_EN for w in words) - _GENERIC_EN
# Places whose usual English name is not their pinyin.
_EXONYMS = {"西藏": ("tibet",), "内蒙古": ("inner mongolia",), "香港": ("hong kong",), "澳门": ("macau", "macao")}
# English admin words that follow a place name; "Xyz District" with an unknown Xyz names an absent agency.
_ADMIN_EN = re.compile(r"\b([a-z]+(?:[ '-][a-z]+)?) (?:district|county|city|province|prefecture|autonomous region)\b")
# "Guangzhou Public Security Bureau": a name before an organ word, when no place of the store matched.
_AGENCY_EN = re.compile(
    r"\b(?!the\b|a\b|an\b|this\b|its\b)[a-z]+(?: [a-z]+){0,3} (?:bureau|department|commission|committee)\b"
)


@dataclass(frozen=True)
class AgencyName:
    """An agency name split into its chain of places and its organ."""

    name: str
    places: tuple[str, ...]
    organ: str

    @property
    def is_government(self) -> bool:
        """A bare place name means this agency (平潭综合实验区, 沭阳县人民政府)."""
        return self.organ in ("", "人民政府")

    @property
    def organ_variants(self) -> frozenset[str]:
        return frozenset(_organ_variants(self.organ))

    @property
    def organ_words_en(self) -> frozenset[str]:
        return frozenset(w for zh, words in _ORGAN_EN if zh in self.organ for w in words)


def parse_name(name: str) -> AgencyName:
    """Split 淮安市洪泽区人民政府 into places (淮安市, 洪泽区) and organ 人民政府."""
    places: list[str] = []
    rest = name
    while (match := _PLACE.match(rest)) and match.group()[0] not in _NOT_PLACE_STARTS:
        places.append(match.group())
        rest = rest[match.end():]
    return AgencyName(name, tuple(places), rest)


def _stem(place: str) -> str:
    suffix = next(s for s in _PLACE_SUFFIXES if place.endswith(s))
    return place[: -len(suffix)]


def _place_variants(place: str) -> set[str]:
    """洪泽区 → {洪泽区, 洪泽}; 平潭综合实验区 → {平潭综合实验区, 平潭实验区, 平潭}."""
    variants = {place}
    stem = _stem(place)
    if len(stem) >= 2:
        variants.add(stem)
        if place.endswith("综合实验区"):
            variants.add(stem + "实验区")
    return variants


def _organ_variants(organ: str) -> set[str]:
    variants = {organ} if organ else set()
    # A store name that is itself short (上海市科委) is also asked for by its full name (科学技术委员会);
    # one-character shorts (委, 办) end too many words to expand.
    for long, shorts in _ORGAN_ABBREVIATIONS:
        variants |= {v.replace(s, long) for v in variants for s in shorts if len(s) > 1 and _short_in(s, v)}
    for long, shorts in _ORGAN_ABBREVIATIONS:
        variants |= {v.replace(long, short) for v in variants if long in v for short in shorts}
    # 住建厅 → 住建: the organ is also said without its 厅/局.
    variants |= {v[:-1] for v in variants if len(v) >= 3 and v[-1] in "厅局"}
    return variants


def _short_in(short: str, organ: str) -> bool:
    """`short` stands in `organ` as an abbreviation, not as part of a longer form (政府 in 人民政府办公厅,
    府办 in 政府办)."""
    return short in organ and not any(short in f and f != short and f in organ for f in _ORGAN_FORMS)


def _pinyin(text: str) -> str:
    return "".join(lazy_pinyin(text)).lower()


@dataclass(frozen=True)
class AgencyMatch:
    """What a question says about agencies."""

    agencies: tuple[str, ...] = ()  # named without doubt, in the order the question names them
    candidates: tuple[str, ...] = ()  # one mention that fits several agencies: ask which
    unknown: str = ""  # a mention of an agency the store does not hold
    spans: tuple[tuple[int, int], ...] = ()  # where the names are in the normalized question


class AgencyIndex:
    """Alias index over the agencies of a store (rebuild when the store changes)."""

    def __init__(self, agencies: Iterable[str]) -> None:
        self.names = {a: parse_name(fold(a)) for a in agencies}
        self._full: dict[str, set[str]] = {}  # place chain + organ variants → agencies
        self._places: dict[str, set[str]] = {}  # last place (optionally with a parent) → agencies
        self._english: dict[str, set[str]] = {}  # pinyin or exonym of the last place → agencies
        for agency, parsed in self.names.items():
            self._add(agency, parsed)

    def _add(self, agency: str, parsed: AgencyName) -> None:
        self._full.setdefault(parsed.name, set()).add(agency)
        if not parsed.places:
            return
        *parents, last = parsed.places
        prefixes = {""} | {"".join(p) for p in product(*(sorted(_place_variants(x)) for x in parents))}
        if parents:
            prefixes |= _place_variants(parents[-1])
        for prefix, place in product(prefixes, _place_variants(last)):
            self._places.setdefault(prefix + place, set()).add(agency)
            for organ in parsed.organ_variants:
                self._full.setdefault(prefix + place + organ, set()).add(agency)
        stem = _stem(last)
        for key in (_pinyin(stem), *_EXONYMS.get(stem, ())):
            self._english.setdefault(key, set()).add(agency)

    def match(self, question: str) -> AgencyMatch:
        """Agencies named in `question`, Chinese or English."""
        text = fold(question)
        found: list[tuple[int, tuple[str, ...]]] = []
        spans: list[tuple[int, int]] = []
        unknown = ""
        for start, end, alias in _longest_matches(text, self._full, []):
            found.append((start, tuple(sorted(self._full[alias]))))
            spans.append((start, end))
        for start, end, alias in _longest_matches(text, self._places, spans):
            organ = _ORGAN_AFTER_PLACE.match(text[end:])
            group = self._by_organ_zh(self._places[alias], text, organ.group().removeprefix("的") if organ else "")
            if group:
                found.append((start, group))
                spans.append((start, end))
            else:
                unknown = unknown or alias + organ.group()
        if not found and not unknown:
            found, unknown = self._match_english(text)
        found.sort()
        agencies = tuple(dict.fromkeys(group[0] for _, group in found if len(group) == 1))
        candidates = next((group for _, group in found if len(group) > 1), ())
        if not found and not unknown:
            unknown = _unknown_place(text)
        return AgencyMatch(agencies, candidates, unknown, tuple(spans))

    def aliases_in(self, question: str, agency: str) -> list[str]:
        """The names of `agency` a question uses (西藏住建厅), so their words are not taken for its topic."""
        text = fold(question)
        return [a for aliases in (self._full, self._places) for a, owners in aliases.items()
                if agency in owners and a in text]

    def _by_organ_zh(self, agencies: set[str], text: str, organ_after: str) -> tuple[str, ...]:
        """Choose among the agencies of one place: by the organ named right after it, else anywhere."""
        if organ_after:
            return tuple(sorted(a for a in agencies if organ_after in self.names[a].organ_variants))
        scoped = text.replace("政府信息", "")
        named = {a for a in agencies if any(v in scoped for v in self.names[a].organ_variants)}
        government = {a for a in agencies if self.names[a].is_government}
        return tuple(sorted(named or government or agencies))

    def _match_english(self, text: str) -> tuple[list[tuple[int, tuple[str, ...]]], str]:
        words = re.findall(r"[a-z]+", re.sub(r"'s\b", " ", text).replace("'", ""))
        found: list[tuple[int, tuple[str, ...]]] = []
        i = 0
        while i < len(words):
            for n in (3, 2, 1):
                piece = words[i: i + n]
                agencies = self._english.get("".join(piece)) or self._english.get(" ".join(piece))
                if agencies:
                    found.append((i, self._by_organ_en(agencies, set(words))))
                    i += n - 1
                    break
            i += 1
        unknown = ""
        if any(not group for _, group in found):
            unknown = " ".join(words)
        elif not found and (m := _ADMIN_EN.search(text) or _AGENCY_EN.search(text)):
            unknown = m.group()
        return [(i, g) for i, g in found if g], unknown

    def _by_organ_en(self, agencies: set[str], said: set[str]) -> tuple[str, ...]:
        asked = said & _DISTINCTIVE_EN
        words = {a: self.names[a].organ_words_en for a in agencies}
        if asked:
            scores = {a: len(asked & w) for a, w in words.items()}
        else:
            scores = {a: len(said & _GENERIC_EN & w) for a, w in words.items()}
            if not any(scores.values()):
                government = {a for a in agencies if self.names[a].is_government}
                return tuple(sorted(government or agencies))
        best = max(scores.values())
        return tuple(sorted(a for a, s in scores.items() if s == best and s > 0))


def _longest_matches(text: str, aliases: dict[str, set[str]], taken: list[tuple[int, int]]):
    """Non-overlapping occurrences of aliases in text, longest alias first, in text order."""
    occupied = list(taken)
    hits: list[tuple[int, int, str]] = []
    # A substring test first: a store of many agencies has tens of thousands of aliases, and a question
    # holds one or two of them (a regex per alias made fact answers grow with the corpus).
    for alias in sorted((a for a in aliases if len(a) >= 2 and a in text), key=len, reverse=True):
        start = text.find(alias)
        while start != -1:
            end = start + len(alias)
            if not any(s < end and start < e for s, e in occupied):
                occupied.append((start, end))
                hits.append((start, end, alias))
            start = text.find(alias, start + 1)
    return sorted(hits)


def _unknown_place(text: str) -> str:
    """A place-like word (北京市, 朝阳区) in a question that matched no agency: one the store lacks."""
    for m in _PLACE.finditer(text):
        place = m.group()
        if len(_stem(place)) >= 2 and place[0] not in _NOT_PLACE_STARTS:
            organ = _ORGAN_AFTER_PLACE.match(text[m.end():])
            return place + (organ.group() if organ else "")
    return ""
