"""Opening the PostgreSQL store from ``[store]``: driver check, connect, migrate, build.

The only entry point the wiring needs; it imports the psycopg-using modules after
:func:`require_psycopg` has said, in words, what to install when the driver is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cminbox.core.clock import Clock, system_clock
from cminbox.core.instance import INSTANCE_ID
from cminbox.core.pg.connection import open_pool, require_psycopg, target

if TYPE_CHECKING:
    from cminbox.core.config import StoreConfig
    from cminbox.core.pg.store import PgStore
    from cminbox.core.secrets import Secrets


def open_postgres_store(
    cfg: StoreConfig,
    secrets_: Secrets | None = None,
    *,
    clock: Clock = system_clock,
    instance: str | None = None,
    lazy: bool = False,
) -> PgStore:
    """``lazy``: the TUI's open, whose first screen reads the newest items first (pg/first_screen.py)."""
    require_psycopg()
    from cminbox.core.pg.db import Database
    from cminbox.core.pg.schema import migrate
    from cminbox.core.pg.store import PgStore

    tgt = target(cfg, secrets_)
    db = Database(open_pool(tgt), tgt)
    try:
        applied = db.run(migrate, "the schema migration")
        # A schema created in an empty database is not news; upgrading an existing one is.
        fresh = bool(applied) and applied[0] == 1
        migrated = [] if fresh else [f"upgraded the PostgreSQL schema to version {n}" for n in applied]
        store = PgStore(db, instance=instance or INSTANCE_ID, clock=clock, migrated=migrated)
        if lazy:
            store.open_windowed()
        return store
    except BaseException:
        db.close()
        raise
