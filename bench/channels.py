"""Channel adapter benchmarks: the cost of catching up after a burst, and of a quiet poll.

    .venv/bin/python bench/channels.py [--items 1000]

Each channel polls an in-process stand-in (tests/forge_fakes.py, bodies shaped as the API
documentation shows) through httpx's MockTransport, so the numbers are the adapter's own
work (JSON decoding, conversion, sanitising, dedup): no network, no store.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from cminbox.channels.discourse import DiscourseChannel, DiscourseOptions
from cminbox.channels.feed import FeedChannel, FeedOptions
from cminbox.channels.github import GitHubChannel, GitHubOptions
from cminbox.channels.reddit import RedditChannel, RedditOptions
from cminbox.core.channel import ChannelContext, PollResult
from cminbox.core.clock import FrozenClock
from tests.forge_fakes import Fake, FakeDiscourse, FakeGitHub, FakeReddit

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
Setup = Callable[[int], tuple[Fake | None, Any, Callable[[int], None]]]


def ctx(
    name: str, url: str, options: Any, secret: str, transport: httpx.AsyncBaseTransport, account: str = ""
) -> ChannelContext:
    async def token() -> str:
        return secret

    return ChannelContext(
        name=name, url=url, account=account, options=options, token=token, clock=FrozenClock(NOW), transport=transport
    )


def github(n: int) -> tuple[Fake, Any, Callable[[int], None]]:
    fake = FakeGitHub()
    opts = GitHubOptions(notifications=False, repos=["acme/app"], backfill_hours=10_000)
    ch = GitHubChannel(ctx("gh", "https://api.github.test", opts, "t", httpx.MockTransport(fake)))

    def add(k: int) -> None:
        base = len(fake.comments)  # timestamps only move forward, as on GitHub
        for i in range(base, base + k):
            fake.add_comment("acme/app", i % 40, f"u{i % 97}", f"comment {i} " * 8, i)

    return fake, ch, add


def discourse(n: int) -> tuple[Fake, Any, Callable[[int], None]]:
    fake = FakeDiscourse()
    ch = DiscourseChannel(
        ctx("dc", "https://forum.test", DiscourseOptions(notifications=False), "k", httpx.MockTransport(fake), "cm")
    )
    return fake, ch, lambda k: [fake.add_post(i % 50, f"u{i % 97}", f"post {i} " * 8) for i in range(k)] and None


def reddit(n: int) -> tuple[Fake, Any, Callable[[int], None]]:
    fake = FakeReddit()
    opts = RedditOptions(client_id="app-id", auth_url="https://www.reddit.test/api/v1/access_token")
    secret = json.dumps({"client_secret": "app-secret", "password": "pw"})
    ch = RedditChannel(ctx("rd", "https://oauth.reddit.test", opts, secret, httpx.MockTransport(fake), "cm_bot"))
    return fake, ch, lambda k: [fake.receive(f"u{i % 97}", f"reply {i} " * 8) for i in range(k)] and None


def feed(n: int) -> tuple[None, Any, Callable[[int], None]]:
    entries: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        if request.headers.get("If-None-Match") == f'"{len(entries)}"':
            return httpx.Response(304)
        body = "".join(reversed(entries))
        rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>S</title>{body}</channel></rss>'
        return httpx.Response(200, text=rss, headers={"ETag": f'"{len(entries)}"'})

    def add(k: int) -> None:
        start = len(entries)
        entries.extend(
            f"<item><guid>g{i}</guid><title>Entry {i}</title>"
            f"<description>&lt;p&gt;{'text ' * 20}&lt;/p&gt;</description>"
            "<pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate></item>"
            for i in range(start, start + k)
        )

    ch = FeedChannel(
        ctx("feed", "https://feeds.test/x", FeedOptions(max_entries=100_000), "", httpx.MockTransport(server))
    )
    return None, ch, add


async def measure(setup: Setup, n: int, cap: int | None = None) -> dict[str, float]:
    fake, ch, add = setup(n)
    add(5)
    first = await ch.poll(None)  # first use: sets the cursor
    add(n)
    before = len(fake.requests) if fake else 0
    got, polls, cursor = 0, 0, first.cursor
    start = time.perf_counter()
    while got < min(n, cap or n) and polls < 100:  # a poll reads at most 10 pages per source; the next goes on
        burst: PollResult = await ch.poll(cursor)
        got, polls, cursor = got + len(burst.messages), polls + 1, burst.cursor
    burst_ms = (time.perf_counter() - start) * 1000
    requests = (len(fake.requests) - before) if fake else polls
    start = time.perf_counter()
    quiet = await ch.poll(cursor)
    quiet_ms = (time.perf_counter() - start) * 1000
    quiet_requests = (len(fake.requests) - before - requests) if fake else 1
    await ch.aclose()
    # Reddit lists at most 1,000 items of any listing: an older backlog is out of reach of any client.
    assert got == min(n, cap or n) and quiet.messages == [], (got, len(quiet.messages))
    done = min(n, cap or n)
    return {
        "polls": polls,
        "burst_ms": burst_ms,
        "per_item_us": burst_ms * 1000 / done,
        "requests": requests,
        "quiet_ms": quiet_ms,
        "quiet_requests": quiet_requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000, help="new items that arrive between two polls")
    args = parser.parse_args()
    print(f"{platform.machine()}, Python {platform.python_version()}; {args.items} new items between two polls\n")
    head = f"{'channel':<10} {'polls':>5} {'catch-up ms':>12} {'µs/item':>8} {'requests':>9}"
    print(f"{head} {'quiet poll ms':>14} {'requests':>9}")
    for name, setup in (("github", github), ("discourse", discourse), ("reddit", reddit), ("feed", feed)):
        r = asyncio.run(measure(setup, args.items, 1000 if name == "reddit" else None))
        row = f"{name:<10} {r['polls']:>5.0f} {r['burst_ms']:>12.1f} {r['per_item_us']:>8.0f} {r['requests']:>9.0f}"
        print(f"{row} {r['quiet_ms']:>14.1f} {r['quiet_requests']:>9.0f}")


if __name__ == "__main__":
    main()
