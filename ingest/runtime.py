"""Which runtime encodes with the embedding model: decided from the settings alone, without loading anything,
so that opening a store can check the runtime its index was built with.

- `torch`: sentence-transformers on CPU torch, fp32. Works for any `REPORTQA_EMBED_MODEL`.
- `openvino`: the default model exported to OpenVINO IR by `reportqa model` (ingest/ov_embeddings.py), run at the
  CPU's default inference precision (bf16 where the CPU has it, fp32 otherwise); cosine to torch fp32 ≥ 0.9999.
- `openvino-f32`: the same export, inference forced to fp32 (cosine to torch 1.0000, slower on bf16 CPUs).
- `openvino-int8`: the export quantized by NNCF, calibrated on report text, on first use: faster again, with
  cosine to torch about 0.998 and a different top-5 order on about half of the queries, so an option, not the
  default.
- `auto` (the default): `openvino` for the default model, unless `reportqa model` could not export it (it then
  leaves a note beside the model and auto means `torch`); `torch` for any other model.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ingest.errors import ReportQAError
from ingest.settings import DEFAULT_MODEL, Settings

RUNTIMES = ("torch", "openvino", "openvino-int8", "openvino-f32")
# OpenVINO's INFERENCE_PRECISION_HINT per runtime; None keeps the device's default.
PRECISION = {"openvino": None, "openvino-int8": None, "openvino-f32": "f32"}


def export_dir(settings: Settings, variant: str = "") -> Path:
    """Where `reportqa model` writes the OpenVINO export of the default model (beside the model itself), and
    where a `variant` of it (int8) goes."""
    return Path(settings.model_cache) / "-".join(filter(None, (DEFAULT_MODEL, "openvino", variant)))


def failure_note(settings: Settings) -> Path:
    """Written by `reportqa model` when the export failed (the reason inside); `auto` then means torch."""
    return Path(settings.model_cache) / f"{DEFAULT_MODEL}-openvino.failed"


def runtime(settings: Settings) -> str:
    """The runtime `settings` ask for, `auto` resolved: one of RUNTIMES."""
    wanted = settings.embed_runtime.strip().lower()
    if wanted == "auto":
        if settings.embed_model != DEFAULT_MODEL or importlib.util.find_spec("openvino") is None:
            return "torch"
        return "torch" if failure_note(settings).is_file() else "openvino"
    if wanted not in RUNTIMES:
        raise ReportQAError(f"REPORTQA_EMBED_RUNTIME={settings.embed_runtime!r}: use auto, {', '.join(RUNTIMES)}")
    if wanted != "torch" and settings.embed_model != DEFAULT_MODEL:
        raise ReportQAError(
            f"REPORTQA_EMBED_RUNTIME={wanted} runs only the default model ({DEFAULT_MODEL}), not "
            f"{settings.embed_model!r}: set REPORTQA_EMBED_RUNTIME=torch (or auto)"
        )
    return wanted
