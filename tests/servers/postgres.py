"""A real PostgreSQL server for the tests: one per session, started by PID and always stopped.

    def test_x(pg_database: str) -> None:        # a fresh, empty database per test (its DSN)
        with psycopg.connect(pg_database) as conn: ...

``crashable`` (per test) is a server of the test's own, with fsync on, that the test may crash
(``stop("immediate")``) and start again (tests/servers/pg_cluster.py).

``postgres_server`` (session) yields the server's DSN (database ``postgres``, user ``cm``,
trust auth, 127.0.0.1 on a free port, UTF-8 with the C.UTF-8 locale); ``fresh_database(dsn)``
creates a new database on it and returns that database's DSN. The binaries come from
``$CMINBOX_PG_BIN`` or the newest ``/usr/lib/postgresql/*/bin``. The server refuses to run as
root, so as root the data dir belongs to ``postgres`` and the commands run through ``runuser``.
Locally a missing server skips (with the reason); under CI=true it fails the test.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.fixtures import _free_port, _missing
from tests.servers.pg_cluster import Cluster, server_binaries

INITDB_OPTIONS = ("-E", "UTF8", "--locale=C.UTF-8", "--no-instructions")


def pg_bin() -> Path | None:
    env = os.environ.get("CMINBOX_PG_BIN")
    if env:
        return Path(env) if (Path(env) / "initdb").exists() else None
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name), reverse=True
    )
    return found[0].parent if found else None


def _as_server_user(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _postmaster_pid(data: Path) -> int | None:
    try:
        return int((data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_pid(pid: int) -> None:
    """Fast shutdown (SIGINT), then SIGKILL if the server is still there after 20 s."""
    for sig, wait in ((signal.SIGINT, 20.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if not _alive(pid):
            return


def _wait_ready(dsn: str, log: Path, timeout: float = 60) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(dsn, connect_timeout=2):
                return
        except psycopg.OperationalError:
            time.sleep(0.1)
    raise RuntimeError(f"PostgreSQL not ready after {timeout} s; log:\n{_tail(log)}")


def _tail(log: Path) -> str:
    try:
        return log.read_text()[-2000:]
    except OSError:
        return "(no log)"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The DSN of a PostgreSQL server started for this session (stopped at its end)."""
    binaries = pg_bin()
    if binaries is None:
        _missing("PostgreSQL", "install postgresql (initdb, pg_ctl) or set CMINBOX_PG_BIN")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg", "install the test extra: pip install -e '.[test]'")
    assert binaries is not None
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        _missing("runuser", "PostgreSQL will not run as root; run the tests as another user")
    root = Path(tempfile.mkdtemp(prefix="cm-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, log, port = root / "data", root / "server.log", _free_port()
    pid: int | None = None
    try:
        subprocess.run(
            _as_server_user([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "cm", *INITDB_OPTIONS]),
            check=True,
            capture_output=True,
        )
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        subprocess.run(
            _as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "start"]),
            check=True,
            capture_output=True,
            timeout=120,
        )
        pid = _postmaster_pid(data)
        dsn = f"postgresql://cm@127.0.0.1:{port}/postgres"
        _wait_ready(dsn, log)
        yield dsn
    finally:
        pid = pid or _postmaster_pid(data)
        if pid is not None:
            _stop_pid(pid)
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(server_dsn: str) -> str:
    """Create an empty database on the server and return its DSN (names never collide)."""
    import psycopg
    from psycopg import sql

    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server_dsn.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def pg_database(postgres_server: str) -> Iterator[str]:
    """A fresh database for one test (dropped afterwards)."""
    import psycopg
    from psycopg import sql

    dsn = fresh_database(postgres_server)
    try:
        yield dsn
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dsn.rsplit("/")[-1])))


@pytest.fixture
def crashable() -> Iterator[Cluster]:
    """A server of this test's own (fsync on) that it may crash and start again."""
    binaries = server_binaries()
    if binaries is None:
        _missing("PostgreSQL server binaries", "install postgresql (initdb, pg_ctl) or set CMINBOX_PG_BIN")
    assert binaries is not None
    cluster = Cluster(binaries, fsync=True)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()
