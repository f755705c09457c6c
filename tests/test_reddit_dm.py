"""Reddit's private message for a guideline follow-up (``/api/compose``, shaped as Reddit's API
documentation shows: a form with api_type, to, subject and text; ``{"json": {"errors": []}}``
back, naming no message, which the sent folder then does). Reddit takes no idempotency key: a
retry after a crash finds the message in ``/message/sent`` instead of sending it twice."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cminbox.core.channel import Rejected, direct_message_of, outgoing_direct_of
from tests.forge_fakes import FakeReddit, form
from tests.test_reddit_channel import make


def with_compose(fake: FakeReddit) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []  # the sent folder, newest first

    @fake.route("POST", r"/api/compose")
    def compose(request: httpx.Request) -> httpx.Response:
        data = form(request)
        made = fake.thing("t4", fake.me, data["text"])
        made["data"].update(dest=data["to"], subject=data["subject"], was_comment=False)
        sent.insert(0, made)
        return httpx.Response(200, json={"json": {"errors": []}})

    @fake.route("GET", r"/message/sent")
    def listing(request: httpx.Request) -> httpx.Response:
        return fake._listing(request, sent)

    return sent


async def test_a_private_message_to_the_author_is_sent_once() -> None:
    fake = FakeReddit()
    sent = with_compose(fake)
    fake.receive("alice", "buy cheap followers at spam.example")
    ch = make(fake)
    [item] = (await ch.poll(None)).messages
    send = direct_message_of(ch)
    assert send is not None and outgoing_direct_of(type(ch)) is not None
    first = await send(item, "Hi alice, your post was removed: No advertising.", "cminbox-1")
    again = await send(item, "Hi alice, your post was removed: No advertising.", "cminbox-1")  # a retry
    assert fake.paths("POST").count("/api/compose") == 1 and len(sent) == 1
    assert first == again and first.native_id == sent[0]["data"]["name"]
    posted = form(next(r for r in fake.requests if r.url.path == "/api/compose"))
    assert posted == {
        "api_type": "json",
        "to": "alice",
        "subject": "About your post in r/cminbox",
        "text": "Hi alice, your post was removed: No advertising.",
    }
    await ch.aclose()


async def test_a_refused_message_is_a_rejection() -> None:
    fake = FakeReddit()
    fake.receive("alice", "hello")

    @fake.route("GET", r"/message/sent")
    def listing(request: httpx.Request) -> httpx.Response:
        return fake._listing(request, [])

    @fake.route("POST", r"/api/compose")
    def compose(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"json": {"errors": [["USER_DOESNT_EXIST", "that user doesn't exist", "to"]]}})

    ch = make(fake)
    [item] = (await ch.poll(None)).messages
    send = direct_message_of(ch)
    assert send is not None
    with pytest.raises(Rejected, match="USER_DOESNT_EXIST"):
        await send(item, "hi", "cminbox-2")
    await ch.aclose()
