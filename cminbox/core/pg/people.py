"""People on PostgreSQL: ``people`` (one row per stored person) and ``person_identities``
(which person each identity belongs to), schema step 6.

A write is one transaction: the rows it touches are locked (``FOR UPDATE``, in id order, so
two writers never deadlock), their revisions compared with the ones the caller read (a record
someone changed meanwhile is refused, never overwritten: optimistic, unlike triage actions,
because a person write is not a semantic step that could be re-applied, it replaces a record),
then the rows, the identity rows and the ``person`` events are written and committed
together; the events' trigger sends the NOTIFY that wakes the other instances.

``person_identities.identity`` is the primary key, so an identity belongs to one person
even when two instances create records for it at once: the second insert waits for the
first's commit and then fails, and is refused like any stale write.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
import psycopg
from psycopg import Connection

from cminbox.core.clock import Clock
from cminbox.core.packed_extras import enc_hook
from cminbox.core.people import Person, Seen, changed_fields, claims
from cminbox.core.pg.db import Database
from cminbox.core.pg.feed import EventRow, append_events
from cminbox.core.random_ids import token_hex
from cminbox.core.store_api import StoreError, removed_meanwhile, stale_write

_PERSON = msgspec.json.Decoder(Person)
_ENC = msgspec.json.Encoder(enc_hook=enc_hook)


def _decode(doc: str, rev: int) -> Person:
    return msgspec.structs.replace(_PERSON.decode(doc), rev=rev)


def _put(conn: Connection[Any], p: Person) -> None:
    """Write one record and its identities (replacing what it had)."""
    conn.execute(
        "INSERT INTO people (id, doc, rev, tags) VALUES (%s, %s::jsonb, %s, %s) ON CONFLICT (id)"
        " DO UPDATE SET doc = EXCLUDED.doc, rev = EXCLUDED.rev, tags = EXCLUDED.tags",
        (p.id, _ENC.encode(msgspec.structs.replace(p, rev=0)).decode(), p.rev, p.tags),
    )
    conn.execute("DELETE FROM person_identities WHERE person_id = %s", (p.id,))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO person_identities (identity, person_id) VALUES (%s, %s)",
            [(k, p.id) for k in sorted(p.identities)],
        )


class PgPeople:
    db: Database
    clock: Clock
    instance: str

    def person(self, ref: str) -> Person | None:
        row = self.db.read(
            lambda c: c.execute(
                "SELECT doc::text, rev FROM people WHERE id = %s"
                " OR id = (SELECT person_id FROM person_identities WHERE identity = %s)",
                (ref, ref),
            ).fetchone()
        )
        return _decode(row[0], row[1]) if row else None

    def people(self) -> list[Person]:
        rows = self.db.read(lambda c: c.execute("SELECT doc::text, rev FROM people ORDER BY id").fetchall())
        return [_decode(doc, rev) for doc, rev in rows]

    def write_people(
        self, puts: Iterable[Person], deletes: Iterable[Person] = (), *, actor: str, label: str
    ) -> list[Person]:
        put_list, delete_list = list(puts), list(deletes)
        now = self.clock()
        group = token_hex(6)
        stored = [msgspec.structs.replace(p, rev=p.rev + 1, updated_at=now, updated_by=actor) for p in put_list]
        claimed = sorted(claims(put_list))

        def work(conn: Connection[Any]) -> list[Person]:
            ids = sorted({p.id for p in put_list} | {d.id for d in delete_list})
            current = {
                pid: _decode(doc, rev)
                for pid, doc, rev in conn.execute(
                    "SELECT id, doc::text, rev FROM people WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (ids,)
                ).fetchall()
            }
            leaving = {d.id for d in delete_list}
            for wanted in [*put_list, *delete_list]:
                have = current.get(wanted.id)
                if have is None and (wanted.rev != 0 or wanted.id in leaving):
                    raise removed_meanwhile(wanted.id)
                if have is not None and have.rev != wanted.rev:
                    raise stale_write(wanted.id, have.updated_by)
            holders = conn.execute(
                "SELECT DISTINCT pi.person_id, p.doc->>'updated_by' FROM person_identities pi"
                " JOIN people p ON p.id = pi.person_id WHERE pi.identity = ANY(%s) AND NOT pi.person_id = ANY(%s)",
                (claimed, ids),
            ).fetchall()
            if holders:
                raise stale_write(holders[0][0], holders[0][1] or "")
            events: list[EventRow] = []
            for new in stored:
                before, after = changed_fields(current.get(new.id), new)
                events.append((now, actor, self.instance, new.id, "person", label, group, before, after))
            for gone in delete_list:
                before, after = changed_fields(current[gone.id], None)
                events.append((now, actor, self.instance, gone.id, "person", label, group, before, after))
            conn.execute("DELETE FROM people WHERE id = ANY(%s)", (sorted(leaving),))  # their identities cascade
            try:
                for p in stored:
                    _put(conn, p)
            except psycopg.errors.UniqueViolation:
                # Another instance gave one of these identities to a person of its own and
                # committed while this step waited on it.
                raise StoreError(
                    "an identity of this change was given to another person meanwhile; nothing was written.",
                    "Try again.",
                ) from None
            append_events(conn, events)  # last: it holds the event-order lock until COMMIT
            return stored

        return self.db.run(work, "the people change") if (put_list or delete_list) else []

    def import_people(self, people: list[Person]) -> int:
        """PortableStore (``store migrate``, ``import``): records verbatim, one transaction."""
        batch = sorted(people, key=lambda p: p.id)

        def work(conn: Connection[Any]) -> int:
            written = 0
            for p in batch:
                row = conn.execute("SELECT rev FROM people WHERE id = %s FOR UPDATE", (p.id,)).fetchone()
                held = conn.execute(
                    "SELECT 1 FROM person_identities WHERE identity = ANY(%s) AND person_id <> %s LIMIT 1",
                    (p.identities, p.id),
                ).fetchone()
                if (row is not None and row[0] >= p.rev) or held is not None:
                    continue
                _put(conn, p)
                written += 1
            return written

        return self.db.run(work, "the people import") if batch else 0

    def authors(self, keys: Iterable[str] | None = None) -> dict[str, Seen]:
        wanted = None if keys is None else sorted(set(keys))
        rows = self.db.read(
            lambda c: c.execute(
                "SELECT author_identity, (array_agg(author_handle ORDER BY created_at DESC, id DESC))[1],"
                " (array_agg(author_name ORDER BY created_at DESC, id DESC))[1], count(*),"
                " count(*) FILTER (WHERE status <> 'done'), min(created_at), max(created_at)"
                " FROM items WHERE (%s::text[] IS NULL OR author_identity = ANY(%s::text[]))"
                " GROUP BY author_identity",
                (wanted, wanted),
            ).fetchall()
        )
        return {
            key: Seen(identity=key, handle=h, name=n, items=c, open=o, first_seen=f, last_seen=last)
            for key, h, n, c, o, f, last in rows
        }

    # Every author identity, as of a change-feed position: every item stored or archived away
    # writes an event, so an unchanged newest position means an unchanged set. Read for each
    # author card (its link suggestions), the DISTINCT over every item cost 5-8 ms at 100k
    # items (40 ms before the table was first analyzed), on the card's worker beside the keys.
    # A commit that took an older position but landed after this read shows from the next event.
    _identities: tuple[int, frozenset[str]] | None = None

    def identities(self) -> frozenset[str]:
        def read(c: Connection[Any]) -> tuple[int, frozenset[str]]:
            row = c.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()
            position = int(row[0]) if row else 0
            known = self._identities
            if known is not None and known[0] == position:
                return known
            rows = c.execute("SELECT DISTINCT author_identity FROM items").fetchall()
            return position, frozenset(key for (key,) in rows)

        self._identities = found = self.db.read(read)
        return found[1]
