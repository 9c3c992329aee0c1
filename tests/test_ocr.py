"""Scanned reports read by OCR: image-only PDFs, mixed PDFs, image files, pictures in Word files.

One generated report is printed, scanned (tests/scans.py: tilted, page 2 upside down, blurred, grey paper, a red
seal over a table, JPEG) and read once for the session; its cells are known, so every test compares with them.
The unit tests below it (page preparation, table layout, doubt) need no OCR. The full-corpus accuracy is the cell
benchmark's (`python -m tests.cellbench`); one `shared` test scans a real report here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pdfplumber
import pypdfium2
import pytest
from PIL import Image, ImageDraw

from ingest.doubt import doubt
from ingest.model import CellRef, Fact, Report
from ingest.readers import read
from ingest.readers.scan import layout
from ingest.readers.scan import page as pages
from ingest.readers.scan.engine import Word
from ingest.tables.extract import extract_facts
from tests import cellbench
from tests.cellbench import generated, run, spec_gold
from tests.reportgen import AGENCIES, Noise, Spec, pdf_font, random_spec
from tests.scans import Degrade, image_docx, image_pdf, print_spec, scanned_pages

pytestmark = pytest.mark.skipif(pdf_font() is None, reason="scans are printed with fonts-wqy-microhei (make apt)")

HOW = Degrade(dpi=200, angle=1.2, upside_down=2, blur=0.7, paper=225, quality=55)


@dataclass(frozen=True)
class Scanned:
    spec: Spec
    printed: Path  # the text PDF the scan was made from
    pdf: Path  # the image-only PDF
    images: list[Image.Image]
    report: Report
    facts: list[Fact]
    progress: list[tuple[int, int]]


@pytest.fixture(scope="session")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Scanned:
    folder = tmp_path_factory.mktemp("scan")
    spec = random_spec(AGENCIES[123], 2022, seed=8, noise=Noise(blank_zeros=0.3, units=True))
    printed = print_spec(spec, folder / "printed.pdf")
    images = scanned_pages(printed, HOW, seed=8)
    pdf = image_pdf(images, folder / "scan.pdf", HOW.dpi)
    progress: list[tuple[int, int]] = []
    report = read(pdf, progress=lambda done, total: progress.append((done, total)))
    return Scanned(spec, printed, pdf, images, report, doubt(extract_facts(report)), progress)


def test_an_image_only_pdf_is_read_with_its_agency_and_year(scanned: Scanned) -> None:
    with pdfplumber.open(scanned.pdf) as doc:
        assert not any((page.extract_text() or "").strip() for page in doc.pages)  # truly image-only
    assert (scanned.report.agency, scanned.report.year) == (scanned.spec.agency, scanned.spec.year)
    assert scanned.report.source_format == "pdf"
    assert [n for n, _ in scanned.report.page_images] == list(range(1, len(scanned.images) + 1))
    assert scanned.progress == [(n, len(scanned.images)) for n in range(1, len(scanned.images) + 1)]


def test_scanned_cells_are_read_right_or_flagged(scanned: Scanned) -> None:
    """Every cell right or flagged; on this one report, whose seal covers blank cells, 90% right (the 97% over
    all the shared reports' scans is the cell benchmark's)."""
    result = run(generated([(scanned.pdf, spec_gold(scanned.spec, "scan.pdf"))], "scans", "scan"))
    tally = result.tally("group")["generated/scans"]
    assert tally.pct("exact") >= 90.0, result.of("wrong") + result.of("missed") + result.of("flagged")
    assert tally.counts["confident"] == 0, result.of("wrong")


def test_every_ocr_cell_keeps_its_page_box_and_confidence(scanned: Scanned) -> None:
    sizes = {n: Image.open(io.BytesIO(image)).size for n, image in scanned.report.page_images}
    for fact in scanned.facts:
        ref = fact.ref
        assert ref.page in sizes and ref.box is not None and ref.confidence is not None, fact
        width, height = sizes[ref.page]
        assert 0 <= ref.box[0] < ref.box[2] <= width and 0 <= ref.box[1] < ref.box[3] <= height
    crop = pages.cell_crop(dict(scanned.report.page_images)[scanned.facts[0].ref.page], scanned.facts[0].ref.box)
    assert Image.open(io.BytesIO(crop)).size[0] > 10


def test_a_mixed_pdf_uses_the_text_layer_where_there_is_one(scanned: Scanned, tmp_path: Path) -> None:
    """Typed pages read as text, the scanned page 2 (Table 3 goes on there, upside down) by OCR: one report."""
    scan_page = 2
    mixed = pypdfium2.PdfDocument.new()
    with pypdfium2.PdfDocument(str(scanned.printed)) as typed, pypdfium2.PdfDocument(str(scanned.pdf)) as scan:
        for number in range(1, len(typed) + 1):
            mixed.import_pages(scan if number == scan_page else typed, [number - 1])
    mixed.save(str(tmp_path / "mixed.pdf"))
    report = read(tmp_path / "mixed.pdf")
    facts = doubt(extract_facts(report))
    assert [n for n, _ in report.page_images] == [scan_page]
    assert {f.ref.confidence is not None for f in facts if f.ref.page == scan_page} == {True}
    assert {f.ref.confidence is not None for f in facts if f.ref.page != scan_page} == {False}
    assert {(f.table, f.row, f.column) for f in facts} >= set(scanned.spec.values)


@pytest.mark.parametrize("form", ["docx", "tif"])
def test_pictures_in_a_word_file_and_image_files_are_read(scanned: Scanned, tmp_path: Path, form: str) -> None:
    """The first two pages (Table 3 starts on one, goes on upside down on the other), as a Word file of pictures
    and as a two-frame TIFF."""
    first, second = scanned.images[:2]
    if form == "docx":
        path = image_docx([first, second], tmp_path / "scan.docx")
    else:
        path = tmp_path / "scan.tif"
        # pixels only: the JPEG's own tags are not TIFF tags
        first, second = (Image.fromarray(np.asarray(image)) for image in (first, second))
        first.save(path, save_all=True, append_images=[second])
    report = read(path)
    assert (report.agency, report.year) == (scanned.spec.agency, scanned.spec.year)
    got = {(f.table, f.row, f.column): f for f in doubt(extract_facts(report)) if f.table == "requests"}
    expected = {k: v for k, v in scanned.spec.values.items() if k[0] == "requests"}
    assert len(got) >= 0.9 * len(expected)
    right = sum(k in got and got[k].status != "ambiguous" and got[k].raw.strip() == v for k, v in expected.items())
    assert right >= 0.9 * len(expected)
    assert all(f.ref.box is not None and f.ref.page in (1, 2) for f in got.values())


# ---------------------------------------------------------------- page preparation, no OCR


def _ruled(size: tuple[int, int] = (900, 400)) -> Image.Image:
    """A 4×3 ruled grid whose first row is one merged cell, black on white."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    xs, ys = (100, 300, 500, 800), (50, 150, 250, 350)
    for y in ys:
        draw.line((xs[0], y, xs[-1], y), fill="black", width=2)
    for x in xs:
        draw.line((x, ys[0], x, ys[-1]), fill="black", width=2)
    draw.rectangle((xs[0] + 2, ys[0] + 2, xs[-1] - 2, ys[1] - 2), fill="white")  # erase the rules inside row 0
    draw.line((xs[0], ys[0], xs[-1], ys[0]), fill="black", width=2)
    return image


