"""The Bluesky channel against the reference AT Protocol stack (@atproto/dev-env: PLC, PDS,
AppView), started by the test setup. The notification index is asynchronous: tests poll
with a bounded wait."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from cminbox.channels.bluesky import LIMIT, BlueskyChannel, BlueskyOptions, graphemes, mention_facets, tid_for
from cminbox.core.channel import ChannelContext, PollResult, Rejected
from cminbox.core.clock import FrozenClock
from cminbox.core.models import Kind

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
_n = itertools.count()


def xrpc(base: str, nsid: str, token: str | None = None, body: Any = None, **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is None:
        r = httpx.get(f"{base}/xrpc/{nsid}", params=params, headers=headers)
    else:
        r = httpx.post(f"{base}/xrpc/{nsid}", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json() if r.content else {}


def account(base: str, name: str) -> dict[str, str]:
    handle = f"{name}{next(_n)}.test"
    made = xrpc(
        base,
        "com.atproto.server.createAccount",
        body={"handle": handle, "email": f"{handle}@x.test", "password": "main-pw"},
    )
    return {"did": made["did"], "handle": handle, "jwt": made["accessJwt"]}


def post(
    base: str, who: dict[str, str], text: str, mention: dict[str, str] | None = None, reply: Any = None
) -> dict[str, str]:
    at = f"2026-11-27T12:{next(_n) % 60:02d}:00Z"  # distinct, increasing times within a test
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text, "createdAt": at}
    if mention:
        start = text.encode().index(f"@{mention['handle']}".encode())
        end = start + len(f"@{mention['handle']}".encode())
        record["facets"] = [
            {
                "index": {"byteStart": start, "byteEnd": end},
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": mention["did"]}],
            }
        ]
    if reply:
        record["reply"] = reply
    body = {"repo": who["did"], "collection": "app.bsky.feed.post", "record": record}
    return dict(xrpc(base, "com.atproto.repo.createRecord", who["jwt"], body))


def channel(base: str, secret: str | None = None, saved: list[str] | None = None) -> BlueskyChannel:
    async def token() -> str | None:
        return secret

    async def save(value: str) -> None:
        if saved is not None:
            saved.append(value)

    return BlueskyChannel(
        ChannelContext(
            name="bsky",
            url=base,
            account="",
            options=BlueskyOptions(),
            token=token,
            clock=FrozenClock(T0),
            save_token=save,
        )
    )


async def poll_until(ch: BlueskyChannel, cursor: Any, want: int, timeout: float = 15) -> PollResult:
    found: list[Any] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await ch.poll(cursor)
        found += result.messages
        cursor = result.cursor
        if len(found) >= want or asyncio.get_running_loop().time() > deadline:
            return PollResult(messages=found, cursor=cursor)
        await asyncio.sleep(0.2)


@pytest.mark.servers
async def test_app_password_login_poll_mentions_and_replies_exactly_once(bluesky: str) -> None:
    desk, alice = account(bluesky, "desk"), account(bluesky, "alice")
    app_pw = xrpc(bluesky, "com.atproto.server.createAppPassword", desk["jwt"], body={"name": "cminbox"})["password"]
    login = channel(bluesky)
    secret = await login.password_login(desk["handle"], app_pw)
    assert app_pw not in secret and json.loads(secret)["did"] == desk["did"]  # the session, never the password
    ch = channel(bluesky, secret)
    assert (await ch.whoami()).handle == "@" + desk["handle"]
    ours = post(bluesky, desk, "Release 4.2 is out")
    post(bluesky, alice, f"@{desk['handle']} sync is broken 😭", mention=desk)
    post(bluesky, alice, "since 4.2 for me too", reply={"root": ours, "parent": ours})
    first = await poll_until(ch, None, 2)
    kinds = sorted((m.kind, m.text) for m in first.messages)
    assert kinds == [(Kind.MENTION, f"@{desk['handle']} sync is broken 😭"), (Kind.REPLY, "since 4.2 for me too")]
    reply_item = next(m for m in first.messages if m.kind == Kind.REPLY)
    assert reply_item.thread_id == f"bsky:{ours['uri']}" and reply_item.author.handle == "@" + alice["handle"]
    assert (await ch.poll(first.cursor)).messages == []  # exactly once
    thread = await ch.thread(reply_item)
    assert [m.native_id for m in thread] == [ours["uri"], reply_item.native_id]
    await ch.aclose()
    await login.aclose()


@pytest.mark.servers
async def test_reply_with_facets_strong_refs_and_no_double_post(bluesky: str) -> None:
    desk, alice = account(bluesky, "desk"), account(bluesky, "alice")
    secret = await channel(bluesky).password_login(desk["handle"], "main-pw")
    ch = channel(bluesky, secret)
    root = post(bluesky, alice, "Is there a dark mode?")
    child = post(bluesky, alice, f"@{desk['handle']} any news?", mention=desk, reply={"root": root, "parent": root})
    [item] = (await poll_until(ch, None, 1)).messages
    assert item.native_id == child["uri"]
    text = f"🎉 Yes! @{alice['handle']} it ships Friday"
    first = await ch.reply(item, text, "cminbox-item-7")
    again = await ch.reply(item, text, "cminbox-item-7")  # a retry after a crash
    assert again.native_id == first.native_id
    repo, _, rkey = first.native_id.removeprefix("at://").partition("/app.bsky.feed.post/")
    record = xrpc(bluesky, "com.atproto.repo.getRecord", repo=repo, collection="app.bsky.feed.post", rkey=rkey)["value"]
    assert record["reply"]["root"] == {"uri": root["uri"], "cid": root["cid"]}
    assert record["reply"]["parent"] == {"uri": child["uri"], "cid": child["cid"]}
    [facet] = record["facets"]
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert text.encode()[start:end].decode() == f"@{alice['handle']}" and facet["features"][0]["did"] == alice["did"]
    listed = xrpc(bluesky, "com.atproto.repo.listRecords", repo=desk["did"], collection="app.bsky.feed.post")
    assert len(listed["records"]) == 1  # posted once
    await ch.aclose()


@pytest.mark.servers
async def test_wrong_password_and_bad_session(bluesky: str) -> None:
    from cminbox.core.channel import AuthFailed

    desk = account(bluesky, "desk")
    with pytest.raises(AuthFailed):
        await channel(bluesky).password_login(desk["handle"], "wrong")
    with pytest.raises(AuthFailed):
        await channel(bluesky, json.dumps({"accessJwt": "x", "refreshJwt": "y", "did": desk["did"]})).poll(None)
    with pytest.raises(AuthFailed, match="not a Bluesky session"):
        await channel(bluesky, "an-app-password-by-mistake").poll(None)


def test_grapheme_limit_and_record_keys() -> None:
    assert graphemes("👍🏽" * LIMIT) == LIMIT and graphemes("e\u0301") == 1
    key = tid_for("cminbox-item-1")
    assert key == tid_for("cminbox-item-1") != tid_for("cminbox-item-2")
    assert len(key) == 13 and set(key) <= set("234567abcdefghijklmnopqrstuvwxyz") and key[0] in "234567abcdefghij"


def test_facets_count_utf8_bytes() -> None:
    [facet] = mention_facets("héllo 🎉 @ana.test!", {"ana.test": "did:plc:ana"})
    assert (facet["index"]["byteStart"], facet["index"]["byteEnd"]) == (12, 21)


async def test_a_reply_over_300_graphemes_is_refused_before_sending() -> None:
    from tests.factories import make_message

    with pytest.raises(Rejected, match="300 graphemes"):
        await channel("https://pds.example", "{}").reply(make_message(1), "x" * 301, "k")


@respx.mock
async def test_expired_access_token_is_refreshed_and_saved() -> None:
    session = {"accessJwt": "old", "refreshJwt": "r1", "did": "did:plc:me", "handle": "me.test"}
    calls = iter(
        [
            httpx.Response(400, json={"error": "ExpiredToken", "message": "Token has expired"}),
            httpx.Response(200, json={"notifications": []}),
        ]
    )
    respx.get("https://pds.example/xrpc/app.bsky.notification.listNotifications").mock(
        side_effect=lambda _: next(calls)
    )
    refresh = respx.post("https://pds.example/xrpc/com.atproto.server.refreshSession").mock(
        return_value=httpx.Response(200, json={**session, "accessJwt": "new", "refreshJwt": "r2"})
    )
    saved: list[str] = []
    ch = channel("https://pds.example", json.dumps(session), saved)
    assert (await ch.poll(None)).messages == []
    assert refresh.calls[0].request.headers["Authorization"] == "Bearer r1"
    assert json.loads(saved[0])["accessJwt"] == "new"
