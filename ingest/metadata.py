"""Who and when a report is about: its title, agency, reporting year and publication date, read from the
title, page metadata and the body's own words.

The title names the agency and the year. A page saved without its title still says who wrote it: the body
names its agency as the subject of the report (`青石县2022年政府信息公开工作…`, `XX局（以下简称“我局”）`),
in the sentence that says who compiled it and whom to ask (`本报告由XX人民政府办公室编制`, `请与XX办公室联系`:
the office's owner), in the signature above the date, and in the sentences that open with it; and it calls itself
我局/我厅/我区 throughout. `body_agency` reads every such place as evidence for a candidate agency (names read
by their structure, `ingest.names`) and takes a candidate only when it clearly wins. The year comes from the
title, else the statistics period, else the year the overview (else the whole body) speaks of most.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ingest.chrome import CHROME, DATE_LINE, META_LINE
from ingest.names import (
    GOVERNMENT_HEADS,
    ORGAN_HEADS,
    AgencyName,
    expand_organ,
    is_bare,
    level,
    level_references,
    organ_forms,
    owner,
    parse_name,
    places_before,
    read_name,
    read_whole,
    self_references,
    split_organ,
    stem,
)
from ingest.normalize import clean, norm

_HAN = re.compile(r"[\u4e00-\u9fff]")
_YEAR = r"(?P<year>(?:19|20)\d{2}) ?年度?"
_TITLE = re.compile(rf"^(?P<pre>.*?){_YEAR} ?(?P<post>.*?)(?:政府信息公开|政务公开|信息公开)")
# An undated title's agency; a title that opens with the report's own name (`政府信息公开工作年度报告`) names none,
# though its first characters (`政府`) would fit the group.
_UNDATED = re.compile(
    r"^(?!(?:关于)?(?:政府信息公开|政务公开|信息公开))(.{2,30}?)(?:关于)?(?:政府信息公开|政务公开|信息公开).*(?:年度报告|年报)"
)
_TITLE_MARK = re.compile(r"^(?:文章)?标 *题 *[:：]? *")
_PERIOD = re.compile(r"(?P<year>(?:19|20)\d{2}) ?年 ?1 ?月 ?1 ?日 ?(?:起)? ?至 ?(?:(?P=year) ?年 ?)?12 ?月 ?31 ?日")
_YEAR_MENTION = re.compile(r"((?:19|20)\d{2}) ?年")
_FULL_DATE = re.compile(r"(?:19|20)\d{2} ?年 ?\d{1,2} ?月(?: ?\d{1,2} ?日)?")
_DATE = re.compile(r"(?P<y>(?:19|20)\d{2}) ?[-年./] ?(?P<m>\d{1,2}) ?[-月./] ?(?P<d>\d{1,2}) ?日?")
_PUBLISHED = re.compile(r"(?:发布日期|发布时间|发文日期|成文日期|日期|时间)[:：]? ?(.*)")
_PUBLISHER = re.compile(r"(?:发布机构|来源)[:：]? ?(.+?)(?: 发布日期.*)?$")


@dataclass(frozen=True)
class Attribution:
    """Who and when a report is about, and the evidence that said so (`title`, `meta`, `body:…` (WEIGHTS),
    `period`, `overview`, `body`), as `reportqa list --json` shows it."""

    agency: str | None
    year: int | None
    agency_source: str | None
    year_source: str | None


def find_title(norms: list[str], hints: list[str]) -> tuple[range, str, str]:
    """The report title, the body rows that print it (empty when the body does not) and where it was found:
    `title` (printed in the body) or `meta` (a `标题` line of the page's metadata, or page/document metadata).

    Order: an explicit `标题` line, then page/document metadata, then the first body line(s) that read as a
    title; a title split over lines (`2024 年上海市科委政府信息公开工作` / `年度报告`) is joined."""
    head = [re.sub(r"^#+ *", "", row) for row in norms[:40]]
    rows, printed = _title_rows(head)
    marked = [_TITLE_MARK.sub("", row) for row in head if _TITLE_MARK.match(row)]
    parts = [part for hint in hints for part in re.split(r"[_|]| - ", hint)]
    for candidate in (*marked, *parts):
        if _parse_title(norm(candidate)):
            return rows, clean(candidate), "meta"
    if printed:
        return rows, printed, "title"
    plain = [row for row in head if len(row) <= 40 and not META_LINE.match(row) and not _not_a_title(row)]
    fallback = [*((norm(row), "meta") for row in (*marked, *parts)), *((row, "title") for row in plain)]
    title, source = next(((clean(row), source) for row, source in fallback if re.search("年度报告|年报", row)),
                         ("", ""))
    return rows, title, source


def _title_rows(head: list[str]) -> tuple[range, str]:
    """First body line(s) reading as a title with an agency and a year, joined when split over lines."""
    for i, row in enumerate(head):
        if not row or META_LINE.match(row) or _not_a_title(row):
            continue
        for rows in (range(i, i + 1), range(i, i + 2), range(i - 1, i + 1), range(i - 1, i + 2)):
            if rows.start < 0 or rows.stop > len(head) or not all(head[r] for r in rows):
                continue
            joined = "".join(head[r] for r in rows)
            parsed = _parse_title(joined)
            if parsed and parsed[0] and len(joined) <= 60 and not re.search("[，。；：》《]", parsed[0]) \
                    and not _not_a_title(joined):
                return rows, joined
    return range(0), ""


def _not_a_title(row: str) -> bool:
    """Site chrome (`当前位置：首页 > … > 政府信息公开年报`) or a sentence (`2021年度，我局未收取…报告。`)."""
    return bool(CHROME.search(row)) or "。" in row


def _parse_title(title: str) -> tuple[str, int] | None:
    """(agency as printed in the title, reporting year) of an annual-report title, else None."""
    if not re.search("报告|年报", title):
        return None
    match = _TITLE.search(title)
    if not match:
        return None
    agency = (match.group("pre") or match.group("post")).strip(' ：:，,、《》“”"')
    if agency.endswith("人民") and title[match.end() - 6 : match.end()] == "政府信息公开":
        agency += "政府"  # XX人民政府信息公开工作年度报告
    return agency, int(match.group("year"))


def is_signature(text: str) -> bool:
    """A line that is an agency's name alone (the signature above the date)."""
    return len(text) <= 30 and " " not in text and bool(_HAN.search(text)) and read_whole(text) is not None


def agency_year(
    title: str,
    title_source: str,
    text: str,
    body: list[str],
    closing: list[str],
    overview: list[str],
    publishers: list[str],
) -> Attribution:
    """Agency and year from the title, else from page metadata and the body (`body_agency`); the year from the
    title, else the statistics period (`统计期限为2022年1月1日至12月31日`), else the overview's dominant year,
    else the body's — never the publication date, which falls in the next year. `closing` are the lines after
    the body (a signature dated on its own line, `XX局2024年1月5日`, is left out of the body)."""
    parsed = _parse_title(norm(title)) if title else None
    agency, year = parsed if parsed else (_UNDATED.match(norm(title)), None)
    agency = agency.group(1) if isinstance(agency, re.Match) else agency
    agency_source = title_source if agency else None
    year_source = title_source if year else None
    if not agency:
        agency, agency_source = body_agency(body, closing, publishers) or (None, None)
    if not agency:
        agency = next((p for p in (_publisher(norm(x)) for x in publishers) if p), None)
        agency_source = "meta" if agency else None
    if year is None:
        period = _PERIOD.search(text) or _PERIOD.search(text.replace("\n", ""))
        if period:
            year, year_source = int(period.group("year")), "period"
        elif year := _dominant_year(overview):
            year_source = "overview"
        elif year := _dominant_year(body):
            year_source = "body"
    if agency:
        agency = _fullest(agency, "".join(body))
    return Attribution(agency, year, agency_source, year_source)


def _dominant_year(lines: list[str]) -> int | None:
    """The year `lines` speak of most (`2022年，我局…`), named more often than any other; dates (the signature's,
    a document's) are not counted."""
    years = (int(y) for line in lines for y in _YEAR_MENTION.findall(_FULL_DATE.sub("", line)))
    counts = Counter(years).most_common(2)
    if counts and (len(counts) == 1 or counts[0][1] > counts[1][1]):
        return counts[0][0]
    return None


def _publisher(text: str) -> str | None:
    match = _PUBLISHER.search(text)
    value = (match.group(1) if match else text).strip()
    return value if value and _HAN.search(value) else None


# --- the agency from the body ---------------------------------------------------------------------------

# What each kind of evidence is worth. The report's own title-like line (`《XX2025年政府信息公开工作年度报告》`)
# and its signature name it outright; the subject of `…政府信息公开`, of `以下简称“我局”`, of `结合XX工作实际` and
# of a sentence opening after the year (`2019年，XX坚持…`) is the report's agency; the compiler and the contact
# are often an office, counted for its owner; any other sentence opening with a name counts little (a
# government's report tells of its departments).
WEIGHTS: dict[str, float] = {
    "body:title": 6,
    "body:signature": 5,
    "meta": 4,
    "body:subject": 4,
    "body:compiler": 3,
    "body:contact": 3,
    "body:mention": 1,
}
_MENTIONS_CAP = 3  # frequency tells little once a name is mentioned a few times
# A report calls itself by its organ's head (我局, 本委) or, a government, by its place's level (我区, 我县): the
# candidate the text calls itself by most often (twice at least) gains this much, one it never calls itself by
# while the text keeps calling itself something else (twice at least) loses it.
SELF_REFERENCE = 3
_SELF_REFERENCES = 2
# A candidate wins with evidence beyond plain mentions, worth WIN_SCORE at least (one contact, compiler or
# subject), and a lead of WIN_MARGIN over the runner-up (as much again); otherwise the report is ambiguous and
# the caller asks for --agency.
WIN_SCORE = 3
WIN_MARGIN = 3

_BOOK = re.compile(r"《[^《》\n]{1,80}》")
_SOFT_WRAP = 20  # a line this long that ends without punctuation runs on into the next (PDF and OCR wraps)
_CLAUSE = re.compile(r"(?:^|(?<=[。；！？：:，,、（(“\"\n])|(?<=公布))")
_SENTENCE = frozenset("。；！？\n")
_YEAR_PREFIX = re.compile(r"(?:(?:19|20)\d{2} ?年度?|今年|全年)[，, ]*")
_SUBJECT = re.compile(
    r"(?P<span>[\u4e00-\u9fff]{2,30}?) ?(?:(?P<subject>(?:(?:19|20)\d{2} ?年度? ?)?(?:关于)?"
    r"(?:政府信息(?:主动)?公开|政务公开|(?<=政府)信息公开)|[（(]以下简称)|(?P<compiler>编制))"
)
_CONTACT = re.compile(r"(?:请与|可与|请联系|可联系)(?P<span>[^，。；、（(\n：:]{2,40}?)(?:联系|[，。；、（(\n]|$)")
_COMPILER = re.compile(r"由(?P<span>[^，。；、（(\n《]{2,40})[^。；\n]*编制")
_OWN_WORK = re.compile(
    r"结合(?P<span>[^，。；、（(\n]{2,40}?)(?:[（(]以下简称[^）)]{0,8}[）)])?(?:(?:19|20)\d{2} ?年度?)?(?:工作)?实际"
)
_REFERENCE = re.compile("[我本](局|厅|委|办|署|院|府|区|县|市|省|州|旗|镇|乡)")
_ORGAN_REFERENCES = frozenset("局厅委办署院")
_TRAILER = re.compile(r"[（(][^）)]*[)）]$")


@dataclass(frozen=True)
class _Mention:
    name: AgencyName
    kind: str
    at: int  # where in the joined body text: one piece of evidence per place


@dataclass
class _Candidate:
    places: tuple[str, ...]
    organ: str
    forms: list[str] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)

    @property
    def government(self) -> bool:
        return self.organ in GOVERNMENT_HEADS

    def calls_itself(self) -> str:
        """The character after 我/本 when the report speaks of itself: 局 (我局), 委 (本委), 区 (我区) …"""
        forms = level_references(self.places[-1]) if self.government else self_references(split_organ(self.organ)[1])
        return forms[0][1:] if forms else ""

    def score(self, references: Counter[str]) -> float:
        """The evidence's weight, with SELF_REFERENCE for or against; `references` counts how the text calls
        itself, by character (局: 我局 and 本局)."""
        evidence = sum(WEIGHTS[kind] * n for kind, n in self.kinds.items() if kind != "body:mention")
        evidence += min(self.kinds["body:mention"], _MENTIONS_CAP) * WEIGHTS["body:mention"]
        own = references[self.calls_itself()]
        top = max(references.values(), default=0)
        if own >= _SELF_REFERENCES and own == top:
            return evidence + SELF_REFERENCE
        return evidence - SELF_REFERENCE if top >= _SELF_REFERENCES and not own else evidence

    def source(self) -> str:
        """The strongest kind of evidence for it (WEIGHTS lists them strongest first)."""
        return next(kind for kind in WEIGHTS if kind in self.kinds)

    def name(self) -> str:
        """How the report prints it: a government as `PLACE人民政府` when printed so, else by its place (areas
        run by a 管委会 are named by their place, as their titles do); an organ by its longest printed form."""
        place = "".join(self.places)
        if self.government:
            return place + "人民政府" if any(form.endswith("人民政府") for form in self.forms) else place
        return max((*self.forms, place + self.organ), key=len)


