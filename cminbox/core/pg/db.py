"""Running work on the pool: one transaction per call, errors worded for a person.

A write either commits whole or is refused: the work runs in one transaction, and a
connection lost before COMMIT was sent leaves nothing behind ("nothing was changed").
A connection lost *during* COMMIT is the one case nobody can decide on the client side:
the server may have committed just before it went away. That case is reported as such
(applied whole or not at all, never half), with how to check.

Deadlocks and serialization failures are retried: the work is a pure function of what it
reads inside the transaction, so running it again is safe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
import psycopg_pool
from psycopg import Connection

from cminbox.core.pg.connection import PostgresError, Target, unreachable
from cminbox.core.redact import redactor

R = TypeVar("R")
RETRIES = 5
# Seconds the goodbye writes (this instance's presence and leases, removed as it closes) wait
# for a connection, and the pool's closing for each of its threads (a few: ~2 s at most).
# Both records expire by themselves, and waiting the usual time for each on an unreachable
# server kept a quitting inbox on a blank screen for 21-26 s (a new-user trial of the team
# demo, its server gone with the first teammate).
GOODBYE_WAIT = 0.5


def in_doubt(exc: BaseException, where: str, what: str) -> PostgresError:
    detail = redactor.redact(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    return PostgresError(
        f"the PostgreSQL store {where} went away while committing {what} ({detail}): "
        "it was applied whole or not at all, and cannot be known until the server is back.",
        "Check with `cminbox show ID` once it is reachable; cminbox reconnects by itself.",
    )


class Database:
    """The pool plus the discipline above; ``where`` names the server in messages."""

    def __init__(self, pool: psycopg_pool.ConnectionPool[Any], target: Target) -> None:
        self.pool = pool
        self.target = target
        self.where = target.describe()

    def connect(self) -> Connection[Any]:
        """A connection of its own, outside the pool (autocommit; for LISTEN)."""
        conninfo = self.target.conninfo
        if self.target.password:
            conninfo = psycopg.conninfo.make_conninfo(conninfo, password=self.target.password)
        return psycopg.connect(conninfo, autocommit=True)

    def close(self) -> None:
        self.pool.close(timeout=GOODBYE_WAIT)

    def run(self, work: Callable[[Connection[Any]], R], what: str = "the change", *, wait: float | None = None) -> R:
        """Run ``work`` in one transaction and commit it; ``wait``: seconds to wait for a
        connection (None: the pool's own timeout)."""
        for attempt in range(RETRIES):
            committing = False
            try:
                with self.pool.connection(timeout=wait) as conn:
                    try:
                        result = work(conn)
                    except BaseException:
                        conn.rollback()
                        raise
                    committing = True
                    conn.commit()
                    return result
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
                if attempt == RETRIES - 1:
                    raise PostgresError(
                        f"{what} kept colliding with other instances' changes and was not applied.", "Try again."
                    ) from None
            except psycopg.OperationalError as exc:
                if committing:
                    raise in_doubt(exc, self.where, what) from None
                raise unreachable(exc, self.where) from None
            except psycopg_pool.PoolTimeout as exc:
                raise unreachable(exc, self.where) from None
        raise AssertionError("unreachable: the loop returns or raises")

    def read(self, work: Callable[[Connection[Any]], R]) -> R:
        """Run read-only ``work`` (a failure changes nothing, so there is no doubt to report)."""
        try:
            with self.pool.connection() as conn:
                try:
                    return work(conn)
                finally:
                    conn.rollback()
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            raise unreachable(exc, self.where) from None
