"""A channel answering garbage degrades that channel with a reason; it never ends in "internal error".

Regression (review of 2026-12-01): a GitHub comment whose ``user`` was ``-1`` raised
AttributeError (not in the per-item catch), a Reddit child with ``"created_utc": null`` and a
Discourse ``"reviewables": 1`` raised TypeError outside it, a Mastodon thread context with
``"ancestors": 5`` failed `cminbox show --fetch`, and a 429 whose ``X-RateLimit-Reset`` had no
zone failed comparing it with now. Each became "internal error (...)" and, for the item cases,
stopped the channel at every poll.

The property: any one value of any answer of the forge fakes replaced by a wrong-typed or
absurd one, a poll either works (the item skipped) or raises a ChannelError.
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

from cminbox.core import http
from cminbox.core.channel import ChannelError
from cminbox.core.clock import FrozenClock
from tests.forge_fakes import FakeDiscourse, FakeGitHub, FakeReddit
from tests.test_discourse_channel import make as discourse
from tests.test_github_channel import make as github
from tests.test_reddit_channel import make as reddit

GARBAGE = [None, 0, -1, 1e308, "", "x", "http://[bad", [], {}, [1, "a"], {"a": {"b": None}}, True, "9" * 400,
           "2024-13-45T99:99:99Z", float("nan")]  # fmt: skip


def _paths(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _paths(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found += _paths(value, (*path, i))
    return found


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    inner = doc
    for step in path[:-1]:
        inner = inner[step]
    inner[path[-1]] = value
    return doc


class Spoiler:
    """The fake's answers, the n-th JSON answer with one value swapped for garbage."""

    def __init__(self, fake: Callable[[httpx.Request], httpx.Response], nth: int, pick: int, value: Any) -> None:
        self.fake, self.nth, self.pick, self.value, self.seen = fake, nth, pick, value, 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = self.fake(request)
        try:
            body = json.loads(response.content)
        except ValueError:
            return response
        self.seen += 1
        if self.seen != self.nth:
            return response
        paths = _paths(body)
        body = _set(body, paths[self.pick % len(paths)], self.value)
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
        return httpx.Response(response.status_code, content=json.dumps(body).encode(), headers=headers)


def _github() -> tuple[Any, Callable[[httpx.AsyncBaseTransport], Any]]:
    fake = FakeGitHub()
    for i in range(3):
        fake.notify(fake.add_comment("acme/app", 1 + i, f"u{i}", f"hi {i}", minute=i))
    fake.add_comment("acme/app", 5, "zz", "plain", minute=9)
    return fake, lambda transport: github("https://api.github.test", transport, repos=["acme/app"])


def _discourse() -> tuple[Any, Callable[[httpx.AsyncBaseTransport], Any]]:
    fake = FakeDiscourse()
    for i in range(3):
        fake.add_post(topic_id=1 + i, username="alice", raw=f"p {i}")
    return fake, lambda transport: discourse("https://forum.test", transport, review_queue=True)


def _reddit() -> tuple[Any, Callable[[httpx.AsyncBaseTransport], Any]]:
    fake = FakeReddit()
    for i in range(3):
        fake.receive(f"bob{i}", f"hello {i}")

    def make(transport: httpx.AsyncBaseTransport) -> Any:
        channel = reddit(fake)
        channel.ctx.transport = transport
        return channel

    return fake, make


FORGES = {"github": _github, "discourse": _discourse, "reddit": _reddit}


@pytest.mark.parametrize("forge", sorted(FORGES))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nth=st.integers(1, 6), pick=st.integers(0, 10_000), value=st.sampled_from(GARBAGE))
def test_one_garbage_value_degrades_only_with_a_reason(forge: str, nth: int, pick: int, value: Any) -> None:
    fake, make = FORGES[forge]()
    channel = make(httpx.MockTransport(Spoiler(fake, nth, pick, value)))

    async def poll() -> None:
        try:
            await channel.poll(None)
        except ChannelError as exc:
            assert exc.reason  # said, in words
        finally:
            await channel.aclose()

    asyncio.run(poll())


@pytest.mark.parametrize(
    "reset", ["0001-01-01T00:00:00", "2026-11-02T12:05:00", "9999-12-31T23:59:59", "2026-11-02T12:05:00+02:00"]
)
def test_a_rate_limit_reset_without_a_zone_is_read_as_utc(reset: str) -> None:
    now = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
    response = httpx.Response(429, headers={"X-RateLimit-Reset": reset})
    when = http.retry_at(response, FrozenClock(now))
    assert when.tzinfo is not None and when >= now
    if reset == "2026-11-02T12:05:00":
        assert (when - now).total_seconds() == 300
