"""Crash safety: SIGKILL an ingest at random (seeded) and at chosen points, repeatedly; after every kill
the store opens, each report is wholly there (row counts, chunks, vectors of its committed version,
the facts an uninterrupted run gives) or wholly absent, search sees only committed text, and a
re-run completes with nothing left over. A kill while replacing reports leaves the old version
answerable.

Each test runs on SQLite and on Postgres (REPORTQA_DB_URL in the children's environment). The ingest runs in a
child process (this module's `main`: the real pipeline and store with
LangChain's deterministic fake embedding, so no model is loaded); the store is read back by the
next child before it ingests, since embedded Chroma must not be open in two processes at once.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.reportgen import AGENCIES, random_spec, render

# Kill points inside Store.put, reached on purpose by the child (CRASH_AT=point:n, n-th time).
POINTS = ("indexed", "before_drop", "after_put")
QUERY = "政府信息公开申请 行政复议 存在的主要问题"


@dataclass(frozen=True)
class Run:
    rc: int
    before: dict  # the store as the child found it, before recover() and ingest
    after: dict | None  # the store after the child's ingest, when it finished
    seconds: float | None  # how long the ingest took, when it finished


# -- the child -------------------------------------------------------------------------------------------


def _open(home: Path):
    from langchain_core.embeddings import DeterministicFakeEmbedding

    from ingest.settings import Settings
    from ingest.store import Store

    return Store(Settings(home=home, embed_model="fake"), embeddings=DeterministicFakeEmbedding(size=16))


def dump(store) -> dict:
    """Everything a reader of the store can see, as JSON-able data."""
    reports = {}
    for info in store.reports():
        version = f"{info.id}@{info.content_hash[:16]}"
        reports[info.id] = {
            "hash": info.content_hash,
            "chunks": info.chunks,
            "facts": info.facts,
            "stored_facts": {f"{f.table}/{f.row}/{f.column}": f.raw for f in store.facts(report_id=info.id)},
            "stored_fact_rows": len(store.facts(report_id=info.id)),
            "stored_chunks": sorted(c.text for c in store.chunks([info.id])),
            "vectors": len(store._chroma.get(where={"version": version}, include=[])["ids"]),
        }
    hits = store.search(QUERY, k=50)
    return {
        "reports": reports,
        "hits": [(c.report_id, c.text) for c, _ in hits],
        "orphan_facts": len(store.facts()) - sum(r["stored_fact_rows"] for r in reports.values()),
        "orphan_chunks": len(store.chunks()) - sum(len(r["stored_chunks"]) for r in reports.values()),
        "vectors_total": store.count_vectors(),
    }


def _arm(point: str, n: int) -> None:
    """Make this process SIGKILL itself the n-th time it reaches `point` inside Store.put."""
    import langchain_core.indexing as indexing

    from ingest.store import Store

    seen = dict.fromkeys(POINTS, 0)

    def reached(name: str) -> None:
        seen[name] += 1
        if name == point and seen[name] == n:
            os.kill(os.getpid(), signal.SIGKILL)

    def wrap(owner, attr: str, name: str, after: bool) -> None:
        real = getattr(owner, attr)

        def hooked(*args, **kwargs):
            if not after:
                reached(name)
            result = real(*args, **kwargs)
            if after:
                reached(name)
            return result

        setattr(owner, attr, hooked)

    wrap(indexing, "index", "indexed", after=True)  # vectors written, SQLite not yet committed
    wrap(Store, "_drop_vectors", "before_drop", after=False)  # new version committed, old vectors still there
    wrap(Store, "put", "after_put", after=True)  # between two reports


def main() -> None:
    parser = argparse.ArgumentParser(description="ingest with a fake embedding, dumping the store around it")
    parser.add_argument("home", type=Path)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="JSON file for the dumps")
    parser.add_argument("--crash-at", help="POINT:N, one of " + ", ".join(POINTS))
    args = parser.parse_args()

    from ingest.pipeline import ingest

    store = _open(args.home)
    args.out.write_text(json.dumps({"before": dump(store)}, ensure_ascii=False), encoding="utf-8")
    if args.crash_at:
        point, n = args.crash_at.split(":")
        _arm(point, int(n))
    print("start", flush=True)
    began = time.monotonic()
    results = ingest(args.files, store)
    seconds = time.monotonic() - began
    before = json.loads(args.out.read_text(encoding="utf-8"))["before"]
    args.out.write_text(json.dumps({"before": before, "after": dump(store), "seconds": seconds}, ensure_ascii=False),
                        encoding="utf-8")
    sys.exit(1 if any(r.status == "error" for r in results) else 0)


# -- the parent ------------------------------------------------------------------------------------------


def run(home: Path, files: list[Path], *, kill_after: float | None = None, crash_at: str | None = None) -> Run:
    """Run the child; SIGKILL it `kill_after` seconds after it starts ingesting (if still running)."""
    out = home.with_suffix(".json")
    out.unlink(missing_ok=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.test_crash", str(home), *map(str, files), "--out", str(out)]
    if crash_at:
        command += ["--crash-at", crash_at]
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    started = child.stdout.readline().strip()
    if started == "start" and kill_after is not None:
        try:
            child.wait(kill_after)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
    _, err = child.communicate()
    assert started == "start", f"child failed before ingesting (rc {child.returncode}):\n{err[-3000:]}"
    assert child.returncode in (0, -signal.SIGKILL), f"child failed (rc {child.returncode}):\n{err[-3000:]}"
    data = json.loads(out.read_text(encoding="utf-8"))
    return Run(child.returncode, data["before"], data.get("after"), data.get("seconds"))


def assert_consistent(state: dict, versions: dict[str, list[dict]]) -> None:
    """Each report present is one complete version listed in `versions` (report id -> acceptable
    final states of an uninterrupted run); search shows committed text only."""
    for report_id, got in state["reports"].items():
        assert report_id in versions, f"unknown report {report_id}"
        assert got["stored_fact_rows"] == got["facts"], f"{report_id}: facts half-written"
        assert len(got["stored_chunks"]) == got["chunks"], f"{report_id}: chunks half-written"
        assert got["vectors"] == got["chunks"], f"{report_id}: {got['vectors']} vectors for {got['chunks']} chunks"
        matches = [v for v in versions[report_id] if v["hash"] == got["hash"]]
        assert matches, f"{report_id}: a version no run produced"
        expected = matches[0]
        assert got["stored_facts"] == expected["stored_facts"], f"{report_id}: facts differ from a clean ingest"
        assert got["stored_chunks"] == expected["stored_chunks"], f"{report_id}: chunks differ from a clean ingest"
    assert state["orphan_facts"] == 0 and state["orphan_chunks"] == 0
    committed = {(rid, text) for rid, r in state["reports"].items() for text in r["stored_chunks"]}
    assert all(tuple(hit) in committed for hit in state["hits"]), "search returned uncommitted text"


def assert_complete(state: dict, reference: dict) -> None:
    """After a finished re-run: exactly the reference reports, and no vector left over."""
    assert state["reports"] == reference["reports"]
    assert state["vectors_total"] == sum(r["chunks"] for r in reference["reports"].values())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, list[Path]]:
    """Six reports (four formats, both templates) and a second edition of each, with other values."""
    folder = tmp_path_factory.mktemp("crash_corpus")
    files: dict[str, list[Path]] = {"v1": [], "v2": []}
    formats = ("html", "md", "txt", "docx", "html", "md")
    for i, fmt in enumerate(formats):
        agency, year = AGENCIES[17 * i + 3], 2019 + i
        for edition, seed in (("v1", 0), ("v2", 1)):
            path = folder / edition / f"report{i}.{fmt}"
            files[edition].append(render(random_spec(agency, year, seed=seed), fmt, path))
    return files


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> dict[str, dict]:
    """Uninterrupted runs: the v1 store, and the store after v1 then v2; with the ingest's duration."""
    home = tmp_path_factory.mktemp("crash_reference") / "store"
    v1 = run(home, corpus["v1"])
    v2 = run(home, corpus["v2"])
    assert v1.rc == 0 and v2.rc == 0 and v1.after and v2.after
    assert len(v1.after["reports"]) == len(corpus["v1"]), "every corpus report must ingest cleanly"
    assert {r["hash"] for r in v1.after["reports"].values()}.isdisjoint(r["hash"] for r in v2.after["reports"].values())
    return {"v1": v1.after, "v2": v2.after, "seconds": v1.seconds}


