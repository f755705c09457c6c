"""The outbox: persisted before sending, claimed once, retried with backoff, sent exactly once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import respx

from cminbox.core import config
from cminbox.core.clock import FrozenClock
from cminbox.core.engine import Engine
from cminbox.core.inbox import Inbox
from cminbox.core.models import Status
from cminbox.core.outbox import OutboxStatus
from cminbox.core.secrets import Secrets
from cminbox.core.store import Store
from cminbox.core.webhook import sign
from tests.factories import make_message
from tests.mastodon_fixtures import status

CFG = """
[user]
name = "ana"
[[channels]]
name = "masto"
type = "mastodon"
url = "https://masto.example"
[[escalation.targets]]
name = "oncall"
url = "https://hooks.example/cm"
secret_command = "printf s3cret-hook"
"""


def setup(tmp_path: Path, clock: FrozenClock) -> tuple[Inbox, Engine]:
    cfg = config.parse(CFG)
    store = Store(tmp_path, clock=clock)
    store.upsert_messages([make_message(1)])
    outbox = store.outbox
    return Inbox(cfg, store, outbox, clock), Engine(cfg, store, outbox, Secrets({"masto": "tok-abcdef"}), clock)


async def test_reply_is_sent_once_and_recorded(tmp_path: Path, clock: FrozenClock) -> None:
    inbox, engine = setup(tmp_path, clock)
    with respx.mock(base_url="https://masto.example") as api:
        route = api.post("/api/v1/statuses").respond(json=status(5))
        inbox.reply("masto:1", "on it!")
        [delivery] = await engine.dispatcher.deliver_due()
        assert delivery.ok
        assert await engine.dispatcher.deliver_due() == []
        await engine.aclose()
    assert route.call_count == 1
    assert inbox.outbox.items()[0].status == OutboxStatus.SENT
    state = inbox.store.triage("masto:1")
    assert state.first_response_at == clock.now
    assert state.history[-1].action == "replied (1005)"


async def test_failures_back_off_then_give_up_or_stop(tmp_path: Path, clock: FrozenClock) -> None:
    inbox, engine = setup(tmp_path, clock)
    with respx.mock(base_url="https://masto.example") as api:
        route = api.post("/api/v1/statuses").mock(
            side_effect=[httpx.Response(503), httpx.Response(422, json={"error": "Validation failed"})]
        )
        item = inbox.reply("masto:1", "hello")
        [first] = await engine.dispatcher.deliver_due()
        assert not first.ok
        pending = inbox.outbox.get(item.id)
        assert pending.status == OutboxStatus.PENDING and pending.next_attempt_at == clock.now + timedelta(seconds=5)
        assert await engine.dispatcher.deliver_due() == []  # not due yet
        clock.advance(seconds=6)
        [second] = await engine.dispatcher.deliver_due()
        await engine.aclose()
    assert not second.ok and route.call_count == 2
    assert inbox.outbox.get(item.id).status == OutboxStatus.FAILED  # 422 is final
    assert "Validation failed" in inbox.outbox.get(item.id).last_error


async def test_escalation_is_signed_delivered_once_and_undoable(tmp_path: Path, clock: FrozenClock) -> None:
    inbox, engine = setup(tmp_path, clock)
    with respx.mock() as api:
        hook = api.post("https://hooks.example/cm").respond(200)
        _, [item] = inbox.escalate(["masto:1"], "oncall", note="sync is down")
        [delivery] = await engine.dispatcher.deliver_due()
        await engine.aclose()
    assert delivery.ok and hook.call_count == 1
    request = hook.calls[0].request
    assert request.headers["X-Cminbox-Delivery"] == item.id
    assert request.headers["X-Cminbox-Signature"] == sign("s3cret-hook", request.content)
    body = request.read().decode()
    assert '"note": "sync is down"' in body and "masto:1" in body
    assert inbox.store.triage("masto:1").status == Status.ESCALATED
    inbox.undo()
    state = inbox.store.triage("masto:1")
    assert (state.status, state.escalation) == (Status.NEW, None)


def test_bulk_done_queues_mark_read_in_one_write_only_where_configured(
    tmp_path: Path, clock: FrozenClock, monkeypatch: object
) -> None:
    cfg = config.parse("""
[[channels]]
name = "gh"
type = "github"
repos = ["acme/app"]
[[channels]]
name = "quiet"
type = "github"
repos = ["acme/app"]
mark_read_on_done = false
""")
    store = Store(tmp_path, clock=clock)
    store.upsert_messages([make_message(i, channel="gh") for i in range(300)] + [make_message(1, channel="quiet")])
    outbox = store.outbox
    inbox = Inbox(cfg, store, outbox, clock)
    writes = []
    real = outbox._seg.insert_many
    monkeypatch.setattr(outbox._seg, "insert_many", lambda docs: writes.append(len(docs)) or real(docs))  # type: ignore[attr-defined]
    inbox.set_status([f"gh:{i}" for i in range(300)] + ["quiet:1"], Status.DONE)
    items = outbox.items()
    assert writes == [300] and len(items) == 300  # one fsynced write; none for the channel that opted out
    assert {(i.kind, i.payload["action"], i.destination) for i in items} == {("action", "mark_read", "gh")}
