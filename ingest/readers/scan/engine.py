"""The OCR engine: RapidOCR's PP-OCRv4 detection and recognition models, run offline from its wheel.

Chosen over Debian's tesseract (chi_sim) after reading the same degraded scans with both (BENCHMARKS.md, "OCR"):
PP-OCRv4 read the table digits of 150–300 dpi scans with a red seal over them far more often right, and its CTC
output gives a probability for every character, which is what lets a doubtful digit be flagged with the digits it
may be instead of being trusted. The wheel carries the models; nothing is downloaded at run time.

Recognition is done here rather than by `RapidOCR.__call__`, which keeps only each line's mean score: a long
number read with one doubtful digit would average out to a confident line.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache
from itertools import product

import numpy as np

# A digit whose probability is below this is doubtful, and a rival digit at or above `RIVAL` is a candidate.
DOUBT = 0.85
RIVAL = 0.05
_MARK = 0.6  # a non-digit read with less probability beside digits is a mark on the page, not print
MAX_ALTERNATIVES = 8  # readings of one word beyond the best, at most
_BATCH_PIXELS = 2048  # padded input width per batch: small batches of similar width are fastest on CPU
_HEIGHT = 48  # the recognition model's input height


# Letters a blurred or stamped digit is read as; a word made of digits and these alone is a number read in doubt.
_DIGITS = str.maketrans("oODQUCc°Il|iSsBZz", "00000000111155822")
_LOOKALIKE = re.compile(r"[+\-]?[0-9oODQUCc°Il|iSsBZz][0-9oODQUCc°Il|iSsBZz,.]*")
_NUMBER = re.compile(r"[+\-]?\d[\d,]*(\.\d+)?")


@dataclass(frozen=True)
class Word:
    """One detected text line as recognized: its axis-aligned box in page pixels, its text, the lowest
    probability of any of its characters, and other readings that swap doubtful digits for rival ones."""

    text: str
    box: tuple[float, float, float, float]  # x0, top, x1, bottom
    confidence: float
    alternatives: tuple[str, ...] = ()


# Threads each onnxruntime session runs on; 0 leaves it to onnxruntime (a thread per core).
_threads = 0


def set_threads(threads: int) -> None:
    """Run the engine, when this process loads it, on `threads` threads: a worker process among several
    (ingest.workers) takes its share of the cores, as onnxruntime's threads spin while they wait for work."""
    global _threads
    _threads = threads


