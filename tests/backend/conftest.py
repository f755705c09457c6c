"""One test suite for every store backend: each test takes ``backend`` (or ``store``) and runs
once per entry of BACKENDS.

A backend is added with one line here: its name and the name of a fixture that returns a
``MakeSettings`` (a function from a key to the StoreSettings of a fresh, empty store; the
same key gives the same store, so a test can open a second instance on it). That fixture
may depend on a session server fixture (PostgreSQL); under CI=true a missing server fails.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cminbox.core.clock import Clock, FrozenClock
from cminbox.core.config import StoreConfig
from cminbox.core.store_api import StoreApi
from cminbox.core.wiring import StoreSettings, open_store
from tests.servers.postgres import fresh_database

MakeSettings = Callable[[str], StoreSettings]

BACKENDS: dict[str, str] = {
    "tinydb": "tinydb_settings",
    "postgresql": "postgresql_settings",
}


@pytest.fixture
def tinydb_settings(tmp_path: Path) -> MakeSettings:
    return lambda key: StoreSettings(tmp_path / f"data-{key}")


@pytest.fixture
def postgresql_settings(postgres_server: str, tmp_path: Path) -> Iterator[MakeSettings]:
    """One fresh database per key on the session server, dropped after the test."""
    databases: dict[str, str] = {}

    def make(key: str) -> StoreSettings:
        if key not in databases:
            databases[key] = fresh_database(postgres_server)
        cfg = StoreConfig(backend="postgresql", dsn=databases[key], connect_timeout=5)
        return StoreSettings(tmp_path / f"data-{key}", backend="postgresql", options={"store": cfg})

    yield make
    import psycopg
    from psycopg import sql

    with psycopg.connect(postgres_server, autocommit=True) as conn:
        for dsn in databases.values():
            name = sql.Identifier(dsn.rsplit("/", 1)[1])
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


@dataclass
class Backend:
    """A store of one backend, and the way to open more instances on it (or fresh stores)."""

    name: str
    make_settings: MakeSettings
    clock: FrozenClock
    key: str = "main"
    handles: list[StoreApi] = field(default_factory=list)

    def open(self, clock: Clock | None = None) -> StoreApi:
        """A new handle on this store, as another instance would open it."""
        store = open_store(self.make_settings(self.key), clock or self.clock)
        self.handles.append(store)
        return store

    children: list[Backend] = field(default_factory=list)

    def fresh(self) -> Backend:
        """Another, empty store of the same backend (for property tests: one per example).
        Closed with this one; a property test closes it after each example, since a database
        backend holds connections per handle and a server allows only so many."""
        other = Backend(self.name, self.make_settings, self.clock, key=secrets.token_hex(4))
        self.children.append(other)
        return other

    def close(self) -> None:
        for child in self.children:
            child.close()
        for handle in self.handles:
            handle.close()
        self.handles.clear()


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, clock: FrozenClock) -> Iterator[Backend]:
    make_settings: MakeSettings = request.getfixturevalue(BACKENDS[request.param])
    b = Backend(request.param, make_settings, clock)
    yield b
    b.close()


@pytest.fixture
def store(backend: Backend) -> StoreApi:
    return backend.open()
