"""Garbage from a Matrix homeserver or a Bluesky PDS degrades that channel with a reason, in a
poll and in a thread fetch (`show --fetch`); it never ends in "internal error".

Regression (hostile-server review of 2026-12-02): a Matrix room whose ``timeline`` or
``state`` was null, a member event whose ``content`` was -1, a backfill whose ``chunk`` was
null, a thread context answered with a list, a Bluesky notification whose ``reason`` was a
list, and a thread whose ``post.author`` was null or ``replies`` -1 each raised TypeError or
AttributeError outside the per-item catch: the channel failed at every poll.

The answers follow the Matrix client-server API (/sync, /messages, /context) and the
app.bsky lexicons (listNotifications, getPostThread), one value at a time swapped for garbage.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cminbox.channels.bluesky import BlueskyChannel, BlueskyOptions
from cminbox.channels.matrix import MatrixChannel, MatrixOptions
from cminbox.core.channel import ChannelContext, ChannelError
from cminbox.core.clock import FrozenClock
from cminbox.core.models import Author, Kind, Message
from tests.test_channel_garbage import GARBAGE, Spoiler, _set

CLOCK = FrozenClock(datetime(2026, 11, 28, tzinfo=UTC))
EVENT = {
    "type": "m.room.message",
    "event_id": "$e1",
    "sender": "@a:hs.example",
    "origin_server_ts": 1790000000000,
    "content": {"msgtype": "m.text", "body": "hi @cm", "m.relates_to": {"m.in_reply_to": {"event_id": "$p"}}},
}
MEMBER = {"type": "m.room.member", "state_key": "@a:hs.example", "content": {"displayname": "A"}}
POST: dict[str, Any] = {
    "uri": "at://did:plc:a/app.bsky.feed.post/1",
    "cid": "c1",
    "author": {"did": "did:plc:a", "handle": "a.test", "displayName": "A"},
    "record": {"text": "hi", "createdAt": "2026-11-27T10:00:00Z"},
    "indexedAt": "2026-11-27T10:00:00Z",
}


def _json(body: Any) -> httpx.Response:
    return httpx.Response(200, content=json.dumps(body).encode(), headers={"content-type": "application/json"})


def matrix_server(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("/account/whoami"):
        return _json({"user_id": "@cm:hs.example"})
    if path.endswith("/sync"):
        room = {"timeline": {"events": [EVENT, MEMBER]}, "state": {"events": [MEMBER]}}
        return _json({"next_batch": "s1", "rooms": {"join": {"!r:hs.example": room}}})
    if "/messages" in path:
        return _json({"chunk": [dict(EVENT, event_id="$e0")], "start": "t1", "end": "t0"})
    if "/context/" in path:
        return _json({"event": EVENT, "events_before": [dict(EVENT, event_id="$p")], "events_after": []})
    return _json({})


def bluesky_server(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("getSession"):
        return _json({"did": "did:plc:me", "handle": "me.test"})
    if path.endswith("listNotifications"):
        note = dict(POST, reason="reply", record=dict(POST["record"], reply={"root": {"uri": "at://r"}}))
        return _json({"notifications": [note, dict(POST, uri="at://did:plc:a/app.bsky.feed.post/2", reason="mention")]})
    if path.endswith("getPostThread"):
        return _json({"thread": {"post": POST, "parent": {"post": POST}, "replies": [{"post": POST, "replies": []}]}})
    return _json({})


def matrix(transport: httpx.AsyncBaseTransport) -> MatrixChannel:
    async def token() -> str:
        return "syt_token_123456"

    options = MatrixOptions(backfill=5)
    return MatrixChannel(ChannelContext("mx", "https://hs.example", "", options, token, CLOCK, transport=transport))


def bluesky(transport: httpx.AsyncBaseTransport) -> BlueskyChannel:
    async def token() -> str:
        return json.dumps({"accessJwt": "jwt-access-123456", "refreshJwt": "jwt-refresh-12345", "did": "did:plc:me"})

    options = BlueskyOptions()
    return BlueskyChannel(ChannelContext("bs", "https://pds.example", "", options, token, CLOCK, transport=transport))


ITEM = Message(
    id="x:1",
    channel="x",
    channel_type="t",
    native_id="at://did:plc:a/app.bsky.feed.post/1",
    kind=Kind.MENTION,
    author=Author(id="a", handle="a"),
    text="t",
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
    thread_id="x:1",
    extra={"room_id": "!r:hs.example", "event_id": "$e1"},
)
SERVERS: dict[str, tuple[Callable[[httpx.Request], httpx.Response], Callable[[Any], Any]]] = {
    "matrix": (matrix_server, matrix),
    "bluesky": (bluesky_server, bluesky),
}


def _run(channel: Any, call: str) -> None:
    """A poll or a thread fetch: it works, or it raises a ChannelError that says why."""

    async def run() -> None:
        try:
            await (channel.poll(None) if call == "poll" else channel.thread(ITEM))
        except ChannelError as exc:
            assert exc.reason  # said, in words
        finally:
            await channel.aclose()

    asyncio.run(run())


def _garbled(server: str, nth: int, pick: int, value: Any, call: str) -> None:
    answers, make = SERVERS[server]
    _run(make(httpx.MockTransport(Spoiler(answers, nth, pick, value))), call)


@pytest.mark.parametrize("call", ["poll", "thread"])
@pytest.mark.parametrize("server", sorted(SERVERS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nth=st.integers(1, 4), pick=st.integers(0, 10_000), value=st.sampled_from([*GARBAGE, -1, ["x"]]))
def test_one_garbage_value_degrades_only_with_a_reason(server: str, call: str, nth: int, pick: int, value: Any) -> None:
    _garbled(server, nth, pick, value, call)


@pytest.mark.parametrize(
    ("server", "call", "nth", "path_value"),
    [
        ("matrix", "poll", 2, (("rooms", "join", "!r:hs.example", "timeline"), None)),
        ("matrix", "poll", 2, (("rooms", "join", "!r:hs.example", "state", "events"), None)),
        ("matrix", "poll", 2, (("rooms", "join", "!r:hs.example", "state", "events", 0, "content"), -1)),
        ("matrix", "poll", 3, (("chunk",), None)),
        ("matrix", "thread", 1, ((), [])),
        ("bluesky", "poll", 1, (("notifications", 0, "reason"), ["mention"])),
        ("bluesky", "thread", 1, (("thread", "post", "author"), None)),
        ("bluesky", "thread", 1, (("thread", "replies"), -1)),
        ("bluesky", "thread", 1, (("thread",), -1)),
    ],
)
def test_the_shapes_the_review_found(server: str, call: str, nth: int, path_value: tuple[tuple[Any, ...], Any]) -> None:
    path, value = path_value
    _garbled_at(server, nth, path, value, call)


def _garbled_at(server: str, nth: int, path: tuple[Any, ...], value: Any, call: str) -> None:
    """The ``nth`` answer with the value at ``path`` (the whole answer for ``()``) replaced."""
    answers, make = SERVERS[server]
    seen = 0

    def spoil(request: httpx.Request) -> httpx.Response:
        nonlocal seen
        seen += 1
        response = answers(request)
        return response if seen != nth else _json(_set(json.loads(response.content), path, value))

    _run(make(httpx.MockTransport(spoil)), call)
