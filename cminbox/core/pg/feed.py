"""The event log on PostgreSQL: appending in commit order, reading, and waiting for changes.

A ``bigserial`` alone numbers events when they are inserted, not when they commit: a slow
transaction could commit position 10 after another committed 11, and a reader that saw 11
would never look back. So every append first takes a transaction-scoped advisory lock and
holds it to COMMIT: positions are handed out in commit order (with gaps where a step rolled
back), and "everything after position N" is exact. The lock is held only for the last
statements of a step (its events, then the commit), so writers queue for ~1 ms, not longer.

Changes are announced with NOTIFY by a statement trigger on ``events`` (schema step 3), sent
by the server at commit and only for committed steps; :meth:`EventFeed.wait_for_change`
LISTENs on its own connection, so waiting never polls the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import msgspec
import psycopg
from psycopg import Connection

from cminbox.core.events import Event, EventKind
from cminbox.core.packed_extras import enc_hook
from cminbox.core.pg.db import Database

log = logging.getLogger(__name__)
EVENTS_LOCK = 0x636D6576  # "cmev": the advisory lock that orders event positions by commit
CHANNEL = "cminbox_events"
_ENC = msgspec.json.Encoder(enc_hook=enc_hook)

EventRow = tuple[Any, str, str, str, str, str, str, dict[str, Any], dict[str, Any]]
"""(at, actor, instance, message_id, kind, label, group, before, after)"""


def append_events(conn: Connection[Any], rows: Iterable[EventRow]) -> None:
    """Append events as the last writes of the caller's transaction (see the module doc)."""
    batch = [(*r[:7], _ENC.encode(r[7]).decode(), _ENC.encode(r[8]).decode()) for r in rows]
    if not batch:
        return
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (EVENTS_LOCK,))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO events (at, actor, instance, message_id, kind, label, grp, before, after)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb)",
            batch,
        )


def _event(row: tuple[Any, ...]) -> Event:
    pos, kind, at, actor, instance, mid, label, group, before, after = row
    return Event(
        pos=pos,
        kind=EventKind(kind),
        at=at,
        actor=actor,
        instance=instance,
        message_id=mid,
        label=label,
        group=group,
        before=msgspec.json.decode(before),
        after=msgspec.json.decode(after),
    )


class EventFeed:
    pushes_changes = True  # LISTEN/NOTIFY: wait_for_change wakes on the other instance's commit
    db: Database
    _seen: int
    _listener: Connection[Any] | None

    def events(self, *, since: int = 0, after: datetime | None = None, limit: int | None = None) -> list[Event]:
        """Committed events with ``pos > since`` (and ``at >= after``), oldest first, at most ``limit``."""
        rows = self.db.read(
            lambda c: c.execute(
                "SELECT position, kind, at, actor, instance, message_id, label, grp, before::text, after::text"
                " FROM events WHERE position > %s AND (%s::timestamptz IS NULL OR at >= %s)"
                " ORDER BY position LIMIT %s",
                (since, after, after, limit),
            ).fetchall()
        )
        return [_event(r) for r in rows]

    def last_position(self) -> int:
        row = self.db.read(lambda c: c.execute("SELECT coalesce(max(position), 0) FROM events").fetchone())
        return int(row[0]) if row else 0

    def refresh(self) -> set[str]:
        """The ids of items anyone changed (or archived away) since the last call (a person
        event's id is a person's, not an item's: left out)."""
        seen = self._seen
        rows = self.db.read(
            lambda c: c.execute(
                "SELECT position, message_id, kind FROM events WHERE position > %s ORDER BY position", (seen,)
            ).fetchall()
        )
        if rows:
            self._seen = rows[-1][0]
        return {mid for _, mid, kind in rows if mid and kind != EventKind.PERSON}

    def _listen(self) -> Connection[Any]:
        if self._listener is None or self._listener.closed:
            conn = self.db.connect()
            conn.execute(f"LISTEN {CHANNEL}".encode())
            self._listener = conn
        return self._listener

    def wait_for_change(self, timeout: float) -> bool:
        """Block up to ``timeout`` s for another commit's NOTIFY (call from a worker thread).

        While the server is unreachable this waits, then says True: notifications may have been
        missed, and the caller's :meth:`refresh` (which reports the outage) reads what changed.
        The first call (and the first after a lost connection) says True at once, for the same
        reason."""
        started = time.monotonic()
        try:
            listening = self._listener is not None and not self._listener.closed
            conn = self._listen()
            if not listening:
                # A commit between this handle's open and its LISTEN notified nobody: say True
                # once, so the caller's refresh() reads it (from the position seen at open).
                return True
            for _ in conn.notifies(timeout=timeout, stop_after=1):
                return True
            return False
        except psycopg.Error as exc:
            log.info("change listener lost its connection: %s", exc)
            self.close_listener()
            time.sleep(max(0.0, min(1.0, timeout - (time.monotonic() - started))))
            return True

    def close_listener(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
