"""Opening the PostgreSQL store (and its outbox and lease) on a test database."""

from __future__ import annotations

from cminbox.core.clock import Clock, system_clock
from cminbox.core.config import StoreConfig
from cminbox.core.pg.lease import PgLease
from cminbox.core.pg.open import open_postgres_store
from cminbox.core.pg.outbox import PgOutbox
from cminbox.core.pg.store import PgStore


def pg_config(dsn: str, **extra: object) -> StoreConfig:
    return StoreConfig(backend="postgresql", dsn=dsn, **{"connect_timeout": 5, **extra})  # type: ignore[arg-type]


def open_store(dsn: str, *, clock: Clock = system_clock, instance: str = "test:1:aa") -> PgStore:
    return open_postgres_store(pg_config(dsn), clock=clock, instance=instance)


def outbox_of(store: PgStore, worker: str, clock: Clock = system_clock) -> PgOutbox:
    return PgOutbox(store.db, worker_id=worker, clock=clock)


def lease_of(store: PgStore, holder: str, ttl: float = 15.0) -> PgLease:
    return PgLease(store.db, holder, ttl=ttl)
