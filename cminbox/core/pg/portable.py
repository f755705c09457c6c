"""The PostgreSQL store's side of moving a store (:class:`cminbox.core.portable_api.PortableStore`).

Items are read in byte order of their ids (``COLLATE "C"``), as the TinyDB store sorts them,
so both backends export in the same order whatever the database's collation. Reads run with
the session time zone set to UTC, so times come back as the UTC instants they
are (the TinyDB store writes UTC too). Copied events keep their positions, and the position
sequence is moved past them so the next step of this store continues after the copy. Each
write is one transaction, keyed by ids or positions, so running it again changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import psycopg
from psycopg import Connection

from cminbox.core.events import Event
from cminbox.core.models import Message, TriageState
from cminbox.core.outbox_types import OutboxItem
from cminbox.core.packed_extras import enc_hook
from cminbox.core.pg.archive import histories
from cminbox.core.pg.connection import PostgresError, unreachable
from cminbox.core.pg.db import Database
from cminbox.core.pg.feed import EVENTS_LOCK
from cminbox.core.pg.items import MSG, state_of, upsert_rows, write_states
from cminbox.core.text import one_line

# What a copy fills (store_move.py): the tables settle() vacuums and analyzes.
SETTLED_TABLES = ("items", "events", "archive", "outbox", "people", "person_identities", "drafts", "cursors")

_ENC = msgspec.json.Encoder(enc_hook=enc_hook)
PAGE = 2000


def _json(value: Any) -> str:
    return _ENC.encode(value).decode()


def _utc(conn: Connection[Any]) -> None:
    conn.execute("SET LOCAL TimeZone = 'UTC'")


class PgPortable:
    db: Database

    def export_items(self, after: str = "") -> Iterator[tuple[Message, TriageState]]:
        while True:

            def page(conn: Connection[Any], last: str = after) -> list[tuple[Message, TriageState]]:
                _utc(conn)
                rows = conn.execute(
                    'SELECT id, message::text, triage::text, rev FROM items WHERE id COLLATE "C" > %s'
                    ' ORDER BY id COLLATE "C" LIMIT %s',
                    (last, PAGE),
                ).fetchall()
                found = histories(conn, [r[0] for r in rows])
                return [
                    (
                        MSG.decode(m),
                        msgspec.structs.replace(state_of(mid, tj, rev), history=found.get(mid, ())),
                    )
                    for mid, m, tj, rev in rows
                ]

            batch = self.db.read(page)
            if not batch:
                return
            yield from batch
            after = batch[-1][0].id

    def all_drafts(self) -> dict[str, str]:
        rows = self.db.read(lambda c: c.execute("SELECT message_id, body FROM drafts").fetchall())
        return {mid: body for mid, body in rows}

    def all_cursors(self) -> dict[str, dict[str, Any] | None]:
        rows = self.db.read(lambda c: c.execute("SELECT channel, cursor::text FROM cursors").fetchall())
        return {ch: None if doc is None else msgspec.json.decode(doc) for ch, doc in rows}

    def import_items(self, items: list[tuple[Message, TriageState]]) -> None:
        def work(conn: Connection[Any]) -> None:
            upsert_rows(conn, [m for m, _ in items])
            write_states(conn, [st for _, st in items if st.rev or st.history], keep_newer=True)

        if items:
            self.db.run(work, "the copied items")

    def import_events(self, events: list[Event]) -> int:
        def work(conn: Connection[Any]) -> int:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (EVENTS_LOCK,))
            row = conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()
            last = int(row[0]) if row else 0
            batch = [e for e in events if e.pos > last]
            if not batch:
                return 0
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO events (position, at, actor, instance, message_id, kind, label, grp, before, after)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb)",
                    [
                        (
                            e.pos,
                            e.at,
                            e.actor,
                            e.instance,
                            e.message_id,
                            e.kind.value,
                            e.label,
                            e.group,
                            _json(e.before),
                            _json(e.after),
                        )
                        for e in batch
                    ],
                )
            conn.execute(
                "SELECT setval(pg_get_serial_sequence('events', 'position'), %s)", (max(e.pos for e in batch),)
            )
            return len(batch)

        return self.db.run(work, "the copied events") if events else 0

    def import_outbox(self, items: list[OutboxItem]) -> int:
        def work(conn: Connection[Any]) -> int:
            count = 0
            for i in items:  # in order: the insertion order is the outbox's order
                row = conn.execute(
                    "INSERT INTO outbox (id, kind, message_id, destination, payload, actor, created_at, status,"
                    " attempts, next_attempt_at, claimed_by, claimed_until, sent_at, result, last_error)"
                    " VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)"
                    " ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, sent_at = EXCLUDED.sent_at,"
                    " result = EXCLUDED.result, claimed_until = NULL, last_error = ''"
                    " WHERE EXCLUDED.status = 'sent' AND outbox.status <> 'sent' RETURNING id",
                    (
                        i.id,
                        i.kind.value,
                        i.message_id,
                        i.destination,
                        _json(i.payload),
                        i.actor,
                        i.created_at,
                        i.status.value,
                        i.attempts,
                        i.next_attempt_at,
                        i.claimed_by,
                        i.lease_until,
                        i.sent_at,
                        _json(i.result),
                        i.last_error,
                    ),
                ).fetchone()
                count += row is not None
            return count

        return self.db.run(work, "the copied outbox") if items else 0

    def settle(self) -> None:
        """VACUUM (ANALYZE) the tables a copy filled. A freshly loaded table has no planner
        statistics and no visibility map until autovacuum comes by (a minute or more): meanwhile
        every index-only read fetched each row too (the author card's DISTINCT over 100k items
        40 ms instead of 8: the first session after a migration was the slow one, issue #14).
        Its own autocommit connection: VACUUM cannot run in a transaction."""
        try:
            with self.db.connect() as conn:
                conn.execute(f"VACUUM (ANALYZE) {', '.join(SETTLED_TABLES)}")
        except psycopg.OperationalError as exc:
            raise unreachable(exc, self.db.where) from None
        except psycopg.Error as exc:  # not the owner of a table, say: the server's words, inert
            raise PostgresError(f"VACUUM (ANALYZE) on {self.db.where} failed: {one_line(str(exc))}") from None

    def migration_mark(self) -> dict[str, Any] | None:
        row = self.db.read(lambda c: c.execute("SELECT mark::text FROM store_migration WHERE name = 'copy'").fetchone())
        return msgspec.json.decode(row[0]) if row else None

    def set_migration_mark(self, mark: dict[str, Any]) -> None:
        self.db.run(
            lambda c: c.execute(
                "INSERT INTO store_migration (name, mark) VALUES ('copy', %s::jsonb)"
                " ON CONFLICT (name) DO UPDATE SET mark = EXCLUDED.mark",
                (_json(mark),),
            ),
            "the migration progress",
        )