def body_agency(body: list[str], closing: list[str], publishers: list[str]) -> tuple[str, str] | None:
    """(agency, the kind of evidence that decided) from the body's own words and the page's publisher, when one
    candidate clearly wins (WIN_SCORE, WIN_MARGIN); None when the body never names its agency or names several
    equally."""
    text, starts = _joined(body)
    masked = _BOOK.sub(lambda m: "《" + "＊" * (len(m.group()) - 2) + "》", text)
    found: dict[int, _Mention] = {}
    signed = _signatures([*body, *closing], [*starts, *range(len(text), len(text) + len(closing))])
    for mention in (*_title_spans(text), *signed, *_anchored(masked), *_clauses(masked)):
        if mention.at not in found or WEIGHTS[mention.kind] > WEIGHTS[found[mention.at].kind]:
            found[mention.at] = mention
    published = (read_whole(p) for p in (_publisher(norm(x)) for x in publishers) if p)
    mentions = [*found.values(), *(_Mention(owner(n), "meta", -1 - i) for i, n in enumerate(published) if n)]
    cited = Counter(p for m in _BOOK.finditer(text) if (name := read_name(m.group()[1:])) for p in name.places)
    candidates = _candidates(mentions, cited)
    if not candidates:
        return None
    references = Counter(m.group(1) for m in _REFERENCE.finditer(masked)
                         if m.group(1) in _ORGAN_REFERENCES or m.group().startswith("我"))
    ranked = sorted(candidates, key=lambda c: c.score(references), reverse=True)
    best = ranked[0].score(references)
    runner_up = ranked[1].score(references) if len(ranked) > 1 else 0
    if best < WIN_SCORE or best - runner_up < WIN_MARGIN or set(ranked[0].kinds) == {"body:mention"}:
        return None
    return ranked[0].name(), ranked[0].source()


