"""Storage trouble as an operator meets it, through the command line in a child process: an uncreatable home,
a read-only store, a truncated, overwritten or emptied database. Each is one line on stderr naming the path
and what to do, never a traceback; a read-only store still lists and answers; `check --repair` clears the
rest.

Stores are written by tests/test_crash.py's child (the real pipeline with the fake embedding), except the
read-only one, which answers a narrative question and so is ingested with the real model.
"""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_crash import run as ingest_in_child

SEED = ROOT / "corpus" / "xizang_zjt_2021.txt"
SEED_ID = "西藏自治区住房和城乡建设厅:2021"


def _as_plain_user() -> None:
    """In the child, before exec: root keeps uid 0 but loses the capabilities that let it write (and read)
    where file permissions forbid, so a read-only store is read-only to it too."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            libc.prctl(24, capability, 0, 0, 0)  # PR_CAPBSET_DROP


def cli(home: Path, *args: str, model: str | None = "fake", plain_user: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "REPORTQA_HOME": str(home), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    if model:
        env["REPORTQA_EMBED_MODEL"] = model
    else:
        env.pop("REPORTQA_EMBED_MODEL", None)
    return subprocess.run([sys.executable, "-c", "from ui.cli import main; main()", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, preexec_fn=_as_plain_user if plain_user else None)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The single stderr line of a failed command (no traceback, nothing else)."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.fixture
def fake_store(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    assert ingest_in_child(home, [SEED]).rc == 0
    return home


def test_uncreatable_home_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    line = one_line_error(cli(blocker / "home", "list"))
    assert f"cannot create the store folder {blocker / 'home'}" in line and "REPORTQA_HOME" in line, line


def _truncate(db: Path) -> None:
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])


def _overwrite(db: Path) -> None:
    db.write_bytes(os.urandom(db.stat().st_size))


def _empty(db: Path) -> None:
    db.write_bytes(b"")


@pytest.mark.parametrize(("damage", "said"), [
    (_truncate, r"is damaged \(database disk image is malformed\)"),
    (_overwrite, r"is damaged \(file is not a database\)"),
    (_empty, r"is empty \(0 bytes\) but its vector index .* is not"),
], ids=["truncated", "overwritten", "emptied"])
def test_damaged_database_is_one_line_and_repairable(fake_store: Path, damage: Callable[[Path], None],
                                                     said: str) -> None:
    db = fake_store / "reportqa.sqlite"
    for suffix in ("-wal", "-shm"):  # the child closed cleanly: everything is in the database file
        assert not Path(f"{db}{suffix}").exists()
    damage(db)
    for command in (["list"], ["ask", "2021年行政处罚多少件？"], ["remove", SEED_ID]):
        line = one_line_error(cli(fake_store, *command))
        assert str(db) in line and re.search(said, line) and "reportqa check --repair" in line, line
    repaired = cli(fake_store, "check", "--repair")
    assert repaired.returncode == 0, repaired.stderr
    assert f"dropped 24 orphaned vectors; re-ingest: {SEED_ID} (xizang_zjt_2021.txt)" in repaired.stdout
    assert list(fake_store.glob("reportqa.sqlite.damaged-*")), "the damaged database was not kept aside"
    assert cli(fake_store, "check", "--repair").stdout.strip() == "repair: nothing to repair"
    listed = cli(fake_store, "list")
    assert (listed.returncode, listed.stdout) == (0, "")
    assert ingest_in_child(fake_store, [SEED]).rc == 0
    assert SEED_ID in cli(fake_store, "list").stdout


@pytest.fixture
def read_only_store(tmp_path: Path):
    home = tmp_path / "home"
    ingested = cli(home, "ingest", str(SEED), model=None)
    assert ingested.returncode == 0, ingested.stderr
    probe = subprocess.run([sys.executable, "-c", f"open({str(home / 'probe')!r}, 'w')"], capture_output=True,
                           preexec_fn=_as_plain_user)
    for path in (home, *home.rglob("*")):
        path.chmod(path.stat().st_mode & ~0o222)
    denied = subprocess.run([sys.executable, "-c", f"open({str(home / 'probe2')!r}, 'w')"], capture_output=True,
                            preexec_fn=_as_plain_user)
    try:
        if probe.returncode != 0 or denied.returncode == 0:
            pytest.skip("cannot make a folder read-only to this user (root that keeps CAP_DAC_OVERRIDE)")
        yield home
    finally:
        for path in (home, *home.rglob("*")):
            path.chmod(path.stat().st_mode | 0o200)


def test_read_only_store_lists_and_answers(read_only_store: Path) -> None:
    before = sorted((p.relative_to(read_only_store), p.stat().st_mtime_ns) for p in read_only_store.rglob("*"))
    listed = cli(read_only_store, "list", model=None, plain_user=True)
    assert listed.returncode == 0 and listed.stdout.startswith(SEED_ID), listed.stderr
    fact = cli(read_only_store, "ask", "2021年行政处罚多少件？", model=None, plain_user=True)
    assert fact.returncode == 0 and "3 件" in fact.stdout, fact.stderr
    narrative = cli(read_only_store, "ask", "存在的主要问题是什么？", model=None, plain_user=True)
    assert narrative.returncode == 0 and "政府信息公开机制还不健全" in narrative.stdout, narrative.stderr
    for command in (["remove", SEED_ID], ["ingest", str(SEED)]):
        line = one_line_error(cli(read_only_store, *command, model=None, plain_user=True))
        assert f"the store at {read_only_store} is read-only" in line, line
    after = sorted((p.relative_to(read_only_store), p.stat().st_mtime_ns) for p in read_only_store.rglob("*"))
    assert after == before
