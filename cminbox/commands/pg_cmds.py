"""The PostgreSQL store's part of `cminbox login store` and `cminbox doctor`."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable

from cminbox.commands.context import Context, UsageError
from cminbox.core.errors import CminboxError
from cminbox.core.pg.connection import KEYRING_ENTRY, psycopg_status
from cminbox.core.secrets import SecretError, keyring_set, keyring_status


def login_store(ctx: Context, from_env: bool) -> int:
    """Keep the PostgreSQL password in the keyring (never in the config file)."""
    store = ctx.config.store
    if store.backend != "postgresql":
        raise UsageError('`cminbox login store` is for the team store: set backend = "postgresql" in [store] first')
    status = keyring_status()
    if not status.usable:
        raise SecretError(f"cannot store the database password: {status.problem}")
    if store.password_command:
        print("note: [store] password_command is set, which takes precedence over the keyring")
    password = os.environ.get("CMINBOX_PASSWORD") if from_env else getpass.getpass(f"Password for {store.dsn}: ")
    if not password:
        raise UsageError("no password entered; nothing was stored")
    keyring_set(KEYRING_ENTRY, password)
    print(f"stored the database password in the keyring ({status.backend})")
    return 0


def doctor_store(ctx: Context, line: Callable[[bool, str, str], None]) -> bool:
    """The PostgreSQL lines of `cminbox doctor`; False when the store cannot be opened."""
    cfg = ctx.config.store
    if cfg.backend != "postgresql":
        return True
    installed, detail = psycopg_status()
    line(installed, "postgresql driver", detail)
    if not installed:
        return False
    from cminbox.core.pg.open import open_postgres_store
    from cminbox.core.pg.schema import (
        VERSION,
        current_version,
        has_trigram_index,
        server_facts,
        tls_verdict,
        version_verdict,
    )

    try:
        store = open_postgres_store(cfg, ctx.secrets, clock=ctx.clock)
    except CminboxError as exc:
        line(False, "postgresql store", str(exc))
        return False
    try:
        facts = store.db.read(server_facts)
        ok, detail = version_verdict(facts)
        line(ok, "postgresql server", f"{store.db.where}: {detail}")
        ok, detail = tls_verdict(facts)
        line(ok, "postgresql connection", detail)
        schema = store.db.read(current_version)
        line(schema == VERSION, "postgresql schema", f"version {schema} (this cminbox: {VERSION})")
        trigram = store.db.read(has_trigram_index)
        line(True, "free-text index", "pg_trgm" if trigram else "none (pg_trgm unavailable: free text scans)")
        holder = (
            f"held by {facts['holder']} for {facts['held_for']} s"
            if facts["holder"]
            else "free (no instance polls right now)"
        )
        line(True, "poller lease", holder)
        mark = store.migration_mark()
        if mark is not None and mark.get("phase") != "done":
            line(
                False,
                "store migration",
                f"a copy from {mark.get('source')} stopped before its end (at {mark.get('phase')}): "
                "run the same `cminbox store migrate` again to finish it",
            )
    finally:
        store.close()
    return True