def _joined(body: list[str]) -> tuple[str, list[int]]:
    """The body as one text, wrapped lines joined (`请与常州市武` / `进区人民政府办公室联系`), and where each line
    starts in it."""
    out, starts, at = [], [], 0
    for i, line in enumerate(body):
        starts.append(at)
        soft = len(line) >= _SOFT_WRAP and line[-1] not in "。；！？：:" and i + 1 < len(body) and body[i + 1]
        piece = line if soft else line + "\n"
        out.append(piece)
        at += len(piece)
    return "".join(out), starts


def _title_spans(text: str):
    """The report's own title printed in the body: a short line or a `《…》` ending in 年度报告."""
    spans = [(m.start(), m.group()[1:-1]) for m in _BOOK.finditer(text)]
    at = 0
    for line in text.split("\n"):
        if len(line) <= 60:
            spans.append((at, line))
        at += len(line) + 1
    for at, span in spans:
        parsed = _parse_title(span) if re.search("(?:年度报告|年报)$", span) else None
        if parsed and parsed[0] and (name := read_whole(parsed[0])):
            yield _Mention(name, "body:title", at)


def _signatures(body: list[str], starts: list[int]):
    """A name alone on a line above the date (the signature at the end, or under the title), or before a date
    on its line (`XX局2025年1月22日`), possibly after the last sentence (`…情况。XX局`)."""
    lines = [(i, line) for i, line in enumerate(body) if line]
    for k, (i, line) in enumerate(lines):
        date = _DATE.search(line)
        dated = bool(date) and date.end() == len(_TRAILER.sub("", line))
        next_is_date = k + 1 < len(lines) and DATE_LINE.match(lines[k + 1][1])
        if not (dated or next_is_date):
            continue
        text = _TRAILER.sub("", line)[: date.start()] if dated else line
        text = re.split("[。；]", text)[-1].strip()
        if 2 <= len(text) <= 40 and (name := read_whole(text)) and not is_bare(name.places[0]):
            yield _Mention(name, "body:signature", starts[i] + line.find(text))


