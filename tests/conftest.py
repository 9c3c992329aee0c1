"""Shared fixtures. Tests marked `shared` read ../shared/corpus (present in CI, absent in a user's
clone) and are skipped, saying so, when it is missing."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import postgres

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
_databases = itertools.count()


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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway Postgres cluster for the session (tests/postgres.py); skipped, saying why, without Postgres."""
    bin_dir = postgres.bindir()
    if bin_dir is None:
        pytest.skip(postgres.MISSING)
    with postgres.cluster(bin_dir) as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database on the session's cluster: REPORTQA_DB_URL for one test."""
    name = f"test_{next(_databases)}"
    engine = sa.create_engine(postgres_server.replace("postgresql://", "postgresql+psycopg://"),
                              isolation_level="AUTOCOMMIT")
    with engine.connect() as db:
        db.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return postgres_server.replace("/postgres?", f"/{name}?")


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """What a store test runs against: "" (the SQLite file in its home) or a fresh Postgres database."""
    return "" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
