"""Presence on PostgreSQL: one row per store handle in the UNLOGGED table ``presence``.

UNLOGGED: presence is throwaway (records expire within presence.TTL anyway), so it skips
the write-ahead log, which makes each heartbeat cheaper; a server crash empties the table,
which costs a marker for one heartbeat. A write that changes what others see (another item,
another activity, a removal) sends NOTIFY on the change feed's channel in the same
transaction, so the other instances' watchers wake; a renewal alone stays quiet.
"""

from __future__ import annotations

from typing import Any

from psycopg import Connection

from cminbox.core.clock import Clock
from cminbox.core.instance import new_instance_id
from cminbox.core.pg.db import GOODBYE_WAIT, Database
from cminbox.core.pg.feed import CHANNEL
from cminbox.core.presence import TTL, Activity, Presence


class PgPresence:
    db: Database
    clock: Clock
    presence_id: str
    _presence_now: tuple[str, str] | None

    def _init_presence(self) -> None:
        self.presence_id = new_instance_id()  # per handle: two handles of one process are two instances
        self._presence_now = None  # what this handle last announced: (message id, activity)

    def set_presence(self, person: str, message_id: str | None, activity: Activity = Activity.VIEWING) -> None:
        now = self.clock()
        shown = None if message_id is None else (message_id, Activity(activity).value)
        changed = shown != self._presence_now

        def work(conn: Connection[Any]) -> None:
            if shown is None:
                conn.execute("DELETE FROM presence WHERE instance = %s", (self.presence_id,))
            else:
                conn.execute(
                    "INSERT INTO presence (instance, person, message_id, activity, expires_at)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (instance) DO UPDATE SET"
                    " person = EXCLUDED.person, message_id = EXCLUDED.message_id,"
                    " activity = EXCLUDED.activity, expires_at = EXCLUDED.expires_at",
                    (self.presence_id, person, shown[0], shown[1], now + TTL),
                )
            conn.execute("DELETE FROM presence WHERE expires_at <= %s", (now,))
            if changed:
                conn.execute("SELECT pg_notify(%s, 'presence')", (CHANNEL,))

        # Leaving waits little: the record expires by itself (db.GOODBYE_WAIT).
        self.db.run(work, "the presence heartbeat", wait=GOODBYE_WAIT if shown is None else None)
        self._presence_now = shown

    def presence(self) -> list[Presence]:
        now = self.clock()
        rows = self.db.read(
            lambda c: c.execute(
                "SELECT person, instance, message_id, activity, expires_at FROM presence"
                " WHERE instance <> %s AND expires_at > %s",
                (self.presence_id, now),
            ).fetchall()
        )
        return [Presence(p, i, m, Activity(a), e) for p, i, m, a, e in rows]

    def clear_presence(self) -> None:
        """Remove this handle's record (closing the store does it)."""
        if self._presence_now is not None:
            try:
                self.set_presence("", None)
            finally:
                self._presence_now = None
