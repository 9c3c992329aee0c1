"""The report body inside a page: what lies around it is site chrome (navigation, breadcrumbs, share buttons,
`//script` text), page metadata or page footers, whatever the site.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ingest import sections as sectioning
from ingest.draft import RawLine
from ingest.model import Line

_HAN = re.compile(r"[\u4e00-\u9fff]")
# Page metadata lines (标题, 索引号, 发布机构 …): what the body is not, and where `ingest.metadata` reads hints.
META_LINE = re.compile(
    r"^(?:标 *题|索引号|文 *号|发布机构|发布日期|发布时间|时间|来源|栏目|原文链接|本地目录|背景色|字号)"
)
# A date alone on a line, also garbled by scraping (`2022128` for 2022年1月28日).
DATE_LINE = re.compile(
    r"^[（(]?(?:(?:19|20)\d{2} ?年 ?\d{1,2} ?月 ?\d{1,2} ?日|20\d{5,6}|(?:19|20)\d{2}-\d{1,2}-\d{1,2})[)）]?$"
)
# Page footers a PDF or print view leaves between lines (`- 3 -`, `第 2 页 共 5 页`, `3/5`).
FOOTER = re.compile(r"^[-—–－―]+ ?\d{1,3} ?[-—–－―]+$|^第 ?\d{1,3} ?页(?: ?共 ?\d{1,3} ?页)?$|^\d{1,3} ?/ ?\d{1,3}$")
CHROME = re.compile(
    "版权所有|ICP|备案号|网站标识码|主办单位|承办单位|浏览器|联系我们|网站地图|无障碍|关怀版|长者模式|政务微信|政务微博"
    "|扫一扫|当前位置|您的位置|首页|全真版|文字版|附件下载|打印本页|关闭窗口|分享到|-->|<!--|^//|javascript",
    re.IGNORECASE,
)


def body_bounds(
    raw: list[RawLine], norms: list[str], title_rows: range, is_signature: Callable[[str], bool]
) -> tuple[int, int]:
    """Rows of the report body: from the title (or first heading or prose line) to the last prose line and
    the signature and date that follow it. What lies outside is site chrome (navigation, breadcrumbs, share
    buttons, `//script` text) or page metadata, whatever the site. A signature names the agency, which is
    for `ingest.metadata` to tell (`is_signature`)."""
    probe = [Line(text=line.text, norm=n, offset=0) for line, n in zip(raw, norms, strict=True)]
    headings = [i for i, line in enumerate(probe) if not raw[i].in_table and sectioning.detect(line)]
    content = [i for i, n in enumerate(norms) if _is_prose(n) or (i in headings and not CHROME.search(n))]
    content = [i for i in content if not META_LINE.match(norms[i])]
    if not content:
        return 0, len(raw)
    start = content[0]
    between = [n for n in norms[title_rows.stop : start] if n]
    if title_rows and title_rows.start < start and len(between) <= 2:
        start = title_rows.start  # the title opens the body unless chrome separates them (a breadcrumb)
    last = content[-1]
    after_heading = [i for i in range(headings[-1] + 1, len(raw)) if norms[i]] if headings else []
    if after_heading and not CHROME.search(norms[after_heading[0]]):
        last = max(last, after_heading[0])
    end = last + 1
    for i in range(last + 1, len(raw)):
        if not norms[i]:
            continue
        if DATE_LINE.match(norms[i]) or is_signature(norms[i]):
            end = i + 1
            continue
        break
    return start, end


def _is_prose(text: str) -> bool:
    if CHROME.search(text) and len(text) < 60:
        return False
    return "。" in text or len(_HAN.findall(text)) >= 25
