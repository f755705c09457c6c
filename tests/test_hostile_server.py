"""A hostile or broken server: foreign and self-referencing page links, redirects, absurd waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from cminbox.core import config, http
from cminbox.core.channel import BadResponse, RateLimited
from cminbox.core.clock import FrozenClock
from cminbox.core.engine import Engine
from cminbox.core.health import HealthState
from cminbox.core.outbox import Outbox
from cminbox.core.secrets import Secrets
from cminbox.core.store import Store
from tests.mastodon_fixtures import ME, notification
from tests.test_github_channel import make as github
from tests.test_mastodon_unit import BASE
from tests.test_mastodon_unit import channel as mastodon

NOTIFICATIONS = f"{BASE}/api/v1/notifications"


@pytest.fixture
def api() -> respx.MockRouter:
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{BASE}/api/v1/accounts/verify_credentials").respond(json=ME)
        yield router


def next_link(url: str) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="next"'}


# ------------------------------------------------------------------ pagination stays on our server
@pytest.mark.parametrize(
    "foreign",
    [
        "https://evil.example/api/v1/notifications?max_id=1",  # another host
        "https://masto.example:8443/api/v1/notifications?max_id=1",  # another port
        "http://masto.example/api/v1/notifications?max_id=1",  # another scheme (plain http)
    ],
    ids=["host", "port", "scheme"],
)
async def test_mastodon_never_follows_a_next_link_off_its_server(
    api: respx.MockRouter, clock: FrozenClock, foreign: str
) -> None:
    api.get(NOTIFICATIONS).respond(json=[notification(1)], headers=next_link(foreign))
    elsewhere = api.route(url__startswith=foreign.split("/api")[0]).respond(json=[notification(2)])
    result = await mastodon(clock, backfill_pages=5).poll(None)
    assert not elsewhere.called  # the token never went there
    assert [m.native_id for m in result.messages] == ["1001"]  # what was read is kept
    assert "next-page link leads to" in result.error and httpx.URL(foreign).host in result.error
    # The scheme too: "leads to masto.example" for an http link named this very server.
    assert f"leads to {httpx.URL(foreign).scheme}://{httpx.URL(foreign).host}" in result.error


async def test_mastodon_stops_at_a_next_link_to_the_same_page(api: respx.MockRouter, clock: FrozenClock) -> None:
    def same_page(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[notification(1)], headers=next_link(str(request.url)))

    route = api.get(NOTIFICATIONS).mock(side_effect=same_page)
    result = await mastodon(clock, backfill_pages=1000).poll(None)
    assert route.call_count == 1
    assert [m.native_id for m in result.messages] == ["1001"] and result.cursor == {"min_id": "5001"}
    assert "repeats a page already read" in result.error


async def test_mastodon_stops_at_a_link_cycle(api: respx.MockRouter, clock: FrozenClock) -> None:
    def pages(request: httpx.Request) -> httpx.Response:
        other = "2" if request.url.params.get("max_id") != "2" else "1"
        return httpx.Response(
            200, json=[notification(int(other))], headers=next_link(f"{NOTIFICATIONS}?max_id={other}")
        )

    route = api.get(url__startswith=NOTIFICATIONS).mock(side_effect=pages)
    result = await mastodon(clock, backfill_pages=1000).poll(None)
    assert route.call_count == 3 and "repeats a page" in result.error


def github_server(link: str) -> tuple[httpx.MockTransport, list[httpx.URL]]:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        if request.url.path == "/user":
            return httpx.Response(200, json={"login": "cm-bot", "id": 7})
        target = str(request.url) if link == "self" else link
        return httpx.Response(200, json=[], headers=next_link(target))

    return httpx.MockTransport(handler), seen


@pytest.mark.parametrize(
    "link",
    ["https://evil.example/notifications?page=2", "https://api.github.test:444/notifications?page=2", "self"],
    ids=["host", "port", "self"],
)
async def test_github_pages_stay_on_its_server_and_never_repeat(link: str) -> None:
    transport, seen = github_server(link)
    result = await github("https://api.github.test", transport).poll(None)
    assert [u.path for u in seen] == ["/user", "/notifications"]
    assert {u.host for u in seen} == {"api.github.test"} and {u.port for u in seen} == {None}
    assert ("repeats a page" if link == "self" else "leads to") in result.error


async def test_a_poll_stopped_early_degrades_the_channel_and_keeps_what_it_read(
    tmp_path: Path, clock: FrozenClock, api: respx.MockRouter
) -> None:
    api.get(NOTIFICATIONS).respond(json=[notification(1)], headers=next_link("https://evil.example/x"))
    cfg = config.parse(f'[[channels]]\nname = "masto"\ntype = "mastodon"\nurl = "{BASE}"\nbackfill_pages = 3\n')
    store = Store(tmp_path, clock=clock)
    engine = Engine(cfg, store, Outbox(tmp_path, store.lock, clock=clock), Secrets({"masto": "tok-12345"}), clock)
    [report] = await engine.poll_once()
    await engine.aclose()
    assert report.new_ids == ["masto:1001"]
    assert report.health.state == HealthState.DEGRADED and "evil.example" in report.health.reason


# ------------------------------------------------------------------ redirects
async def test_a_redirect_names_the_new_host_and_is_not_followed(api: respx.MockRouter, clock: FrozenClock) -> None:
    api.get(NOTIFICATIONS).respond(302, headers={"Location": "https://moved.example/api/v1/notifications"})
    moved = api.route(host="moved.example").respond(json=[])
    with pytest.raises(BadResponse) as caught:
        await mastodon(clock).poll(None)
    assert caught.value.reason == (
        "notifications: the server redirected to moved.example (302); update `url` in the config"
    )
    assert not moved.called


@pytest.mark.parametrize(
    "location",
    [
        "https://\u202eelpmaxe.live/x".encode(),  # a bidi override, as raw UTF-8 bytes
        "https://évil.example:8443/x".encode(),  # shown in its ASCII (IDNA) form
        b"https://ev%1b%5b31mil.example/x",  # an escape sequence, percent-encoded in the host
        b"https://[bold]x[/bold]/",  # markup
        b"//\xff\xfe.example/",  # not UTF-8
    ],
)
async def test_the_host_of_a_hostile_redirect_is_shown_inert(
    api: respx.MockRouter, clock: FrozenClock, location: bytes
) -> None:
    api.get(NOTIFICATIONS).respond(301, headers=[(b"Location", location)])
    with pytest.raises(BadResponse) as caught:
        await mastodon(clock).poll(None)
    reason = caught.value.reason
    assert "redirected to" in reason and "update `url`" in reason
    shown = reason.split("redirected to ", 1)[1].split(" (301)")[0].split(";")[0]
    assert all(c.isalnum() or c in ".-:[]" for c in shown.replace(" ", "")), shown
    assert "[bold]" not in reason and "\x1b" not in reason and "\u202e" not in reason


# ------------------------------------------------------------------ waits a server asks for
@pytest.mark.parametrize(
    "headers",
    [
        {"Retry-After": "999999"},
        {"Retry-After": "9" * 40},
        {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"},
        {"X-RateLimit-Reset": "4102444800"},  # epoch seconds, in 2100
        {"X-RateLimit-Reset": "86400"},  # seconds from now
    ],
)
async def test_a_huge_wait_is_capped(api: respx.MockRouter, clock: FrozenClock, headers: dict[str, str]) -> None:
    api.get(NOTIFICATIONS).respond(429, headers=headers)
    with pytest.raises(RateLimited) as caught:
        await mastodon(clock).poll(None)
    assert caught.value.retry_at == clock.now + timedelta(seconds=http.MAX_WAIT)


async def test_a_pause_ending_on_another_day_shows_the_date(api: respx.MockRouter) -> None:
    late = FrozenClock(datetime(2026, 11, 27, 23, 30, tzinfo=UTC))
    api.get(NOTIFICATIONS).respond(429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimited) as caught:
        await mastodon(late).poll(None)
    assert caught.value.reason.endswith("until 2026-11-28 00:30:00 UTC")
    same_day = FrozenClock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
    with pytest.raises(RateLimited) as caught:
        await mastodon(same_day).poll(None)
    assert caught.value.reason.endswith("until 11:00:00 UTC")


async def test_matrix_retry_after_ms_is_capped(clock: FrozenClock) -> None:
    from cminbox.channels.matrix import MatrixChannel, MatrixOptions
    from cminbox.core.channel import ChannelContext

    async def token() -> str:
        return "syt-token"

    def handler(request: httpx.Request) -> Any:
        return httpx.Response(429, json={"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 10**15})

    ch = MatrixChannel(
        ChannelContext(
            name="mx",
            url="https://hs.example",
            account="",
            options=MatrixOptions(),
            token=token,
            clock=clock,
            transport=httpx.MockTransport(handler),
        )
    )
    with pytest.raises(RateLimited) as caught:
        await ch.poll(None)
    await ch.aclose()
    assert caught.value.retry_at == clock.now + timedelta(seconds=http.MAX_WAIT)


async def test_discourse_stops_when_the_server_ignores_before() -> None:
    from tests.forge_fakes import FakeDiscourse
    from tests.test_discourse_channel import make as discourse

    fake = FakeDiscourse()
    for n in range(3):
        fake.add_post(12, "alice", f"post {n}")
    page = fake(httpx.Request("GET", "https://forum.test/posts.json"))
    fake.requests.clear()
    fake.route("GET", r"/posts\.json")(lambda request: httpx.Response(200, json=page.json()))
    fake.routes.insert(0, fake.routes.pop())  # answered before the fake's own /posts.json
    ch = discourse("https://forum.test", httpx.MockTransport(fake), notifications=False, backfill_pages=50)
    result = await ch.poll(None)
    await ch.aclose()
    assert fake.paths("GET").count("/posts.json") == 2  # the second answer was the same page: stop
    assert sorted(m.text.rsplit(" ", 1)[-1] for m in result.messages) == ["0", "1", "2"]


def test_a_shown_host_is_ascii_and_keeps_its_port() -> None:
    assert http.safe_host("https://[::1]:8443/x") == "[::1]:8443"
    assert http.safe_host("https://évil.example/") == "xn--vil-9la.example"
    assert http.safe_host("https://moved.example:443/") == "moved.example"  # the scheme's own port is implied


async def test_bluesky_stops_at_a_cursor_that_repeats(clock: FrozenClock) -> None:
    import json

    from cminbox.channels.bluesky import BlueskyChannel, BlueskyOptions
    from cminbox.core.channel import ChannelContext

    session = json.dumps({"accessJwt": "jwt-access", "refreshJwt": "jwt-refresh", "did": "did:plc:me"})
    note = {
        "uri": "at://did:plc:a/app.bsky.feed.post/1",
        "cid": "c1",
        "reason": "mention",
        "indexedAt": "2026-11-27T10:00:00Z",
        "author": {"did": "did:plc:a", "handle": "a.test"},
        "record": {"text": "@me.test hi", "createdAt": "2026-11-27T10:00:00Z"},
    }
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"notifications": [note], "cursor": "same"})

    async def token() -> str:
        return session

    ch = BlueskyChannel(
        ChannelContext(
            name="bsky",
            url="https://pds.example",
            account="",
            options=BlueskyOptions(mark_seen=False),
            token=token,
            clock=clock,
            transport=httpx.MockTransport(handler),
        )
    )
    result = await ch.poll(None)
    await ch.aclose()
    assert len(calls) == 2 and [m.native_id for m in result.messages] == [note["uri"]]
    assert "cursor repeats" in result.error


async def test_reddit_ratelimit_text_and_github_poll_interval_are_capped() -> None:
    from tests.factories import make_message
    from tests.forge_fakes import FakeGitHub, FakeReddit
    from tests.test_github_channel import fake_channel as github_channel
    from tests.test_reddit_channel import NOW as REDDIT_NOW
    from tests.test_reddit_channel import make as reddit

    fake = FakeReddit()
    fake.script = [
        httpx.Response(200, json={"access_token": "at-123456", "expires_in": 3600}),
        httpx.Response(200, json={"kind": "Listing", "data": {"after": None, "children": []}}),
        httpx.Response(200, json={"json": {"errors": [["RATELIMIT", "try again in 99999999999 minutes.", "x"]]}}),
    ]
    ch = reddit(fake)
    with pytest.raises(RateLimited) as caught:
        await ch.reply(make_message(1, channel="rd"), "hi", "k")
    await ch.aclose()
    assert caught.value.retry_at == REDDIT_NOW + timedelta(seconds=http.MAX_WAIT)

    hub = FakeGitHub()
    hub.poll_interval = "99999999999"
    gh = github_channel(hub)
    result = await gh.poll(None)
    await gh.aclose()
    assert result.next_poll_in == http.MAX_WAIT