def _anchored(text: str):
    """Names a phrase introduces: the contact (`请与XX联系`), the compiler (`由XX…编制`), the agency whose work
    the report covers (`结合XX工作实际`); contacts and compilers count for their owner (an office's organ)."""
    for pattern, kind in ((_CONTACT, "body:contact"), (_COMPILER, "body:compiler"), (_OWN_WORK, "body:subject")):
        for match in pattern.finditer(text):
            span = match.group("span")
            name = read_whole(span) or read_name(span)
            if name:
                yield _Mention(name if kind == "body:subject" else owner(name), kind, match.start("span"))


def _clauses(text: str):
    """Names a clause opens with: as the subject of `…政府信息公开` or `以下简称`, as the compiler (`XX编制`),
    after the year (`2019年，XX坚持…`), or as any sentence's first words."""
    for match in _CLAUSE.finditer(text):
        at = match.end()
        year = _YEAR_PREFIX.match(text, at)
        at = year.end() if year else at
        subject = _SUBJECT.match(text, at)
        if subject and (name := read_whole(subject.group("span"))):
            kind = "body:subject" if subject.group("subject") else "body:compiler"
            yield _Mention(name if kind == "body:subject" else owner(name), kind, at)
            continue
        sentence = match.start() == 0 or text[match.start() - 1] in _SENTENCE
        if (year or sentence) and (name := read_name(text[at : at + 60])):
            yield _Mention(name, "body:subject" if year else "body:mention", at)


