"""A reply's receipt is the server's words: stored and shown as one inert line.

Regression (hostile-data trial of 2026-12-01): a Mastodon server answered a reply with an id
carrying OSC 52 and ESC[2J; it went as it was into the outbox, the item's history ("replied
(...)") and `show`, which wrote the clipboard and cleared the screen.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cminbox.core import config
from cminbox.core.channel import ReplyReceipt
from cminbox.core.clock import FrozenClock
from cminbox.core.models import Message
from cminbox.core.outbox_types import OutboxKind, OutboxStatus
from cminbox.core.secrets import Secrets
from cminbox.core.text import UNSAFE_OUTPUT
from cminbox.core.wiring import wire
from tests.factories import make_message

HOSTILE_ID = "999\x1b]52;c;U0VSVkVS\x07\x1b[2J[@click=app.quit]q[/]"


class HostileServer:
    async def reply(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt:
        return ReplyReceipt(native_id=HOSTILE_ID, url="https://x.example/\x1b[2J1")

    async def aclose(self) -> None:
        pass


async def test_a_hostile_receipt_is_stored_inert(tmp_path: Path, clock: FrozenClock) -> None:
    wired = wire(config.parse(""), tmp_path / "data", clock=clock, secrets=Secrets({}))
    wired.store.upsert_messages([make_message(1)])
    eng = wired.engine()
    eng.channels["masto"] = HostileServer()  # type: ignore[assignment]
    wired.store.outbox.enqueue_many(OutboxKind.REPLY, [("masto:1", "masto", {"text": "hi"})], "ana")
    [delivery] = await eng.dispatcher.deliver_due()
    assert delivery.ok
    [item] = wired.store.outbox.items()
    assert item.status == OutboxStatus.SENT
    assert item.result == {"native_id": "999[@click=app.quit]q[/]", "url": "https://x.example/1"}
    history = wired.store.triage("masto:1").history
    assert history and not any(UNSAFE_OUTPUT.search(entry.action) for entry in history)
    assert "replied (999[@click=app.quit]q[/])" in [entry.action for entry in history]
    wired.store.close()


class CountingServer:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def reply(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt:
        self.sent.append(idempotency_key)
        return ReplyReceipt(native_id=str(len(self.sent)))

    async def aclose(self) -> None:
        pass


async def test_a_flush_sends_everything_due_not_one_batch(tmp_path: Path, clock: FrozenClock) -> None:
    """Regression (fault trial of 2026-12-01): `outbox flush` sent 20 of 30 queued replies and
    said nothing of the other 10."""
    wired = wire(config.parse(""), tmp_path / "data", clock=clock, secrets=Secrets({}))
    wired.store.upsert_messages([make_message(n) for n in range(30)])
    eng = wired.engine()
    server = CountingServer()
    eng.channels["masto"] = server  # type: ignore[assignment]
    outbox = wired.store.outbox
    outbox.enqueue_many(OutboxKind.REPLY, [(f"masto:{n}", "masto", {"text": "hi"}) for n in range(30)], "ana")
    deliveries = await eng.dispatcher.deliver_all_due()
    assert len(deliveries) == 30 and all(d.ok for d in deliveries)
    assert len(server.sent) == len(set(server.sent)) == 30
    assert {i.status for i in outbox.items()} == {OutboxStatus.SENT}
    wired.store.close()


async def test_a_sent_reply_whose_item_cannot_be_written_is_said_sent(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (fault trial of 2026-12-01): with the item's triage file damaged, a reply the
    server had taken was reported "not sent" (no reason), which invites sending it again."""
    from cminbox.core.segment import CorruptFileError

    wired = wire(config.parse(""), tmp_path / "data", clock=clock, secrets=Secrets({}))
    wired.store.upsert_messages([make_message(1)])
    eng = wired.engine()
    server = CountingServer()
    eng.channels["masto"] = server  # type: ignore[assignment]
    wired.store.outbox.enqueue_many(OutboxKind.REPLY, [("masto:1", "masto", {"text": "hi"})], "ana")

    def damaged(*args: object, **kwargs: object) -> None:
        raise CorruptFileError(tmp_path / "data" / "triage" / "shard-01.json", "not valid TinyDB JSON")

    monkeypatch.setattr(wired.store, "act", damaged)
    [delivery] = await eng.dispatcher.deliver_all_due()
    assert delivery.ok and "sent; recording it on the item failed" in delivery.detail
    assert "shard-01.json" in delivery.detail
    assert [i.status for i in wired.store.outbox.items()] == [OutboxStatus.SENT]
    assert await eng.dispatcher.deliver_all_due() == [] and len(server.sent) == 1  # never again
    wired.store.close()
