"""Effects (cminbox.core.effects) on PostgreSQL: a plan run inside a transaction, on rows it has
locked, and what it decided written in that transaction.

New messages and their rules' effects commit together (:meth:`PgStore.upsert_messages`): the
rows are inserted and their triage state updated before COMMIT, so no other instance ever reads
a new item without its effects. :meth:`PgPlans.apply_plan` locks existing rows ``FOR UPDATE``
in id order, as an action does, so a plan decides from the committed state and a concurrent
action waits for it (or it for the action).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import msgspec
from psycopg import Connection

from cminbox.core import triage
from cminbox.core.clock import Clock
from cminbox.core.effects import Effect, Plan, Planned
from cminbox.core.models import TriageState
from cminbox.core.pg.archive import histories
from cminbox.core.pg.db import Database
from cminbox.core.pg.feed import EventRow, append_events
from cminbox.core.pg.items import MSG, UPDATE_STATE, state_of, state_row
from cminbox.core.pg.outbox import insert_items, known_items
from cminbox.core.random_ids import token_hex


def write_effects(
    conn: Connection[Any],
    instance: str,
    effects: Iterable[Effect],
    states: dict[str, TriageState],
    now: datetime,
    group: str,
) -> tuple[list[EventRow], list[Effect]]:
    """Apply each effect to its item's locked state (``states``, updated in place) and write
    the rows that changed; returns their event rows (for the caller to append last) and the
    effects that changed something."""
    rows: list[EventRow] = []
    applied: list[Effect] = []
    changed: set[str] = set()
    for effect in effects:
        before = states.get(effect.message_id)
        if before is None:
            continue  # not a live item of this step
        after = msgspec.structs.replace(triage.apply(before, effect.action), rev=before.rev + 1)
        b, a = triage.changed_fields(before, after)
        if not a:
            continue
        kind = "undo" if effect.undo else "action"
        rows.append((now, effect.actor, instance, effect.message_id, kind, effect.label, group, b, a))
        states[effect.message_id] = after
        changed.add(effect.message_id)
        applied.append(effect)
    if changed:
        with conn.cursor() as cur:
            cur.executemany(UPDATE_STATE, [state_row(states[mid]) for mid in sorted(changed)])
    return rows, applied


class PgPlans:
    db: Database
    clock: Clock
    instance: str

    def apply_plan(self, ids: Iterable[str], plan: Plan, *, history: bool = False) -> Planned:
        """Run ``plan`` on the live items among ``ids`` (rows locked in id order; ``history``:
        with their history lines, read from the event log) and write what it decided, in one
        transaction."""
        wanted = sorted(set(ids))
        if not wanted:
            return Planned()
        group = token_hex(6)

        def work(conn: Connection[Any]) -> Planned:
            now = self.clock()
            rows = conn.execute(
                "SELECT id, message::text, triage::text, rev FROM items WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
                (wanted,),
            ).fetchall()
            states = {mid: state_of(mid, tj, rev) for mid, _, tj, rev in rows}
            if history:
                lines = histories(conn, list(states))
                states = {mid: msgspec.structs.replace(s, history=lines.get(mid, ())) for mid, s in states.items()}
            order = {mid: i for i, mid in enumerate(dict.fromkeys(ids))}
            items = sorted(((MSG.decode(m), states[mid]) for mid, m, _, _ in rows), key=lambda p: order[p[0].id])
            planned = plan(items, lambda some: known_items(conn, some))
            events, applied = write_effects(conn, self.instance, planned.effects, states, now, group)
            stored = insert_items(conn, planned.outbox, only_new=True)
            append_events(conn, events)  # last: it holds the event-order lock until COMMIT
            return Planned(applied, stored)

        return self.db.run(work, "the rules' changes")