def test_the_tilt_of_a_page_is_measured() -> None:
    page = Image.new("L", (800, 1000), 255)
    draw = ImageDraw.Draw(page)
    for y in range(100, 900, 40):
        draw.rectangle((100, y, 700, y + 12), fill=0)  # lines of text
    tilted = np.asarray(page.rotate(2.0, fillcolor=255))
    assert abs(pages.tilt(tilted) + 2.0) <= 0.2
    assert abs(pages.tilt(pages.rotate(tilted, pages.tilt(tilted)))) <= 0.2


def test_a_red_seal_is_dropped_and_the_print_under_it_kept() -> None:
    image = Image.new("RGB", (400, 400), (225, 225, 225))  # grey paper
    draw = ImageDraw.Draw(image)
    draw.ellipse((50, 50, 350, 350), fill=(200, 30, 35))
    draw.rectangle((195, 180, 205, 220), fill=(10, 5, 5))  # a black stroke printed on the seal
    clean, faint = pages.unsealed(image)
    assert clean[100, 200] == 255 and clean[10, 10] == 255  # seal and paper are white
    assert clean[200, 200] < 60 and faint[200, 200] < 60  # the print stays


def test_ruled_tables_become_cells_with_spans() -> None:
    gray = np.asarray(_ruled().convert("L"))
    words = [Word("第二十条", (250, 80, 650, 120), 0.99), Word("12", (180, 180, 220, 220), 0.97),
             Word("7", (390, 180, 410, 220), 0.6, ("1",))]
    [grid] = layout.grids(gray, words)
    loose, pieces = layout.assign([grid], words)
    cells = {(c.row, c.col): c for c in grid.cells}
    assert (cells[0, 0].rowspan, cells[0, 0].colspan, cells[0, 0].text) == (1, 3, "第二十条")
    assert cells[1, 0].text == "12" and cells[1, 1].text == "7" and cells[1, 1].confidence == 0.6
    assert cells[2, 2].text == "" and cells[2, 2].confidence == 1.0
    assert loose == [] and pieces == []


