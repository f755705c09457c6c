"""Opening the PostgreSQL store (and its outbox and lease) on a test database."""

from __future__ import annotations

from typing import Any

from psycopg import Connection

from cminbox.core.clock import Clock, system_clock
from cminbox.core.config import StoreConfig
from cminbox.core.models import Message
from cminbox.core.pg import schema
from cminbox.core.pg.items import _message_row
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


def at_schema(conn: Connection[Any], version: int, messages: list[Message]) -> None:
    """The database as schema step ``version`` left it, holding ``messages`` (as jsonb, and with
    only the columns every step since 1 has: the steps after fill in theirs); committed."""
    conn.execute("CREATE TABLE schema_version (version integer PRIMARY KEY, applied_at timestamptz DEFAULT now())")
    for number, step in enumerate(schema.STEPS[:version], start=1):
        conn.execute(step.encode())
        conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
    for m in messages:  # the store's own row, less the columns later steps added (identity)
        conn.execute(
            "INSERT INTO items (id, channel, channel_type, native_id, kind, author_handle, author_name,"
            " author_key, text, created_at, thread_key, message)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)",
            _message_row(m)[:12],
        )
    conn.commit()
