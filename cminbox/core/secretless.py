"""Messages and cursors from a server with every secret this process holds masked.

Error texts were redacted before they were shown or stored (core/redact.py), but what a server
answers *successfully* went into the store as it came: a hostile or compromised server that
echoed the token in a post's text, an author's name or a link had it stored in plain JSON and
printed by `cminbox show`, and a Matrix ``next_batch`` holding it was kept as the channel's
cursor (hostile-server review of 2026-12-02). So polled and fetched messages pass through
:func:`secretless`, and a cursor holding a secret is refused rather than kept.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from cminbox.core.models import Message
from cminbox.core.redact import redactor
from cminbox.core.text import inert_message

_FIELDS = ("id", "native_id", "text", "url", "thread_id", "parent_id")
_AUTHOR_FIELDS = ("id", "handle", "display_name", "url")


def secretless(message: Message) -> Message:
    """``message`` with every known secret (in any form a server could echo) masked in each of
    its strings; the same object when it holds none (one check over all its strings)."""
    redact = redactor.redact
    author = message.author
    strings = [
        *(getattr(message, name) for name in _FIELDS),
        *(getattr(author, name) for name in _AUTHOR_FIELDS),
        *message.extra.keys(),
        *message.extra.values(),
    ]
    # A separator no secret holds, so one found across two strings is not one (JSON-escaped
    # forms cannot hold a raw NUL; the rest are printable).
    joined = "\x00".join(s if isinstance(s, str) else "" for s in strings)
    if redact(joined) == joined:
        return message

    def mask(value: Any) -> Any:  # (a value that is not a str is inert_message's to drop)
        return redact(value) if isinstance(value, str) else value

    masked_author = msgspec.structs.replace(author, **{name: mask(getattr(author, name)) for name in _AUTHOR_FIELDS})
    return msgspec.structs.replace(
        message,
        author=masked_author,
        extra={mask(key): mask(value) for key, value in message.extra.items()},
        **{name: mask(getattr(message, name)) for name in _FIELDS},
    )


def fit_to_show(fetched: list[Message]) -> list[Message]:
    """Messages a channel fetched to show, not to store (a live thread): what storing does to
    them on the way in (secrets masked, text made inert) done here instead, in one place for the
    TUI's thread view and `cminbox show --fetch`."""
    return [inert_message(secretless(m)) for m in fetched]


def holds_secret(cursor: Any) -> bool:
    """Does a channel's cursor (what the next poll starts from, as stored) hold a known secret?"""
    text = json.dumps(cursor, default=str)
    return redactor.redact(text) != text
