"""A throwaway PostgreSQL server on this machine: ``cminbox demo --team`` and the tests.

:func:`server_binaries` finds ``initdb`` and ``pg_ctl`` (``$CMINBOX_PG_BIN``, ``pg_config
--bindir``, the Debian and Homebrew folders, then ``PATH``); :class:`LocalCluster` runs
``initdb`` into a temp folder of its own, starts the server on a free loopback port (unix
socket in that folder, fsync on) and, on :meth:`LocalCluster.close`, stops it (``pg_ctl stop
-m fast``) and removes the folder. Should its owner die without closing it (SIGKILL), a
guardian (guardian.py) stops the server and removes the folder instead. The server refuses
to run as root, so as root the folder belongs to the ``postgres`` user and the server
programs run through ``runuser``. No psycopg here: the database is created with the
server's own ``createdb``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cminbox.core.errors import CminboxError

BIN_ENV = "CMINBOX_PG_BIN"
SERVER_USER = "postgres"  # who runs the server when cminbox runs as root
TOOL_TIMEOUT = 120.0
# Debian and Ubuntu (postgresql-NN), Homebrew on Apple silicon and on Intel.
SERVER_FOLDERS = ("/usr/lib/postgresql/*/bin", "/opt/homebrew/opt/postgresql@*/bin", "/usr/local/opt/postgresql@*/bin")
INSTALL = (
    "Debian/Ubuntu: `sudo apt install postgresql`; Fedora: `sudo dnf install postgresql-server`; "
    "macOS: `brew install postgresql@15`"
)


class ServerMissingError(CminboxError):
    """The PostgreSQL server programs are not installed (or cannot be run here)."""


class ClusterError(CminboxError):
    """The throwaway server could not be created or started; the message has the server's words."""


def _has_tools(folder: Path) -> bool:
    return (folder / "initdb").is_file() and (folder / "pg_ctl").is_file()


def _pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out.stdout.strip()) if out.stdout.strip() else None


def _version_key(folder: Path) -> tuple[int, str]:
    """postgresql/15/bin, postgresql@15/bin: 15."""
    digits = "".join(c for c in folder.parent.name.rpartition("@")[2] if c.isdigit())
    return (int(digits) if digits else 0, str(folder))


def candidate_folders() -> list[Path]:
    """Where the server programs are looked for, in order (newest version first per pattern)."""
    found: list[Path] = []
    bindir = _pg_config_bindir()  # libpq's pg_config names the server's folder, installed or not
    if bindir is not None:
        found.append(bindir)
    for pattern in SERVER_FOLDERS:
        found.extend(sorted((Path(p) for p in glob.glob(pattern)), key=_version_key, reverse=True))
    initdb = shutil.which("initdb")
    if initdb is not None:
        found.append(Path(initdb).resolve().parent)
        found.append(Path(initdb).parent)
    return list(dict.fromkeys(found))


