"""The store on PostgreSQL: messages with their triage state, actions, undo, the event log.

One row per item in ``items``: the message (jsonb, the source of truth) and its triage
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

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import msgspec
from psycopg import Connection

from cminbox.core import triage
from cminbox.core.clock import Clock, system_clock
from cminbox.core.indexes import author_key
from cminbox.core.models import HistoryEntry, Message, Status, TriageState
from cminbox.core.pg.db import Database
from cminbox.core.pg.tables import SmallTables
from cminbox.core.query import Query
from cminbox.core.query.sql import compile_sql
from cminbox.core.store import ActResult, StoreError, UndoResult
from cminbox.core.text import bound_message
from cminbox.core.triage import Action

UNDO_KEEP = 500
GAP_SECONDS = 60.0  # an event position skipped this long belongs to a rolled-back step

_MSG = msgspec.json.Decoder(Message)
_STATE = msgspec.json.Decoder(TriageState)
_ENC = msgspec.json.Encoder()
_ACTION_LIST = msgspec.json.Decoder(list[dict[str, Any]])

_SELECT_ROW = "SELECT message::text, triage::text, rev FROM items"


def _state_of(mid: str, triage_json: str | None, rev: int) -> TriageState:
    if triage_json is None:
        return TriageState(id=mid, rev=rev)
    return msgspec.structs.replace(_STATE.decode(triage_json), rev=rev)


def _triage_columns(state: TriageState) -> tuple[Any, ...]:
    stored = msgspec.structs.replace(state, history=(), rev=0)
    return (
        _ENC.encode(stored).decode(),
        state.status.value,
        list(state.tags),
        state.assignee,
        state.priority.rank,
        state.snoozed_until,
        state.first_response_at,
    )


class PgStore(SmallTables):
    """The PostgreSQL store. ``actor`` is recorded per call; ``instance`` per process."""

    def __init__(self, db: Database, *, instance: str, clock: Clock = system_clock) -> None:
        self.db = db
        self.instance = instance
        self.clock = clock
        self.problems: dict[Any, str] = {}  # TinyDB's unreadable files; a database has none
        self._seen_max = self._max_position()
        self._gaps: dict[int, float] = {}

    def close(self) -> None:
        self.db.close()

    # ----------------------------------------------------------------- messages
    def upsert_messages(self, messages: Iterable[Message]) -> list[str]:
        """Add messages not seen before (by id); update ones whose content changed. Returns new ids."""
        by_id = {m.id: m for m in map(bound_message, messages)}  # the one way in: never stored unbounded
        if not by_id:
            return []
        now = self.clock()
        rows = [
            (
                m.id,
                m.channel,
                m.channel_type,
                m.native_id,
                m.kind.value,
                m.author.handle,
                m.author.display_name,
                author_key(m.author.handle),
                m.text,
                m.created_at,
                m.thread_id or m.id,
                _ENC.encode(m).decode(),
            )
            for m in sorted(by_id.values(), key=lambda m: m.id)  # id order: concurrent upserts never deadlock
        ]

        def work(conn: Connection[Any]) -> list[str]:
            new_ids: list[str] = []
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO items (id, channel, channel_type, native_id, kind, author_handle, author_name,"
                    " author_key, text, created_at, thread_key, message)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)"
                    " ON CONFLICT (id) DO UPDATE SET channel = EXCLUDED.channel, kind = EXCLUDED.kind,"
                    " author_handle = EXCLUDED.author_handle, author_name = EXCLUDED.author_name,"
                    " author_key = EXCLUDED.author_key, text = EXCLUDED.text, created_at = EXCLUDED.created_at,"
                    " thread_key = EXCLUDED.thread_key, message = EXCLUDED.message, updated_at = now()"
                    " WHERE items.message IS DISTINCT FROM EXCLUDED.message"
                    " RETURNING id, xmax = 0",
                    rows,
                    returning=True,
                )
                while True:
                    for mid, inserted in cur.fetchall():
                        if inserted:
                            new_ids.append(mid)
                    if not cur.nextset():
                        break
                cur.executemany(
                    "INSERT INTO events (at, actor, instance, message_id, kind) VALUES (%s, '', %s, %s, 'arrived')",
                    [(now, self.instance, mid) for mid in new_ids],
                )
            return new_ids

        return self.db.run(work, "the new messages")

    def get_message(self, message_id: str) -> Message | None:
        row = self.db.read(
            lambda c: c.execute("SELECT message::text FROM items WHERE id = %s", (message_id,)).fetchone()
        )
        return _MSG.decode(row[0]) if row else None

    def message_ids(self) -> list[str]:
        return self.db.read(lambda c: [r[0] for r in c.execute("SELECT id FROM items").fetchall()])

    def all_messages(self, *, loaded_only: bool = False) -> list[Message]:
        rows = self.db.read(lambda c: c.execute("SELECT message::text FROM items").fetchall())
        return [_MSG.decode(r[0]) for r in rows]

    def __len__(self) -> int:
        row = self.db.read(lambda c: c.execute("SELECT count(*) FROM items").fetchone())
        return int(row[0]) if row else 0

    def is_live(self, message_id: str) -> bool:
        return self.get_message(message_id) is not None

    @property
    def fully_loaded(self) -> bool:
        return True  # nothing streams in: every query goes to the server

    def load_next_segment(self) -> str | None:
        return None

    def resolve_id(self, partial: str) -> str:
        """Accept a full id, or a unique suffix such as the native id (handy on the command line)."""

        def find(conn: Connection[Any]) -> list[str]:
            exact = conn.execute("SELECT id FROM items WHERE id = %s", (partial,)).fetchone()
            if exact:
                return [exact[0]]
            rows = conn.execute(
                "SELECT id FROM items WHERE right(id, %s) = %s ORDER BY id LIMIT 4", (len(partial), partial)
            )
            return [r[0] for r in rows.fetchall()]

        hits = self.db.read(find) if partial else []
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise StoreError(f"no message with id {partial!r}. `cminbox list` shows the ids.")
        raise StoreError(f"{partial!r} matches several messages ({', '.join(hits[:3])}, ...); give the full id.")

    # ----------------------------------------------------------------- triage
    def triage(self, message_id: str) -> TriageState:
        """The item's triage state with its history, read from the event log."""

        def work(conn: Connection[Any]) -> TriageState:
            row = conn.execute("SELECT triage::text, rev FROM items WHERE id = %s", (message_id,)).fetchone()
            state = _state_of(message_id, row[0], row[1]) if row else TriageState(id=message_id)
            events = conn.execute(
                "SELECT at, actor, label, before::text, after::text, grp FROM events"
                " WHERE message_id = %s AND kind IN ('action', 'undo') ORDER BY position",
                (message_id,),
            ).fetchall()
            history = tuple(
                HistoryEntry(
                    at=at,
                    actor=actor,
                    action=label,
                    before=msgspec.json.decode(b),
                    after=msgspec.json.decode(a),
                    group=g,
                )
                for at, actor, label, b, a, g in events
            )
            return msgspec.structs.replace(state, history=history)

        return self.db.read(work)

    def act(
        self,
        message_ids: Iterable[str],
        make_action: Action | Callable[[TriageState], Action | None],
        *,
        actor: str,
        undoable: bool = True,
        label: str | None = None,
    ) -> ActResult:
        """Apply one triage action to several messages as one transaction and one undoable group."""
        import secrets

        ids = list(dict.fromkeys(message_ids))
        group = secrets.token_hex(6)
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
            mid: _state_of(mid, tj, rev)
            for mid, tj, rev in conn.execute(
                "SELECT id, triage::text, rev FROM items WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (ids,)
            ).fetchall()
        }
        updates: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
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
            after = triage.apply(before, action)
            b, a = triage.changed_fields(before, after)
            if not a:
                continue
            first_label = first_label or triage.describe(action)
            kind = "undo" if label and label.startswith("undo: ") else "action"
            events.append((now, actor, self.instance, mid, kind, label or triage.describe(action), group, b, a))
            updates.append((*_triage_columns(after), mid))
            inverses.append({"id": mid, "inverse": msgspec.to_builtins(triage.inverse(before, action))})
            changed.append(mid)
        if changed:
            with conn.cursor() as cur:
                cur.executemany(
                    "UPDATE items SET triage = %s::jsonb, status = %s, tags = %s, assignee = %s, priority_rank = %s,"
                    " snoozed_until = %s, first_response_at = %s, rev = rev + 1, updated_at = now() WHERE id = %s",
                    updates,
                )
                cur.executemany(
                    "INSERT INTO events (at, actor, instance, message_id, kind, label, grp, before, after)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb)",
                    [(*e[:7], _ENC.encode(e[7]).decode(), _ENC.encode(e[8]).decode()) for e in events],
                )
            if undoable:
                self._push_undo(conn, group, actor, first_label or "", inverses, now)
        return ActResult(group=group, changed=changed, label=first_label or "")

    def _push_undo(
        self, conn: Connection[Any], group: str, actor: str, label: str, inverses: list[dict[str, Any]], now: datetime
    ) -> None:
        conn.execute(
            "INSERT INTO undo_groups (grp, actor, label, at, entries) VALUES (%s, %s, %s, %s, %s::jsonb)",
            (group, actor, label, now, _ENC.encode(inverses).decode()),
        )
        conn.execute(
            "DELETE FROM undo_groups WHERE actor = %s AND seq <= ("
            " SELECT seq FROM undo_groups WHERE actor = %s ORDER BY seq DESC OFFSET %s LIMIT 1)",
            (actor, actor, UNDO_KEEP),
        )

    def undo(self, actor: str) -> UndoResult | None:
        """Undo ``actor``'s most recent action group not undone yet, in the same transaction
        that marks it undone (so an undo is never applied twice, nor half)."""
        import secrets

        def work(conn: Connection[Any]) -> UndoResult | None:
            row = conn.execute(
                "SELECT seq, label, entries::text FROM undo_groups WHERE actor = %s AND NOT undone"
                " ORDER BY seq DESC LIMIT 1 FOR UPDATE",
                (actor,),
            ).fetchone()
            if row is None:
                return None
            seq, group_label, entries = row
            inverse_by_id = {
                e["id"]: triage.ACTION_DECODER.decode(_ENC.encode(e["inverse"])) for e in _ACTION_LIST.decode(entries)
            }
            result = self._act(
                conn,
                list(inverse_by_id),
                lambda st: inverse_by_id[st.id],
                actor=actor,
                undoable=False,
                label=f"undo: {group_label}",
                group=secrets.token_hex(6),
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
    ) -> list[tuple[Message, TriageState]]:
        """Messages with their triage state, newest first: exact fields and ``where`` compiled to
        SQL over the indexed columns (query/sql.py); what the compiler leaves to Python (the
        residue) is checked per row, and then LIMIT is applied in Python too."""
        now = self.clock()
        conditions: list[str] = []
        params: list[Any] = []
        residue: Query | None = None
        if where is not None and not where.empty:
            where_sql, where_params, rest = compile_sql(where.node, now, me)
            conditions.append(where_sql)
            params.extend(where_params)
            residue = Query.of(rest) if rest is not None else None
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
        sql += " ORDER BY created_at DESC, id DESC"
        if limit is not None and residue is None:
            sql += " LIMIT %s"
            params.append(limit)
        rows = self.db.read(lambda c: c.execute(sql.encode(), params).fetchall())
        found: list[tuple[Message, TriageState]] = []
        for mid, m, tj, rev in rows:
            pair = (_MSG.decode(m), _state_of(mid, tj, rev))
            if residue is None or residue.matches(pair[0], pair[1], now, me):
                found.append(pair)
                if limit is not None and len(found) >= limit:
                    break
        return found

    def by_author(self, message: Message, limit: int = 3) -> list[Message]:
        """The author's other recent messages, newest first, on any channel (same handle)."""
        rows = self.db.read(
            lambda c: c.execute(
                "SELECT message::text FROM items WHERE author_key = %s AND id <> %s ORDER BY created_at DESC LIMIT %s",
                (author_key(message.author.handle), message.id, limit),
            ).fetchall()
        )
        return [_MSG.decode(r[0]) for r in rows]

    def thread_of(self, message: Message) -> list[Message]:
        """Stored messages of the same conversation, oldest first."""
        rows = self.db.read(
            lambda c: c.execute(
                "SELECT message::text FROM items WHERE channel = %s AND thread_key = %s ORDER BY created_at, id",
                (message.channel, message.thread_id or message.id),
            ).fetchall()
        )
        return [_MSG.decode(r[0]) for r in rows] or [message]

    # ----------------------------------------------------------------- changes
    def _max_position(self) -> int:
        row = self.db.read(lambda c: c.execute("SELECT coalesce(max(position), 0) FROM events").fetchone())
        return int(row[0]) if row else 0

    def refresh(self) -> set[str]:
        """Ids of items changed by anyone since the last call, from the event log.

        Positions are taken when an event is inserted, not when its transaction commits, so a
        slower transaction may commit a lower position after a higher one was seen: positions
        skipped over are asked for again for :data:`GAP_SECONDS` (a rolled-back step leaves a
        gap for good)."""
        import time

        seen, gaps = self._seen_max, list(self._gaps)
        rows = self.db.read(
            lambda c: c.execute(
                "SELECT position, message_id FROM events WHERE position > %s OR position = ANY(%s) ORDER BY position",
                (seen, gaps),
            ).fetchall()
        )
        now = time.monotonic()
        changed: set[str] = set()
        for position, mid in rows:
            changed.add(mid)
            self._gaps.pop(position, None)
            if position > self._seen_max:
                for missing in range(self._seen_max + 1, position):
                    self._gaps[missing] = now
                self._seen_max = position
        self._gaps = {p: t for p, t in self._gaps.items() if now - t < GAP_SECONDS}
        return changed
