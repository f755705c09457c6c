"""Mastodon API bodies shaped as the official documentation shows them."""

from __future__ import annotations

from typing import Any

ME = {
    "id": "1",
    "username": "community",
    "acct": "community",
    "display_name": "Community",
    "url": "https://masto.example/@community",
}


def account(n: int) -> dict[str, Any]:
    return {
        "id": str(100 + n),
        "username": f"user{n}",
        "acct": f"user{n}@other.example",
        "display_name": f"User {n}",
        "url": f"https://other.example/@user{n}",
    }


def status(
    n: int,
    *,
    content: str | None = None,
    visibility: str = "public",
    in_reply_to: str | None = None,
    to_me: bool = False,
) -> dict[str, Any]:
    return {
        "id": str(1000 + n),
        "created_at": f"2026-11-27T10:{n % 60:02d}:00.000Z",
        "visibility": visibility,
        "content": content
        if content is not None
        else f'<p><span class="h-card"><a href="https://masto.example/@community" class="u-url mention">'
        f"@<span>community</span></a></span> hello {n}</p>",
        "spoiler_text": "",
        "url": f"https://other.example/@user{n}/{1000 + n}",
        "uri": f"https://other.example/users/user{n}/statuses/{1000 + n}",
        "in_reply_to_id": in_reply_to,
        "in_reply_to_account_id": "1" if to_me else None,
        "account": account(n),
        "mentions": [{"id": "1", "username": "community", "acct": "community"}],
    }


def notification(n: int, **kw: Any) -> dict[str, Any]:
    return {
        "id": str(5000 + n),
        "type": "mention",
        "created_at": "2026-11-27T10:00:00.000Z",
        "account": account(n),
        "status": status(n, **kw),
    }
