"""Scanned reports with known cells: pages rendered, degraded as a scanner and a stamp would, wrapped back up.

A real PDF (its own layout) is rasterised with pdfium; a report in any other form is first printed from its gold
cells through `reportgen` (the standard table layout, the report's agency and year in the title). Each page is then
degraded deterministically by seed: grey paper, a slight rotation (one page of a longer report upside down), blur,
a red seal over part of the first table, JPEG artefacts at 150–300 dpi. The result is an image-only PDF, or the page
images alone (`.png` / `.jpg`), or a Word file holding them, as agencies publish scans.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pdfplumber
import pypdfium2
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from ingest.format.template import TEMPLATES, Template
from tests.reportgen import Noise, Spec, pdf_font, random_spec, render, standard_cells

Box = tuple[float, float, float, float]  # x0, top, x1, bottom in PDF points


@dataclass(frozen=True)
class Degrade:
    """How one scan is damaged; `Degrade.seeded(seed)` varies every knob within what scanners do."""

    dpi: int = 200
    angle: float = 0.8  # degrees, sign alternates by page
    upside_down: int | None = None  # 1-based page scanned upside down
    blur: float = 0.6  # Gaussian radius in pixels
    paper: int = 232  # grey level of the background
    quality: int = 60  # JPEG quality
    seal: bool = True

    @classmethod
    def seeded(cls, seed: int) -> Degrade:
        rng = random.Random(seed)
        return cls(dpi=rng.choice((150, 200, 300)), angle=rng.uniform(0.3, 1.8), upside_down=rng.choice((None, 2)),
                   blur=rng.uniform(0.3, 0.9), paper=rng.randint(215, 240), quality=rng.randint(45, 75))


def gold_spec(agency: str, year: int, cells: Sequence[tuple[tuple[str, str, str], str, float | None]],
              seed: int = 0) -> Spec:
    """A printable report holding exactly `cells` ((table, row, column), raw, value): the template that prints
    most of them, prose and headings made up by reportgen, every other cell of the layout left blank."""
    keys = {key for key, _, _ in cells}
    template: Template = max(TEMPLATES, key=lambda t: len(keys & set(standard_cells(t))))
    spec = random_spec(agency, year, template, seed=seed, noise=Noise())
    printed = set(standard_cells(template))
    values = {key: "" for key in printed}
    numbers: dict[tuple[str, str, str], float | None] = {key: None for key in printed}
    for key, raw, value in cells:
        if key in printed:
            values[key], numbers[key] = raw, value
    return replace(spec, values=values, numbers=numbers)


def printed_keys(spec: Spec) -> set[tuple[str, str, str]]:
    return set(standard_cells(spec.template))


def print_spec(spec: Spec, path: Path) -> Path:
    """The report printed as a text PDF (reportgen's layout), the page source of a scan."""
    if pdf_font() is None:
        raise FileNotFoundError("scans need fonts-wqy-microhei (make apt)")
    return render(spec, "pdf", path)


def _table_boxes(pdf: Path) -> dict[int, list[Box]]:
    """Ruled tables per 0-based page, where the seal is put."""
    with pdfplumber.open(pdf) as doc:
        return {i: [t.bbox for t in page.find_tables()] for i, page in enumerate(doc.pages)}


def _seal(size: int) -> Image.Image:
    """A round red seal (ring, star, agency-style text) on white, to be multiplied onto a page."""
    seal = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(seal)
    red = (205, 30, 35)
    draw.ellipse((4, 4, size - 4, size - 4), outline=red, width=max(3, size // 28))
    c, r = size / 2, size * 0.16
    star = [(c + r * math.cos(math.radians(-90 + 36 * k)) * (1 if k % 2 == 0 else 0.4),
             c + r * math.sin(math.radians(-90 + 36 * k)) * (1 if k % 2 == 0 else 0.4)) for k in range(10)]
    draw.polygon(star, fill=red)
    font = ImageFont.truetype(str(pdf_font()), size // 9)
    text = "政府信息公开专用章"
    for k, char in enumerate(text):
        angle = math.radians(-200 + 220 * k / (len(text) - 1))
        x, y = c + size * 0.34 * math.cos(angle), c + size * 0.34 * math.sin(angle)
        draw.text((x, y), char, fill=red, font=font, anchor="mm")
    return seal


def _degrade(page: Image.Image, number: int, how: Degrade, tables: list[Box], rng: random.Random) -> Image.Image:
    page = page.convert("RGB")
    scale = how.dpi / 72
    if how.seal and tables:
        x0, top, x1, bottom = tables[0]
        size = int(min(x1 - x0, bottom - top, 150) * scale)
        if size > 40:
            at = (int((x1 - size / scale * 0.9) * scale), int((top + (bottom - top) * 0.3) * scale))
            stamp = Image.new("RGB", page.size, "white")
            stamp.paste(_seal(size), at)
            page = ImageChops.multiply(page, stamp)
    paper = Image.new("RGB", page.size, (how.paper,) * 3)
    noise = Image.effect_noise(page.size, 18).convert("RGB")
    paper = ImageChops.multiply(paper, ImageChops.invert(ImageChops.invert(noise).point(lambda v: v // 6)))
    page = ImageChops.multiply(page, paper)
    angle = how.angle * (1 if number % 2 else -1) + rng.uniform(-0.2, 0.2)
    if how.upside_down == number:
        angle += 180
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=(how.paper,) * 3)
    page = page.filter(ImageFilter.GaussianBlur(how.blur))
    buffer = io.BytesIO()
    page.save(buffer, "JPEG", quality=how.quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def scanned_pages(pdf: Path, how: Degrade, seed: int = 0, pages: Sequence[int] | None = None) -> list[Image.Image]:
    """The pages of a text PDF (all, or the 1-based `pages`) as degraded scans."""
    rng = random.Random(seed)
    tables = _table_boxes(pdf)
    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        numbers = pages or range(1, len(doc) + 1)
        return [_degrade(doc[n - 1].render(scale=how.dpi / 72).to_pil(), n, how, tables.get(n - 1, []), rng)
                for n in numbers]
    finally:
        doc.close()


def image_pdf(images: Sequence[Image.Image], path: Path, dpi: int) -> Path:
    """Page images wrapped into a PDF without a text layer, as a scanner writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    first, *rest = images
    first.save(path, "PDF", save_all=True, append_images=rest, resolution=dpi, quality=85)
    return path


def image_docx(images: Sequence[Image.Image], path: Path) -> Path:
    """A Word file holding only the page images (a scan pasted into a document)."""
    import docx
    from docx.shared import Mm

    document = docx.Document()
    for image in images:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
        buffer.seek(0)
        document.add_picture(buffer, width=Mm(170))
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def scan_pdf(source: Path, out: Path, how: Degrade, seed: int = 0) -> Path:
    """`source` (a text PDF) scanned into the image-only PDF `out`."""
    return image_pdf(scanned_pages(source, how, seed), out, how.dpi)


def corpus_scans(reports: Path, gold: dict, out: Path, names: Sequence[str] | None = None) -> list[tuple[Path, list]]:
    """Scans of the shared reports (`names`, or every one with gold) with the gold cells each scan prints.

    A PDF is scanned as it is; any other form is printed from its gold first, under the agency and year its own
    reader finds (so the scan's title says who and when, as the original does)."""
    from ingest.readers import read

    found = []
    for path in sorted(reports.iterdir()):
        cells = gold.get(f"reports/{path.name}")
        if not cells or (names is not None and path.name not in names):
            continue
        seed = sum(path.name.encode())
        how = Degrade.seeded(seed)
        if path.suffix == ".pdf":
            source, scored = path, cells
        else:
            report = read(path)
            spec = gold_spec(report.agency, report.year, [(c.key, c.raw, c.value) for c in cells], seed=seed)
            source = print_spec(spec, out / "printed" / f"{path.stem}.pdf")
            scored = [c for c in cells if c.key in printed_keys(spec)]
        found.append((scan_pdf(source, out / f"{path.stem}.pdf", how, seed), scored))
    return found
