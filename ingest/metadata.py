"""Who and when a report is about: its title, agency, reporting year and publication date, read from the
title, page metadata and the body's own words.
"""

from __future__ import annotations

import logging
import re
from functools import cache

from ingest.chrome import CHROME, DATE_LINE, META_LINE
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
_DATE = re.compile(r"(?P<y>(?:19|20)\d{2}) ?[-年./] ?(?P<m>\d{1,2}) ?[-月./] ?(?P<d>\d{1,2}) ?日?")
_PUBLISHED = re.compile(r"(?:发布日期|发布时间|发文日期|成文日期|日期|时间)[:：]? ?(.*)")
_PUBLISHER = re.compile(r"(?:发布机构|来源)[:：]? ?(.+?)(?: 发布日期.*)?$")
_ORG_END = re.compile(r"(?:人民政府|政府|委员会|管委会|办公室|办公厅|厅|局|委|办|中心|署|院|会|实验区|新区)$")
_ADMIN_END = ("自治区", "省", "市", "自治州", "州", "盟", "地区", "县", "区", "旗")


def find_title(norms: list[str], hints: list[str]) -> tuple[range, str]:
    """The report title and the body rows that print it (empty when the body does not).

    Order: an explicit `标题` line, then page/document metadata, then the first body line(s) that read as a
    title; a title split over lines (`2024 年上海市科委政府信息公开工作` / `年度报告`) is joined."""
    head = [re.sub(r"^#+ *", "", row) for row in norms[:40]]
    rows, printed = _title_rows(head)
    marked = [_TITLE_MARK.sub("", row) for row in head if _TITLE_MARK.match(row)]
    parts = [part for hint in hints for part in re.split(r"[_|]| - ", hint)]
    for candidate in (*marked, *parts):
        if _parse_title(norm(candidate)):
            return rows, clean(candidate)
    if printed:
        return rows, printed
    plain = [row for row in head if len(row) <= 40 and not META_LINE.match(row)]
    fallback = [*(norm(m) for m in marked), *(norm(p) for p in parts), *plain]
    return rows, next((clean(row) for row in fallback if re.search("年度报告|年报", row)), "")


def _title_rows(head: list[str]) -> tuple[range, str]:
    """First body line(s) reading as a title with an agency and a year, joined when split over lines."""
    for i, row in enumerate(head):
        if not row or META_LINE.match(row) or CHROME.search(row):
            continue
        for rows in (range(i, i + 1), range(i, i + 2), range(i - 1, i + 1), range(i - 1, i + 2)):
            if rows.start < 0 or rows.stop > len(head) or not all(head[r] for r in rows):
                continue
            joined = "".join(head[r] for r in rows)
            parsed = _parse_title(joined)
            if parsed and parsed[0] and len(joined) <= 60:
                return rows, joined
    return range(0), ""


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
    return len(text) <= 30 and " " not in text and bool(_ORG_END.search(text)) and bool(_HAN.search(text))


def agency_year(title: str, text: str, body: list[str], publishers: list[str]) -> tuple[str | None, int | None]:
    parsed = _parse_title(norm(title)) if title else None
    agency, year = parsed if parsed else (_UNDATED.match(norm(title)), None)
    agency = agency.group(1) if isinstance(agency, re.Match) else agency
    if not agency:
        agency = next((p for p in (_publisher(norm(x)) for x in publishers) if p), None)
    if year is None:
        period = _PERIOD.search(text)
        year = int(period.group("year")) if period else None
    if agency:
        agency = _fullest(agency, "".join(body))
    return agency, year


def _publisher(text: str) -> str | None:
    match = _PUBLISHER.search(text)
    value = (match.group(1) if match else text).strip()
    return value if value and _HAN.search(value) else None


def _fullest(agency: str, text: str) -> str:
    """The fullest form of `agency` the report itself states: `西藏自治区住建厅` → `西藏自治区住房和城乡建设厅`
    when the text has it; `洪泽区人民政府` → `淮安市洪泽区人民政府`. Never a name the text does not print."""
    best = agency
    place, rest = _split_place(agency)
    if place and rest:
        for match in re.finditer(re.escape(place), text):
            # a name ends at punctuation, and never holds a year (`常州市人民政府2019年度政府信息公开`)
            tail = re.split(r"[\s，。、；：（）《》“”,.;:()]|(?:19|20)\d{2}", text[match.end() : match.end() + 16])[0]
            for end in range(len(tail), len(rest), -1):
                candidate = tail[:end]
                same_kind = candidate[-1] == rest[-1] or candidate.endswith(rest[-1] + "员会")  # 科委 → 科学技术委员会
                if (
                    _ORG_END.search(candidate)
                    and same_kind
                    and _subsequence(rest, candidate)
                    and len(place + candidate) > len(best)
                ):
                    best = place + candidate
                    break
    if not re.search("省|自治区|市", _split_place(best)[0] or best[:3]):
        for match in re.finditer(re.escape(best), text):
            prefix = _place_prefix(text[max(0, match.start() - 12) : match.start()])
            if prefix and len(prefix + best) > len(best):
                return prefix + best
    return best


def _subsequence(short: str, long: str) -> bool:
    chars = iter(long)
    return all(ch in chars for ch in short)


def _split_place(agency: str) -> tuple[str, str]:
    """(leading place name, the rest): `西藏自治区住建厅` → (`西藏自治区`, `住建厅`)."""
    words = _words(agency)
    place = ""
    for word in words:
        if not word.endswith(_ADMIN_END):
            break
        place += word
    return place, agency[len(place) :]


def _place_prefix(before: str) -> str:
    """Place names right before a name (`本报告由淮安市` → `淮安市`), by word segmentation."""
    words = _words(before)
    prefix = ""
    for word in reversed(words):
        if len(word) < 2 or not word.endswith(_ADMIN_END):
            break
        prefix = word + prefix
    return prefix


def _words(text: str) -> list[str]:
    return list(_jieba().cut(text))


@cache
def _jieba():
    """jieba segments place names (淮安市 / 洪泽区); loaded once, quietly."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


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
