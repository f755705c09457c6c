"""Every request the adapter makes validates against the Mastodon OpenAPI description (Prism).

Prism answers an invalid request with 4xx and an explanation; the adapter turns that
into an exception, so a passing call here means the request matched the description.
"""

from __future__ import annotations

import asyncio

import pytest

from cminbox.channels.mastodon import MastodonChannel
from cminbox.core.channel import ChannelContext, RateLimited
from cminbox.core.clock import system_clock
from cminbox.core.models import Author, Kind, Message
from cminbox.core.models import utc as to_utc
from tests.servers.prism import PrismRecorder

pytestmark = pytest.mark.servers


def channel(base: str, transport: PrismRecorder) -> MastodonChannel:
    async def token() -> str:
        return "prism-token"

    return MastodonChannel(
        ChannelContext(
            name="p", url=base, account="", options=None, token=token, clock=system_clock, transport=transport
        )
    )


def test_poll_thread_reply_and_moderation_requests_are_valid(prism_mastodon: str) -> None:
    transport = PrismRecorder(prefer="dynamic=true")  # schema-shaped data: the examples are incomplete
    ch = channel(prism_mastodon, transport)
    msg = Message(
        id="p:1",
        channel="p",
        channel_type="mastodon",
        native_id="1",
        kind=Kind.MENTION,
        author=Author(id="2", handle="@a@x.example"),
        text="hi",
        created_at=to_utc(__import__("datetime").datetime(2026, 1, 1)),
        visibility="public",
        extra={"account_id": "2", "acct": "a@x.example"},
    )

    async def scenario() -> None:
        try:
            await ch.poll(None)
            await ch.poll({"min_id": "100"})
            await ch.thread(msg)
            await ch.reply(msg, "thanks!", "cminbox-prism-1")
            await ch.moderate(msg, "report", "spam")
            await ch.moderate(msg, "mute", "")
        finally:
            await ch.aclose()

    asyncio.run(scenario())
    paths = [s[0] for s in transport.seen]
    assert "GET /api/v1/notifications" in paths and "POST /api/v1/statuses" in paths
    assert transport.rejected() == []


def test_declared_429_is_a_rate_limit(prism_mastodon: str) -> None:
    transport = PrismRecorder(prefer="code=429")
    ch = channel(prism_mastodon, transport)

    async def scenario() -> None:
        try:
            await ch.whoami()
        finally:
            await ch.aclose()

    with pytest.raises(RateLimited):
        asyncio.run(scenario())
