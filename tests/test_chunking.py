"""Chunking: sections and tables into the texts that are embedded, retrieved and quoted."""

from __future__ import annotations

from pathlib import Path

from ingest.chunking import chunk
from ingest.readers import read

DATA = Path(__file__).parent / "data"
# A paragraph as a PDF prints it: cut at the page width wherever the line is full.
WRAPPED = """2022年，本机关政府信息公开工作虽取得一定成绩，但对照上
级要求和群众期盼，仍存在一些不足，主要是：个别部门对复杂
申请件的研判能力不足，政策解读的形式还不够丰富，政务新媒体
运维管理还需加强等。
针对存在问题，2023年我们将切实抓好以下工作。
下一步将加强解读工作。
"""


def test_lines_wrapped_at_the_page_width_are_one_paragraph(tmp_path: Path) -> None:
    text = (DATA / "mini.txt").read_text(encoding="utf-8")
    path = tmp_path / "wrapped.txt"
    path.write_text(text.replace("政策解读形式还不够丰富。下一步将加强解读工作。\n", WRAPPED), encoding="utf-8")
    problems = next(c for c in chunk(read(path), [], 1200) if c.section_key == "problems")
    body = problems.text.split("\n")[1:]
    assert body[0].startswith("2022年") and body[0].endswith("运维管理还需加强等。")
    assert "不足，主要是：个别部门对复杂申请件" in body[0]
    # A line that ends a sentence, or is shorter than the width, ends its paragraph.
    assert body[1:] == ["针对存在问题，2023年我们将切实抓好以下工作。", "下一步将加强解读工作。"]
