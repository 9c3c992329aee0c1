"""The scale benchmark's machinery at a tiny size: it fills the store with what it says and measures every row
(timings are the benchmark's business, not asserted here)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langchain_core.embeddings import DeterministicFakeEmbedding

from tests import bench_scale


def test_agency_names_are_distinct_and_named_like_agencies() -> None:
    names = bench_scale.agency_names(2000)
    assert len(set(names)) == 2000
    assert all("市" in n and n.endswith(("局", "政府", "办公室", "委员会")) for n in names)


def test_tiny_run_fills_the_store_and_measures_every_row(tmp_path: Path) -> None:
    logged: list[str] = []
    lines = bench_scale.run(tmp_path, n_reports=50, n_chunks=200, n_questions=5,
                            embeddings=DeterministicFakeEmbedding(size=16), log=logged.append)

    db = sqlite3.connect(tmp_path / "store" / "reportqa.sqlite")
    reports, facts, chunks = (db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                              for t in ("reports", "facts", "chunks"))
    indexes = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    db.close()
    assert reports == 50 and facts > 50 * 100 and chunks >= 200
    assert {"facts_lookup", "facts_report_table", "facts_report"} <= indexes  # rebuilt after the load
    text = "\n".join(lines)
    assert lines[0] == bench_scale.HEADING.format(backend="SQLite")
    assert f"50 reports of distinct generated agencies ({facts} fact rows)" in text

    def row(label: str) -> str:
        return next(line for line in lines if line.startswith(f"| {label}"))

    assert "(n=5)" in row("**fact answer**") and "(fact " in row("**fact answer**")  # answered from the cells
    assert "(n=5)" in row("**narrative answer**") and "(narrative " in row("**narrative answer**")
    assert "found exactly)" in row("agency index: match")
    assert "(n=5)" in row("`Store.facts(") and "(n=5)" in row("raw Chroma query, k=20, one report's")