def server_binaries() -> Path:
    """The folder with ``initdb`` and ``pg_ctl``, or :class:`ServerMissingError` naming the package."""
    env = os.environ.get(BIN_ENV)
    if env:
        if _has_tools(Path(env)):
            return Path(env)
        raise ServerMissingError(
            f"${BIN_ENV} is {env!r}, which has no initdb and pg_ctl.",
            f"Point it at the PostgreSQL server's bin folder, or unset it. To install the server: {INSTALL}.",
        )
    for folder in candidate_folders():
        if _has_tools(folder):
            return folder
    raise ServerMissingError(
        "a local PostgreSQL needs the server programs (initdb, pg_ctl), which are not installed.",
        f"Install the PostgreSQL server package ({INSTALL}), or set ${BIN_ENV} to its bin folder.",
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


class LocalCluster:
    """A server of its own in a temp folder. ``with LocalCluster.start_new() as c: c.dsn``.

    Clients connect over TCP on 127.0.0.1 as :attr:`user` with :attr:`password` (scram); the
    unix socket sits in the cluster's folder (mode 0700), so only its owner can use it."""

    def __init__(self, binaries: Path, *, user: str = "cminbox", database: str = "cminbox", tag: str = "") -> None:
        """``tag``: in the folder's name (``cminbox-pg-TAG-...``), for a guardian (guardian.py)."""
        if _as_root():
            if shutil.which("runuser") is None:
                raise ServerMissingError("PostgreSQL refuses to run as root, and `runuser` is not installed.")
            try:
                import pwd

                pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise ServerMissingError(
                    f"PostgreSQL refuses to run as root, and there is no `{SERVER_USER}` user to run it as.",
                    f"Run cminbox as another user, or install the server package ({INSTALL}), which creates it.",
                ) from None
        self.bin, self.user, self.database = binaries, user, database
        self.password = secrets.token_urlsafe(18)
        self.root = Path(tempfile.mkdtemp(prefix=f"cminbox-pg-{tag}-" if tag else "cminbox-pg-"))
        self.data, self.log, self.port = self.root / "data", self.root / "server.log", _free_port()
        self.started = False

    @classmethod
    def start_new(cls, binaries: Path | None = None, **kwargs: str) -> LocalCluster:
        """Find the programs, initdb, start and create the database; on any failure nothing is left."""
        cluster = cls(binaries or server_binaries(), **kwargs)
        try:
            cluster.start()
        except BaseException:
            cluster.close()
            raise
        return cluster

    @property
    def dsn(self) -> str:
        """The DSN without the password (that comes from the password file or ``password``)."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def _argv(self, tool: str, *args: str) -> list[str]:
        argv = [str(self.bin / tool), *args]
        return ["runuser", "-u", SERVER_USER, "--", *argv] if _as_root() else argv

    def _run(self, tool: str, *args: str, what: str) -> None:
        try:
            # A session of its own: Ctrl-C in the terminal reaches cminbox, never the server.
            subprocess.run(
                self._argv(tool, *args),
                check=True,
                capture_output=True,
                text=True,
                timeout=TOOL_TIMEOUT,
                start_new_session=True,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.CalledProcessError as exc:
            said = (exc.stderr or exc.stdout or "").strip().splitlines()[-3:]
            log = self._log_tail()
            raise ClusterError(f"{what} failed: {' / '.join(said) or f'exit status {exc.returncode}'}{log}") from None
        except subprocess.TimeoutExpired:
            raise ClusterError(f"{what} did not finish within {TOOL_TIMEOUT:.0f} s.{self._log_tail()}") from None

    def _log_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()[-3:]
        except OSError:
            return ""
        return f" (server log: {' / '.join(lines)})" if lines else ""

    def start(self) -> None:
        if _as_root():
            shutil.chown(self.root, SERVER_USER, SERVER_USER)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        pwfile.chmod(0o600)
        if _as_root():
            shutil.chown(pwfile, SERVER_USER, SERVER_USER)
        locale = "--locale=en_US.UTF-8" if sys.platform == "darwin" else "--locale=C.UTF-8"
        try:
            self._run(
                "initdb",
                *("-D", str(self.data), "-U", self.user, f"--pwfile={pwfile}", "-E", "UTF8", locale),
                *("--auth-host=scram-sha-256", "--auth-local=trust", "--no-instructions"),
                what="initdb",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        options = f"-p {self.port} -k {shlex.quote(str(self.root))} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._run(
            "pg_ctl",
            *("-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "60", "start"),
            what="starting PostgreSQL",
        )
        self.started = True
        # Over the socket (trust, and only the folder's owner reaches it): no password needed.
        self._run(
            "createdb",
            *("-h", str(self.root), "-p", str(self.port), "-U", self.user, self.database),
            what="createdb",
        )

    def stop(self) -> None:
        """A fast shutdown (sessions ended, a checkpoint written); a server that does not stop is killed."""
        if not self.started:
            return
        self.started = False
        try:
            self._run(
                "pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop", what="stopping PostgreSQL"
            )
        except ClusterError:
            pid = self.postmaster_pid()
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                    time.sleep(0.2)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def close(self) -> None:
        """Stop the server and remove its folder (safe to call twice)."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
