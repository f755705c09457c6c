"""Checks of the store contract shared by the backend suite and the torture tests."""

from __future__ import annotations

from collections import Counter

from cminbox.core.events import Event, EventKind
from cminbox.core.outbox_types import OutboxStatus
from cminbox.core.store_api import StoreApi


def check_event_log(store: StoreApi, *, arrivals: bool = True) -> list[Event]:
    """The event log and the data agree: every change has its event and every event its change.

    * positions strictly increase;
    * each live item's history entries and its action/undo/edited events match one to one (by group);
    * with ``arrivals``, every live message has exactly one ``arrived`` event (a store whose
      messages all came in through this code, not a migrated one);
    * the ``sent`` events are exactly the outbox items marked sent.
    """
    store.refresh()
    events = store.events()
    positions = [e.pos for e in events]
    assert positions == sorted(set(positions)), "positions must strictly increase"
    recorded = (EventKind.ACTION, EventKind.UNDO, EventKind.EDITED)  # the kinds an item's history lists
    acted = Counter((e.message_id, e.group) for e in events if e.kind in recorded)
    history: Counter[tuple[str, str]] = Counter()
    live = set(store.message_ids())
    for mid in live:
        history.update((mid, h.group) for h in store.triage(mid).history)
    live_acted = Counter({key: n for key, n in acted.items() if key[0] in live})
    assert live_acted == history, (
        f"actions without events: {history - live_acted}; events without: {live_acted - history}"
    )
    if arrivals:
        arrived = Counter(e.message_id for e in events if e.kind == EventKind.ARRIVED)
        assert {mid for mid in live if arrived[mid] != 1} == set(), "each message arrives once"
    sent = {e.group for e in events if e.kind == EventKind.SENT}
    assert sent == {i.id for i in store.outbox.items(OutboxStatus.SENT)}
    return events
