"""Builders of broken and hostile input files: what government sites serve and users upload.

Each builder writes one file under `folder` and returns its path. Good reports come from
tests/reportgen.py (every cell known); the builders break them, or make a broken file from scratch
(fpdf2, zipfile, PIL), so the suite needs nothing beyond the repo.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from dataclasses import replace
from pathlib import Path

from tests.reportgen import Spec, render

# Text outside GBK (CJK extension A and B), which only GB18030 (or UTF-8) can carry.
BEYOND_GBK = "䶮𠮷"
CONTROL_TEXT = "公开\x00渠道\x07有待\x1b[31m拓宽\x85，解读\u200b形式\ufeff较为\u202e单一\x7f。"
_TABLE = re.compile(r"<table.*?</table>", re.S)


def write(folder: Path, name: str, data: str | bytes, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return path


def page(spec: Spec, folder: Path, name: str = "report.html") -> str:
    """The report as an HTML page's text (rendered by reportgen, read back)."""
    return render(spec, "html", folder / name).read_text(encoding="utf-8")


# -- good reports served badly -----------------------------------------------------------------------


def legacy_encoded_html(spec: Spec, folder: Path, encoding: str, name: str | None = None,
                        declare: str | None = None) -> Path:
    """The page re-encoded as `encoding`, declaring `declare` (default: the same; "" for no declaration).

    With GB18030 the problems section gets characters outside GBK, so a reader decoding as GBK loses them.
    """
    if encoding.lower() == "gb18030":
        spec = _with_problem_text(spec, f"生僻字{BEYOND_GBK}姓名保护不足。")
    text = page(spec, folder, name or f"{encoding}.html")
    label = encoding if declare is None else declare
    declaration = f'<meta http-equiv="Content-Type" content="text/html; charset={label}">' if label else ""
    text = text.replace('<meta charset="utf-8">', declaration)
    return write(folder, name or f"{encoding}.html", text, encoding)


def _with_problem_text(spec: Spec, text: str) -> Spec:
    problems = (*spec.prose["problems"], text)
    return replace(spec, prose={**spec.prose, "problems": problems})


def without_tables(spec: Spec, folder: Path, name: str = "no_tables.html", holding: tuple[str, ...] = ()) -> Path:
    """The page with its <table>s removed: all of them, or those whose markup holds one of `holding`."""
    def drop(table: re.Match) -> str:
        return "" if not holding or any(text in table.group() for text in holding) else table.group()

    return write(folder, name, _TABLE.sub(drop, page(spec, folder, name)))


def without_metadata(spec: Spec, folder: Path, name: str = "anonymous.html") -> Path:
    """The page with agency and year gone from the title, the meta tags and the prose."""
    anonymous = replace(spec, title="政府信息公开工作年度报告")
    text = page(anonymous, folder, name)
    for known in (spec.agency, str(spec.year), str(spec.year + 1)):
        text = text.replace(known, "")
    return write(folder, name, text)


def with_big_table(spec: Spec, folder: Path, rows: int = 20_000, name: str = "big_table.html") -> Path:
    """The page with a `rows`-row appendix table (a file catalogue) after the last section."""
    body = "".join(f"<tr><td>{i}</td><td>文件{i}</td><td>{2000 + i % 25}</td><td>{i % 7}</td></tr>"
                   for i in range(rows))
    head = "<tr><td>序号</td><td>名称</td><td>年份</td><td>件数</td></tr>"
    appendix = f"<p>附件：主动公开文件目录</p><table>{head}{body}</table>"
    return write(folder, name, page(spec, folder, name).replace("</body>", appendix + "</body>"))


def big_flat_text(spec: Spec, folder: Path, rows: int = 20_000, name: str = "big_table.txt") -> Path:
    """The scraped-text form with a `rows`-row table flattened one cell per line at the end."""
    text = render(spec, "txt", folder / name).read_text(encoding="utf-8")
    cells = "\n".join(f"{i}\n文件{i}\n{i % 7}" for i in range(rows))
    return write(folder, name, f"{text}附件：主动公开文件目录\n序号\n名称\n件数\n{cells}\n")


