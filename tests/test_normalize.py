"""ingest.normalize: every normal form of both packages (norm, clean, key, compact, fold, squash, numbering),
and decode."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.errors import IngestError
from ingest.normalize import (
    bare_label,
    clean,
    compact,
    decode,
    fold,
    key,
    match_form,
    norm,
    squash,
    strip_numbering,
)


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


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("第二十条第(一)項", "第二十条第（一）项"),  # brackets folded to full width, Traditional → Simplified
        ("3.危及“三安全一稳定”", "3.危及三安全一稳定"),  # quotes carry nothing
        ("1. 属于国家\n秘密", "1.属于国家秘密"),  # spaces and line ends go
        ("自治區(qū)", "自治区"),  # a pinyin gloss goes
        ("?行政处罚", "行政处罚"),
        ("１２３", "123"),
    ],
)
def test_key_is_the_label_matching_form(printed: str, expected: str) -> None:
    assert key(printed) == expected


def test_match_form_maps_each_character_to_its_printed_offset() -> None:
    printed = "1. 属于(shǔ)國家"
    form, index = match_form(printed)
    assert form == "1.属于国家"
    assert [printed[i] for i in index] == ["1", ".", "属", "于", "國", "家"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" 1 2 ", "12"), ("?0", "0"), ("１７\u00a0件", "17件"), ("22（其中修订 16 件）", "22(其中修订16件)"), ("", "")],
)
def test_compact_is_a_cell_without_spacing_or_junk(raw: str, expected: str) -> None:
    assert compact(raw) == expected


def test_fold_is_the_question_form() -> None:
    assert fold("  How MANY 行政處罰\n（２０２１）") == "how many 行政处罚 (2021)"


def test_squash_ignores_spacing_and_case() -> None:
    assert squash("予以 公开 ABC") == "予以公开abc"
    assert squash("予以公开") in squash("本年 予以\n公开 3 件")


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("一、本年新收政府信息公开申请数量", "本年新收政府信息公开申请数量"),
        ("（一）予以公开", "予以公开"),
        ("(六)其他处理", "其他处理"),
        ("2.重复申请", "重复申请"),
        ("7.属于行政执法案卷", "属于行政执法案卷"),
        ("规章", "规章"),
        ("2021年", "2021年"),  # a year is no numbering
    ],
)
def test_strip_numbering_drops_only_the_leading_number(label: str, expected: str) -> None:
    assert strip_numbering(label) == expected


def test_bare_label_is_how_a_question_names_a_row() -> None:
    assert bare_label("（二）部分公开（区分处理的，只计这一情形，不计其他情形）") == "部分公开"
    assert bare_label("本年收费金额（单位：万元）") == "本年收费金额"
    assert bare_label("1.属于国家秘密") == "属于国家秘密"
