"""The outbox contract: durable enqueue, exclusive claims with leases, same key on retry."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

from cminbox.core.clock import FrozenClock
from cminbox.core.events import EventKind
from cminbox.core.outbox_types import LEASE, MAX_ATTEMPTS, OutboxKind, OutboxStatus
from cminbox.core.store_api import StoreApi
from tests.backend.conftest import Backend

SHORT = timedelta(seconds=0.5)  # a claim's lease here (outbox_types.LEASE is 120 s)


def test_enqueued_items_are_durable_and_listed_by_status(backend: Backend) -> None:
    store = backend.open()
    one = store.outbox.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "hi"}, "ana")
    many = store.outbox.enqueue_many(OutboxKind.ACTION, [("masto:2", "masto", {"action": "lock"})] * 3, "ana")
    again = backend.open().outbox
    assert [i.id for i in again.items()] == [one.id, *(i.id for i in many)]
    assert [i.id for i in again.items(OutboxStatus.PENDING)] == [one.id, *(i.id for i in many)]
    found = again.get(one.id[:6])
    assert found is not None and found.payload == {"text": "hi"} and again.get("nope") is None


def test_claims_are_exclusive_and_orphans_come_back(backend: Backend, clock: FrozenClock) -> None:
    a, b = backend.open().outbox, backend.open().outbox
    a.lease = SHORT
    item = a.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "hi"}, "ana")
    [claimed] = a.claim_due()
    assert (claimed.id, claimed.status, claimed.attempts, claimed.claimed_by) == (
        item.id,
        OutboxStatus.SENDING,
        1,
        a.worker_id,
    )
    assert b.claim_due() == []  # claimed by a live worker
    # The lease runs out: by this host's clock on TinyDB, by the server's on a database.
    clock.advance(seconds=SHORT.total_seconds() + 1)
    time.sleep(SHORT.total_seconds() + 0.1)
    [again] = b.claim_due()  # lease expired: the claimant is presumed dead
    assert again.id == item.id and again.attempts == 2 and again.idempotency_key == item.idempotency_key


def test_claim_of_a_dead_local_process_is_taken_over_at_once(backend: Backend) -> None:
    first = backend.open().outbox
    item = first.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "hi"}, "ana")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    first.worker_id = f"{os.uname().nodename}:{dead.stdout.strip()}:x"
    first.claim_due()
    assert [i.id for i in backend.open().outbox.claim_due()] == [item.id]


def test_failures_back_off_then_fail_for_good_and_retry_resets(store: StoreApi, clock: FrozenClock) -> None:
    outbox = store.outbox
    item = outbox.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "hi"}, "ana")
    [claimed] = outbox.claim_due()
    back = outbox.mark_failed(claimed, "503 unavailable")
    assert back.status == OutboxStatus.PENDING and back.next_attempt_at is not None
    assert outbox.claim_due() == []  # not due yet
    clock.advance(seconds=(back.next_attempt_at - clock.now).total_seconds())
    [claimed] = outbox.claim_due()
    final = outbox.mark_failed(claimed, "422 invalid", permanent=True)
    assert final.status == OutboxStatus.FAILED and outbox.claim_due() == []
    retried = outbox.retry(item.id)
    assert (retried.status, retried.attempts) == (OutboxStatus.PENDING, 0)
    assert [i.id for i in outbox.claim_due()] == [item.id]


def test_an_item_out_of_attempts_fails(store: StoreApi, clock: FrozenClock) -> None:
    outbox = store.outbox
    outbox.enqueue(OutboxKind.ESCALATION, "masto:1", "oncall", {"note": "x"}, "ana")
    for _ in range(MAX_ATTEMPTS):
        clock.advance(hours=1)
        [claimed] = outbox.claim_due()
        last = outbox.mark_failed(claimed, "timeout")
    assert last.status == OutboxStatus.FAILED


def test_a_delivery_reported_twice_is_one_send_and_a_late_failure_keeps_the_new_claim(backend: Backend) -> None:
    """The claimant lost its claim (its lease ran out, another took the item over) and reports
    late: the item is sent once in the store, and its failure does not undo the other's claim."""
    old, new = backend.open().outbox, backend.open().outbox
    old.worker_id, new.worker_id = "h1.example:1:aa", "h2.example:2:bb"
    old.lease = SHORT
    first = old.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "one"}, "ana")
    second = old.enqueue(OutboxKind.REPLY, "masto:2", "masto", {"text": "two"}, "ana")
    claimed = {i.id: i for i in old.claim_due()}  # one instant: in either order
    c1, c2 = claimed[first.id], claimed[second.id]
    backend.clock.advance(seconds=SHORT.total_seconds() + 1)
    time.sleep(SHORT.total_seconds() + 0.1)
    reclaimed = {i.id: i for i in new.claim_due()}
    r1, r2 = reclaimed[first.id], reclaimed[second.id]
    new.mark_sent(r1, {"native_id": "1"})
    assert old.mark_sent(c1, {"native_id": "1"}).claimed_by == new.worker_id  # as it was
    late = old.mark_failed(c2, "timeout")
    assert (late.status, late.claimed_by) == (OutboxStatus.SENDING, new.worker_id)
    store = backend.open()
    assert [e.group for e in store.events() if e.kind == EventKind.SENT] == [first.id]
    assert new.mark_failed(r2, "503").status == OutboxStatus.PENDING  # its own claim: recorded


def test_mark_sent_is_final(store: StoreApi, clock: FrozenClock) -> None:
    outbox = store.outbox
    outbox.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "hi"}, "ana")
    [claimed] = outbox.claim_due()
    sent = outbox.mark_sent(claimed, {"native_id": "1"})
    assert (sent.status, sent.sent_at, sent.result) == (OutboxStatus.SENT, clock.now, {"native_id": "1"})
    clock.advance(seconds=LEASE.total_seconds() * 2)
    assert outbox.claim_due() == []  # a sent item never comes back, lease or not
