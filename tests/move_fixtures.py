"""A TinyDB store with a bit of everything, for the store-moving tests and bench/migrate.py:
items with histories (actions and undos), archived items, outbox items in every state,
drafts and cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cminbox.core import triage
from cminbox.core.clock import FrozenClock
from cminbox.core.models import Priority, Status
from cminbox.core.outbox_types import OutboxKind
from cminbox.core.people import Person, linked
from cminbox.core.store import Store
from tests.factories import make_message

START = datetime(2026, 1, 1, tzinfo=UTC)


def build_store(data: Path, n: int) -> Store:
    clock = FrozenClock(START + timedelta(days=130))
    store = Store(data, clock=clock, durable=False)
    store.upsert_messages(
        make_message(i, channel=("masto", "forum", "gh")[i % 3], at=START + timedelta(hours=i)) for i in range(n)
    )
    ids = sorted(store.message_ids())
    store.act(ids[::3], triage.AddTags(("billing",)), actor="ana")
    store.act(ids[::5], triage.SetStatus(Status.DONE), actor="ben")
    store.act(ids[1::7], triage.SetPriority(Priority.HIGH), actor="ana")
    store.act(ids[2::11], triage.Assign("ben"), actor="ana")
    store.undo("ana")  # the assignment, undone: an undo event and history entries
    clock.advance(days=170)
    store.archive(timedelta(days=150))  # every done item (its last action is 170 days old)
    outbox = store.outbox
    items = outbox.enqueue_many(
        OutboxKind.REPLY, [(ids[-k], "masto", {"text": f"reply {k}"}) for k in range(1, 6)], "ana"
    )
    claimed = outbox.claim_due(limit=3)
    outbox.mark_sent(claimed[0], {"native_id": "r1", "url": "https://example.org/r1"})
    outbox.mark_failed(claimed[1], "server said no", permanent=True)
    outbox.mark_failed(claimed[2], "timeout")  # pending again, attempts 1
    assert len(items) == 5  # items 4 and 5: pending, never tried
    store.set_draft(ids[-1], "a draft reply")
    store.set_draft(ids[-2], "another one")
    store.set_cursor("masto", {"since_id": "123"})
    store.set_cursor("forum", {"page": 4, "etag": "x"})
    # People: two records, then linked (one written with both identities, the other removed).
    a, b = store.write_people(
        [
            Person(id="p-a1", identities=["masto:user1@example.social"], tags=["vip"]),
            Person(id="p-b2", identities=["gh:user1@example.social"], tags=["press"]),
        ],
        actor="ana",
        label="tag",
    )
    store.write_people([linked(a, b)], [b], actor="ana", label="link")
    store.write_people([Person(id="p-c3", identities=["forum:user2@example.social"])], actor="ben", label="note")
    return store
