"""The engine polls only while it holds the poller lease, and goes passive when it loses it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cminbox.core import config, engine
from cminbox.core.clock import FrozenClock
from cminbox.core.secrets import Secrets
from cminbox.core.sending_api import LeaseHolder
from cminbox.core.wiring import wire


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