@pytest.fixture
def backend(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The children's database: they read REPORTQA_DB_URL from the environment `run` passes on."""
    monkeypatch.setenv("REPORTQA_DB_URL", db_url)


def _versions(*states: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for state in states:
        for report_id, r in state["reports"].items():
            out.setdefault(report_id, []).append(r)
    return out


def _kills(plan: list[str], window: float, seed: int) -> list[dict]:
    """`run` arguments for each planned kill: "random" is a seeded time within `window` seconds of
    the start of ingest, anything else a point in Store.put (`POINT:N`)."""
    rng = random.Random(seed)
    return [{"kill_after": rng.uniform(0, window)} if kill == "random" else {"crash_at": kill} for kill in plan]


def _kill_then_finish(home: Path, files: list[Path], kills: list[dict], versions: dict, final: dict) -> list[int]:
    """Kill one run after another on the same store, checking it each time, then finish; returns the rcs."""
    codes = []
    for kill in kills:
        result = run(home, files, **kill)
        codes.append(result.rc)
        assert_consistent(result.before, versions)
    last = run(home, files)
    assert_consistent(last.before, versions)
    assert last.rc == 0 and last.after is not None
    assert_complete(last.after, final)
    return codes


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize(
    ("plan", "seed"), [(["indexed:1", "random", "random"], 1), (["after_put:2", "indexed:2", "random"], 2)]
)
def test_killed_while_adding(corpus, reference, tmp_path, plan: list[str], seed: int) -> None:
    """Chosen points first: a random kill may land after the last report, leaving nothing to reach."""
    kills = _kills(plan, reference["seconds"], seed)
    codes = _kill_then_finish(tmp_path / "store", corpus["v1"], kills, _versions(reference["v1"]), reference["v1"])
    chosen = [code for code, kill in zip(codes, plan, strict=True) if kill != "random"]
    assert chosen == [-signal.SIGKILL] * len(chosen)
    print(f"plan {plan}: exit codes {codes}")


@pytest.mark.usefixtures("backend")
def test_killed_while_replacing_keeps_every_report_answerable(corpus, reference, tmp_path) -> None:
    """Kills during a second edition of every report: each report stays, old or new, never neither."""
    home = tmp_path / "store"
    assert run(home, corpus["v1"]).rc == 0
    versions = _versions(reference["v1"], reference["v2"])
    plan = ["before_drop:1", "indexed:2", "before_drop:2", "random"]
    for planned, kill in zip(plan, _kills(plan, reference["seconds"], seed=11), strict=True):
        killed = run(home, corpus["v2"], **kill)
        assert planned == "random" or killed.rc == -signal.SIGKILL
        assert_consistent(killed.before, versions)
        assert set(killed.before["reports"]) == set(reference["v1"]["reports"]), "a report vanished mid-replace"
    last = run(home, corpus["v2"])
    assert_consistent(last.before, versions)
    assert last.rc == 0 and last.after is not None
    assert_complete(last.after, reference["v2"])


if __name__ == "__main__":
    main()
