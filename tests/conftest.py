"""Shared fixtures. Tests marked `shared` read ../shared/corpus (present in CI, absent in a user's
clone) and are skipped, saying so, when it is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SHARED_CORPUS.is_dir():
        return
    skip = pytest.mark.skip(reason=f"needs the shared corpus at {SHARED_CORPUS} (CI has it; a plain clone does not)")
    for item in items:
        if "shared" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    return SHARED_CORPUS
