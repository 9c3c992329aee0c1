"""normalize.norm / clean / decode: the matching form every reader and QA share."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.errors import IngestError
from ingest.normalize import clean, decode, norm


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("西藏自治區(qū)住建廳", "西藏自治区住建厅"),  # pinyin gloss, then Traditional → Simplified
        ("發(fā)布機構(gòu)", "发布机构"),
        ("城鄉(xiāng)建設(shè)", "城乡建设"),
        ("(CCB)建融家園", "（CCB）建融家园"),  # latin in parentheses without tone marks is no gloss
        ("第二十条第(一)项", "第二十条第（一）项"),
        ("第二十条第（一）项", "第二十条第（一）项"),
        ("２０２１年ＡＰＰ", "2021年APP"),
        ("（本列數據為:第一項加第二項之和,等於）", "（本列数据为：第一项加第二项之和，等于）"),
        ("時間: 2022-01-30 09:52:48", "时间： 2022-01-30 09:52:48"),
        ("?0", "0"),
        ("????(六)政府信息公開", "（六）政府信息公开"),
        ("?", ""),
        ("\xa0一、总体情况\xa0", "一、总体情况"),
        ("\u3000\xa0\u3000无其他需要报告的事项", "无其他需要报告的事项"),
        ("结\u200b果\ufeff", "结果"),
        ("结果\n纠正", "结果纠正"),  # a label wrapped in its cell
        ("商业 企业 21 0 0", "商业企业 21 0 0"),  # values keep their separating spaces
        ("1. 属于国家秘密", "1.属于国家秘密"),
        ("你好?", "你好？"),
    ],
)
def test_norm(printed: str, expected: str) -> None:
    assert norm(printed) == expected


@given(st.text(alphabet=st.sampled_from("區(qū)住建廳（）()?, :１2a\xa0 \n結果糾正一、"), max_size=40))
def test_norm_is_idempotent(text: str) -> None:
    assert norm(norm(text)) == norm(text)


def test_clean_keeps_characters_but_drops_junk_and_glosses() -> None:
    assert clean("????(六)政府信息公開行政復(fù)議\xa0 ") == "(六)政府信息公開行政復議"


def test_decode_gb18030_and_utf8() -> None:
    text = "西藏自治区住房和城乡建设厅2021年政府信息公开工作年度报告"
    assert decode(text.encode("gb18030"), "a.txt") == text
    assert decode(text.encode("gbk"), "a.txt") == text
    assert decode(text.encode("utf-8-sig"), "a.txt") == text
    assert decode(text.encode("utf-16"), "a.txt") == text


def test_decode_refuses_binary() -> None:
    with pytest.raises(IngestError, match=r"a\.txt: .*PDF"):
        decode(b"%PDF-1.7 ...", "a.txt")