def test_a_word_across_a_rule_is_read_again_cell_by_cell() -> None:
    gray = np.asarray(_ruled().convert("L"))
    [grid] = layout.grids(gray, [])
    _, pieces = layout.assign([grid], [Word("3 4", (200, 280, 400, 320), 0.9)])
    assert sorted((c.row, c.col) for c, _ in pieces) == [(2, 0), (2, 1)]


def test_values_in_a_cell_whose_rule_was_lost_are_split_again() -> None:
    image = _ruled()
    ImageDraw.Draw(image).rectangle((303, 245, 497, 255), fill="white")  # no rule between (1,1) and (2,1)
    gray = np.asarray(image.convert("L"))
    words = [Word("5", (390, 180, 410, 220), 0.9), Word("0", (390, 280, 410, 320), 0.9)]
    [grid] = layout.grids(gray, words)
    assert any(c.rowspan == 2 for c in grid.cells)  # the lost rule merged them
    layout.assign([grid], words)
    cells = {(c.row, c.col): c.text for c in grid.cells}
    assert cells[1, 1] == "5" and cells[2, 1] == "0"


# ---------------------------------------------------------------- doubt, no OCR


def _fact(table: str, row: str, column: str, raw: str, confidence: float | None = 0.99,
          alternatives: tuple[str, ...] = ()) -> Fact:
    value = float(raw) if raw else None
    kind = "blank" if not raw else "zero" if value == 0 else "number"
    return Fact("A:2022", "A", 2022, "2021", table, row, column, "", "", raw, value, "件", kind,  # type: ignore[arg-type]
                ref=CellRef("s.pdf", 1, 0, 0, 0, None, (0, 0, 10, 10) if confidence is not None else None,
                            confidence, alternatives))


def _review(values: list[str], confidence: float = 0.99) -> list[Fact]:
    columns = [c.key for c in __import__("ingest.format.schema", fromlist=["TABLE4"]).TABLE4.columns]
    return [_fact("review", "cases", c, v, confidence) for c, v in zip(columns, values, strict=True)]


def test_a_doubtful_digit_without_an_identity_is_ambiguous_with_its_rivals() -> None:
    [fact] = doubt([_fact("enforcement", "penalty", "decisions", "38", 0.55, ("36", "88"))])
    assert fact.status == "ambiguous" and fact.value is None and fact.candidates == (36.0, 38.0, 88.0)
    [sure] = doubt([_fact("enforcement", "penalty", "decisions", "38", 0.99)])
    assert sure.status == "ok" and sure.value == 38


def test_a_doubtful_digit_an_identity_vouches_for_is_trusted() -> None:
    facts = _review(["1", "2", "0", "0", "3"] + ["0"] * 10)
    facts[1] = replace(facts[1], ref=replace(facts[1].ref, confidence=0.2, alternatives=("7",)))
    assert all(f.status == "ok" for f in doubt(facts))