def _candidates(mentions: list[_Mention], cited: Counter[str]) -> list[_Candidate]:
    """Mentions grouped by the agency they name: a government by its place, an organ by its place and full
    organ; a bare level (区住建厅, 省教育厅) is the place of that level the report names most as a name's place,
    else in passing or in the documents it cites (`cited`, `《河北省政府信息公开规定》`)."""
    named = Counter(place for m in mentions for place in m.name.places if not is_bare(place) and not _loose(m))
    named = Counter(_unglued(place, named) for place in named.elements())
    passing = cited + Counter(p for m in mentions if _loose(m) for p in m.name.places if not is_bare(p))
    by_key: dict[tuple[str, str], _Candidate] = {}
    for mention in mentions:
        places = _resolve(mention.name.places, named, passing)
        if not places or (_loose(mention) and places[-1] not in named):
            continue
        organ = mention.name.organ
        government = organ in GOVERNMENT_HEADS
        key = (places[-1], "" if government else _organ_key(organ))
        candidate = by_key.setdefault(key, _Candidate(places, "" if government else organ))
        if len(places) > len(candidate.places):
            candidate.places = places
        if not government and len(organ) > len(candidate.organ):
            candidate.organ = organ
        candidate.forms.append("".join(places) + organ)  # a bare level's form holds the place it stands for
        candidate.kinds[mention.kind] += 1
    return _merged(list(by_key.values()))


