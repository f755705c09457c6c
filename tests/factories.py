"""Test data builders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cminbox.core.models import Author, Kind, Message


def make_message(n: int, channel: str = "masto", text: str | None = None, at: datetime | None = None) -> Message:
    created = at or datetime(2026, 11, 27, 12, 0, tzinfo=UTC) - timedelta(minutes=n)
    return Message(
        id=f"{channel}:{n}",
        channel=channel,
        channel_type="mastodon",
        native_id=str(n),
        kind=Kind.MENTION,
        author=Author(id=f"a{n % 7}", handle=f"@user{n % 7}@example.social", display_name=f"User {n % 7}"),
        text=text if text is not None else f"message number {n}",
        created_at=created,
        url=f"https://example.social/@user/{n}",
        thread_id=f"{channel}:{n}",
    )


# Text that terminals measure differently (issue #11): rows holding it must stay aligned.
WIDTH_TRAPS = [
    "🎉🎉🎉 markdown export 🚀🔥✨ 👩‍💻 🏳️‍🌈",  # the demo's own row
    "family 👨‍👩‍👧‍👦 and 👩‍❤️‍💋‍👨 and 🏴‍☠️",  # ZWJ families, a pirate flag
    "flags 🇩🇪🇺🇸🇯🇵 and a lone 🇫",  # regional indicators
    "keycaps 1️⃣ #️⃣ *️⃣",
    "VS16 ❤️ ☺️ ✌️ ⚠️ ☀️ ✈️ and VS15 ☺︎",
    "skin tones 👍🏽 👋🏿 🧑🏽‍🚀 and a bare 🏻",
    "CJK 中文字 こんにちは 한국어 and fullwidth \uff21\uff22\uff23",
    "combining é ñ and Hangul jamo 한",
]
