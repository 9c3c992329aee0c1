"""A throwaway Postgres cluster for the tests: Debian's `postgresql` binaries, a cluster in a temporary folder that
listens only on a unix socket inside it, stopped and removed afterwards.

initdb refuses to run as root (CI runs the tests as root), so there the cluster belongs to the `postgres` user the
Debian package creates (or `nobody`), started through runuser; a plain user runs it as itself.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

MISSING = ("needs Postgres (initdb and pg_ctl of Debian's `postgresql` package: `apt-get install postgresql`; "
           "`make test` installs it as root)")


def bindir() -> Path | None:
    """The newest installed Postgres server's binaries, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _owner() -> str | None:
    """The user to run the cluster as: None for the current one, unless that is root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with suppress(KeyError):
            return pwd.getpwnam(name).pw_name
    raise RuntimeError("running as root, with neither a `postgres` nor a `nobody` user to run Postgres as")


@contextmanager
def cluster(bin_dir: Path) -> Iterator[str]:
    """Start a cluster; yields the URL of its `postgres` database (superuser `reportqa`, no password)."""
    folder = Path(tempfile.mkdtemp(prefix="reportqa-pg-"))  # short: a unix socket path must fit in 107 bytes
    owner = _owner()
    as_owner = ["runuser", "-u", owner, "--"] if owner else []
    if owner:
        shutil.chown(folder, owner)
    data = folder / "data"
    try:
        subprocess.run([*as_owner, str(bin_dir / "initdb"), "-D", str(data), "-U", "reportqa", "--auth=trust",
                        "-E", "UTF8", "--locale=C"], check=True, capture_output=True)
        # fsync off: the tests kill clients, never the server; no TCP: nothing else on the machine can reach it
        options = f"-k {folder} -c listen_addresses='' -F"
        subprocess.run([*as_owner, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w",
                        "-o", options, "start"], check=True, capture_output=True)
        try:
            yield f"postgresql://reportqa@/postgres?host={folder}"
        finally:
            subprocess.run([*as_owner, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                           capture_output=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
