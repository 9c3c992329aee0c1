"""Messages of the command line where its input meets an empty or different store: one line saying what there
is, never a Python value (`None`) or an empty list."""

from __future__ import annotations

from pathlib import Path

from tests.test_crash import run as ingest_in_child
from tests.test_storage import SEED, SEED_ID, cli, one_line_error


def test_check_on_an_empty_store_says_so(tmp_path: Path) -> None:
    line = one_line_error(cli(tmp_path / "home", "check"))
    assert line == "Error: the store has no reports yet (see `reportqa ingest`)", line


def test_unknown_agency_filter_names_the_agencies(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert ingest_in_child(home, [SEED]).rc == 0
    line = one_line_error(cli(home, "ask", "--agency", "某某县X局", "行政处罚多少件？"))
    assert line == f"Error: no agency '某某县X局' in the store; agencies: {SEED_ID.split(':')[0]}", line
    checked = cli(home, "check", SEED_ID)
    assert checked.returncode == 0 and checked.stdout.startswith(SEED_ID), checked.stderr
