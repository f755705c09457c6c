"""Ids a server gave are one path segment each when they go back into a request.

Regression (hostile-data trial of 2026-12-01): GitHub's repository and issue number, the
notification thread id, Discourse's topic, post and reviewable ids and Reddit's link id went
into request paths as stored, so an item whose id held "/../" sent the next request (with the
channel's token) to another endpoint of the API. Mastodon and Matrix already quoted theirs.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from cminbox.channels.discourse import DiscourseChannel, DiscourseOptions
from cminbox.channels.github import GitHubChannel, GitHubOptions
from cminbox.channels.reddit import RedditChannel, RedditOptions
from cminbox.core.channel import ChannelContext, ChannelError
from cminbox.core.clock import FrozenClock
from cminbox.core.http import segment
from cminbox.core.models import Author, Kind, Message

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
HOSTILE = ["1/../../../user/keys", "..", ".", "1?admin=1", "1#x", "%2e%2e", "../../admin"]


class Recorder:
    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/access_token":  # Reddit's sign-in, so its call is made
            return httpx.Response(200, json={"access_token": "a", "token_type": "bearer", "expires_in": 3600})
        self.paths.append(request.url.raw_path.decode("ascii"))
        return httpx.Response(404, json={"message": "Not Found"})


def context(
    name: str, url: str, transport: httpx.AsyncBaseTransport, options: Any, secret: str = "the-token"
) -> ChannelContext:
    async def token() -> str:
        return secret

    return ChannelContext(
        name=name, url=url, account="cm", options=options, token=token, clock=FrozenClock(NOW), transport=transport
    )


def item(channel: str, channel_type: str, extra: dict[str, str]) -> Message:
    return Message(
        id=f"{channel}:x",
        channel=channel,
        channel_type=channel_type,
        native_id="x",
        kind=Kind.COMMENT,
        author=Author(id="1", handle="@someone"),
        text="hello",
        created_at=NOW,
        extra=extra,
    )


async def attempt(call: Any) -> None:
    # The 404, or the item refused before any request: either way, where did it go?
    with contextlib.suppress(ChannelError):
        await call


def stays_in(paths: list[str], prefix: str, segments: int) -> None:
    for path in paths:
        assert path.startswith(prefix), path
        assert path.split("?")[0].count("/") == segments, path


@pytest.mark.parametrize("bad", HOSTILE)
async def test_github_ids_stay_one_segment(bad: str) -> None:
    rec = Recorder()
    ch = GitHubChannel(context("gh", "https://api.github.test", httpx.MockTransport(rec), GitHubOptions()))
    message = item("gh", "github", {"repo": "octocat/Hello-World", "number": bad, "thread_id": bad})
    await attempt(ch.moderate(message, "lock", ""))
    await attempt(ch.moderate(message, "unlock", ""))
    stays_in(rec.paths, "/repos/octocat/Hello-World/issues/", 6)
    rec.paths.clear()
    await attempt(ch.mark_read(message))
    stays_in(rec.paths, "/notifications/threads/", 3)
    rec.paths.clear()
    await attempt(ch.moderate(item("gh", "github", {"repo": f"octocat/{bad}", "number": "1"}), "lock", ""))
    stays_in(rec.paths, "/repos/octocat/", 6)


@pytest.mark.parametrize("bad", HOSTILE)
async def test_discourse_ids_stay_one_segment(bad: str) -> None:
    rec = Recorder()
    options = DiscourseOptions(notifications=False)
    ch = DiscourseChannel(context("dc", "https://forum.test", httpx.MockTransport(rec), options))
    message = item("dc", "discourse", {"topic_id": bad, "post_id": "7", "reviewable_id": bad})
    await attempt(ch.thread(message))
    stays_in(rec.paths, "/t/", 2)
    rec.paths.clear()
    await attempt(ch.moderate(message, "close", ""))
    stays_in(rec.paths, "/t/", 3)
    rec.paths.clear()
    await attempt(ch.moderate(message, "approve", ""))
    stays_in(rec.paths, "/review/", 4)


@pytest.mark.parametrize("bad", HOSTILE)
async def test_reddit_link_id_stays_one_segment(bad: str) -> None:
    rec = Recorder()
    options = RedditOptions(client_id="app-id", auth_url="https://www.reddit.test/api/v1/access_token")
    secret = json.dumps({"client_secret": "app-secret", "password": "pw"})
    ch = RedditChannel(context("rd", "https://oauth.reddit.test", httpx.MockTransport(rec), options, secret))
    await attempt(ch.thread(item("rd", "reddit", {"link_id": f"t3_{bad}"})))
    assert rec.paths
    stays_in(rec.paths, "/comments/", 2)


def test_a_segment_never_holds_a_separator_or_a_dot_folder() -> None:
    for value in [*HOSTILE, "a/b", "a\\b", "é", " "]:
        got = segment(value)
        assert "/" not in got and "?" not in got and "#" not in got and got not in (".", "..")
