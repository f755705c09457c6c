"""The demo exercises the rules: its known people are tagged at start, and after a poll through
the incident the items carry the rules' effects (trolls muted, the burst tagged and answered
once per author, VIPs and bug reports, the advocate's answers), each line saying which rule."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

from cminbox.core import config as config_mod
from cminbox.core.clock import FrozenClock
from cminbox.core.engine import Engine
from cminbox.core.models import Priority, Status
from cminbox.core.outbox_types import OutboxKind, OutboxStatus
from cminbox.core.secrets import Secrets
from cminbox.core.store import Store
from cminbox.demo.people import seed_people
from cminbox.demo.server import DemoHTTPServer
from cminbox.demo.session import DEMO_CHANNEL, DEMO_TOKEN, demo_config_text, start_demo
from cminbox.demo.state import DemoState
from tests.conftest import T0, cli_env, run_cli


def test_start_demo_tags_the_known_people(tmp_path: Path) -> None:
    with start_demo(rate=0, burst_after=-1, data_dir=str(tmp_path)) as session:
        people = {p.identities[0]: p.tags for p in Store(session.data_dir).people()}
    assert people == {
        "lumen:mira@demo.lumen.community": ["advocate"],
        "lumen:priya@demo.lumen.community": ["vip"],
        "lumen:angrybird404@demo.lumen.community": ["troll"],
        "lumen:trollface@demo.lumen.community": ["troll"],
    }


def test_after_a_poll_the_items_carry_the_rules_effects(tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    state = DemoState(seed=7, burst_after=20, clock=clock)
    server = DemoHTTPServer(state, 0)
    server.start_in_thread()
    try:
        cfg_path = tmp_path / "demo.toml"
        cfg_path.write_text(demo_config_text(server.url), encoding="utf-8")
        cfg = config_mod.parse(cfg_path.read_text(encoding="utf-8"), cfg_path)
        store = Store(tmp_path / "data", clock=clock)
        seed_people(store, cfg)
        engine = Engine(cfg, store, store.outbox, Secrets({DEMO_CHANNEL: DEMO_TOKEN}), clock)

        async def poll_through_the_incident() -> None:
            await engine.poll_once()  # the backlog: older than the reply rule, so never answered
            clock.advance(minutes=5)
            await engine.poll_once()
            while await engine.dispatcher.deliver_due():
                pass
            await engine.aclose()

        asyncio.run(poll_through_the_incident())
        rows = store.query()
        by_author = {m.id: m.author.handle for m, _ in rows}
        burst = {
            f"{DEMO_CHANNEL}:{sid}"
            for p, sid in zip(state._posts, state._post_status, strict=True)
            if p.kind == "outage"
        }
        lines = Counter(h.actor for _, s in rows for h in s.history)
        for m, s in rows:
            troll = "angrybird404" in m.author.handle or "trollface" in m.author.handle
            assert (s.status == Status.DONE and "muted" in s.tags) == troll, m.id
            assert ("outage" in s.tags) == (m.id in burst), m.id
            if "priya@" in m.author.handle:
                assert s.priority == Priority.HIGH
        assert {
            "rule trolls",
            "rule outage",
            "rule outage-ack",
            "rule vip",
            "rule bugs",
            "rule community-answers",
        } <= set(lines)
        replies = [i for i in store.outbox.items() if i.kind == OutboxKind.REPLY]
        assert {i.status for i in replies} == {OutboxStatus.SENT} and {i.message_id for i in replies} <= burst
        assert sorted(Counter(by_author[i.message_id] for i in replies).values()) == [1] * len(replies)
        assert len(replies) == len({by_author[mid] for mid in burst})  # each author of the burst once
        posted = [s for s in state.statuses.values() if s["account"]["username"] == "lumen"]
        assert len(posted) == len(replies)

        env = cli_env(CMINBOX_CONFIG=str(cfg_path), CMINBOX_DATA_DIR=str(tmp_path / "data"))
        store.close()
        tested = run_cli("rules", "test", "--since", "3650d", "--json", env=env)
        assert tested.returncode == 0, tested.stderr
        matched = {r["rule"]: r["matched"] for r in json.loads(tested.stdout)["rules"]}
        assert matched["outage"] == len(burst) == 45 and matched["trolls"] > 0 and matched["bugs"] > 0
    finally:
        server.shutdown()
        server.server_close()
