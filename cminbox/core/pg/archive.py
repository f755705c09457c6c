"""Retention on PostgreSQL: done items move from ``items`` to ``archive`` and back.

Each move is one transaction (the archive row, the live row's removal and the item's
``archived``/``restored`` event commit together), so an item is never in both places nor in
neither. The item's history stays in the event log, which is never rewritten; an archived
record carries its history too (read from the log when archiving), so `list --archived` and
`show` need no join.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import msgspec
from psycopg import Connection

from cminbox.core.clock import Clock
from cminbox.core.models import Archived, HistoryEntry, Message, TriageState
from cminbox.core.packed_extras import enc_hook
from cminbox.core.pg.db import Database
from cminbox.core.pg.feed import EventRow, append_events

_ARCHIVED = msgspec.json.Decoder(Archived)
_ENC = msgspec.json.Encoder(enc_hook=enc_hook)


def _json(value: object) -> str:
    return _ENC.encode(value).decode()


def histories(conn: Connection[Any], ids: list[str]) -> dict[str, tuple[HistoryEntry, ...]]:
    """The action, undo and edited events of ``ids``, as the history entries of their triage states."""
    found: dict[str, list[HistoryEntry]] = {}
    for mid, at, actor, label, before, after, group in conn.execute(
        "SELECT message_id, at, actor, label, before::text, after::text, grp FROM events"
        " WHERE message_id = ANY(%s) AND kind IN ('action', 'undo', 'edited') ORDER BY position",
        (ids,),
    ).fetchall():
        found.setdefault(mid, []).append(
            HistoryEntry(
                at=at,
                actor=actor,
                action=label,
                before=msgspec.json.decode(before),
                after=msgspec.json.decode(after),
                group=group,
            )
        )
    return {mid: tuple(entries) for mid, entries in found.items()}


class PgArchive:
    db: Database
    clock: Clock
    instance: str
    _put_live: Callable[[Connection[Any], list[Message], list[TriageState]], None]

    def archive(self, older_than: timedelta, *, dry_run: bool = False) -> list[str]:
        """Move done items whose last activity (arrival or last action) is older than ``older_than``."""
        now = self.clock()
        cutoff = now - older_than

        def work(conn: Connection[Any]) -> list[str]:
            rows = conn.execute(
                "SELECT i.id, i.message::text, i.triage::text, i.rev FROM items i WHERE i.status = 'done'"
                " AND greatest(i.created_at, (SELECT max(e.at) FROM events e"
                "  WHERE e.message_id = i.id AND e.kind IN ('action', 'undo', 'edited'))) < %s"
                " ORDER BY i.id FOR UPDATE SKIP LOCKED",
                (cutoff,),
            ).fetchall()
            if dry_run or not rows:
                return [r[0] for r in rows]
            ids = [r[0] for r in rows]
            history = histories(conn, ids)
            items = []
            for mid, message, triage_json, rev in rows:
                state = msgspec.json.decode(triage_json, type=TriageState) if triage_json else TriageState(id=mid)
                state = msgspec.structs.replace(state, rev=rev, history=history.get(mid, ()))
                items.append(
                    Archived(id=mid, message=msgspec.json.decode(message, type=Message), triage=state, archived_at=now)
                )
            self._put_archived(conn, items)
            conn.execute("DELETE FROM items WHERE id = ANY(%s)", (ids,))
            append_events(conn, [self._event(now, mid, "archived") for mid in ids])
            return ids

        return self.db.run(work, "the archiving")

    def _event(self, now: datetime, mid: str, kind: str) -> EventRow:
        return (now, "", self.instance, mid, kind, kind, "", {}, {})

    def _put_archived(self, conn: Connection[Any], items: list[Archived]) -> None:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO archive (id, archived_at, created_at, message, triage)"
                " VALUES (%s, %s, %s, %s::jsonb, %s::jsonb) ON CONFLICT (id) DO UPDATE SET"
                " archived_at = EXCLUDED.archived_at, created_at = EXCLUDED.created_at,"
                " message = EXCLUDED.message, triage = EXCLUDED.triage",
                [
                    (
                        a.id,
                        a.archived_at,
                        a.message.created_at,
                        _ENC.encode(a.message).decode(),
                        _ENC.encode(a.triage).decode(),
                    )
                    for a in items
                ],
            )

    def put_archived(self, items: Iterable[Archived]) -> None:
        """Write items straight into the archive (import), replacing entries with the same id."""
        batch = list(items)
        if batch:
            self.db.run(lambda conn: self._put_archived(conn, batch), "the archive import")

    def archived(self) -> list[Archived]:
        """Every archived item not also live, newest first."""
        rows = self.db.read(
            lambda c: c.execute(
                "SELECT json_build_object('id', a.id, 'archived_at', a.archived_at, 'message', a.message,"
                " 'triage', a.triage)::text FROM archive a WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.id = a.id)"
                " ORDER BY a.created_at DESC, a.id DESC"
            ).fetchall()
        )
        return [_ARCHIVED.decode(r[0]) for r in rows]

    def archived_ids(self) -> set[str]:
        rows = self.db.read(
            lambda c: c.execute(
                "SELECT a.id FROM archive a WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.id = a.id)"
            ).fetchall()
        )
        return {r[0] for r in rows}

    def restore(self, ids: Iterable[str]) -> list[str]:
        """Bring archived items back live with their triage state, each with a ``restored`` event."""
        wanted = sorted(set(ids))
        now = self.clock()

        def work(conn: Connection[Any]) -> list[str]:
            rows = conn.execute(
                "SELECT json_build_object('id', id, 'archived_at', archived_at, 'message', message,"
                " 'triage', triage)::text FROM archive WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
                (wanted,),
            ).fetchall()
            items = [_ARCHIVED.decode(r[0]) for r in rows]
            if not items:
                return []
            self._put_live(conn, [a.message for a in items], [a.triage for a in items])
            conn.execute("DELETE FROM archive WHERE id = ANY(%s)", ([a.id for a in items],))
            append_events(conn, [self._event(now, a.id, "restored") for a in items])
            return [a.id for a in items]

        return self.db.run(work, "the restore")
