"""Reply markers for APIs without an idempotency key (GitHub, Discourse).

A reply's markdown ends with an HTML comment naming its outbox item. Both sites drop HTML
comments when rendering, so readers never see it; a retry searches the account's own
recent replies for it and finds the one already posted instead of posting again.
"""

from __future__ import annotations

from cminbox.core.channel import OutgoingReply

# Room for an outbox item's key ("cminbox-" and 16 hex digits today), with a margin: the length
# checked before queueing, when the key does not exist yet, is never below what is sent.
KEY_ROOM = 40


def marker(key: str) -> str:
    return f"<!-- cminbox:{key} -->"


def with_marker(text: str, key: str) -> str:
    return f"{text}\n\n{marker(key)}"


def marked_reply(text: str, limit: int | None) -> OutgoingReply:
    """A reply posted with its marker: the limit counts the marker too."""
    overhead = len(with_marker("", "k" * KEY_ROOM))
    return OutgoingReply(text=text, length=len(text) + overhead, limit=limit, added="a hidden retry marker")
