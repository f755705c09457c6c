"""Edge cases of the Mastodon adapter, with HTTP mocked (respx)."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
import respx

from cminbox.channels.mastodon import MastodonChannel, MastodonOptions, narrower
from cminbox.core.channel import AuthFailed, BadResponse, ChannelContext, RateLimited, Rejected, Unavailable
from cminbox.core.clock import FrozenClock
from cminbox.core.models import Kind
from tests.mastodon_fixtures import ME, notification, status

BASE = "https://masto.example"


def channel(clock: FrozenClock, token: str | None = "tok-123456", **options: int) -> MastodonChannel:
    async def provide() -> str | None:
        return token

    return MastodonChannel(
        ChannelContext(
            name="masto", url=BASE, account="", options=MastodonOptions(**options), token=provide, clock=clock
        )
    )


@pytest.fixture
def api() -> respx.MockRouter:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.get("/api/v1/accounts/verify_credentials").respond(json=ME)
        yield router


async def test_poll_converts_mentions_replies_and_dms(api: respx.MockRouter, clock: FrozenClock) -> None:
    api.get("/api/v1/notifications").respond(
        json=[notification(3, visibility="direct"), notification(2, in_reply_to="900", to_me=True), notification(1)]
    )
    result = await channel(clock).poll(None)
    kinds = {m.native_id: m.kind for m in result.messages}
    assert kinds == {"1003": Kind.DIRECT, "1002": Kind.REPLY, "1001": Kind.MENTION}
    first = next(m for m in result.messages if m.native_id == "1001")
    assert first.id == "masto:1001" and first.text == "hello 1"  # own leading mention dropped
    assert first.author.handle == "@user1@other.example"
    assert first.created_at.utcoffset() == timedelta(0)
    assert result.cursor == {"min_id": "5003"}
    request = api.calls[-1].request
    assert request.headers["Authorization"] == "Bearer tok-123456"
    assert request.url.params.get_list("types[]") == ["mention"]


async def test_poll_walks_forward_from_the_cursor_until_caught_up(api: respx.MockRouter, clock: FrozenClock) -> None:
    pages = {"5000": [notification(n) for n in range(40, 0, -1)], "5040": [notification(41)], "5041": []}
    api.get("/api/v1/notifications").mock(
        side_effect=lambda req: httpx.Response(200, json=pages[req.url.params["min_id"]])
    )
    result = await channel(clock).poll({"min_id": "5000"})
    assert len(result.messages) == 41
    assert result.cursor == {"min_id": "5041"}


async def test_ids_compare_numerically(api: respx.MockRouter, clock: FrozenClock) -> None:
    notes = [notification(1), notification(2)]
    notes[0]["id"], notes[1]["id"] = "99", "100"
    api.get("/api/v1/notifications").respond(json=notes)
    assert (await channel(clock).poll(None)).cursor == {"min_id": "100"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", "HTML page"),
        (b'[{"id": "1", "type": "mention", "status": {', "invalid JSON"),
        (b'{"error": "surprise object"}', "expected a JSON array"),
    ],
)
async def test_garbage_is_a_bad_response(api: respx.MockRouter, clock: FrozenClock, body: bytes, reason: str) -> None:
    ctype = "text/html" if body.startswith(b"<") else "application/json"
    api.get("/api/v1/notifications").respond(200, content=body, headers={"Content-Type": ctype})
    with pytest.raises(BadResponse, match=reason):
        await channel(clock).poll(None)


async def test_malformed_items_are_skipped_and_counted(api: respx.MockRouter, clock: FrozenClock) -> None:
    broken = notification(2)
    del broken["status"]["account"]
    bad_date = notification(3)
    bad_date["status"]["created_at"] = "yesterday-ish"
    api.get("/api/v1/notifications").respond(json=[bad_date, broken, notification(1), "junk", {"type": "mention"}])
    result = await channel(clock).poll(None)
    assert [m.native_id for m in result.messages] == ["1001"]
    assert result.skipped == 4


async def test_huge_page_is_refused(api: respx.MockRouter, clock: FrozenClock) -> None:
    api.get("/api/v1/notifications").respond(
        200, content=b"[" + b" " * (9 * 1024 * 1024) + b"]", headers={"Content-Type": "application/json"}
    )
    with pytest.raises(BadResponse, match="too large"):
        await channel(clock).poll(None)


async def test_a_full_page_of_80_is_handled(api: respx.MockRouter, clock: FrozenClock) -> None:
    api.get("/api/v1/notifications").respond(json=[notification(n) for n in range(80, 0, -1)])
    assert len((await channel(clock, page_size=80).poll(None)).messages) == 80


async def test_429_with_reset_header(api: respx.MockRouter, clock: FrozenClock) -> None:
    api.get("/api/v1/notifications").respond(
        429, headers={"X-RateLimit-Reset": "2026-11-27T12:05:00.000Z"}, json={"error": "Too many requests"}
    )
    with pytest.raises(RateLimited) as info:
        await channel(clock).poll(None)
    assert info.value.retry_at == clock.now + timedelta(minutes=5)


async def test_429_with_retry_after_seconds(api: respx.MockRouter, clock: FrozenClock) -> None:
    api.get("/api/v1/notifications").respond(429, headers={"Retry-After": "90"})
    with pytest.raises(RateLimited) as info:
        await channel(clock).poll(None)
    assert info.value.retry_at == clock.now + timedelta(seconds=90)


async def test_5xx_timeouts_and_connection_errors_are_unavailable(api: respx.MockRouter, clock: FrozenClock) -> None:
    route = api.get("/api/v1/notifications")
    for effect in (httpx.Response(503), httpx.ReadTimeout("slow"), httpx.ConnectError("refused")):
        route.mock(side_effect=[effect])
        with pytest.raises(Unavailable):
            await channel(clock).poll(None)


async def test_401_is_auth_failure_without_the_token_in_the_message(api: respx.MockRouter, clock: FrozenClock) -> None:
    api.get("/api/v1/accounts/verify_credentials").respond(401, json={"error": "The access token is invalid"})
    with pytest.raises(AuthFailed) as info:
        await channel(clock).poll(None)
    assert "tok-123456" not in str(info.value)


async def test_missing_token_says_how_to_fix_it(clock: FrozenClock) -> None:
    with pytest.raises(AuthFailed, match="cminbox login masto"):
        await channel(clock, token=None).poll(None)


async def test_hostile_html_becomes_inert_text(api: respx.MockRouter, clock: FrozenClock) -> None:
    hostile = (
        "<p>[bold]hi[/bold] <script>steal()</script>\x1b[2J\x1b]0;pwned\x07 "
        '<a href="javascript:x">[link=https://evil.example]x[/link]</a> \u202eevil\u202c</p>'
    )
    api.get("/api/v1/notifications").respond(json=[notification(1, content=hostile)])
    [msg] = (await channel(clock).poll(None)).messages
    assert msg.text == "[bold]hi[/bold] [link=https://evil.example]x[/link] evil"


async def test_reply_mentions_narrows_visibility_and_is_idempotent(api: respx.MockRouter, clock: FrozenClock) -> None:
    api.get("/api/v1/notifications").respond(json=[notification(1, visibility="private")])
    route = api.post("/api/v1/statuses").respond(json=status(99))
    ch = channel(clock)
    [msg] = (await ch.poll(None)).messages
    receipt = await ch.reply(msg, "thanks!", "cminbox-abc")
    sent = json.loads(route.calls[0].request.content)
    assert sent == {"status": "@user1@other.example thanks!", "in_reply_to_id": "1001", "visibility": "private"}
    assert route.calls[0].request.headers["Idempotency-Key"] == "cminbox-abc"
    assert receipt.native_id == "1099"


async def test_reply_over_the_limit_is_rejected_before_sending(api: respx.MockRouter, clock: FrozenClock) -> None:
    api.get("/api/v1/notifications").respond(json=[notification(1)])
    route = api.post("/api/v1/statuses")
    ch = channel(clock)
    [msg] = (await ch.poll(None)).messages
    with pytest.raises(Rejected, match="characters"):
        await ch.reply(msg, "x" * 600, "k")
    assert not route.called


def test_visibility_never_widens() -> None:
    assert narrower("direct", "public") == "direct"
    assert narrower("public", "unlisted") == "unlisted"
    assert narrower("private", "unlisted") == "private"


@pytest.mark.parametrize(
    "context",
    [{"ancestors": 5, "descendants": []}, {"ancestors": [], "descendants": None}, {"ancestors": "x"}, {}],
)
async def test_a_malformed_thread_context_reads_as_no_context(
    api: respx.MockRouter, clock: FrozenClock, context: dict[str, object]
) -> None:
    """Regression (review of 2026-12-01): ``"ancestors": 5`` ended `cminbox show --fetch` in
    "internal error (TypeError)"; a side that is not a list is read as none."""
    from tests.factories import make_message

    item = make_message(55)
    api.get("/api/v1/statuses/55/context").respond(json=context)
    assert await channel(clock).thread(item) == [item]


async def test_a_server_id_is_one_path_segment(api: respx.MockRouter, clock: FrozenClock) -> None:
    """Regression (hostile-data trial of 2026-12-01): a native id "1016/../../x" made the thread
    request GET /api/v1/x/context with the token."""
    import msgspec

    from tests.factories import make_message

    item = msgspec.structs.replace(make_message(55), native_id="1016/../../x")
    route = api.get(url__regex=r"/api/v1/statuses/.*").respond(json={"ancestors": [], "descendants": []})
    await channel(clock).thread(item)
    assert route.called
    assert route.calls.last.request.url.raw_path == b"/api/v1/statuses/1016%2F..%2F..%2Fx/context"