def _merged(candidates: list[_Candidate]) -> list[_Candidate]:
    """An organ's short form the vocabulary cannot expand (执法应急局) joins the organ of the same place the
    report prints in full (综合执法与应急管理局)."""
    out: list[_Candidate] = []
    for candidate in sorted(candidates, key=lambda c: len(c.organ), reverse=True):
        full = next((c for c in out if not candidate.government and not c.government
                     and c.places[-1] == candidate.places[-1] and candidate.organ in organ_forms(c.organ)), None)
        if full:
            full.forms += candidate.forms
            full.kinds.update(candidate.kinds)
        else:
            out.append(candidate)
    return out


def _loose(mention: _Mention) -> bool:
    """A sentence that opens with a place or its government (`二是市政府…`): a name only if the report names that
    place elsewhere."""
    return mention.kind == "body:mention" and mention.name.organ in GOVERNMENT_HEADS


def _organ_key(organ: str) -> str:
    """One key for an organ's forms: 住建厅 and 住房和城乡建设厅, 科委 and 科学技术委员会, 政府办公厅 and
    人民政府办公厅."""
    return next((head for head, shorts in ORGAN_HEADS if organ in shorts), expand_organ(organ))


def _resolve(places: tuple[str, ...], named: Counter[str], passing: Counter[str]) -> tuple[str, ...]:
    """Bare levels made the place they stand for, words glued before a place (`现将青石县`) dropped."""
    if not places:
        return places
    if not is_bare(places[0]):
        return (_unglued(places[0], named), *places[1:])
    for pool in (named, passing):
        fits = [place for place, _ in pool.most_common() if level(place).endswith(places[0])]
        if fits:
            return (fits[0], *places[1:])
    return ()


def _unglued(place: str, named: Counter[str]) -> str:
    """`现将青石县` is 青石县 when the report names 青石县 elsewhere: where a name starts, the text does not say."""
    glued = [other for other in named if other != place and place.endswith(other) and len(stem(other)) >= 2]
    return max(glued, key=len, default=place)


def _fullest(agency: str, text: str) -> str:
    """The fullest form of `agency` the report itself states: `西藏自治区住建厅` → `西藏自治区住房和城乡建设厅`
    when the text has it; `洪泽区人民政府` → `淮安市洪泽区人民政府`. Never a name the text does not print."""
    best = agency
    parsed = parse_name(agency)
    place, rest = "".join(parsed.places), parsed.organ
    if place and rest:
        for match in re.finditer(re.escape(place), text):
            # a name ends at punctuation, and never holds a year (`常州市人民政府2019年度政府信息公开`)
            tail = re.split(r"[\s，。、；：（）《》“”,.;:()]|(?:19|20)\d{2}", text[match.end() : match.end() + 16])[0]
            for end in range(len(tail), len(rest), -1):
                candidate = tail[:end]
                # what follows the whole organ is a unit of it (`…办公室办公室`: the contact is its office)
                full = not candidate.startswith(rest) and split_organ(candidate)[1] and rest in organ_forms(candidate)
                if full and len(place + candidate) > len(best):
                    best = place + candidate
                    break
    if not re.search("省|自治区|市", "".join(parse_name(best).places) or best[:3]):
        for match in re.finditer(re.escape(best), text):
            prefix = places_before(text[max(0, match.start() - 12) : match.start()])
            if prefix:
                return prefix + best
    return best


def publish_date(hints: list[str], head: list[str], body: list[str]) -> str | None:
    """ISO date the page states: metadata first, then a `发布日期` line, then the date under the signature."""
    candidates = [norm(h) for h in hints]
    candidates += [m.group(1) for n in head[:15] for m in [_PUBLISHED.search(n)] if m]
    candidates += [n for n in body[-6:] if DATE_LINE.match(n)]
    for candidate in candidates:
        match = _DATE.search(candidate)
        if match:
            y, m, d = int(match["y"]), int(match["m"]), int(match["d"])
            if 1 <= m <= 12 and 1 <= d <= 31:
                return f"{y:04d}-{m:02d}-{d:02d}"
    return None
