"""The event log: one event per change, in order, with who, when and from which instance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cminbox.core import triage
from cminbox.core.clock import FrozenClock
from cminbox.core.events import EventKind
from cminbox.core.instance import INSTANCE_ID
from cminbox.core.models import Status
from cminbox.core.outbox_types import OutboxKind
from cminbox.core.store_api import StoreApi
from tests.backend.conftest import Backend
from tests.backend.contract import check_event_log
from tests.factories import make_message


def test_arrivals_actions_undos_and_sends_are_events(store: StoreApi, clock: FrozenClock) -> None:
    store.upsert_messages([make_message(1), make_message(2)])
    store.upsert_messages([make_message(1)])  # seen before: no event
    clock.advance(minutes=1)
    acted = store.act(["masto:1", "masto:2"], triage.SetStatus(Status.OPEN), actor="ana")
    store.undo("ana")
    item = store.outbox.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "hi"}, "ana")
    [claimed] = store.outbox.claim_due()
    store.outbox.mark_sent(claimed, {"native_id": "99", "url": "https://m.example/99"})
    events = check_event_log(store)
    assert [(e.kind, e.message_id) for e in events] == [
        (EventKind.ARRIVED, "masto:1"),
        (EventKind.ARRIVED, "masto:2"),
        (EventKind.ACTION, "masto:1"),
        (EventKind.ACTION, "masto:2"),
        (EventKind.UNDO, "masto:1"),
        (EventKind.UNDO, "masto:2"),
        (EventKind.SENT, "masto:1"),
    ]
    action = events[2]
    assert (action.actor, action.at, action.label, action.before, action.after, action.group) == (
        "ana",
        clock.now,
        "status → open",
        {"status": "new"},
        {"status": "open"},
        acted.group,
    )
    assert events[4].label == "undo: status → open" and events[4].after == {"status": "new"}
    assert events[6].group == item.id and events[6].after == {"native_id": "99", "url": "https://m.example/99"}
    assert {e.instance for e in events} == {INSTANCE_ID}
    assert events[0].actor == make_message(1).author.handle


def test_reading_since_a_position_and_a_time(store: StoreApi, clock: FrozenClock) -> None:
    store.upsert_messages([make_message(i) for i in range(5)])
    clock.advance(hours=2)
    store.act(["masto:1"], triage.AddTags(("x",)), actor="ana")
    everything = store.events()
    assert store.last_position() == everything[-1].pos
    assert store.events(since=everything[2].pos) == everything[3:]
    assert store.events(since=everything[2].pos, limit=1) == everything[3:4]
    assert store.events(since=store.last_position()) == []
    assert [e.kind for e in store.events(after=clock.now - timedelta(minutes=5))] == [EventKind.ACTION]


def test_another_instance_reads_the_events_as_they_are_committed(backend: Backend) -> None:
    a, b = backend.open(), backend.open()
    a.upsert_messages([make_message(1)])
    mark = b.last_position()
    a.act(["masto:1"], triage.Assign("ana"), actor="ana")
    [event] = b.events(since=mark)
    assert (event.kind, event.message_id, event.after) == (EventKind.ACTION, "masto:1", {"assignee": "ana"})


def test_archiving_and_restoring_are_events(backend: Backend) -> None:
    then = datetime(2026, 6, 1, tzinfo=UTC)
    store = backend.open(clock=lambda: then)
    store.upsert_messages([make_message(n, at=then - timedelta(hours=n)) for n in range(1, 4)])
    store.act(["masto:1"], triage.SetStatus(Status.DONE), actor="ana")
    later = backend.open(clock=lambda: then + timedelta(days=100))
    assert later.archive(timedelta(days=90)) == ["masto:1"]
    assert later.restore(["masto:1"]) == ["masto:1"]
    tail = [(e.kind, e.message_id) for e in later.events()][-2:]
    assert tail == [(EventKind.ARCHIVED, "masto:1"), (EventKind.RESTORED, "masto:1")]
    check_event_log(later)


def test_positions_increase_across_instances(backend: Backend) -> None:
    stores = [backend.open(), backend.open()]
    stores[0].upsert_messages([make_message(i) for i in range(6)])
    for n in range(10):
        stores[n % 2].act([f"masto:{n % 6}"], triage.AddTags((f"t{n}",)), actor=f"p{n % 2}")
    check_event_log(backend.open())
