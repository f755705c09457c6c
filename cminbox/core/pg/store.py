"""The store on PostgreSQL: messages with their triage state, actions, undo, the event log.

One row per item in ``items``: the message (json, the source of truth) and its triage
state (jsonb), with the fields queries filter on copied into typed, indexed columns in
the same UPDATE, so they never disagree.

Concurrent actions use row locks: an action group locks its rows with
``SELECT ... FOR UPDATE`` (in id order, so two bulk actions never deadlock), computes
each new state from the locked one with the same pure functions as the TinyDB store
(``triage.apply``), writes the rows, their events and the undo record, and commits. A
second instance acting on the same item waits for the first's commit and then starts
from its result, so no update is lost and nothing is retried. Row versions (optimistic
``rev`` checks) would make every conflicting action fail and be re-run by the caller:
triage actions are short and semantic ("add this tag"), so waiting is cheaper and never
surfaces an error to the person. ``rev`` still counts each row's changes.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping
from contextlib import closing, suppress
from datetime import datetime
from typing import Any

import msgspec
import psycopg
from psycopg import Connection

from cminbox.core import triage
from cminbox.core.clock import Clock, system_clock
from cminbox.core.community import Answering, official_effects
from cminbox.core.edits import is_edit
from cminbox.core.effects import Plan
from cminbox.core.errors import CminboxError
from cminbox.core.indexes import author_key
from cminbox.core.models import Message, Status, TriageState
from cminbox.core.pg.answers import write_answers
from cminbox.core.pg.archive import PgArchive, histories
from cminbox.core.pg.connection import PostgresUnreachable
from cminbox.core.pg.db import Database
from cminbox.core.pg.effects import PgPlans, write_effects
from cminbox.core.pg.feed import EventFeed, EventRow, append_events
from cminbox.core.pg.first_screen import PgFirstScreen
from cminbox.core.pg.items import (
    ENC,
    MSG,
    UPDATE_STATE,
    Listing,
    state_of,
    state_row,
    upsert_polled,
    upsert_rows,
    write_states,
)
from cminbox.core.pg.lease import PgLease
from cminbox.core.pg.outbox import PgOutbox, insert_items, known_items
from cminbox.core.pg.people import PgPeople
from cminbox.core.pg.portable import PgPortable
from cminbox.core.pg.presence import PgPresence
from cminbox.core.pg.tables import SmallTables
from cminbox.core.query import PeopleView, Query
from cminbox.core.query.sql import compile_sql
from cminbox.core.random_ids import token_hex
from cminbox.core.store_api import ActResult, UndoResult, one_id
from cminbox.core.text import bound_message
from cminbox.core.triage import Action

UNDO_KEEP = 500
QUERY_BATCH = 2000  # rows a query receives at a time (libpq 17's chunked rows)
EVERY_ITEM = 'SELECT id, message::text, triage::text, rev FROM items ORDER BY created_at DESC, id COLLATE "C" DESC'
CHUNKS = psycopg.pq.version() >= 170000  # an older libpq: the result arrives whole, as before
_ENTRIES = msgspec.json.Decoder(list[dict[str, Any]])


def _stream(c: Connection[Any], sql: bytes, params: list[Any], *, every: bool = False) -> Generator[Any, None, None]:
    """The rows of ``sql``, received QUERY_BATCH at a time (libpq 17's chunked rows; whole
    with an older libpq). Closing it early cancels the rest of the query.

    ``every``: the whole table in the order of items_created_at. Its cost model (a random page
    read costs 4) makes the planner read the table and sort it instead: the rows' text is
    sorted on disk (100 MB at 100k items) and none arrives before the sort ends, where the
    index streams from the first row and the decoding here overlaps the server's reading.
    At 100k items, rows in no particular order on disk (after half of them changed status),
    warm cache: streamed and decoded in 0.49-0.61 s by the index, 0.67 s sorted (issue #14)."""
    cur = c.cursor()
    if every:
        cur.execute("SET LOCAL enable_sort = off")  # for this read's transaction only
    if CHUNKS:
        yield from cur.stream(sql, params, size=QUERY_BATCH)
    else:
        yield from cur.execute(sql, params)


class PgStore(SmallTables, EventFeed, PgArchive, PgPortable, PgPresence, PgPeople, PgPlans, PgFirstScreen):
    """The PostgreSQL store (a :class:`~cminbox.core.store_api.StoreApi`). ``actor`` is
    recorded per call; ``instance`` (host:pid:random) per process."""

    def __init__(
        self, db: Database, *, instance: str, clock: Clock = system_clock, migrated: list[str] | None = None
    ) -> None:
        self.db = db
        self.instance = instance
        self.clock = clock
        self.migrated = migrated or []
        self._listener = None
        self._seen = self.last_position()
        self._outbox = PgOutbox(db, worker_id=instance, clock=clock)
        self._leases: list[PgLease] = []
        self._init_presence()

    @property
    def outbox(self) -> PgOutbox:
        return self._outbox

    def poller_lease(self) -> PgLease:
        lease = PgLease(self.db, self.instance)
        self._leases.append(lease)  # released when this handle closes
        return lease

    @property
    def problems(self) -> Mapping[str, str]:
        return {}  # TinyDB's unreadable files; a database has none

    def ping(self) -> None:
        """One round trip; a server in recovery (a read-only standby) cannot take writes."""

        def work(conn: Connection[Any]) -> None:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            if row is not None and row[0]:
                raise PostgresUnreachable(
                    f"the PostgreSQL store {self.db.where} is a read-only standby; nothing can be changed there.",
                    "Point [store] dsn at the primary server.",
                )

        self.db.run(work, "the connection check")

    def close(self) -> None:
        """Release this handle's leases and presence, then its connections (idempotent)."""
        with suppress(CminboxError):
            self.clear_presence()
        for lease in self._leases:
            lease.release()
        self._leases.clear()
        self.close_listener()
        self.db.close()

    # ----------------------------------------------------------------- messages
    def upsert_messages(
        self, messages: Iterable[Message], *, plan: Plan | None = None, answers: Answering | None = None
    ) -> list[str]:
        """Add messages not seen before (by id), each with its ``arrived`` event; update ones
        that changed, a change of content (edits.py) with its ``edited`` event, which is also
        the item's history line and wakes the other instances (NOTIFY); ``plan``'s effects on
        the new rows (pg/effects.py). One transaction. Returns the new ids, in order."""
        batch = [bound_message(m) for m in messages]  # the one way in: never stored unbounded
        if not batch:
            return []
        now = self.clock()
        group = token_hex(6)

        def work(conn: Connection[Any]) -> list[str]:
            new_ids, edits, changed = upsert_polled(conn, batch)
            by_id = {m.id: m for m in batch}
            arrived: list[EventRow] = [
                (now, by_id[mid].author.handle, self.instance, mid, "arrived", "", "", {}, {}) for mid in new_ids
            ]
            edited: list[EventRow] = [
                (now, e.actor, self.instance, e.message_id, "edited", e.label, group, e.before, e.after) for e in edits
            ]
            effects: list[EventRow] = []
            states = {mid: TriageState(id=mid) for mid in new_ids}  # a new row has no triage state yet
            if answers is not None:  # community answers (core/community.py): before the rules, which may read them
                official = official_effects([by_id[mid] for mid in new_ids], answers)  # the team's own posts
                effects += write_effects(conn, self.instance, official, states, now, group)[0]
                # The conversations of new and changed messages only, as on TinyDB: a message polled
                # again unchanged does not make its thread's answers and first responses be
                # decided again (a person tagged staff since would answer old threads on one
                # backend and not on the other).
                touched = [by_id[mid] for mid in [*new_ids, *changed]]
                effects += write_answers(conn, self.instance, touched, answers, states, now, group)
            if plan is not None and new_ids:
                planned = plan([(by_id[mid], states[mid]) for mid in new_ids], lambda ids: known_items(conn, ids))
                effects += write_effects(conn, self.instance, planned.effects, states, now, group)[0]
                insert_items(conn, planned.outbox, only_new=True)
            append_events(conn, arrived + effects + edited)  # last: it holds the event-order lock until COMMIT
            return new_ids

        return self.db.run(work, "the new messages")

    def _put_live(self, conn: Connection[Any], messages: list[Message], states: list[TriageState]) -> None:
        upsert_rows(conn, messages)
        write_states(conn, states, keep_newer=False)

    def get_message(self, message_id: str) -> Message | None:
        row = self.db.read(
            lambda c: c.execute("SELECT message::text FROM items WHERE id = %s", (message_id,)).fetchone()
        )
        return MSG.decode(row[0]) if row else None

    def message_ids(self) -> list[str]:
        return self.db.read(lambda c: [r[0] for r in c.execute("SELECT id FROM items").fetchall()])

    def all_messages(self, *, loaded_only: bool = False) -> list[Message]:
        rows = self.db.read(lambda c: c.execute("SELECT message::text FROM items").fetchall())
        listing = Listing()
        return [listing.message(r[0]) for r in rows]

    def __len__(self) -> int:
        row = self.db.read(lambda c: c.execute("SELECT count(*) FROM items").fetchone())
        return int(row[0]) if row else 0

    def is_live(self, message_id: str) -> bool:
        return self.get_message(message_id) is not None

    def resolve_id(self, partial: str) -> str:
        """Accept a full id, or a unique suffix such as the native id (handy on the command line)."""

        def find(conn: Connection[Any]) -> list[str]:
            exact = conn.execute("SELECT id FROM items WHERE id = %s", (partial,)).fetchone()
            if exact:
                return [exact[0]]
            rows = conn.execute("SELECT id FROM items WHERE right(id, %s) = %s ORDER BY id", (len(partial), partial))
            return [r[0] for r in rows.fetchall()]

        hits = self.db.read(find) if partial else []
        return one_id(partial, hits)

    # ----------------------------------------------------------------- triage
    def triage(self, message_id: str) -> TriageState:
        """The item's triage state with its history, read from the event log."""

        def work(conn: Connection[Any]) -> TriageState:
            row = conn.execute("SELECT triage::text, rev FROM items WHERE id = %s", (message_id,)).fetchone()
            state = state_of(message_id, row[0], row[1]) if row else TriageState(id=message_id)
            return msgspec.structs.replace(state, history=histories(conn, [message_id]).get(message_id, ()))

        return self.db.read(work)

    def put_triage(self, states: Iterable[TriageState], *, keep_newer: bool = True) -> int:
        """Write whole triage records (import, restore). Their history entries go to the event
        log, except those already there (same item, time, group and label)."""
        batch = list(states)

        def work(conn: Connection[Any]) -> int:
            written = write_states(conn, batch, keep_newer=keep_newer)
            rows: list[EventRow] = []
            for state in written:
                known = {(h.at, h.group, h.action) for h in histories(conn, [state.id]).get(state.id, ())}
                rows.extend(
                    (
                        h.at,
                        h.actor,
                        "",
                        state.id,
                        "edited" if is_edit(h.action) else "undo" if h.action.startswith("undo: ") else "action",
                        h.action,
                        h.group,
                        h.before,
                        h.after,
                    )
                    for h in state.history
                    if (h.at, h.group, h.action) not in known
                )
            append_events(conn, rows)
            return len(written)

        return self.db.run(work, "the triage import") if batch else 0

    def act(
        self,
        message_ids: Iterable[str],
        make_action: Action | Callable[[TriageState], Action | None],
        *,
        actor: str,
        undoable: bool = True,
        label: str | None = None,
    ) -> ActResult:
        """Apply one triage action to several items as one transaction and one undoable group."""
        ids = list(dict.fromkeys(message_ids))
        group = token_hex(6)
        return self.db.run(
            lambda conn: self._act(conn, ids, make_action, actor=actor, undoable=undoable, label=label, group=group),
            "the action",
        )

    def _act(
        self,
        conn: Connection[Any],
        ids: list[str],
        make_action: Action | Callable[[TriageState], Action | None],
        *,
        actor: str,
        undoable: bool,
        label: str | None,
        group: str,
    ) -> ActResult:
        now = self.clock()
        locked = {
            mid: state_of(mid, tj, rev)
            for mid, tj, rev in conn.execute(
                "SELECT id, triage::text, rev FROM items WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (ids,)
            ).fetchall()
        }
        updates: list[tuple[Any, ...]] = []
        events: list[EventRow] = []
        inverses: list[dict[str, Any]] = []
        changed: list[str] = []
        first_label = label
        for mid in ids:
            before = locked.get(mid)
            if before is None:
                continue  # not a live item (never stored, or archived meanwhile)
            action = make_action(before) if callable(make_action) else make_action
            if action is None:
                continue
            after = msgspec.structs.replace(triage.apply(before, action), rev=before.rev + 1)
            b, a = triage.changed_fields(before, after)
            if not a:
                continue
            first_label = first_label or triage.describe(action)
            kind = "undo" if label and label.startswith("undo: ") else "action"
            events.append((now, actor, self.instance, mid, kind, label or triage.describe(action), group, b, a))
            updates.append(state_row(after))
            inverses.append({"id": mid, "inverse": msgspec.to_builtins(triage.inverse(before, action))})
            changed.append(mid)
        if changed:
            with conn.cursor() as cur:
                cur.executemany(UPDATE_STATE, updates)
            if undoable:
                self._push_undo(conn, group, actor, first_label or "", inverses, now)
            append_events(conn, events)  # last: it holds the event-order lock until COMMIT
        return ActResult(group=group, changed=changed, label=first_label or "")

    def _push_undo(
        self, conn: Connection[Any], group: str, actor: str, label: str, inverses: list[dict[str, Any]], now: datetime
    ) -> None:
        conn.execute(
            "INSERT INTO undo_groups (grp, actor, label, at, entries) VALUES (%s, %s, %s, %s, %s::jsonb)",
            (group, actor, label, now, ENC.encode(inverses).decode()),
        )
        conn.execute(
            "DELETE FROM undo_groups WHERE actor = %s AND seq <= ("
            " SELECT seq FROM undo_groups WHERE actor = %s ORDER BY seq DESC OFFSET %s LIMIT 1)",
            (actor, actor, UNDO_KEEP),
        )

    def undo(self, actor: str, group: str | None = None) -> UndoResult | None:
        """Undo ``actor``'s most recent action group not undone yet, in the same transaction
        that marks it undone (so an undo is never applied twice, nor half)."""

        def work(conn: Connection[Any]) -> UndoResult | None:
            row = conn.execute(
                "SELECT seq, label, entries::text FROM undo_groups WHERE actor = %s AND NOT undone"
                " AND (%s::text IS NULL OR grp = %s) ORDER BY seq DESC LIMIT 1 FOR UPDATE",
                (actor, group, group),
            ).fetchone()
            if row is None:
                return None
            seq, group_label, entries = row
            inverse_by_id = {
                e["id"]: triage.ACTION_DECODER.decode(ENC.encode(e["inverse"])) for e in _ENTRIES.decode(entries)
            }
            result = self._act(
                conn,
                list(inverse_by_id),
                lambda st: inverse_by_id[st.id],
                actor=actor,
                undoable=False,
                label=f"undo: {group_label}",
                group=token_hex(6),
            )
            conn.execute("UPDATE undo_groups SET undone = true WHERE seq = %s", (seq,))
            return UndoResult(label=group_label, changed=result.changed)

        return self.db.run(work, "the undo")

    # ----------------------------------------------------------------- queries
    def query(
        self,
        *,
        status: Status | None = None,
        tag: str | None = None,
        channel: str | None = None,
        where: Query | None = None,
        me: str = "",
        limit: int | None = None,
        loaded_only: bool = False,
        staff: frozenset[str] = frozenset(),
    ) -> list[tuple[Message, TriageState]]:
        """Messages with their triage state, newest first: exact fields and ``where`` compiled to
        SQL over the indexed columns and the people tables (query/sql.py); what the compiler
        leaves to Python (the residue) is checked per row, and then LIMIT is applied in Python too."""
        now = self.clock()
        conditions: list[str] = []
        params: list[Any] = []
        residue: Query | None = None
        if where is not None and not where.empty:
            where_sql, where_params, rest = compile_sql(where.node, now, me, sorted(staff))
            conditions.append(where_sql)
            params.extend(where_params)
            residue = Query.of(rest) if rest is not None else None
            if residue is not None and residue.uses_people:  # read in another transaction: rare
                residue = residue.bind(PeopleView.of(self.people(), staff))
        if status is not None:
            conditions.append("status = %s")
            params.append(status.value)
        if tag is not None:
            conditions.append("tags @> ARRAY[%s]::text[]")
            params.append(tag)
        if channel is not None:
            conditions.append("channel = %s")
            params.append(channel)
        sql = "SELECT id, message::text, triage::text, rev FROM items"
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        # Ties in time by the ids' code points ("C"), not the database's collation: the order
        # StoreApi.query promises, the TinyDB store's, and the one the TUI keeps without sorting
        # again (row_loading.py); items_created_at holds it (schema step 8).
        sql += ' ORDER BY created_at DESC, id COLLATE "C" DESC'
        window = self.window(loaded_only, not conditions)  # a lazy open's first screen (first_screen.py)
        if window is not None and (limit is None or limit > window):
            limit = window
        if limit is not None and residue is None:
            sql += " LIMIT %s"
            params.append(limit)

        def decoded(c: Connection[Any]) -> list[tuple[Message, TriageState]]:
            # Streamed in chunks and decoded as they come: fetched whole, 100k rows' JSON text
            # sat in libpq and as Python strings beside the decoded messages (a full read at
            # 100k mails: 507 -> 278 MB RSS, in the same 0.7 s; issue #14).
            found: list[tuple[Message, TriageState]] = []
            listing = Listing()
            rows = _stream(c, sql.encode(), params, every=not conditions)
            with closing(rows):  # a query stopped at its limit is cancelled, the connection left clean
                for _, m, tj, rev in rows:
                    msg = listing.message(m)
                    pair = (msg, state_of(msg.id, tj, rev))
                    if residue is None or residue.matches(pair[0], pair[1], now, me):
                        found.append(pair)
                        if limit is not None and len(found) >= limit:
                            break
            return found

        return self.db.read(decoded)

    def every_item(self, *, loaded_only: bool = False) -> list[tuple[Message, TriageState | None]]:
        """Every item as :meth:`query` lists it, None for a state with no record and rev 0."""
        sql = EVERY_ITEM
        params: list[Any] = []
        window = self.window(loaded_only, True)
        if window is not None:
            sql += " LIMIT %s"
            params.append(window)

        def decoded(c: Connection[Any]) -> list[tuple[Message, TriageState | None]]:
            listing = Listing()
            rows = _stream(c, sql.encode(), params, every=True)
            with closing(rows):
                return [
                    (msg := listing.message(m), None if tj is None and not rev else state_of(msg.id, tj, rev))
                    for _, m, tj, rev in rows
                ]

        return self.db.read(decoded)

    def by_author(self, message: Message, limit: int = 3) -> list[Message]:
        """The author's other recent messages, newest first, on any channel (same handle)."""
        rows = self.db.read(
            lambda c: c.execute(
                "SELECT message::text FROM items WHERE author_key = %s AND id <> %s ORDER BY created_at DESC LIMIT %s",
                (author_key(message.author.handle), message.id, limit),
            ).fetchall()
        )
        return [MSG.decode(r[0]) for r in rows]

    def thread_of(self, message: Message) -> list[Message]:
        """Stored messages of the same conversation, oldest first."""
        rows = self.db.read(
            lambda c: c.execute(
                "SELECT message::text FROM items WHERE channel = %s AND thread_key = %s ORDER BY created_at, id",
                (message.channel, message.thread_id or message.id),
            ).fetchall()
        )
        return [MSG.decode(r[0]) for r in rows] or [message]