def too_long_text(spec: Spec, folder: Path, chars: int = 1_100_000, name: str = "dump.txt") -> Path:
    """The scraped-text report followed by its prose repeated to `chars` characters: a dump or a collection of
    pages, no one report (a 49 MB one embedded for over an hour before it was refused)."""
    text = render(spec, "txt", folder / name).read_text(encoding="utf-8")
    prose = "".join(f"{line}\n" for lines in spec.prose.values() for line in lines)
    return write(folder, name, text + prose * (chars // len(prose) + 1))


def with_control_chars(spec: Spec, folder: Path, fmt: str, name: str | None = None) -> Path:
    """The report (html or txt) with controls, BOMs, zero-width and bidi marks in its prose."""
    return render(_with_problem_text(spec, CONTROL_TEXT), fmt, folder / (name or f"controls.{fmt}"))


def with_lone_surrogates(spec: Spec, folder: Path, fmt: str, name: str | None = None) -> Path:
    """The report with lone surrogates three ways: numeric references (&#xD800; &#xDFFF;, HTML only),
    CESU-8 bytes ED A0 80 (invalid UTF-8), and a non-character reference (&#xFFFF;)."""
    marker = "SURROGATE"
    entities = "&#xD800;问题&#xdfff;说明&#xFFFF;" if fmt == "html" else ""
    path = render(_with_problem_text(spec, f"问题一{marker}问题二。"), fmt, folder / (name or f"surrogates.{fmt}"))
    data = path.read_bytes().replace(marker.encode(), entities.encode() + b"\xed\xa0\x80")
    return write(folder, path.name, data)


# -- broken files --------------------------------------------------------------------------------------


def empty(folder: Path, name: str = "empty.pdf") -> Path:
    return write(folder, name, b"")


def garbage(folder: Path, name: str = "garbage.pdf", size: int = 64 * 1024, seed: int = 7) -> Path:
    return write(folder, name, random.Random(seed).randbytes(size))


def _pdf(lines: list[str], *, password: str | None = None, image: bytes | None = None) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    if password:
        pdf.set_encryption(owner_password=password + "-owner", user_password=password)
    pdf.add_page()
    if image is not None:
        pdf.image(io.BytesIO(image), x=10, y=10, w=190)
    pdf.set_font("helvetica", size=12)
    for line in lines:
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


_PDF_LINES = ["Government information disclosure annual report 2022", "1. Overview", "2. Requests"] * 10


def truncated_pdf(folder: Path, name: str = "truncated.pdf") -> Path:
    """A valid PDF cut in the middle, as an interrupted download leaves it."""
    data = _pdf(_PDF_LINES)
    return write(folder, name, data[: len(data) // 2])


def encrypted_pdf(folder: Path, name: str = "locked.pdf", password: str = "secret") -> Path:
    """A PDF that needs a user password to open (fpdf2's RC4 encryption)."""
    return write(folder, name, _pdf(_PDF_LINES, password=password))


def scanned_pdf(folder: Path, name: str = "scanned.pdf") -> Path:
    """An image-only PDF: a scanned report with no text layer, which needs OCR."""
    from PIL import Image, ImageDraw

    picture = Image.new("L", (800, 1100), 255)
    draw = ImageDraw.Draw(picture)
    for y in range(60, 1050, 40):
        draw.rectangle((60, y, 740, y + 18), fill=40)  # lines of "text" as ink blocks
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return write(folder, name, _pdf([], image=buffer.getvalue()))


def oversized(folder: Path, size: int, name: str = "huge.pdf") -> Path:
    """A sparse file of `size` bytes: instant to make, takes no disk."""
    path = folder / name
    with path.open("wb") as f:
        f.truncate(size)
    return path


def zip_bomb_docx(spec: Spec, folder: Path, name: str = "bomb.docx", padding: int = 1 << 30) -> Path:
    """A real report DOCX whose document.xml inflates by `padding` bytes (1 GiB) of whitespace after the XML
    declaration (still well-formed XML), compressed to about 1 MB: a 1000:1 member.

    The member's header sizes are true, so only a reader that checks `ZipInfo.file_size` (or the ratio)
    before inflating is safe from it; python-docx would inflate and parse all of it. Takes about 3 s.
    """
    good = render(spec, "docx", folder / f"unpadded-{name}")
    path = folder / name
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            data = source.read(info)
            if info.filename != "word/document.xml":
                bomb.writestr(info, data, zipfile.ZIP_DEFLATED)
                continue
            declaration, rest = data.split(b"?>", 1)
            padded = zipfile.ZipInfo(info.filename, info.date_time)
            padded.compress_type = zipfile.ZIP_DEFLATED
            with bomb.open(padded, "w", force_zip64=True) as member:
                member.write(declaration + b"?>")
                block = b" " * (1 << 20)
                for _ in range(padding >> 20):
                    member.write(block)
                member.write(rest)
    good.unlink()
    return path


def many_member_bomb_docx(spec: Spec, folder: Path, name: str = "many_bomb.docx", members: int = 100,
                          size: int = 10 * 2**20 - 1) -> Path:
    """A real report DOCX whose relationships point at `members` extra pictures of `size` zero bytes each
    (about 1 GB in all, about 1 MB packed): no member is large alone, the archive is. python-docx loads every
    related part, so only a check of the whole archive before reading stops it. Takes about 5 s."""
    good = render(spec, "docx", folder / f"unpadded-{name}")
    rels = "word/_rels/document.xml.rels"
    path = folder / name
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == rels:
                links = "".join(
                    f'<Relationship Id="rIdPad{i}" Target="media/pad{i}.jpeg" Type="http://schemas.openxmlformats'
                    f'.org/officeDocument/2006/relationships/image"/>' for i in range(members))
                data = data.replace(b"</Relationships>", links.encode() + b"</Relationships>")
            bomb.writestr(info, data, zipfile.ZIP_DEFLATED)
        block = bytes(2**20)
        for i in range(members):
            padding = zipfile.ZipInfo(f"word/media/pad{i}.jpeg")
            padding.compress_type = zipfile.ZIP_DEFLATED
            with bomb.open(padding, "w") as member:
                for start in range(0, size, len(block)):
                    member.write(block[: min(len(block), size - start)])
    good.unlink()
    return path


def news_html(folder: Path, name: str = "news.html") -> Path:
    """A government news article: it names 政府信息公开 and a year but is no annual report."""
    text = (
        "<html><head><meta charset='utf-8'><title>我市召开政务公开工作推进会</title></head><body>"
        "<div class='nav'>首页 > 新闻中心 > 工作动态</div>"
        "<h1>我市召开政务公开工作推进会</h1><p>发布时间：2023-03-15 来源：某某市人民政府办公室</p>"
        "<p>3月15日，某某市人民政府召开2023年政务公开工作推进会，总结2022年政府信息公开工作，"
        "部署下一阶段重点任务。会议要求各部门进一步提高认识，抓好政策解读和回应关切。</p>"
        "<p>会议指出，要持续优化政府网站建设，确保信息发布及时准确。</p></body></html>"
    )
    return write(folder, name, text)
