"""``cminbox demo --team``: the demo community on a throwaway local PostgreSQL, for two teammates.

One folder, ``cminbox-team-*`` in the temp dir, holds a config per teammate (the same
``[store]``, each its own ``[team] me``), their data dirs, the database password (mode
0600, read through ``password_command``) and a script that opens the second teammate's
instance. The first instance (this process) owns everything: the demo server, the
PostgreSQL server (core/pg/cluster.py, its own temp folder) and the team folder; closing it
stops both servers and removes both folders, on exit, error, Ctrl-C, SIGTERM or SIGHUP.

A process killed with SIGKILL (or by the OOM killer) runs none of that: a guardian process
(core/pg/guardian.py), started before anything else and woken by the end of a pipe only this
process holds, stops the server and removes both folders then. Both folders carry this
process's pid and a random tag in their names, so should the guardian die too, the next
``demo --team`` sweeps what its dead owner left.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shlex
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from secrets import token_hex
from types import FrameType
from typing import Any

from cminbox.core import config as config_mod
from cminbox.core.config import Config
from cminbox.core.errors import CminboxError
from cminbox.core.pg.cluster import LocalCluster
from cminbox.core.pg.connection import require_psycopg
from cminbox.core.pg.guardian import Guardian, sweep
from cminbox.core.secrets import Secrets
from cminbox.core.wiring import open_store, store_settings
from cminbox.demo.command import cminbox_argv
from cminbox.demo.people import seed_people
from cminbox.demo.server import DemoHTTPServer
from cminbox.demo.session import DEMO_CHANNEL, DEMO_TOKEN, demo_config_text
from cminbox.demo.state import DemoState

log = logging.getLogger(__name__)
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
TEAM_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def teammate(me: str) -> str:
    """The second teammate's name: bob, unless the first one is bob."""
    return "ana" if me == "bob" else "bob"


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise CminboxError(
            f"--me {name!r} is not a teammate name.", "Use lower-case letters, digits, - or _ (e.g. --me ana)."
        )
    return name


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def signals_interrupt() -> dict[int, Any]:
    """Until the TUI installs its own handlers (and from start: initdb takes seconds), SIGTERM
    and SIGHUP stop the demo like Ctrl-C, so its clean-up runs. Returns the handlers replaced."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, _raise_interrupt) for sig in TEAM_SIGNALS}


@contextlib.contextmanager
def signals_ignored() -> Iterator[None]:
    """The clean-up itself finishes whatever arrives meanwhile (a second Ctrl-C, the pane closing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    sigs = (signal.SIGINT, *TEAM_SIGNALS)
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in sigs}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@dataclass
class TeamDemo:
    folder: Path
    me: str
    mate: str
    server: DemoHTTPServer | None = None
    cluster: LocalCluster | None = None
    config: Config = field(default_factory=Config)
    secrets: Secrets = field(default_factory=lambda: Secrets({DEMO_CHANNEL: DEMO_TOKEN}))
    previous_handlers: dict[int, Any] = field(default_factory=dict)
    guardian: Guardian | None = None

    def config_path(self, who: str) -> Path:
        return self.folder / f"{who}.toml"

    def data_dir(self, who: str) -> Path:
        return self.folder / who

    @property
    def script(self) -> Path:
        return self.folder / f"{self.mate}.sh"

    def command(self, who: str) -> str:
        """The command that opens ``who``'s instance on the shared store."""
        argv = [*cminbox_argv(), "--config", str(self.config_path(who)), "--data-dir", str(self.data_dir(who))]
        return shlex.join(argv)

    def banner(self) -> str:
        assert self.server is not None and self.cluster is not None
        return (
            f"cminbox demo --team: the Lumen community on {self.server.url}, one shared store on a throwaway\n"
            f"PostgreSQL ({self.cluster.dsn}; data in {self.cluster.root}).\n"
            f"You are {self.me!r}. To open a second instance as {self.mate!r}, in another pane or terminal run:\n\n"
            f"  {self.command(self.mate)}\n\n"
            f"(the same command is in {self.script}). Both instances share one inbox; only one polls the channel.\n"
            f"When this instance exits, the database and {self.folder} are removed.\n"
        )

    def close(self) -> None:
        with signals_ignored():
            try:
                if self.server is not None:
                    self.server.shutdown()
                    self.server.server_close()
            finally:
                try:
                    if self.cluster is not None:
                        self.cluster.close()
                finally:
                    shutil.rmtree(self.folder, ignore_errors=True)
                    if self.guardian is not None:  # all clean: it looks once and exits
                        self.guardian.release()
                        self.guardian = None
        for sig, handler in self.previous_handlers.items():
            signal.signal(sig, handler)
        self.previous_handlers = {}

    def __enter__(self) -> TeamDemo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _write_configs(team: TeamDemo, url: str, dsn: str, password: str) -> None:
    secret = team.folder / "password"
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(password + "\n")
    store = (
        "\n[store]\n"
        'backend = "postgresql"\n'
        f"dsn = {json.dumps(dsn)}\n"
        f"password_command = {json.dumps(shlex.join(['cat', str(secret)]))}\n"
    )
    token = shlex.join(["echo", DEMO_TOKEN])
    for who in (team.me, team.mate):
        text = demo_config_text(url, me=who, token_command=token) + store
        team.config_path(who).write_text(text, encoding="utf-8")
        team.data_dir(who).mkdir()
    script = team.script
    script.write_text(
        f"#!/bin/sh\n# Opens cminbox as {team.mate} on the team demo's shared store (while {team.me}'s runs).\n"
        f'exec {team.command(team.mate)} "$@"\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    path = team.config_path(team.me)
    team.config = config_mod.parse(path.read_text(encoding="utf-8"), path)


def start_team_demo(
    me: str = "ana", seed: int = 7, rate: float = 6.0, burst_after: float = 60.0, token: str = DEMO_TOKEN
) -> TeamDemo:
    """Start everything; on any failure (or a signal meanwhile) nothing is left behind."""
    require_psycopg()  # before starting anything: the same message as [store] backend = "postgresql"
    me = check_name(me)
    tempdir = Path(tempfile.gettempdir())
    for folder in sweep(tempdir):
        log.info("removed %s, left by a team demo that was killed", folder)
    tag = f"{os.getpid()}-{token_hex(3)}"
    # First, before any folder exists: from here a SIGKILL at any moment leaves nothing behind.
    guardian = Guardian.start(tempdir, tag)
    try:
        team = TeamDemo(Path(tempfile.mkdtemp(prefix=f"cminbox-team-{tag}-")), me, teammate(me), guardian=guardian)
    except BaseException:
        guardian.release()
        raise
    try:
        team.previous_handlers = signals_interrupt()
        team.secrets = Secrets({DEMO_CHANNEL: token})
        team.cluster = LocalCluster.start_new(tag=tag)
        team.server = DemoHTTPServer(DemoState(seed=seed, rate=rate, burst_after=burst_after, token=token), 0)
        team.server.start_in_thread()
        _write_configs(team, team.server.url, team.cluster.dsn, team.cluster.password)
        store = open_store(store_settings(team.config, team.data_dir(team.me), secrets=team.secrets))
        try:
            seed_people(store, team.config)  # what the demo's rules read (trolls, a VIP, the advocate)
        finally:
            store.close()
    except BaseException:
        team.close()
        raise
    return team
