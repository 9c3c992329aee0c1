"""Ingest with worker processes (`workers` > 1, `reportqa ingest --workers`) stores exactly what the in-process
ingest stores: the same results in the same order, facts, chunks and page images; a bad file fails alone, a
cancel or Ctrl-C leaves the uncommitted files out, and OCR page progress comes back from the workers."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from langchain_core.embeddings import DeterministicFakeEmbedding

import ui.cli
from ingest.pipeline import READ_AHEAD, FileResult, ingest
from ingest.settings import Settings
from ingest.store import Store
from tests.reportgen import AGENCIES, pdf_font, random_spec, render
from tests.scans import Degrade, image_pdf, print_spec, scanned_pages


def _store(home: Path) -> Store:
    return Store(Settings(home=home, embed_model="fake"), embeddings=DeterministicFakeEmbedding(size=16))


def _contents(store: Store) -> tuple:
    """Everything an ingest stores, but the time it was stored at."""
    reports = [replace(r, ingested_at="") for r in store.reports()]
    images = [(r.id, store.page_image(r.id, 1)) for r in reports]
    return reports, store.facts(), store.chunks(), store.violations(), images, store.count_vectors()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """More files than one read-ahead batch, in several formats, with a bad file and a missing one among them."""
    folder = tmp_path_factory.mktemp("files")
    formats = ["html", "md", "txt", "docx", *(["pdf"] if pdf_font() else [])]
    reports = [render(random_spec(AGENCIES[i], 2020 + i % 4, seed=i), formats[i % len(formats)],
                      folder / f"r{i}.{formats[i % len(formats)]}") for i in range(READ_AHEAD + 2)]
    bad = folder / "bad.pdf"
    bad.write_bytes(b"not a pdf at all")
    return [*reports[:3], bad, folder / "missing.txt", *reports[3:], reports[0]]


def test_workers_store_what_one_process_stores(files: list[Path], tmp_path: Path) -> None:
    stores = {n: _store(tmp_path / f"w{n}") for n in (1, 2)}
    results = {n: ingest(files, store, workers=n) for n, store in stores.items()}
    assert results[2] == results[1]
    statuses = [r.status for r in results[1]]
    assert statuses == ["added"] * 3 + ["error"] * 2 + ["added"] * (len(files) - 6) + ["unchanged"], statuses
    assert _contents(stores[2]) == _contents(stores[1])
    # Run again: every file is recognised as committed before any worker would read it.
    again = ingest(files, stores[2], workers=2)
    assert [r.status for r in again] == ["unchanged"] * 3 + ["error"] * 2 + ["unchanged"] * (len(files) - 5)


def test_a_cancel_leaves_the_files_after_it_out(files: list[Path], tmp_path: Path) -> None:
    store = _store(tmp_path / "store")
    cancel = threading.Event()
    results = ingest(files, store, cancel=cancel, progress=lambda _: cancel.set(), workers=2)
    # The whole first batch was read before its first commit: the bad and the missing file failed by then.
    cancelled = ["cancelled"] * (len(files) - 5)
    assert [r.status for r in results] == ["added", "cancelled", "cancelled", "error", "error", *cancelled]
    assert [r.id for r in store.reports()] == [results[0].report_id]
    assert store.count_vectors() == results[0].chunks


@pytest.mark.skipif(pdf_font() is None, reason="scans are printed with fonts-wqy-microhei (make apt)")
def test_ocr_page_progress_comes_back_from_the_workers(tmp_path: Path) -> None:
    how = Degrade(dpi=150, seal=False)
    printed = print_spec(random_spec(AGENCIES[7], 2022, seed=3), tmp_path / "printed.pdf")
    scan = image_pdf(scanned_pages(printed, how, pages=[1]), tmp_path / "scan.pdf", how.dpi)
    heard: list[tuple[Path, int, int]] = []
    results = {n: ingest([scan], _store(tmp_path / f"w{n}"), workers=n, pages=lambda *page: heard.append(page))
               for n in (1, 2)}
    assert results[2] == results[1]
    assert heard == [(scan, 1, 1)] * 2


def _cli(store: Store, monkeypatch: pytest.MonkeyPatch, *args: str):
    monkeypatch.setattr(ui.cli, "_store", lambda: store)
    return CliRunner().invoke(ui.cli.cli, ["ingest", *args])


def test_cli_workers_flag(files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outcome = _cli(_store(tmp_path / "store"), monkeypatch, "--workers", "2", "--json", *map(str, files[:5]))
    assert outcome.exit_code == 1, outcome.output  # the bad and the missing file
    lines = [FileResult(**json.loads(line)) for line in outcome.stdout.splitlines()]
    assert [r.status for r in lines] == ["added"] * 3 + ["error"] * 2
    assert "3 added, 0 replaced, 0 unchanged, 2 error" in outcome.stderr


def test_cli_refuses_no_workers(files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outcome = _cli(_store(tmp_path / "store"), monkeypatch, "--workers", "0", str(files[0]))
    assert outcome.exit_code == 2 and "--workers" in outcome.output, outcome.output


def test_ctrl_c_with_workers_stops_them_and_keeps_the_store(files: list[Path], tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C lands in the embedding (where an ingest spends its time) while workers read the next batch."""

    class Interrupting(DeterministicFakeEmbedding):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            raise KeyboardInterrupt

    store = Store(Settings(home=tmp_path / "store", embed_model="fake"), embeddings=Interrupting(size=16))
    outcome = _cli(store, monkeypatch, "--workers", "2", *map(str, files))
    assert outcome.exit_code == 130 and "interrupted" in outcome.output, outcome.output
    assert store.reports() == [] and store.count_vectors() == 0
