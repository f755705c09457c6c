"""A PostgreSQL cluster a test or a benchmark owns: started, crashed and restarted at will.

The session server (postgres.py) is shared and runs with fsync off for speed; durability
tests and benchmarks need their own server with fsync on, and a crash test needs to stop it
with ``pg_ctl stop -m immediate`` (no shutdown checkpoint: what a power cut leaves) and start
it again on the same data. No pytest import here, so ``bench/pg.py`` uses it too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def server_binaries() -> Path | None:
    env = os.environ.get("CMINBOX_PG_BIN")
    if env:
        return Path(env) if (Path(env) / "initdb").exists() else None
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


def _as_server_user(argv: list[str]) -> list[str]:
    # The server refuses to run as root: as root, the data dir belongs to `postgres`.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    def __init__(self, binaries: Path, *, fsync: bool = True) -> None:
        self.bin = binaries
        self.fsync = fsync
        self.root = Path(tempfile.mkdtemp(prefix="cm-pgc-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.data, self.log, self.port = self.root / "data", self.root / "server.log", _free_port()
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "cm", "-E", "UTF8", "--locale=C.UTF-8")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(_as_server_user([str(self.bin / tool), *args]), check=True, capture_output=True, timeout=120)

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://cm@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync={'on' if self.fsync else 'off'}"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """``immediate`` is a crash: backends are killed, recovery runs at the next start."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def create_database(self, name: str) -> str:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.dsn(), autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"'.encode())
                return self.dsn(name)
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
