"""Community answers (cminbox.core.community) on PostgreSQL: the conversations a batch touches
read inside the step that stores it, and their questions' answer records written there too."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from psycopg import Connection

from cminbox.core.community import Answering, ThreadKey, answer_effects, thread_key
from cminbox.core.models import Message, TriageState
from cminbox.core.pg.effects import write_effects
from cminbox.core.pg.feed import EventRow
from cminbox.core.pg.items import MSG, state_of


def thread_messages(conn: Connection[Any], keys: set[ThreadKey]) -> list[Message]:
    """The stored messages of these conversations (the batch's rows included: written first)."""
    channels = sorted({c for c, _ in keys})
    threads = sorted({t for _, t in keys})
    rows = conn.execute(
        "SELECT message::text FROM items WHERE channel = ANY(%s) AND thread_key = ANY(%s)", (channels, threads)
    ).fetchall()
    return [m for (text,) in rows if thread_key(m := MSG.decode(text)) in keys]


def write_answers(
    conn: Connection[Any],
    instance: str,
    batch: Iterable[Message],
    answering: Answering,
    states: dict[str, TriageState],
    now: datetime,
    group: str,
) -> list[EventRow]:
    """Record the answers of the conversations ``batch`` touches; ``states``: the triage states
    this step already holds (the new rows after their rules), updated in place. Returns the
    event rows for the caller to append last."""
    effects = answer_effects(batch, lambda keys: thread_messages(conn, keys), answering)
    if not effects:
        return []
    need = sorted({e.message_id for e in effects} - states.keys())
    if need:
        rows = conn.execute(
            "SELECT id, triage::text, rev FROM items WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (need,)
        ).fetchall()
        states.update({mid: state_of(mid, tj, rev) for mid, tj, rev in rows})
    events, _ = write_effects(conn, instance, effects, states, now, group)
    return events
