"""Outbox claims across hosts on PostgreSQL: a claim's expiry is the database's clock, never a
host's, and the claims of an instance whose poller lease was taken over are the new holder's
at once (not a lease time later), with one ``sent`` per item whatever the old claimant does.

The hosts are outbox and lease handles with instance ids naming other machines (so the
same-host "is that pid alive" check does not apply), each with its own injected clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from cminbox.core.clock import Clock, system_clock
from cminbox.core.events import EventKind
from cminbox.core.outbox_types import OutboxKind, OutboxStatus
from cminbox.core.pg.store import PgStore
from tests.pg_helpers import lease_of, open_store, outbox_of

SKEW = timedelta(minutes=10)
SHORT = timedelta(seconds=1.5)  # a claim's lease in these tests (outbox_types.LEASE is 120 s)


def skewed(by: timedelta) -> Clock:
    return lambda: system_clock() + by


@pytest.fixture
def pg(pg_database: str) -> Iterator[PgStore]:
    store = open_store(pg_database)
    yield store
    store.close()


def wait_until(ready: Callable[[], object], timeout: float) -> float:
    """Seconds until ``ready()`` is true; fails after ``timeout``."""
    started = time.monotonic()
    while not ready():
        assert time.monotonic() - started < timeout, f"not within {timeout} s"
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.mark.parametrize(
    ("claimer_skew", "other_skew"),
    [(timedelta(0), SKEW), (timedelta(0), -SKEW), (SKEW, timedelta(0)), (-SKEW, timedelta(0))],
    ids=["other-ahead", "other-behind", "claimer-ahead", "claimer-behind"],
)
def test_a_skewed_clock_neither_steals_a_live_claim_nor_waits_past_the_lease(
    pg: PgStore, claimer_skew: timedelta, other_skew: timedelta
) -> None:
    claimer = outbox_of(pg, "far1.example:11:aa", skewed(claimer_skew))
    other = outbox_of(pg, "far2.example:22:bb", skewed(other_skew))
    claimer.lease = other.lease = SHORT
    item = claimer.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "hi"}, "ana")
    [claimed] = claimer.claim_due()
    # The claim runs for SHORT by the database's clock, whatever either host's clock says.
    assert claimed.lease_until is not None and claimed.claimed_by == "far1.example:11:aa"
    assert other.claim_due() == []  # live: 10 minutes of skew must not make it look expired
    took = wait_until(lambda: [i.id for i in other.claim_due()] == [item.id], 30)
    # Taken over once the lease ran out: not 10 minutes later, and not before it ran out.
    assert took <= SHORT.total_seconds() + 1.0, took
    again = other.get(item.id)
    assert again is not None and again.claimed_by == "far2.example:22:bb" and again.attempts == 2
    assert again.idempotency_key == claimed.idempotency_key


def test_the_new_lease_holder_takes_a_dead_instances_claims_at_takeover(pg: PgStore) -> None:
    """The claimant's poller lease expired and another instance took it: its claims are
    orphans at once (it stopped sending when it lost the lease), not LEASE (120 s) later."""
    dead_lease, dead = lease_of(pg, "far1.example:11:aa", ttl=1.0), outbox_of(pg, "far1.example:11:aa")
    next_lease, nxt = lease_of(pg, "far2.example:22:bb", ttl=1.0), outbox_of(pg, "far2.example:22:bb")
    try:
        assert dead_lease.acquire()
        items = dead.enqueue_many(OutboxKind.REPLY, [(f"masto:{n}", "masto", {"text": "hi"}) for n in range(3)], "ana")
        in_flight = dead.claim_due()
        assert {i.id for i in in_flight} == {i.id for i in items}
        assert nxt.claim_due() == []  # its claimant holds the lease: live claims, whoever asks
        dead_lease._stop.set()  # the holder is killed: no more renewals
        assert not next_lease.acquire()
        wait_until(next_lease.acquire, 10)
        taken_at = time.monotonic()
        reclaimed = nxt.claim_due()
        assert {i.id for i in reclaimed} == {i.id for i in items}
        assert time.monotonic() - taken_at < 1.0  # at takeover, not LEASE later
        assert all(i.attempts == 2 and i.claimed_by == "far2.example:22:bb" for i in reclaimed)
        # The new holder's own claims are not orphans to itself, nor to the old holder.
        assert nxt.claim_due() == [] and dead.claim_due() == []
    finally:
        next_lease.release()
        dead_lease.release()


def test_a_claim_made_before_the_holder_took_the_lease_again_is_not_its_orphan(pg: PgStore) -> None:
    """Its own claims from an earlier tenure: the instance is alive (it took the lease again), so
    they run their lease out (its batch may still be finishing)."""
    lease, outbox = lease_of(pg, "far1.example:11:aa", ttl=5.0), outbox_of(pg, "far1.example:11:aa")
    try:
        outbox.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "hi"}, "ana")
        assert lease.acquire()
        assert len(outbox.claim_due()) == 1
        lease.release()
        assert lease.acquire()
        assert outbox.claim_due() == []
    finally:
        lease.release()


def test_the_old_claimant_finishing_late_never_records_a_second_send(pg: PgStore) -> None:
    """The old holder was alive after all (a network split): its send and the new holder's
    retry both reach the channel with one idempotency key, and the store records one ``sent``;
    the old holder's failure report does not undo the new holder's claim."""
    old = outbox_of(pg, "far1.example:11:aa")
    new = outbox_of(pg, "far2.example:22:bb")
    old.lease = SHORT
    first = old.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "one"}, "ana")
    second = old.enqueue(OutboxKind.REPLY, "masto:2", "masto", {"text": "two"}, "ana")
    claimed = {i.id: i for i in old.claim_due()}
    c1, c2 = claimed[first.id], claimed[second.id]
    time.sleep(SHORT.total_seconds() + 0.2)
    reclaimed = {i.id: i for i in new.claim_due()}
    r1, r2 = reclaimed[first.id], reclaimed[second.id]
    new.mark_sent(r1, {"native_id": "n1"})
    late = old.mark_sent(c1, {"native_id": "n1"})  # the same post, deduplicated by the server
    assert late.status == OutboxStatus.SENT and late.claimed_by == "far2.example:22:bb"
    kept = old.mark_failed(c2, "timeout")  # not its claim any more: left to the new holder
    assert kept.status == OutboxStatus.SENDING and kept.claimed_by == "far2.example:22:bb"
    new.mark_sent(r2, {"native_id": "n2"})
    sent = [e.group for e in pg.events() if e.kind == EventKind.SENT]
    assert sorted(sent) == sorted([first.id, second.id])
