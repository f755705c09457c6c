"""The demo's incident burst is findable as a set, and the README's recipe closes exactly it:
the demo (seed 7, burst after 20 s) polled through the real Mastodon channel, minutes later."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from cminbox.core import config as config_mod
from cminbox.core.clock import FrozenClock
from cminbox.core.community import OFFICIAL_ACTOR
from cminbox.core.engine import Engine
from cminbox.core.inbox import Inbox
from cminbox.core.models import Status
from cminbox.core.outbox import Outbox
from cminbox.core.query import parse
from cminbox.core.secrets import Secrets
from cminbox.core.store import Store
from cminbox.core.triage import SetFirstResponse
from cminbox.demo.community import INCIDENT_TAG
from cminbox.demo.server import DemoHTTPServer
from cminbox.demo.session import DEMO_CHANNEL, DEMO_TOKEN, demo_config_text
from cminbox.demo.state import DemoState
from cminbox.tui.app import CminboxApp
from cminbox.tui.services import Services
from tests.conftest import ROOT, T0
from tests.tui_fixtures import settle

RECIPE = INCIDENT_TAG.lower()  # what the README tells the user to type after `/`


@dataclass
class Demo:
    state: DemoState
    services: Services
    clock: FrozenClock

    @property
    def burst(self) -> set[str]:
        """The ground truth: the ids of the posts the demo published as the incident."""
        pairs = zip(self.state._posts, self.state._post_status, strict=True)
        return {f"{DEMO_CHANNEL}:{sid}" for post, sid in pairs if post.kind == "outage"}


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    clock = FrozenClock(T0)
    state = DemoState(seed=7, burst_after=20, clock=clock)
    server = DemoHTTPServer(state, 0)
    server.start_in_thread()
    cfg = config_mod.parse(demo_config_text(server.url), tmp_path / "demo.toml")
    store = Store(tmp_path / "data", clock=clock)
    outbox = Outbox(store.dir, store.lock, clock=clock)
    engine = Engine(cfg, store, outbox, Secrets({DEMO_CHANNEL: DEMO_TOKEN}), clock)

    async def poll_through_the_incident() -> None:
        await engine.poll_once()  # the backlog
        clock.advance(minutes=5)  # the burst, and five minutes of everyday posts around it
        await engine.poll_once()
        await engine.aclose()

    try:
        asyncio.run(poll_through_the_incident())
        yield Demo(state, Services(cfg, Inbox(cfg, store, outbox, clock), None, clock), clock)
    finally:
        server.shutdown()
        server.server_close()


def test_the_readme_recipe_selects_exactly_the_burst(demo: Demo) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"`/{RECIPE}`" in readme
    burst = demo.burst
    assert len(burst) == demo.state.burst_size == 45
    posted = {f"{DEMO_CHANNEL}:{sid}" for sid in demo.state._post_status}
    assert burst <= posted
    times = [demo.state.statuses[i.split(":", 1)[1]]["created_at"] for i in burst]
    assert max(times) < (T0 + timedelta(seconds=20 + 60)).isoformat()  # all within the first minute
    rows = demo.services.store.query()
    everyday_sync = [m for m, _ in rows if m.id not in burst and "sync" in m.text.lower()]
    assert everyday_sync  # the incident's word is everywhere: a plain `sync` would catch these too
    query = parse(RECIPE)
    selected = {m.id for m, s in rows if query.matches(m, s, demo.clock(), "demo")}
    assert selected == burst


async def test_the_readme_recipe_in_the_tui_closes_the_burst_and_nothing_else(demo: Demo) -> None:
    # What the engine does in `make demo` (this test does not run it): the outage-ack rule's
    # reply goes to each burst author once, and those items leave view 1 ("needs reply"). The
    # recipe without `5` closed 24 of the 45 (review of 2026-12-01).
    replied = sorted(demo.burst)[::2]
    demo.services.store.act(replied, SetFirstResponse(demo.clock()), actor="demo")
    app = CminboxApp(demo.services, run_engine=False, blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)  # the rows are read on a worker: the keys below act on them
        keys = re.search(r"`5` `/(\S+)` ⏎ `V` `d`", (ROOT / "README.md").read_text(encoding="utf-8"))
        assert keys is not None and keys.group(1) == RECIPE
        await pilot.press("5", "slash", *RECIPE, "enter", "V", "d")
        await settle(pilot)
    # The team's own posts are closed at ingest (core/community.official_effects): not the recipe's.
    closed = {
        m.id
        for m, s in demo.services.store.query()
        if s.status == Status.DONE and not any(h.actor == OFFICIAL_ACTOR for h in s.history)
    }
    assert closed == demo.burst
