"""Realistic synthetic data for the benchmarks (seeded: the same size gives the same store)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cminbox.core.models import Author, Kind, Message
from cminbox.core.store import Store

WORDS = [
    "sync",
    "export",
    "tags",
    "search",
    "crash",
    "login",
    "thanks",
    "great",
    "broken",
    "slow",
    "app",
    "notes",
    "release",
    "beta",
    "android",
    "ios",
    "desktop",
    "markdown",
    "backup",
    "restore",
    "share",
    "link",
    "team",
    "pricing",
    "feature",
    "request",
    "bug",
    "report",
    "please",
]


def make(n: int, rng: random.Random, t0: datetime, channel: str = "bench") -> Message:
    """One ~1 KB message, like a real mention with its metadata."""
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60)))
    user = n % 500
    return Message(
        id=f"{channel}:{n}",
        channel=channel,
        channel_type="mastodon",
        native_id=str(n),
        kind=Kind.MENTION,
        author=Author(
            id=str(user),
            handle=f"@user{user}@example.social",
            display_name=f"User number {user}",
            url=f"https://example.social/@u{user}",
        ),
        text=text,
        created_at=t0 - timedelta(minutes=n * 3),
        url=f"https://example.social/@u/{n}",
        thread_id=f"{channel}:{n - n % 3}",
        visibility="public",
        extra={"account_id": str(user), "acct": f"user{user}@example.social"},
    )


def build_store(folder: Path, size: int, channel: str = "bench") -> Path:
    """Create (once) a store of ``size`` messages in ``folder``; reuse it if it is already there."""
    marker = folder / f".built-{size}"
    if marker.exists():
        return folder
    rng = random.Random(size)
    t0 = datetime(2026, 11, 27, tzinfo=UTC)
    store = Store(folder, durable=False)
    batch = 5000
    for start in range(0, size, batch):
        store.upsert_messages([make(i, rng, t0, channel) for i in range(start, min(size, start + batch))])
    marker.touch()
    return folder
