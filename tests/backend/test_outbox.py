"""The outbox contract: durable enqueue, exclusive claims with leases, same key on retry."""

from __future__ import annotations

import os
import subprocess
import sys

from cminbox.core.clock import FrozenClock
from cminbox.core.outbox_types import LEASE, MAX_ATTEMPTS, OutboxKind, OutboxStatus
from cminbox.core.store_api import StoreApi
from tests.backend.conftest import Backend


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
    item = a.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "hi"}, "ana")
    [claimed] = a.claim_due()
    assert (claimed.id, claimed.status, claimed.attempts, claimed.claimed_by) == (
        item.id,
        OutboxStatus.SENDING,
        1,
        a.worker_id,
    )
    assert b.claim_due() == []  # claimed by a live worker
    clock.advance(seconds=LEASE.total_seconds() + 1)
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


def test_mark_sent_is_final(store: StoreApi, clock: FrozenClock) -> None:
    outbox = store.outbox
    outbox.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "hi"}, "ana")
    [claimed] = outbox.claim_due()
    sent = outbox.mark_sent(claimed, {"native_id": "1"})
    assert (sent.status, sent.sent_at, sent.result) == (OutboxStatus.SENT, clock.now, {"native_id": "1"})
    clock.advance(seconds=LEASE.total_seconds() * 2)
    assert outbox.claim_due() == []  # a sent item never comes back, lease or not