def test_the_cell_that_mends_a_broken_identity_is_the_suspect() -> None:
    facts = _review(["1", "8", "0", "0", "3"] + ["0"] * 10)  # 8 misread for 2: 1+8+0+0 != 3
    facts = [replace(f, status="inconsistent") if f.column.startswith("review") else f for f in facts]
    facts[1] = replace(facts[1], ref=replace(facts[1].ref, confidence=0.7))
    out = {f.column: f for f in doubt(facts)}
    assert out["review_corrected"].status == "ambiguous" and out["review_corrected"].candidates == (2.0, 8.0)
    assert out["review_upheld"].status == "inconsistent"  # read surely: shown as the report prints it


def test_ink_nothing_could_be_read_from_is_in_doubt_and_text_cells_never_are() -> None:
    [unread] = doubt([_fact("requests", "new", "total", "", 0.0)])
    assert unread.status == "ambiguous" and unread.candidates == (0.0,)
    typed = [_fact("enforcement", "penalty", "decisions", "38", None, ("36",))]
    assert doubt(typed) == typed


# ---------------------------------------------------------------- a real report


@pytest.mark.shared
def test_a_scanned_real_report_is_read_right_or_flagged(shared_corpus: Path, tmp_path: Path) -> None:
    [case] = cellbench.scan_cases(tmp_path, shared_corpus, names=["hongze_2024.pdf"])
    result = run([case])
    tally = result.tally("group")["generated/scans"]
    # Nothing read wrong with confidence; what the seal and the blur hide is flagged. Alone this reads 178 of 186
    # cells exactly (95.7%, the same in every process tried); after other tests in one session 171 were seen
    # (91.9%: more cells flagged, none trusted wrongly), a variation whose cause is not found yet.
    assert tally.pct("exact") >= 90.0 and tally.counts["confident"] == 0, result.of("wrong")
    report = read(case.path)
    assert (report.agency, report.year) == (read(shared_corpus / "reports" / "hongze_2024.pdf").agency, 2024)


# ---------------------------------------------------------------- store and web chat


def test_an_uploaded_scan_is_answered_citing_its_page_and_showing_the_cell(scanned: Scanned, tmp_path: Path) -> None:
    from langchain_core.embeddings import DeterministicFakeEmbedding

    from ingest.settings import Settings
    from ingest.store import Store
    from qa import Engine
    from ui.web.chat_page import ChatPage
    from ui.web.corpus_page import CorpusPage

    store = Store(Settings(home=tmp_path, embed_model="fake"), embeddings=DeterministicFakeEmbedding(size=16))
    pages: list[int] = []
    line = CorpusPage(store).ingest_file(scanned.pdf, pages=lambda _path, done, _total: pages.append(done))
    assert line.startswith("新增"), line
    assert pages == list(range(1, len(scanned.images) + 1))
    penalty = next(f for f in scanned.facts if (f.table, f.row, f.column) == ("enforcement", "penalty", "decisions"))
    assert penalty.status == "ok" and penalty.raw == scanned.spec.values["enforcement", "penalty", "decisions"]
    stored = store.facts(report_id=penalty.report_id, table="enforcement", row="penalty", column="decisions")
    assert [(f.ref.box, f.ref.confidence) for f in stored] == [(penalty.ref.box, penalty.ref.confidence)]
    assert store.page_image(penalty.report_id, penalty.ref.page) == dict(scanned.report.page_images)[penalty.ref.page]

    chat = ChatPage(store, Engine(store))
    *_, (messages, _, _, sources, *_) = chat.respond(
        f"{scanned.spec.year}年行政处罚决定多少件？", [], [], scanned.spec.agency, "")
    assert f"{penalty.value:g}" in messages[-1]["content"]
    assert f"第 {penalty.ref.page} 页" in sources
    assert 'class="src-crop"><img src="data:image/jpeg;base64,' in sources

    assert store.remove(penalty.report_id)
    assert store.page_image(penalty.report_id, penalty.ref.page) is None
