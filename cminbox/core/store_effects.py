"""Effects (cminbox.core.effects) in the TinyDB store: a plan run inside a step, and what it
decided written in that step, after its events (store_events.py) and before anything else.

A mixin of :class:`~cminbox.core.store.Store`. In the step that stores new messages
(store_upsert.py) the order is: events; the effects' triage records; the plan's outbox items;
the message parts. Triage records first, because another process reloads each file when it
changes, outside the lock: one that saw the message part before the triage record would show
the new item without its rules' effects for a moment. A kill between the two leaves the records
(their events are kept: the revision they name is stored) and drops the ``arrived`` events (the
messages are not stored); the channel's cursor was not saved either, so the next poll brings
the messages again, and the rules find their effects already there (tags present, notes with
the same ids, outbox ids stored): nothing is done twice.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime

import msgspec

from cminbox.core import triage
from cminbox.core.clock import Clock
from cminbox.core.effects import Effect, Plan, Planned
from cminbox.core.events import Event, EventKind
from cminbox.core.locking import synchronized
from cminbox.core.models import HistoryEntry, TriageState
from cminbox.core.store_events import draft, new_group
from cminbox.core.store_parts import StoreParts


class EffectTables(StoreParts):
    clock: Clock
    _mutex: threading.RLock

    def _effect_changes(
        self, effects: Iterable[Effect], now: datetime, group: str
    ) -> tuple[list[Event], list[TriageState], list[Effect]]:
        """Each effect applied to its item's stored state, as ``act`` applies an action: the
        events, the states to write, the effects that changed something (one that changes
        nothing leaves no trace)."""
        states: dict[str, TriageState] = {}
        events: list[Event] = []
        applied: list[Effect] = []
        for effect in effects:
            mid = effect.message_id
            before = states.get(mid) or self._triage(mid)
            after = triage.apply(before, effect.action)
            b, a = triage.changed_fields(before, after)
            if not a:
                continue
            entry = HistoryEntry(at=now, actor=effect.actor, action=effect.label, before=b, after=a, group=group)
            after = msgspec.structs.replace(after, history=(*after.history, entry), rev=after.rev + 1)
            kind = EventKind.UNDO if effect.undo else EventKind.ACTION
            events.append(draft(kind, now, effect.actor, mid, effect.label, group, before=b, after=a, rev=after.rev))
            states[mid] = after
            applied.append(effect)
        changed = {e.message_id for e in applied}
        return events, [s for mid, s in states.items() if mid in changed], applied

    @synchronized
    def apply_plan(self, ids: Iterable[str], plan: Plan, *, history: bool = False) -> Planned:
        """Run ``plan`` on the live items among ``ids`` in one step (the history is always there:
        it lives in the triage record) and write what it decided."""
        group = new_group()
        now = self.clock()
        with self.transaction():
            items = [(m, self._triage(mid)) for mid in dict.fromkeys(ids) if (m := self._get_message(mid)) is not None]
            if not items:
                return Planned()
            planned = plan(items, self.outbox.known)
            live = {m.id for m, _ in items}  # as on PostgreSQL: effects on the items given only
            events, states, applied = self._effect_changes(
                [e for e in planned.effects if e.message_id in live], now, group
            )
            self._append_events(events)  # first: see store_events.py
            self._write_states(states)
            stored = self.outbox.add_new(planned.outbox)
        return Planned(applied, stored)
