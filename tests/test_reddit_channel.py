"""Reddit: no official description exists, so bodies are shaped as Reddit's API documentation shows
(Listings of t1/t3/t4 things, ``{"json": {"errors": [...], "data": {"things": [...]}}}`` answers)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from cminbox.channels.reddit import RedditChannel, RedditOptions
from cminbox.core import config
from cminbox.core.channel import AuthFailed, BadResponse, ChannelContext, RateLimited, Rejected
from cminbox.core.clock import FrozenClock
from cminbox.core.config import ConfigError
from cminbox.core.models import Kind
from tests.forge_fakes import FakeReddit, form

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
CREDS = json.dumps({"client_secret": "app-secret", "password": "pw"})


def make(fake: FakeReddit, secret: str = CREDS, **options: Any) -> RedditChannel:
    async def token() -> str:
        return secret

    return RedditChannel(
        ChannelContext(
            name="rd",
            url="https://oauth.reddit.test",
            account="cm_bot",
            options=RedditOptions(
                client_id="app-id", auth_url="https://www.reddit.test/api/v1/access_token", **options
            ),
            token=token,
            clock=FrozenClock(NOW),
            transport=httpx.MockTransport(fake),
        )
    )


async def test_password_grant_user_agent_and_inbox_walked_back_exactly_once() -> None:
    fake = FakeReddit()
    for i in range(130):
        fake.receive(f"user{i % 4}", f"reply {i}")
    ch = make(fake)
    first = await ch.poll(None)
    assert len(first.messages) == 100  # first use: the newest page
    token_call = fake.requests[0]
    assert token_call.url.path == "/api/v1/access_token" and form(token_call)["grant_type"] == "password"
    assert fake.requests[1].headers["Authorization"] == "Bearer tok1"
    assert (
        fake.requests[1].headers["User-Agent"].startswith("python:cminbox:")
        and "(by /u/cm_bot)" in fake.requests[1].headers["User-Agent"]
    )
    for i in range(150):  # more than a page arrives while we were away
        fake.receive("late", f"late {i}")
    fake.receive("cm_bot", "our own words")  # e.g. a mod mail we sent
    second = await ch.poll(first.cursor)
    assert sorted(m.text.split("\n\n")[-1] for m in second.messages) == sorted(f"late {i}" for i in range(150))
    assert (await ch.poll(second.cursor)).messages == []
    reply = second.messages[0]
    assert (
        reply.kind == Kind.REPLY
        and reply.text.startswith("Re: Release 2.0")
        and reply.url.startswith("https://www.reddit.com/r/")
    )
    assert fake.grants == 1
    await ch.aclose()


async def test_a_deleted_newest_item_does_not_stall_the_cursor() -> None:
    fake = FakeReddit()
    fake.receive("a", "one")
    ch = make(fake)
    cursor = (await ch.poll(None)).cursor
    fake.inbox.clear()  # the item the cursor names is gone (deleted)
    fake.receive("b", "two")
    assert [m.text.split("\n\n")[-1] for m in (await ch.poll(cursor)).messages] == ["two"]
    await ch.aclose()


async def test_quota_headers_pause_only_this_channel_and_ratelimit_errors_are_rate_limits() -> None:
    fake = FakeReddit()
    fake.receive("a", "one")
    fake.extra_headers = {"X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Used": "100", "X-Ratelimit-Reset": "340"}
    ch = make(fake, subreddits=["cminbox"])
    result = await ch.poll(None)
    assert result.next_poll_in == 340.0
    assert "/r/cminbox/new" not in fake.paths()  # the other sources wait for the reset
    fake.extra_headers = {}
    item = result.messages[0]
    fake.script = [
        httpx.Response(200, json={"kind": "Listing", "data": {"after": None, "children": []}}),
        httpx.Response(
            200,
            json={
                "json": {"errors": [["RATELIMIT", "you are doing that too much. try again in 9 minutes.", "ratelimit"]]}
            },
        ),
    ]
    with pytest.raises(RateLimited) as caught:
        await ch.reply(item, "hi", "k")
    assert caught.value.retry_at == NOW.replace(minute=9)
    fake.script = [
        httpx.Response(200, json={"kind": "Listing", "data": {"after": None, "children": []}}),
        httpx.Response(200, json={"json": {"errors": [["THREAD_LOCKED", "that comment is archived", "parent"]]}}),
    ]
    with pytest.raises(Rejected, match="THREAD_LOCKED"):
        await ch.reply(item, "hi", "k")
    await ch.aclose()


async def test_reply_is_found_after_a_crash_instead_of_posted_twice() -> None:
    fake = FakeReddit()
    fake.receive("alice", "does it work offline?")
    ch = make(fake)
    [item] = (await ch.poll(None)).messages
    first = await ch.reply(item, "Yes, fully.", "cminbox-1")
    again = await ch.reply(item, "Yes, fully.", "cminbox-1")
    assert first == again and fake.paths("POST").count("/api/comment") == 1
    posted = form(next(r for r in fake.requests if r.url.path == "/api/comment"))
    assert posted == {"api_type": "json", "thing_id": item.native_id, "text": "Yes, fully."}
    await ch.mark_read(item)
    await ch.moderate(item, "remove", "Rule 2: no spam")
    await ch.moderate(item, "approve", "")
    assert fake.read == [item.native_id]
    assert [v for v, _ in fake.moderated] == ["remove", "reason", "approve"]
    assert json.loads(fake.moderated[1][1]["json"])["mod_note"] == "Rule 2: no spam"
    await ch.aclose()


async def test_wrong_password_and_missing_credentials_are_auth_failures() -> None:
    fake = FakeReddit()
    with pytest.raises(AuthFailed, match="refused the login"):
        await make(fake, json.dumps({"client_secret": "app-secret", "password": "nope"})).poll(None)
    with pytest.raises(AuthFailed, match="cminbox login rd --password"):
        await make(fake, "").poll(None)
    secret = await make(fake, "").password_login("cm_bot", "pw", client_secret="app-secret")
    assert json.loads(secret) == {"client_secret": "app-secret", "password": "pw"}  # no token kept


async def test_an_expired_token_is_replaced_once() -> None:
    fake = FakeReddit()
    ch = make(fake)
    await ch.poll(None)
    fake.script = [httpx.Response(401, json={"message": "Unauthorized"})]
    await ch.poll(None)
    assert fake.grants == 2
    await ch.aclose()


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(
            200, text="<html><title>reddit.com: over capacity</title></html>", headers={"content-type": "text/html"}
        ),
        httpx.Response(200, text='{"kind": "Listing", "data": {"chil', headers={"content-type": "application/json"}),
        httpx.Response(200, json={"kind": "t1"}),
    ],
)
async def test_garbage_is_a_clear_bad_response(response: httpx.Response) -> None:
    fake = FakeReddit()
    ch = make(fake)
    await ch.whoami()
    fake.script = [response]
    with pytest.raises(BadResponse):
        await ch.poll(None)
    await ch.aclose()


def test_reddit_config_needs_a_client_id_and_an_https_token_url(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    head = '[[channels]]\nname = "rd"\ntype = "reddit"\naccount = "cm_bot"\n'
    with pytest.raises(ConfigError) as caught:
        config.parse(head, path)
    assert caught.value.key == "channels[0].client_id" and "config.toml" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        config.parse(head + 'client_id = "x"\nauth_url = "http://evil.example/token"\n', path)
    assert caught.value.key == "channels[0].auth_url"
    assert config.parse(head + 'client_id = "x"\n', path).channels[0].options.client_id == "x"


async def test_a_walk_cut_short_is_finished_by_the_next_poll_exactly_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import cminbox.channels.reddit as reddit_module

    fake = FakeReddit()
    fake.receive("a", "old")
    ch = make(fake)
    cursor = (await ch.poll(None)).cursor
    monkeypatch.setattr(reddit_module, "MAX_PAGES", 2)  # stands for a quota spent after two pages
    for i in range(250):
        fake.receive("b", f"new {i}")
    first = await ch.poll(cursor)
    second = await ch.poll(first.cursor)
    third = await ch.poll(second.cursor)
    got = [m.text.split("\n\n")[-1] for m in first.messages + second.messages + third.messages]
    assert len(first.messages) == 200 and sorted(got) == sorted(f"new {i}" for i in range(250))
    await ch.aclose()
