"""What every subcommand needs: paths, config, and the objects core.wiring builds (store, outbox,
inbox verbs, engine)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from cminbox.core import config as config_mod
from cminbox.core.clock import Clock, system_clock
from cminbox.core.config import Config, log_path
from cminbox.core.errors import CminboxError
from cminbox.core.inbox import Inbox
from cminbox.core.redact import RedactingFilter
from cminbox.core.secrets import Secrets
from cminbox.core.sending_api import OutboxStore
from cminbox.core.store_api import StoreApi
from cminbox.core.wiring import Setup, Wired, wire

if TYPE_CHECKING:  # imported by the commands that poll or send, not by every call
    from cminbox.core.engine import Engine

APP = "cminbox"


class UsageError(CminboxError):
    """What the command line asked for cannot be done as asked (said with how to ask)."""


def data_dir(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("CMINBOX_DATA_DIR")
    return Path(env) if env else platformdirs.user_data_path(APP)


def setup_logging() -> None:
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.addFilter(RedactingFilter())
    # A log that cannot be written (a full disk) must not print tracebacks over the command's output.
    logging.raiseExceptions = False
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("cminbox")
    root.setLevel(logging.INFO)
    root.addHandler(handler)


@dataclass
class Context:
    args: argparse.Namespace
    clock: Clock = system_clock
    secrets: Secrets = field(default_factory=Secrets)
    config_override: Config | None = None
    lazy_store: bool = False  # the TUI streams message segments in; the CLI reads them all
    report_store_problems: bool = True  # doctor reports them itself
    _reported: set[str] = field(default_factory=set)  # store problems already said

    @cached_property
    def config(self) -> Config:
        if self.config_override is not None:
            return self.config_override
        return config_mod.load(getattr(self.args, "config", None))

    @cached_property
    def data_dir(self) -> Path:
        return data_dir(getattr(self.args, "data_dir", None))

    @cached_property
    def wired(self) -> Wired:
        wired = wire(self.config, self.data_dir, lazy=self.lazy_store, clock=self.clock, secrets=self.secrets)
        for step in wired.store.migrated:
            print(f"cminbox: {step}", file=sys.stderr)
        self.report_new_problems(wired.store)
        return wired

    def report_new_problems(self, store: StoreApi) -> None:
        """Say what the store skips (the rest works: carry on), each problem once; a lazily
        opened store finds those of the parts it reads later, after a query."""
        if not self.report_store_problems:
            return
        for key, problem in store.problems.items():
            if key not in self._reported:
                self._reported.add(key)
                print(f"cminbox: warning: {problem}", file=sys.stderr)

    @property
    def store(self) -> StoreApi:
        return self.wired.store

    @property
    def outbox(self) -> OutboxStore:
        return self.wired.store.outbox

    @property
    def inbox(self) -> Inbox:
        return self.wired.inbox

    def engine(self) -> Engine:
        return self.wired.engine()

    def setup(self) -> Setup:
        """For the TUI, which builds its objects itself (and reads the config again after first run)."""

        def load_config() -> Config:
            if self.config_override is not None:
                return self.config_override
            return config_mod.load(getattr(self.args, "config", None))

        return Setup(load_config, self.data_dir, self.clock, self.secrets)

    def poller_pid(self) -> int | None:
        """The pid of the instance polling and sending (0: another host or unknown), None if none is."""
        holder = self.store.poller_lease().holder()
        return None if holder is None else holder.pid

    def resolve(self, ids: str) -> list[str]:
        """Accept one id or several separated by commas; each may be a unique suffix. No id at
        all (``""``, ``,``) is a usage error: it was "nothing changed", or an internal error."""
        parts = [part.strip() for part in ids.split(",") if part.strip()]
        if not parts:
            raise UsageError(f"no item id in {ids!r}: give one id, or several separated by commas (`cminbox list`)")
        return [self.store.resolve_id(part) for part in parts]
