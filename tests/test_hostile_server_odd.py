"""A hostile server's odd inputs that were "internal error (…)" on every poll (review of
2026-12-02): a digit float() refuses, JSON nested past the parser's depth, malformed
internationalised hosts in a redirect or a next-page link. Each is the channel's garbage:
a clear reason, that channel degraded, nothing sent anywhere else."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import respx

from cminbox.core import http
from cminbox.core.channel import BadResponse, RateLimited, Rejected
from cminbox.core.clock import FrozenClock
from tests.mastodon_fixtures import notification
from tests.test_hostile_server import NOTIFICATIONS
from tests.test_hostile_server import api as api  # the mocked Mastodon server, a fixture
from tests.test_mastodon_unit import channel as mastodon


@pytest.mark.parametrize("value", ["\u00b2".encode("latin-1"), "\u0663".encode(), b"\xef\xbc\x93", b"1\xb2"])
async def test_a_retry_after_of_odd_digits_is_a_rate_limit_with_the_default_wait(
    api: respx.MockRouter, clock: FrozenClock, value: bytes
) -> None:
    """ "²" is a digit to str.isdigit but not a number to float(): ValueError, an internal error."""
    api.get(NOTIFICATIONS).respond(429, headers=[(b"Retry-After", value)])
    with pytest.raises(RateLimited) as caught:
        await mastodon(clock).poll(None)
    assert clock.now <= caught.value.retry_at <= clock.now + timedelta(seconds=http.MAX_WAIT)


@pytest.mark.parametrize("depth", [1_000, 100_000])
async def test_json_nested_past_the_parser_s_depth_is_invalid_json(
    api: respx.MockRouter, clock: FrozenClock, depth: int
) -> None:
    api.get(NOTIFICATIONS).respond(
        200, content=b"[" * depth + b"]" * depth, headers={"content-type": "application/json"}
    )
    with pytest.raises(BadResponse) as caught:
        await mastodon(clock).poll(None)
    assert caught.value.reason == "notifications: expected JSON, got invalid JSON"


async def test_a_deeply_nested_error_body_is_not_an_internal_error(api: respx.MockRouter, clock: FrozenClock) -> None:
    api.get(NOTIFICATIONS).respond(422, content=b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(Rejected) as caught:
        await mastodon(clock).poll(None)
    assert "refused the request (422)" in caught.value.reason


@pytest.mark.parametrize("host", ["xn--a.example", "xn--.example", "xn--zz-\u00e9.example"])
async def test_a_redirect_to_a_malformed_international_host_is_refused_plainly(
    api: respx.MockRouter, clock: FrozenClock, host: str
) -> None:
    api.get(NOTIFICATIONS).respond(301, headers=[(b"Location", f"https://{host}/".encode())])
    with pytest.raises(BadResponse) as caught:
        await mastodon(clock).poll(None)
    assert "not a valid URL" in caught.value.reason or "redirected to" in caught.value.reason


@pytest.mark.parametrize("host", ["xn--a.example", "xn--.example"])
async def test_a_next_page_link_to_a_malformed_international_host_is_not_followed(
    api: respx.MockRouter, clock: FrozenClock, host: str
) -> None:
    link = f"https://{host}/api/v1/notifications?max_id=1"
    api.get(NOTIFICATIONS).respond(json=[notification(1)], headers={"Link": f'<{link}>; rel="next"'})
    result = await mastodon(clock, backfill_pages=5).poll(None)
    assert [m.native_id for m in result.messages] == ["1001"]  # what was read is kept
    assert "next-page link" in result.error and "stopped there" in result.error


def test_same_origin_and_pages_take_any_link_without_raising() -> None:
    base = httpx.URL("https://masto.example")
    for link in ["https://xn--a.example/x", "https://xn--.example/", "https://[::1/", "http://\u00b2/"]:
        assert http.same_origin(link, base) is None


@pytest.mark.parametrize("token", ["té€-123456", "a b", "x\r\nInjected: 1", "", 7, None, "t" * 20_000])
def test_a_token_a_server_hands_out_must_fit_a_header(token: object) -> None:
    assert not http.is_token(token)


def test_tokens_that_fit_a_header() -> None:
    assert http.is_token("at-123456") and http.is_token("eyJ0eXAi.eyJzdWIi.c2ln-_=") and http.is_token("syt_x~+/")


async def test_reddit_refuses_an_access_token_that_cannot_go_in_a_header() -> None:
    """Regression: a non-ASCII access token was an "internal error (UnicodeEncodeError)" on
    every poll, raised while the client was built from it."""
    from tests.forge_fakes import FakeReddit
    from tests.test_reddit_channel import make as reddit

    fake = FakeReddit()
    fake.script = [httpx.Response(200, json={"access_token": "té€-123456", "expires_in": 3600})]
    ch = reddit(fake)
    with pytest.raises(BadResponse) as caught:
        await ch.poll(None)
    await ch.aclose()
    assert caught.value.reason == "get access token: the access token in the answer is not a valid token"
    assert "té€" not in caught.value.reason