class Engine:
    """One loaded model set, shared by every page of the process (loading takes a second or two)."""

    def __init__(self) -> None:
        from rapidocr_onnxruntime import RapidOCR

        self._ocr = RapidOCR(**({"intra_op_num_threads": _threads} if _threads else {}))
        self._chars = self._ocr.text_rec.postprocess_op.character
        self._lock = threading.Lock()  # onnxruntime sessions are thread-safe, the shared preprocessing is not

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        """Quadrilaterals of the text lines of an RGB page, top to bottom."""
        with self._lock:
            boxes, _ = self._ocr.text_det(image)
        if boxes is None or not len(boxes):
            return []
        return sorted(boxes, key=lambda q: (q[:, 1].min(), q[:, 0].min()))

    @staticmethod
    def crops(image: np.ndarray, boxes: list[tuple[float, float, float, float]]) -> list[np.ndarray]:
        """The page under each axis-aligned box (pages are straightened first). RapidOCR's own cropping turns
        tall crops a quarter turn, which makes a lone `1` read as `一`."""
        out = []
        for x0, y0, x1, y1 in boxes:
            left, top = max(int(x0), 0), max(int(y0), 0)
            right, bottom = max(int(np.ceil(x1)), left + 1), max(int(np.ceil(y1)), top + 1)
            out.append(np.ascontiguousarray(image[top:bottom, left:right]))
        return out

    def upside_down(self, crops: list[np.ndarray]) -> bool:
        """Is the page upside down? The angle classifier's vote over its widest lines."""
        widest = sorted(crops, key=lambda c: c.shape[1], reverse=True)[:24]
        if not widest:
            return False
        with self._lock:
            _, labels, _ = self._ocr.text_cls(widest)
        turned = sum(1 for label, score in labels if label == "180" and score > 0.6)
        return turned > len(widest) / 2

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float, tuple[str, ...]]]:
        """(text, lowest character probability, alternative readings) of each crop.

        Crops are batched by width so that short numbers are not padded to the width of a sentence."""
        order = sorted(range(len(crops)), key=lambda i: crops[i].shape[1] / max(crops[i].shape[0], 1))
        out: list[tuple[str, float, tuple[str, ...]]] = [("", 0.0, ())] * len(crops)
        for batch, width in _batches([_width(crops[i]) for i in order]):
            batch = [order[k] for k in batch]
            tensor = np.stack([_normalized(crops[i], width) for i in batch])
            with self._lock:
                probs = self._ocr.text_rec.session(tensor)[0]
            for i, p in zip(batch, probs, strict=True):
                out[i] = self._decode(p)
        return out

    def _decode(self, probs: np.ndarray) -> tuple[str, float, tuple[str, ...]]:
        """Greedy CTC decoding; each kept character with its probability and the rival digits beside it."""
        best = probs.argmax(axis=1)
        chars: list[str] = []
        confidences: list[float] = []
        options: list[tuple[str, ...]] = []
        previous = 0
        for t, index in enumerate(best):
            if index != 0 and index != previous:
                char = unicodedata.normalize("NFKC", self._chars[index])
                chars.append(char)
                confidences.append(float(probs[t, index]))
                rivals = ()
                if char.isdigit() and probs[t, index] < DOUBT:
                    top = np.argsort(probs[t])[::-1][1:4]
                    rivals = tuple(dict.fromkeys(
                        rival for k in top if k and probs[t, k] >= RIVAL
                        and (rival := unicodedata.normalize("NFKC", self._chars[k])).isdigit() and rival != char))
                options.append((char, *rivals))
            previous = index
        text = "".join(chars)
        digits = [(c, p, o) for c, p, o in zip(chars, confidences, options, strict=True) if c.isdigit() or p >= _MARK]
        kept = "".join(c for c, _, _ in digits)
        if not _NUMBER.fullmatch(text) and len(digits) < len(chars) and _NUMBER.fullmatch(kept):
            # a number with a faint mark read beside it (`5编`: a seal's character): the number, in doubt
            text, options = kept, [o for _, _, o in digits]
            confidences = [min(confidences), 0.5]
        if _LOOKALIKE.fullmatch(text) and not _NUMBER.fullmatch(text):
            # a number read with a letter that looks like a digit (`o` for 0, `l` for 1) or a dot beside it (a
            # speck): the digits, in doubt
            text = text.translate(_DIGITS).strip(".,") or text
            options = [(c,) for c in text]
            confidences = [min(confidences, default=0.0), 0.5]
        readings = ["".join(r) for r in product(*options)] if len(chars) < 24 else [text]
        alternatives = tuple(r for r in readings[1 : MAX_ALTERNATIVES + 1])
        return text, min(confidences, default=0.0), alternatives


def _width(crop: np.ndarray) -> int:
    h, w = crop.shape[:2]
    return max(int(np.ceil(_HEIGHT * w / max(h, 1))), _HEIGHT)


def _batches(widths: list[int]) -> list[tuple[list[int], int]]:
    """Consecutive indices of ascending `widths`, cut where the padded batch would exceed the pixel budget."""
    out: list[tuple[list[int], int]] = []
    for k, width in enumerate(widths):
        if out and (len(out[-1][0]) + 1) * width <= _BATCH_PIXELS:
            out[-1][0].append(k)
            out[-1] = (out[-1][0], width)
        else:
            out.append(([k], width))
    return out


def _normalized(crop: np.ndarray, width: int) -> np.ndarray:
    """A crop scaled to the model's height, normalized to [-1, 1], padded on the right to `width`."""
    import cv2

    h, w = crop.shape[:2]
    scaled_w = min(width, max(1, int(np.ceil(_HEIGHT * w / max(h, 1)))))
    resized = cv2.resize(crop, (scaled_w, _HEIGHT)).astype(np.float32).transpose(2, 0, 1) / 255
    out = np.zeros((3, _HEIGHT, width), dtype=np.float32)
    out[:, :, :scaled_w] = (resized - 0.5) / 0.5
    return out


@cache
def engine() -> Engine:
    """The process's engine, loaded on first use (text-layer ingest never loads it)."""
    return Engine()
