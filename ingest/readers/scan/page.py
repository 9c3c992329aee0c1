"""A scanned page made ready for OCR: the red seal taken out, the tilt straightened, upside-down pages turned.

Seals are red and sit over table cells; in the red channel red ink is as light as the paper while black print
stays black, so the channel alone is the page without its seal. The tilt is the angle whose horizontal
projection of the ink is sharpest (text lines and ruling lines line up with the rows), searched coarse to fine.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

MAX_TILT = 5.0  # degrees searched either way; scanners tilt a page a little, turned pages are handled apart
_PAPER = 31  # pixels: the paper's level is the lightest within this square, wider than a stroke of print
_RED = 40  # red minus the larger of green and blue: seal ink (black and grey print have none)
_SEAL_CLEAN = 115  # of 255 in the levelled red channel: lighter and red is seal
_SEAL_FAINT = 160
_PROBE_WIDTH = 900  # pixels: the tilt is measured on a reduced copy


def load(data: bytes) -> Image.Image:
    """An image file's first frame as RGB (PNG, JPEG, TIFF … as Pillow reads them)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB")


def unsealed(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """The page as grey levels on white paper, red ink dropped: cleanly, and faintly.

    In the red channel a red seal is nearly as light as the paper while black print under it stays black.
    Dividing by the paper's own level (a wide closing) whitens grey or uneven paper; what is then clearly red and
    lighter than a level is the seal, and becomes paper. No one level serves both ends: print on a solid part of
    the seal is barely darker than the seal's thin strokes. The clean page (`_SEAL_CLEAN`) is what text is
    found and read on; the faint one (`_SEAL_FAINT`) keeps print under the seal, with some of the seal, and is
    what a table cell found empty on the clean page is read again from."""
    import cv2

    rgb = np.asarray(image.convert("RGB"))
    red = rgb[:, :, 0]
    paper = cv2.morphologyEx(red, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (_PAPER, _PAPER)))
    flat = np.clip(red.astype(np.float32) / np.maximum(paper, 1) * 255, 0, 255)
    # JPEG blurs a seal's colour more than its lightness (chroma is stored at half resolution): the colour is
    # judged on a smoothed copy, and the strokes' grey rims just beside the red go with them
    smooth = cv2.GaussianBlur(rgb, (5, 5), 0).astype(np.int16)
    redness = smooth[:, :, 0] - np.maximum(smooth[:, :, 1], smooth[:, :, 2])
    seal = cv2.dilate((redness > _RED).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    clean, faint = flat.copy(), flat
    clean[seal & (flat > _SEAL_CLEAN)] = 255
    faint[seal & (flat > _SEAL_FAINT)] = 255
    return clean.astype(np.uint8), faint.astype(np.uint8)


def tilt(gray: np.ndarray) -> float:
    """The page's tilt in degrees (counter-clockwise positive, as `rotate` takes it)."""
    import cv2

    scale = _PROBE_WIDTH / gray.shape[1]
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    _, ink = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = ink.astype(np.float32)
    h, w = ink.shape

    def sharpness(angle: float) -> float:
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        rows = cv2.warpAffine(ink, matrix, (w, h), flags=cv2.INTER_NEAREST).sum(axis=1)
        return float(np.square(np.diff(rows)).sum())

    best = max(np.arange(-MAX_TILT, MAX_TILT + 0.01, 0.5), key=sharpness)
    return float(max(np.arange(best - 0.5, best + 0.51, 0.1), key=sharpness))


def rotate(gray: np.ndarray, angle: float) -> np.ndarray:
    """`gray` turned by `angle` degrees about its centre, the uncovered corners filled with paper."""
    import cv2

    if abs(angle) < 0.05:
        return gray
    h, w = gray.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    paper = int(np.median(gray))
    return cv2.warpAffine(gray, matrix, (w, h), flags=cv2.INTER_CUBIC, borderValue=paper)


def encoded(gray: np.ndarray) -> bytes:
    """The prepared page as a JPEG, kept so a cited cell can be shown as printed (its box is in these pixels)."""
    buffer = io.BytesIO()
    Image.fromarray(gray).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def cell_crop(page_image: bytes, box: tuple[float, float, float, float], margin: float = 0.35) -> bytes:
    """The part of an OCR'd page (`encoded`) under a cell's box, with a margin of the cell's height around it
    so the rules show: what a person checks a digit against."""
    image = Image.open(io.BytesIO(page_image))
    x0, y0, x1, y1 = box
    pad = (y1 - y0) * margin
    area = (max(int(x0 - pad), 0), max(int(y0 - pad), 0), min(int(x1 + pad), image.width),
            min(int(y1 + pad), image.height))
    buffer = io.BytesIO()
    image.crop(area).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()
