"""The object graph, built in one place for both faces (CLI and TUI) and the tests: from the
config, the data dir, the clock and the secrets to the store, its outbox, the inbox verbs
and the engine.

``STORE_BACKENDS`` maps a backend name to the function that opens it; a backend is any
:class:`~cminbox.core.store_api.StoreApi`: TinyDB in the data dir, or PostgreSQL (core/pg/).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from cminbox.core.clock import Clock, system_clock
from cminbox.core.config import Config
from cminbox.core.inbox import Inbox
from cminbox.core.secrets import Secrets
from cminbox.core.store import Store
from cminbox.core.store_api import StoreApi

if TYPE_CHECKING:  # the engine imports every channel's HTTP client: only those who poll or send pay
    from cminbox.core.engine import Engine

DEFAULT_BACKEND = "tinydb"


class StoreSettings(msgspec.Struct, frozen=True):
    """Where and how to open a store: the data dir (TinyDB keeps everything there; other
    backends keep their local files there) and whether to read it progressively."""

    data_dir: Path
    backend: str = DEFAULT_BACKEND
    lazy: bool = False
    options: dict[str, Any] = msgspec.field(default_factory=dict)


def _open_tinydb(settings: StoreSettings, clock: Clock) -> StoreApi:
    return Store(settings.data_dir, clock=clock, lazy=settings.lazy)


def _open_postgresql(settings: StoreSettings, clock: Clock) -> StoreApi:
    """The team store (core/pg/): ``options["store"]`` is the config's [store], ``options["secrets"]``
    where its password may come from, ``options["instance"]`` this process's identity in it
    (default: host:pid:random). psycopg is imported only here (an optional extra)."""
    from cminbox.core.pg.open import open_postgres_store

    return open_postgres_store(
        settings.options["store"],
        settings.options.get("secrets"),
        clock=clock,
        instance=settings.options.get("instance"),
        lazy=settings.lazy,
    )


STORE_BACKENDS: dict[str, Callable[[StoreSettings, Clock], StoreApi]] = {
    "tinydb": _open_tinydb,
    "postgresql": _open_postgresql,
}


def open_store(settings: StoreSettings, clock: Clock = system_clock) -> StoreApi:
    try:
        opener = STORE_BACKENDS[settings.backend]
    except KeyError:
        known = ", ".join(sorted(STORE_BACKENDS))
        raise ValueError(f"unknown store backend {settings.backend!r} (known: {known})") from None
    return opener(settings, clock)


class Setup(msgspec.Struct):
    """What the command line decided, for a face that builds its objects later (the TUI's first
    run writes the config, then reads it again)."""

    load_config: Callable[[], Config]
    data_dir: Path
    clock: Clock
    secrets: Secrets


@dataclass
class Wired:
    """The live objects of one instance. The engine is built on demand: it starts clients."""

    config: Config
    store: StoreApi
    clock: Clock
    secrets: Secrets
    inbox: Inbox = field(init=False)

    def __post_init__(self) -> None:
        self.inbox = Inbox(self.config, self.store, self.store.outbox, self.clock)

    def engine(self, transport: Any = None) -> Engine:
        from cminbox.core.engine import Engine

        return Engine(self.config, self.store, self.store.outbox, self.secrets, self.clock, transport)


def store_settings(
    config: Config, data_dir: Path, *, lazy: bool = False, secrets: Secrets | None = None
) -> StoreSettings:
    """The store that a config and a data dir name: the one place that decides it for the CLI
    and the TUI. ``[store] backend``: the TinyDB store in the data dir, or the team's PostgreSQL
    database (``options``: the ``[store]`` section, and the secrets its password may come from)."""
    return StoreSettings(
        data_dir, backend=config.store.backend, lazy=lazy, options={"store": config.store, "secrets": secrets}
    )


def wire(
    config: Config,
    data_dir: Path,
    *,
    lazy: bool = False,
    clock: Clock = system_clock,
    secrets: Secrets | None = None,
) -> Wired:
    """Everything one instance needs, for ``config`` and ``data_dir``. ``lazy``: the store reads
    its older parts progressively (the TUI)."""
    secrets = secrets if secrets is not None else Secrets()
    store = open_store(store_settings(config, data_dir, lazy=lazy, secrets=secrets), clock)
    return Wired(config, store, clock, secrets)
