"""The engine polls only while it holds the poller lease, and goes passive when it loses it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from cminbox.core import config, engine
from cminbox.core.channel import ReplyReceipt
from cminbox.core.clock import FrozenClock
from cminbox.core.models import Message
from cminbox.core.outbox_types import OutboxKind, OutboxStatus
from cminbox.core.secrets import Secrets
from cminbox.core.sending_api import LeaseHolder
from cminbox.core.wiring import wire
from tests.factories import make_message


class FlakyLease:
    """A lease that is lost after ``keep`` renewals, as a database lease is when its holder
    cannot reach the server in time."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.held = False
        self.log: list[str] = []

    def acquire(self) -> bool:
        self.held = True
        self.log.append("acquire")
        return True

    def renew(self) -> bool:
        self.keep -= 1
        self.held = self.keep >= 0
        return self.held

    def release(self) -> None:
        self.held = False
        self.log.append("release")

    def holder(self) -> LeaseHolder | None:
        return None


async def test_a_lost_lease_stops_the_active_loops_and_the_engine_takes_it_again(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "LEASE_RENEW_INTERVAL", 0.01)
    monkeypatch.setattr(engine, "TAKEOVER_INTERVAL", 0.01)
    monkeypatch.setattr(engine, "DELIVERY_INTERVAL", 0.01)
    wired = wire(config.parse(""), tmp_path / "data", clock=clock, secrets=Secrets({}))
    eng = wired.engine()
    lease = FlakyLease(keep=2)
    eng.poller_lease = lease
    stop = asyncio.Event()
    activations: list[bool] = []

    def on_active() -> None:
        activations.append(eng.active)
        if len(activations) == 2:
            stop.set()

    await asyncio.wait_for(eng.run(stop, on_active), timeout=30)
    assert activations == [True, True]  # active, lost the lease, took it again
    assert lease.log == ["acquire", "release", "acquire", "release"] and not eng.active


class HeldByAnother:
    """Another instance's lease that it stopped renewing: it expires at ``expiry`` (monotonic)."""

    def __init__(self, expiry: float) -> None:
        self.expiry = expiry
        self.held = False
        self.taken_at: float | None = None

    def acquire(self) -> bool:
        if time.monotonic() >= self.expiry:
            self.held, self.taken_at = True, time.monotonic()
        return self.held

    def renew(self) -> bool:
        return self.held

    def release(self) -> None:
        self.held = False

    def holder(self) -> LeaseHolder | None:
        left = self.expiry - time.monotonic()
        return None if left < 0 else LeaseHolder(instance="other:1:aa", pid=0, expires_in=left)


async def test_a_passive_engine_takes_the_lease_when_it_expires_not_an_interval_later(
    tmp_path: Path, clock: FrozenClock
) -> None:
    wired = wire(config.parse(""), tmp_path / "data", clock=clock, secrets=Secrets({}))
    eng = wired.engine()
    lease = HeldByAnother(expiry=time.monotonic() + 0.5)
    eng.poller_lease = lease
    stop = asyncio.Event()
    await asyncio.wait_for(eng.run(stop, on_active=stop.set), timeout=30)
    assert lease.taken_at is not None
    # Tried again when the holder's lease ran out, not TAKEOVER_INTERVAL (3 s) after the first try.
    assert lease.taken_at - lease.expiry < engine.TAKEOVER_INTERVAL / 2


class LosingChannel:
    """A channel whose every reply is one heartbeat too many: the lease is lost while it sends."""

    def __init__(self, lease: FlakyLease) -> None:
        self.lease = lease
        self.sent: list[str] = []

    async def reply(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt:
        self.sent.append(idempotency_key)
        self.lease.held = False  # the heartbeat's renewal failed meanwhile
        return ReplyReceipt(native_id=str(len(self.sent)))

    async def aclose(self) -> None:
        pass


async def test_an_engine_that_lost_the_lease_sends_no_more_of_its_batch(tmp_path: Path, clock: FrozenClock) -> None:
    """The rest of a claimed batch is left to the new holder, which takes over those claims at
    once (pg/outbox.py): were it sent too, both would send them."""
    wired = wire(config.parse(""), tmp_path / "data", clock=clock, secrets=Secrets({}))
    wired.store.upsert_messages([make_message(n) for n in range(3)])
    eng = wired.engine()
    lease = FlakyLease(keep=1)
    eng.poller_lease = lease
    channel = LosingChannel(lease)
    eng.channels["masto"] = channel  # type: ignore[assignment]
    outbox = wired.store.outbox
    outbox.enqueue_many(OutboxKind.REPLY, [(f"masto:{n}", "masto", {"text": "hi"}) for n in range(3)], "ana")
    assert lease.acquire()
    eng.active = True  # as Engine.run is while it polls under the lease
    deliveries = await eng.dispatcher.deliver_due()
    assert [d.ok for d in deliveries] == [True] and len(channel.sent) == 1
    statuses = sorted(i.status for i in outbox.items())
    assert statuses == [OutboxStatus.SENDING, OutboxStatus.SENDING, OutboxStatus.SENT]
    # Outside the run loop (`outbox flush`, which holds the lease for its batch) it is not asked.
    eng.active = False
    assert eng._may_send()
    wired.store.close()
