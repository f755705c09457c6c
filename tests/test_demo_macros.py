"""The demo exercises the macros: after a poll through the incident, its `outage` macro over the
burst (view 6, `V`, `O`) answers and closes every item in one group, the rule's earlier
acknowledgement does not stop it, its replies are sent once, a second run answers nobody again,
and one undo reopens them all."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cminbox.core import config as config_mod
from cminbox.core import macro_run
from cminbox.core.clock import FrozenClock
from cminbox.core.engine import Engine
from cminbox.core.inbox import Inbox
from cminbox.core.macros import compile_macros, named
from cminbox.core.models import Status
from cminbox.core.outbox_types import OutboxKind, OutboxStatus
from cminbox.core.query import parse
from cminbox.core.secrets import Secrets
from cminbox.core.store import Store
from cminbox.demo.people import seed_people
from cminbox.demo.server import DemoHTTPServer
from cminbox.demo.session import DEMO_CHANNEL, DEMO_TOKEN, demo_config_text
from cminbox.demo.state import DemoState
from tests.conftest import T0


def test_the_demo_outage_macro_over_the_burst(tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    server = DemoHTTPServer(DemoState(seed=7, burst_after=20, clock=clock), 0)
    server.start_in_thread()
    try:
        cfg_path = tmp_path / "demo.toml"
        cfg_path.write_text(demo_config_text(server.url), encoding="utf-8")
        cfg = config_mod.parse(cfg_path.read_text(encoding="utf-8"), cfg_path)
        assert [(m.name, m.key) for m in compile_macros(cfg)] == [("outage", "O"), ("spam", ""), ("page-oncall", "")]
        store = Store(tmp_path / "data", clock=clock)
        seed_people(store, cfg)
        engine = Engine(cfg, store, store.outbox, Secrets({DEMO_CHANNEL: DEMO_TOKEN}), clock)
        inbox = Inbox(cfg, store, store.outbox, clock)

        async def poll_and_send() -> None:
            await engine.poll_once()
            while await engine.dispatcher.deliver_due():
                pass

        async def incident() -> tuple[list[str], macro_run.MacroResult]:
            """One event loop for the engine's clients: the demo's polls, the macro, its sending."""
            await poll_and_send()
            clock.advance(minutes=5)
            await poll_and_send()
            view6 = next(v for v in cfg.views if v.key == "6")
            burst = [m.id for m, _ in store.query(where=parse(view6.query), me=cfg.actor)]
            result = macro_run.run(inbox, macro_run.plan(inbox, named(cfg, "outage"), burst))
            clock.advance(minutes=1)
            await poll_and_send()  # sent, and the replies come back in the threads
            await engine.aclose()
            return burst, result

        burst, result = asyncio.run(incident())
        assert len(burst) > 10
        assert sorted(result.ran) == sorted(burst) and not result.held and not result.not_replied
        assert result.summary() == f"macro outage: {len(burst)} items, {len(burst)} replies queued"
        assert all(store.triage(mid).status == Status.DONE for mid in burst)
        mine = [i for i in store.outbox.items() if i.kind == OutboxKind.REPLY and i.payload.get("macro") == "outage"]
        assert sorted(i.message_id for i in mine) == sorted(burst)
        assert all(i.status == OutboxStatus.SENT for i in mine)
        again = macro_run.plan(inbox, named(cfg, "outage"), burst)  # run twice by mistake: nobody is answered twice
        assert all(i.reply is None and i.no_reply.startswith("macro outage already replied") for i in again.items)
        undone = inbox.undo()
        assert undone is not None and sorted(undone.changed) == sorted(burst)
        assert undone.label.endswith(f"; {len(burst)} already sent (a reply cannot be unsent)")
        assert all(store.triage(mid).status != Status.DONE for mid in burst)
    finally:
        server.shutdown()
