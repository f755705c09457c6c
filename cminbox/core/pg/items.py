"""Rows of ``items``: a message and its triage state in, a message and its state out.

The message is stored whole as json (its text as written: a read prints it back without work),
the triage state as jsonb; both are the source of truth, decoded straight into msgspec
structs. The fields queries filter on are copied into typed, indexed columns by the same
statement, so the two never disagree. The column names are the ones the query compiler
targets (``cminbox.core.query.sql.ITEMS_DDL``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from psycopg import Connection

from cminbox.core.edits import Edit, edit_of
from cminbox.core.indexes import author_key
from cminbox.core.models import Author, Message, TriageState
from cminbox.core.packed_extras import Packer, enc_hook
from cminbox.core.people import identity_of

MSG = msgspec.json.Decoder(Message)
_PACKER = Packer()
_set_field = msgspec.structs.force_setattr


class Listing:
    """The messages of one read of many, holding one copy of what many share, as the TinyDB
    store's loader does (core/indexes.Indexes.add_segment): the decoder makes a fresh author,
    channel name, channel type and visibility per row, though a few people and channels
    write thousands of them (100k mails: ~45 MB of copies, RSS 222 MB where the TinyDB
    store's is 178; issue #14). Safe on frozen structs nobody else holds yet."""

    def __init__(self) -> None:
        self._authors: dict[str, Author] = {}  # found by id: one string hashed, not four
        self._words: dict[str, str] = {}
        self._last = ("", "", "")  # the row before's channel, type and visibility (mostly the same)

    def message(self, text: str | bytes) -> Message:
        msg = MSG.decode(text)
        if msg.extra:  # packed, as the TinyDB store holds them (half their memory: core/packed_extras.py)
            _set_field(msg, "extra", _PACKER.pack(msg.extra))
        person = msg.author
        known = self._authors.get(person.id)
        if known is None or known != person:
            known = self._authors[person.id] = person
        elif known is not person:
            _set_field(msg, "author", known)
        channel, kind, visibility = self._last
        if msg.channel != channel:
            channel = self._words.setdefault(msg.channel, msg.channel)
        if msg.channel_type != kind:
            kind = self._words.setdefault(msg.channel_type, msg.channel_type)
        if msg.visibility != visibility:
            visibility = self._words.setdefault(msg.visibility, msg.visibility)
        self._last = (channel, kind, visibility)
        _set_field(msg, "channel", channel)
        _set_field(msg, "channel_type", kind)
        _set_field(msg, "visibility", visibility)
        if msg.thread_id and msg.thread_id == msg.id:  # a conversation's first message: one string
            _set_field(msg, "thread_id", msg.id)
        return msg


_STATE = msgspec.json.Decoder(TriageState)
ENC = msgspec.json.Encoder(enc_hook=enc_hook)

_UPSERT = (
    "INSERT INTO items (id, channel, channel_type, native_id, kind, author_handle, author_name,"
    " author_key, text, created_at, thread_key, message, author_identity)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::json, %s)"
    " ON CONFLICT (id) DO UPDATE SET channel = EXCLUDED.channel, kind = EXCLUDED.kind,"
    " author_handle = EXCLUDED.author_handle, author_name = EXCLUDED.author_name,"
    " author_key = EXCLUDED.author_key, text = EXCLUDED.text, created_at = EXCLUDED.created_at,"
    " thread_key = EXCLUDED.thread_key, message = EXCLUDED.message,"
    " author_identity = EXCLUDED.author_identity, updated_at = now()"
    " WHERE items.message::jsonb IS DISTINCT FROM EXCLUDED.message::jsonb"
    " RETURNING id, xmax = 0"
)
_INSERT_NEW = (
    "INSERT INTO items (id, channel, channel_type, native_id, kind, author_handle, author_name,"
    " author_key, text, created_at, thread_key, message, author_identity)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::json, %s)"
    " ON CONFLICT (id) DO NOTHING RETURNING id"
)
_UPDATE_MESSAGE = (
    "UPDATE items SET channel = %s, kind = %s, author_handle = %s, author_name = %s, author_key = %s,"
    " text = %s, created_at = %s, thread_key = %s, message = %s::json, author_identity = %s,"
    " rev = rev + %s, updated_at = now() WHERE id = %s"
)
UPDATE_STATE = (
    "UPDATE items SET triage = %s::jsonb, status = %s, tags = %s, assignee = %s, priority_rank = %s,"
    " snoozed_until = %s, first_response_at = %s, rev = %s, updated_at = now() WHERE id = %s"
)


def state_of(mid: str, triage_json: str | None, rev: int) -> TriageState:
    if triage_json is None:
        return TriageState(id=mid, rev=rev)
    return msgspec.structs.replace(_STATE.decode(triage_json), rev=rev)


def state_row(state: TriageState) -> tuple[Any, ...]:
    """The parameters of :data:`UPDATE_STATE` (history lives in the event log, not the row)."""
    stored = msgspec.structs.replace(state, history=(), rev=0)
    return (
        ENC.encode(stored).decode(),
        state.status.value,
        list(state.tags),
        state.assignee,
        state.priority.rank,
        state.snoozed_until,
        state.first_response_at,
        state.rev,
        state.id,
    )


def _message_row(m: Message) -> tuple[Any, ...]:
    return (
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
        ENC.encode(m).decode(),
        identity_of(m),  # the people fields join on it (query/sql.py)
    )


def upsert_rows(conn: Connection[Any], messages: Iterable[Message]) -> list[str]:
    """Insert new messages, update changed ones; the new ids, in the order given.

    Rows are written in id order, so two instances storing overlapping batches never deadlock."""
    by_id = {m.id: m for m in messages}
    if not by_id:
        return []
    inserted: set[str] = set()
    with conn.cursor() as cur:
        cur.executemany(_UPSERT, [_message_row(by_id[mid]) for mid in sorted(by_id)], returning=True)
        while True:
            inserted.update(mid for mid, new in cur.fetchall() if new)
            if not cur.nextset():
                break
    return [mid for mid in by_id if mid in inserted]


def upsert_polled(conn: Connection[Any], messages: Iterable[Message]) -> tuple[list[str], list[Edit], list[str]]:
    """Insert new messages and update changed ones, telling content changes (edits.py) apart:
    the new ids in the order given, the edits (each edited row's ``rev`` goes up by one, as an
    action's does, so its history line and its revision agree), and the ids of every stored
    message that changed (an edit or not): with the new ones, what the community answers read
    again (as the TinyDB store does: core/store_upsert.py).

    The stored version is read under a row lock before it is compared, so two instances storing
    the same edit record it once: the second finds the new content. New rows are inserted
    first (``DO NOTHING``: a row another instance is inserting is waited for, then left to
    it) and existing rows locked after, both in id order, so overlapping batches never deadlock."""
    by_id = {m.id: m for m in messages}
    if not by_id:
        return [], [], []
    inserted: set[str] = set()
    with conn.cursor() as cur:
        cur.executemany(_INSERT_NEW, [_message_row(by_id[mid]) for mid in sorted(by_id)], returning=True)
        while True:
            inserted.update(row[0] for row in cur.fetchall())
            if not cur.nextset():
                break
    rest = sorted(mid for mid in by_id if mid not in inserted)
    stored = {
        mid: MSG.decode(text)
        for mid, text in conn.execute(
            "SELECT id, message::text FROM items WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (rest,)
        ).fetchall()
    }
    edits: list[Edit] = []
    updates: list[tuple[Any, ...]] = []
    for mid, old in stored.items():
        new = by_id[mid]
        if old == new:
            continue
        edit = edit_of(old, new)
        if edit is not None:
            edits.append(edit)
        row = _message_row(new)
        updates.append((row[1], *row[4:13], int(edit is not None), mid))
    if updates:
        with conn.cursor() as cur:
            cur.executemany(_UPDATE_MESSAGE, updates)
    return [mid for mid in by_id if mid in inserted], edits, [u[-1] for u in updates]


def write_states(conn: Connection[Any], states: Iterable[TriageState], *, keep_newer: bool) -> list[TriageState]:
    """Write whole triage records onto live rows (locked in id order); ``keep_newer`` leaves a
    row alone whose ``rev`` is higher. Returns the states written."""
    by_id = {s.id: s for s in states}
    current = dict(
        conn.execute("SELECT id, rev FROM items WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (sorted(by_id),)).fetchall()
    )
    written = [s for mid, s in by_id.items() if mid in current and not (keep_newer and current[mid] > s.rev)]
    if written:
        with conn.cursor() as cur:
            cur.executemany(UPDATE_STATE, [state_row(s) for s in written])
    return written
