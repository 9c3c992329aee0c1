"""The structure of Chinese agency names, shared by ingest (who a report is about) and qa (who a question means).

An agency name is a chain of places followed by an organ (机关): 淮安市 › 洪泽区 › 人民政府, 河北省 › 教育厅,
平潭综合实验区 › 金井片区 › 管理局. An organ is a body of words and a head (局, 厅, 委员会, 办公室, 人民政府 …).

People shorten names by rules, not by lists (机构简称): a place loses its level (洪泽区 → 洪泽, 平潭综合实验区 →
平潭实验区 → 平潭); an organ keeps each word of its body whole, by its first character, or not at all, in order
(发展和改革局 → 发改局, 住房和城乡建设厅 → 住建厅, 人力资源和社会保障局 → 人社局, 市场监督管理局 → 市场监管局,
科学技术委员会 → 科委), and its head has short forms of its own (委员会 → 委, 办公室 → 办). `organ_forms` derives
them; the few irregular forms (生态环境 → 环保) are the small curated table below.

The organ vocabulary (`ORGAN_WORDS`) is a bounded list — the bodies of the organs Chinese governments set up, with
their usual English words — so an agency added tomorrow is named in English too: its organ is read as the
vocabulary words it holds, its places by pinyin.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import product, takewhile

# Levels of the places a name starts with, longest first (自治区 before 区). 片区 and 街道 are areas within a
# district that have their own administration (片区管理局, 街道办事处).
PLACE_LEVELS = ("特别行政区", "自由贸易试验区", "综合实验区", "经济技术开发区", "高新技术产业开发区",
                "经济开发区", "新技术开发区", "综合保税区", "旅游度假区", "工业园区", "产业园区", "自治区",
                "自治州", "自治县", "实验区", "试验区", "开发区", "示范区", "高新区", "保税区", "度假区",
                "管理区", "新区", "地区", "片区", "街道", "省", "市", "州", "盟", "区", "县", "旗", "镇", "乡")
_HAN = "\u4e00-\u9fff"
# A stem of two or more characters first (常州市, not 常 + 州), then one-character county names (沛县).
_PLACE = re.compile(rf"[{_HAN}]{{2,7}}?(?:{'|'.join(PLACE_LEVELS)})|[{_HAN}](?:县|市|区|旗)")
# First characters that make a word, not a place, of stem + level (城市, 社区, 全市, 本区, 园区 …).
_NOT_PLACE_STARTS = frozenset("城都社园景辖市本全各该我每此其郊片街校老新两三多年月日的在和与及是对从向到")
# Levels that a place may drop only when its stem stays at least two characters (平潭综合实验区 → 平潭实验区 →
# 平潭); the ones a short form keeps say what kind of area it is.
# Levels of areas set up inside a city and often named after it (青岛西海岸新区): not 自治州, 地区, 街道.
_ZONE_LEVELS = frozenset(PLACE_LEVELS[1:PLACE_LEVELS.index("自治区")]) | {
    "实验区", "试验区", "开发区", "示范区", "高新区", "保税区", "度假区", "新区"}
_LEVEL_SHORT = {"综合实验区": ("实验区",), "经济技术开发区": ("经开区", "经济开发区", "开发区"),
                "高新技术产业开发区": ("高新区", "高新技术开发区"),
                "新技术开发区": ("高新区",),
                "经济开发区": ("经开区", "开发区"), "自由贸易试验区": ("自贸区", "自贸试验区"),
                "综合保税区": ("综保区",), "工业园区": ("园区",), "产业园区": ("园区",), "旅游度假区": ("度假区",)}

# The 55 minority nationalities, by which autonomous areas are named after their place (广西壮族自治区,
# 恩施土家族苗族自治州): a closed national list, like the levels; people drop them (广西, 恩施州, Guangxi).
_NATIONALITIES = tuple(sorted((
    "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗",
    "瑶", "白", "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山",
    "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌",
    "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克",
    "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙", "鄂伦春",
    "赫哲", "门巴", "珞巴", "基诺",
), key=len, reverse=True))
_AUTONOMOUS_SHORT = {"自治区": ("自治区",), "自治州": ("自治州", "州"), "自治县": ("自治县", "县")}

# Heads of organs, longest first, with the short forms people write. The place's own government has no body.
ORGAN_HEADS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("人民政府办公厅", ("政府办公厅", "政府办", "府办")),
    ("人民政府办公室", ("政府办公室", "政府办", "府办")),
    ("管理委员会办公室", ("管委会办公室", "管委办")),
    ("人民政府", ("政府",)),
    ("管理委员会", ("管委会", "管委")),
    ("委员会", ("委",)),
    ("办公厅", ("办",)),
    ("办公室", ("办",)),
    ("办事处", ("办",)),
    ("中心", ()),
    ("厅", ()),
    ("局", ()),
    ("委", ()),
    ("办", ()),
    ("署", ()),
    ("院", ()),
    ("处", ()),
)
# Heads that make an organ the place's own government: a question naming only the place means it.
GOVERNMENT_HEADS = frozenset({"", "人民政府", "政府", "管理委员会", "管委会"})
# Words of a body that abbreviations drop freely and that name nothing on their own.
_GENERIC = frozenset({"行政", "综合", "地方", "管理", "事务", "监督", "服务", "工作", "城乡"})
_CONJUNCTIONS = ("和", "与", "及")
# Irregular short forms (not derivable word by word), body → forms.
_IRREGULAR = {"生态环境": ("环保", "环境保护"), "管理委员会": ("管委会", "管委"), "广播电视": ("广电",)}

# Organ bodies and the English words that name them: the usual English name, then after ";" other words people say.
ORGAN_WORDS: dict[str, str] = {
    "发展和改革": "development reform",
    "工业和信息化": "industry information technology",
    "经济和信息化": "economy information technology; economic",
    "教育": "education",
    "科学技术": "science technology; sci tech",
    "公安": "public security; police",
    "民政": "civil affairs",
    "司法": "justice; judicial",
    "财政": "finance",
    "人力资源和社会保障": "human resources social security; labour labor",
    "自然资源": "natural resources",
    "自然资源和规划": "natural resources planning",
    "规划": "planning",
    "生态环境": "ecology environment; ecological environmental",
    "环境保护": "environmental protection",
    "住房和城乡建设": "housing urban rural development; construction",
    "城乡建设": "urban rural construction",
    "交通运输": "transport transportation",
    "交通": "transport; transportation traffic",
    "建设": "construction",
    "水利": "water resources; conservancy",
    "水务": "water affairs",
    "农业农村": "agriculture rural affairs; agricultural",
    "农业": "agriculture agricultural",
    "林业": "forestry",
    "海洋": "ocean; marine",
    "渔业": "fisheries; fishery",
    "商务": "commerce",
    "文化和旅游": "culture tourism",
    "文化广电和旅游": "culture radio television tourism",
    "文化": "culture",
    "旅游": "tourism",
    "体育": "sports; sport",
    "卫生健康": "health",
    "卫生": "health",
    "退役军人事务": "veterans affairs; veteran",
    "应急管理": "emergency management",
    "应急": "emergency",
    "审计": "audit",
    "统计": "statistics",
    "市场监督管理": "market supervision; regulation regulatory regulator",
    "国有资产监督管理": "state owned assets",
    "医疗保障": "healthcare security; medical insurance",
    "广播电视": "radio television",
    "新闻出版": "press publication",
    "信访": "letters visits; petition petitions",
    "行政审批": "administrative approval",
    "审批": "approval",
    "政务服务": "government services",
    "政务服务和大数据管理": "government services big data",
    "大数据": "big data",
    "数据": "data",
    "投资促进": "investment promotion",
    "招商": "investment attraction",
    "经济发展": "economic development",
    "城市管理": "urban management",
    "综合行政执法": "comprehensive law enforcement",
    "综合执法": "comprehensive law enforcement",
    "执法": "law enforcement",
    "民族宗教事务": "ethnic religious affairs",
    "民族事务": "ethnic affairs",
    "外事": "foreign affairs",
    "人民防空": "civil air defense defence",
    "地方金融监督管理": "local financial regulatory finance",
    "金融": "financial",
    "粮食和物资储备": "grain material reserves",
    "机关事务": "government offices affairs",
    "社会事业": "social affairs undertakings",
    "气象": "meteorology; meteorological",
    "地震": "earthquake; seismological",
    "档案": "archives",
    "知识产权": "intellectual property",
    "药品监督管理": "drug medical products",
    "税务": "taxation; tax",
    "海关": "customs",
    "乡村振兴": "rural revitalization",
    "营商环境": "business environment",
    "侨务": "overseas chinese",
    "台湾事务": "taiwan affairs",
    "港澳事务": "hong kong macao affairs",
    "供销合作": "supply marketing cooperative",
    "国防动员": "national defense mobilization",
    "住房公积金": "housing provident fund",
    "园林": "landscaping gardens",
    "口岸": "port",
    "港口": "port",
    "研究": "research",
    "政策研究": "policy research",
}
# English words of heads and levels (`head` or level → words).
HEAD_WORDS: dict[str, str] = {
    "人民政府办公厅": "general office government",
    "人民政府办公室": "general office government",
    "管理委员会办公室": "office management committee",
    "人民政府": "government people's",
    "管理委员会": "management administrative committee commission administration",
    "委员会": "commission committee",
    "办公厅": "general office",
    "办公室": "office",
    "办事处": "office subdistrict",
    "中心": "center centre",
    "厅": "department",
    "局": "bureau administration",
    "委": "commission committee",
    "办": "office",
    "署": "administration",
    "院": "institute academy",
    "处": "division office",
}
LEVEL_WORDS: dict[str, str] = {
    "省": "province provincial",
    "自治区": "autonomous region regional",
    "市": "city municipal municipality",
    "州": "prefecture",
    "自治州": "autonomous prefecture",
    "区": "district",
    "县": "county",
    "自治县": "autonomous county",
    "旗": "banner",
    "盟": "league",
    "镇": "town",
    "乡": "township",
    "街道": "subdistrict street",
    "片区": "area",
    "新区": "new area district",
    "开发区": "development zone",
    "经济技术开发区": "economic technological development zone",
    "高新技术产业开发区": "high tech zone",
    "高新区": "high tech zone",
    "新技术开发区": "high tech zone",
    "实验区": "experimental pilot zone",
    "自由贸易试验区": "pilot free trade zone",
    "经济开发区": "economic development zone",
    "综合保税区": "comprehensive bonded zone",
    "保税区": "bonded zone",
    "工业园区": "industrial park",
    "产业园区": "industrial park",
    "旅游度假区": "tourist resort",
    "度假区": "resort",
    "试验区": "pilot zone",
    "管理区": "administrative area",
    "综合实验区": "comprehensive experimental pilot zone",
    "示范区": "demonstration zone",
    "特别行政区": "special administrative region",
    "地区": "prefecture region",
}


@dataclass(frozen=True)
class AgencyName:
    """An agency name split into its chain of places and its organ (head and body)."""

    name: str
    places: tuple[str, ...]
    organ: str

    @property
    def head(self) -> str:
        return split_organ(self.organ)[1]

    @property
    def body(self) -> str:
        return split_organ(self.organ)[0]

    @property
    def is_government(self) -> bool:
        """A question naming only the place means this agency (沭阳县人民政府, 平潭综合实验区管理委员会)."""
        return self.organ in GOVERNMENT_HEADS or (not self.body and self.head in GOVERNMENT_HEADS)


def parse_name(name: str) -> AgencyName:
    """Split 淮安市洪泽区人民政府 into places (淮安市, 洪泽区) and organ 人民政府."""
    places: list[str] = []
    rest = name
    while (match := _PLACE.match(rest)) and (_may_be_place(match.group()) or _named_by_what_follows(
            match.group(), rest[match.end():])):
        places.append(match.group())
        rest = rest[match.end():]
    return AgencyName(name, tuple(places), rest)


def _named_by_what_follows(place: str, after: str) -> bool:
    """A place that starts like a word (新会区, 和平区, 全椒县, 市中区, jieba knowing none of them as places) is
    one where an organ or another place follows it: in a name, stem + level before 教育局 can only be a place.
    Not when the stem goes on with a level (各县区, 全市各区): that is a phrase about places."""
    body = stem(place)[1:]
    if not body or any(c in body for c in _CONJUNCTIONS) or set(body) & set("省市县区"):
        return False
    following = parse_name(after)
    return bool(following.places) or known_organ(following.organ)


def _may_be_place(place: str) -> bool:
    """Not a word that only ends like a place (全市, 社区), unless jieba knows it as one (三明市, 新疆维吾尔自治区)."""
    if any(c in place for c in _CONJUNCTIONS):
        return False
    if place[0] not in _NOT_PLACE_STARTS:
        return True
    return len(stem(place)) >= 2 and _word_tags().get(place) == "ns"


def split_organ(organ: str) -> tuple[str, str]:
    """(body, head): 住房和城乡建设厅 → (住房和城乡建设, 厅); 人民政府 → ("", 人民政府)."""
    for head, _ in ORGAN_HEADS:
        if organ.endswith(head):
            return organ[: -len(head)], head
    return organ, ""


def level(place: str) -> str:
    return next((s for s in PLACE_LEVELS if place.endswith(s)), "")


def stem(place: str) -> str:
    """洪泽区 → 洪泽; 平潭综合实验区 → 平潭."""
    return place[: len(place) - len(level(place))]


def area_name(place: str) -> str:
    """The place's own name: its stem, without the nationalities an autonomous area is also named by
    (广西壮族自治区 → 广西, 恩施土家族苗族自治州 → 恩施, 新疆维吾尔自治区 → 新疆; 内蒙古自治区 stays 内蒙古)."""
    base = stem(place)
    if not level(place).startswith("自治"):
        return base
    while end := next((e for n in _NATIONALITIES for e in (n + "族", n) if base.endswith(e)
                       and len(base) - len(e) >= 2), ""):
        base = base[: -len(end)]
    return base


def place_forms(place: str) -> set[str]:
    """洪泽区 → {洪泽区, 洪泽}; 平潭综合实验区 → {平潭综合实验区, 平潭实验区, 平潭}; 青岛西海岸新区 also as
    西海岸新区; 延边朝鲜族自治州 also as 延边, 延边州, 延边自治州."""
    forms = {place}
    base = stem(place)
    if len(base) >= 2:
        forms.add(base)
        forms |= {base + short for short in _LEVEL_SHORT.get(level(place), ())}
    if (area := area_name(place)) != base:
        forms |= {area, *(area + short for short in _AUTONOMOUS_SHORT[level(place)])}
    if zone := without_city(place):
        forms |= place_forms(zone)
    return forms


def without_city(place: str) -> str:
    """A zone named after its city without the city (青岛西海岸新区 → 西海岸新区, 大连金普新区 → 金普新区), as people
    call it; "" for other places. The city is the longest start of the stem that jieba knows as a place name,
    alone or with 市 (大连 alone is tagged an adverb), and at least two characters of the zone's own name must
    follow it."""
    if level(place) not in _ZONE_LEVELS:
        return ""
    base, tags = stem(place), _word_tags()
    size = next((n for n in range(len(base) - 2, 1, -1) if "ns" in (tags.get(base[:n]), tags.get(base[:n] + "市"))), 0)
    return place[size:] if size else ""


def head_forms(head: str) -> tuple[str, ...]:
    return (head, *next((shorts for h, shorts in ORGAN_HEADS if h == head), ()))


@cache
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


@cache
def units(body: str) -> tuple[str, ...]:
    """The words an abbreviation takes characters from: jieba's words, four-character words cut in two
    (科学技术 → 科学 技术: 科委 keeps 科 of the first), conjunctions kept as their own units."""
    out: list[str] = []
    for word in _jieba().cut(body, HMM=False):
        if len(word) >= 4 and len(word) % 2 == 0:
            out += [word[i : i + 2] for i in range(0, len(word), 2)]
        else:
            out.append(word)
    return tuple(out)


_ONE_CHARACTER_HEADS = ("委", "办")
_MAX_UNITS = 6  # more units than this: no skipping (the forms would explode and nobody shortens that far)


@cache
def body_forms(body: str) -> frozenset[str]:
    """Every short form of an organ body: each unit whole, by its first character, or left out, in order;
    conjunctions dropped (or kept, or swapped 和↔与, when the words around them stay whole)."""
    if not body:
        return frozenset()
    parts = units(body)
    choices = []
    for unit in parts:
        if unit in _CONJUNCTIONS:
            choices.append(("",))
        elif len(parts) > _MAX_UNITS:
            choices.append((unit, unit[0]))
        else:
            choices.append((unit, unit[0], ""))
    forms = {body, body.replace("和", "与"), body.replace("与", "和"), body.replace("和", "").replace("与", "")}
    for pick in product(*choices):
        kept = [(unit, p) for unit, p in zip(parts, pick, strict=True) if p]
        form = "".join(p for _, p in kept)
        # A short form says something of its own: two characters at least, not only generic words.
        if len(form) >= 2 and any(unit not in _GENERIC for unit, _ in kept):
            forms.add(form)
    for long, shorts in _IRREGULAR.items():
        if long in body:
            forms |= {body.replace(long, s) for s in shorts}
    return frozenset(forms)


@cache
def organ_forms(organ: str) -> frozenset[str]:
    """Every way people write an organ, head included: 发展和改革委员会 → 发改委, 发展改革委, 发改委员会 …"""
    body, head = split_organ(organ)
    heads = head_forms(head)
    if not body:
        return frozenset(heads)
    forms = {b + h for b in body_forms(body) for h in heads}
    if len(units(body)) > 1:
        # One character for a whole body is the rule before 委 and 办 only (科委, 侨办, 外办).
        forms |= {body[0] + h for h in heads if h in _ONE_CHARACTER_HEADS}
    return frozenset(forms)


@cache
def expand_organ(organ: str) -> str:
    """The full organ a stored short form stands for (上海市科委's 科委 → 科学技术委员会), when the vocabulary has
    exactly one; else the organ itself (also when its body is already made of vocabulary words, or empty)."""
    body = split_organ(organ)[0]
    if not body or re.sub("[和与及]", "", "".join(vocabulary_in(body))) == re.sub("[和与及]", "", body):
        return organ
    if organ in _full_by_form():
        fulls = _full_by_form()[organ]
        return next(iter(fulls)) if len(fulls) == 1 else organ
    return organ


@cache
def _full_by_form() -> dict[str, set[str]]:
    table: dict[str, set[str]] = {}
    shorts = {short for _, forms in ORGAN_HEADS for short in forms}
    for body in ORGAN_WORDS:
        for head in (h for h, _ in ORGAN_HEADS if h not in shorts):
            full = body + head
            for form in organ_forms(full):
                if form != full:
                    table.setdefault(form, set()).add(full)
    return table


def vocabulary_in(body: str) -> list[str]:
    """The vocabulary bodies an organ body is made of, in order, longest match first, without overlaps
    (自然资源与生态环境 → 自然资源, 生态环境)."""
    text = body.replace("与", "和")
    found: list[tuple[int, str]] = []
    for word in sorted(ORGAN_WORDS, key=len, reverse=True):
        start = text.find(word)
        if start >= 0 and not any(s < start + len(word) and start < s + len(w) for s, w in found):
            found.append((start, word))
    return [word for _, word in sorted(found)]


def self_references(head: str) -> tuple[str, ...]:
    """How a report of an organ with this head calls itself (我厅, 本局, 我委 …)."""
    short = head[-1] if head not in ("人民政府", "政府") else "府"
    if head.endswith("委员会"):
        short = "委"
    return tuple(f"{p}{short}" for p in ("我", "本"))


def acronyms(organ: str) -> tuple[str, ...]:
    """The English initials of an organ, lower case: with its head's (发展和改革委员会 → DRC, 公安局 → PSB) and,
    when long enough to tell apart, without (人力资源和社会保障局 → HRSSB and HRSS, as in "HRSS Bureau"); none
    when the vocabulary does not name its whole body."""
    body, head = split_organ(organ)
    words = vocabulary_in(body)
    if not words or re.sub("[和与及]", "", "".join(words)) != re.sub("[和与及]", "", body) or head not in HEAD_WORDS:
        return ()
    initials = "".join(w[0] for word in words for w in ORGAN_WORDS[word].split(";")[0].split())
    forms = (initials + HEAD_WORDS[head].split()[0][0], initials)
    return tuple(f for f in forms if len(f) >= _MIN_ACRONYM)


_MIN_ACRONYM = 3


# --- names in running text -----------------------------------------------------------------------------------
# Reading who a report is of (ingest.metadata) finds names inside sentences, where the text shows where a name
# starts (a clause start, 由, 请与) but rarely where it ends.

# Every head and short head an organ name may end with, longest first.
_HEAD_FORMS = tuple(sorted({form for head, shorts in ORGAN_HEADS for form in (head, *shorts)}, key=len, reverse=True))
_HAN_RUN = re.compile(f"[{_HAN}]*")
# Heads of the offices and divisions inside an organ (管委会办公室, 市场监督管理局办公室 …).
_OFFICES = frozenset({"办公室", "办公厅", "办事处", "处"})
_MAX_ORGAN = 16  # an organ read where the text does not mark its end
_MAX_NAMED_ORGAN = 32  # an organ the text marks the end of (管委会办公室保密与电子政务处)
_MAX_NAME = 40
_MAX_STEM = 4  # 呼和浩特, 齐齐哈尔
# jieba's tags of words a place name may be made of (nouns, place and person names, abbreviations).
_NAME_TAGS = ("n", "j")


def read_name(text: str) -> AgencyName | None:
    """The agency name `text` opens with, where nothing marks its end: its places, then the longest organ the
    vocabulary knows (`known_organ`), or the places alone (`青石县坚持…`: that place's government).
    A level alone is a place too (`区住建厅`: places ("区",); `is_bare`). None when `text` opens with
    no place, or with words that only end like one (`深入推进全市…`)."""
    places = list(takewhile(_looks_like_place, _places_at(text)))  # `省教育厅按照省…`: 省 + 教育厅
    if not places:
        bare = next((lv for lv in PLACE_LEVELS if text.startswith(lv)), "")
        organ = _organ_at(text[len(bare):]) if bare else ""
        return AgencyName(bare + organ, (bare,), organ) if organ else None
    while places:
        at = sum(map(len, places))
        if organ := _organ_at(text[at:]):
            return AgencyName(text[: at + len(organ)], tuple(places), organ)
        if not _HAN_RUN.match(text, at).group() or (len(places) == 1 and len(stem(places[0])) >= 2):
            return AgencyName(text[:at], tuple(places), "")  # a one-character stem before words: `将县直单位`
        places.pop()
    return None


def read_whole(text: str) -> AgencyName | None:
    """`text` as one agency name, when the text shows where it ends (a signature line, `请与…联系`): places (or a
    bare level) and an organ with a head, whatever its body, or places alone; None when it is none."""
    parsed = parse_name(text)
    places, organ = parsed.places, parsed.organ
    if not all(map(_looks_like_place, places)):
        places = ()  # `省教育厅按照省` is no place
    if not places:
        bare = next((lv for lv in PLACE_LEVELS if text.startswith(lv)), "")
        places, organ = ((bare,), text[len(bare):]) if bare else ((), "")
        if not organ:
            return None
    if organ and (not organ.endswith(_HEAD_FORMS) or len(organ) > _MAX_NAMED_ORGAN):
        return None
    return AgencyName(text, tuple(places), organ)


def is_bare(place: str) -> bool:
    """A level alone (区, 实验区): how a text names the place it is about (区住建厅, 市科委, 实验区政府)."""
    return place in PLACE_LEVELS


def owner(name: AgencyName) -> AgencyName:
    """The agency an office or division belongs to: 常州市武进区人民政府办公室 → 常州市武进区人民政府,
    青石综合实验区管委会办公室保密与电子政务处 → 青石综合实验区管委会, 常州市教育局办公室 → 常州市教育局.
    A report's contact or compiler is often such an office; the report is its owner's."""
    organ, place = name.organ, "".join(name.places)
    for cut in range(1, len(organ)):
        first, rest = organ[:cut], organ[cut:]
        if not rest.endswith(_HEAD_FORMS):
            continue
        if first in GOVERNMENT_HEADS or (known_organ(first) and not _cuts_head(organ, cut)):
            return AgencyName(place + first, name.places, first)
    return name


@lru_cache(maxsize=1 << 16)  # asked of every clause of every report: bounded
def known_organ(organ: str) -> bool:
    """Whether `organ` is an organ the vocabulary knows: a head after a body of vocabulary words (市场监督管理局),
    a short form of one (住建厅, 科委), nothing (局), or another organ before an office (管委会办公室)."""
    if organ in _full_by_form():
        return True
    for head in _HEAD_FORMS:
        if organ.endswith(head):
            body = organ[: -len(head)]
            if not body or body in _vocabulary_bodies():
                return True
            # characters first: segmenting (and caching) any text that merely ends like a head costs too much
            if set(body) <= _vocabulary_characters() and set(units(body)) <= _vocabulary_units():
                return True
            if head in _OFFICES and known_organ(body):
                return True
    return False


def places_before(text: str) -> str:
    """The places `text` ends with, by jieba's words (`本报告由常州市` → 常州市): where a name's places start is
    where jieba's words stop being places."""
    prefix = ""
    for word in reversed(list(_jieba().cut(text))):
        parsed = parse_name(word)
        if len(word) < 2 or parsed.places != (word,):
            break
        prefix = word + prefix
    return prefix


def is_place_word(word: str) -> bool:
    """A place's name, with or without its level: read as a place (义乌市), or known to jieba's dictionary as a
    place name alone or with 市, 县 or 区 (苏州, 金华, 天河)."""
    if len(word) < 2:
        return False
    tags = _word_tags()
    return parse_name(word).places == (word,) or any(tags.get(word + level) == "ns" for level in ("", "市", "县", "区"))


def place_words_before(text: str) -> str:
    """The place names `text` ends with (`2023年金华` → 金华): a parent place a question puts before an agency
    the store holds without it (金华义乌卫健局 for 义乌市卫生健康局)."""
    prefix = ""
    for word in reversed(list(_jieba().cut(text))):
        if not is_place_word(word):
            break
        prefix = word + prefix
    return prefix


def level_references(place: str) -> tuple[str, ...]:
    """How a place's government calls its place (我区, 本县 …): the last character of its level."""
    short = (level(place) or place)[-1:]
    return tuple(f"{p}{short}" for p in ("我", "本")) if short else ()


def _places_at(text: str) -> tuple[str, ...]:
    return parse_name(text[:_MAX_NAME]).places


def _organ_at(text: str) -> str:
    segment = _HAN_RUN.match(text).group()[:_MAX_ORGAN]
    return next((segment[:end] for end in range(len(segment), 0, -1) if known_organ(segment[:end])), "")


def _cuts_head(organ: str, cut: int) -> bool:
    """A cut inside a head (卫生健康委|员会): some head that covers the character before the cut runs past it."""
    return any(organ.startswith(head, at) and at + len(head) > cut
               for at in range(max(0, cut - 4), cut) for head in _HEAD_FORMS)


def _looks_like_place(place: str) -> bool:
    """A place jieba knows, or a short stem whose words are names or unknown (常州, 青石), not verbs and adverbs
    (`认真落实` + 省); only autonomous areas have long stems (西双版纳傣族自治州), not `区政府办代表` + 区."""
    tags = _word_tags()
    if place in tags:
        return True
    if len(stem(place)) > _MAX_STEM and not level(place).startswith("自治"):
        return False
    return all(len(word) < 2 or (tags.get(word) or "n").startswith(_NAME_TAGS) for word in _jieba().cut(stem(place)))


def load() -> None:
    """Load jieba's dictionary and tagger now rather than on the first name read (a second or two): done once in
    the process worker processes are forked from (ingest.preload), so that each does not."""
    _jieba().initialize()
    _word_tags()


@cache
def _word_tags() -> dict[str, str]:
    import jieba.posseg

    _jieba()
    return jieba.posseg.dt.word_tag_tab


@cache
def _vocabulary_units() -> frozenset[str]:
    return frozenset({unit for body in ORGAN_WORDS for unit in units(body)} | _GENERIC | set(_CONJUNCTIONS))


@cache
def _vocabulary_characters() -> frozenset[str]:
    return frozenset("".join(_vocabulary_units()))


@cache
def _vocabulary_bodies() -> frozenset[str]:
    return frozenset(form for body in ORGAN_WORDS for form in body_forms(body))
