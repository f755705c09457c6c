"""Two people answering the same item: what was replied since a composer opened.

When the composer opens, :func:`mark` notes the reply items the outbox already holds for the
item; before a reply is queued, :func:`replies_since` lists the replies queued or sent for it
since (by a teammate through cminbox, or by this person on another instance), newest first,
and the caller asks before sending its own (the TUI's dialog, the CLI's ``reply`` without
``--force``). The outbox keeps every reply it queued (sent ones included), so it is the
record. Replies written outside cminbox (on the channel's own site) are not detected: the
store does not know which channel account is the team's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cminbox.core.outbox_types import OutboxItem, OutboxKind, OutboxStatus
from cminbox.core.sending_api import OutboxStore
from cminbox.core.when import age


@dataclass(frozen=True)
class ReplyMark:
    """What was known of an item's replies when its composer opened."""

    message_id: str
    known: frozenset[str]  # ids of the reply items already in the outbox


def _replies(outbox: OutboxStore, message_id: str) -> list[OutboxItem]:
    return [
        item
        for item in outbox.items()
        if item.kind == OutboxKind.REPLY and item.message_id == message_id and item.status != OutboxStatus.FAILED
    ]


#: The command line's ``reply --text`` opens no composer: it asks about teammates' replies of
#: this last stretch of time (one answering while you read the item and typed the command).
RECENT = timedelta(minutes=10)


def mark(outbox: OutboxStore, message_id: str, *, before: datetime | None = None) -> ReplyMark:
    """The replies known now (``before``: only those queued before that time)."""
    known = [item for item in _replies(outbox, message_id) if before is None or item.created_at < before]
    return ReplyMark(message_id, frozenset(item.id for item in known))


def replies_since(outbox: OutboxStore, since: ReplyMark, *, not_by: str = "") -> list[OutboxItem]:
    """Replies to the item queued or sent since ``since`` (failed ones are not replies), newest
    first; ``not_by``: leave out this person's own (those they know of)."""
    new = [
        item
        for item in _replies(outbox, since.message_id)
        if item.id not in since.known and (not not_by or item.actor != not_by)
    ]
    return sorted(new, key=lambda item: item.created_at, reverse=True)


def describe(item: OutboxItem, now: datetime, width: int = 200) -> str:
    """``bob replied 2m ago: "Thanks, fixed in 1.2"`` (``queued a reply`` while it is not sent yet)."""
    verb = "replied" if item.status == OutboxStatus.SENT else "queued a reply"
    then = item.sent_at or item.created_at
    when = "just now" if (now - then).total_seconds() < 60 else f"{age(then, now)} ago"
    text = " ".join(str(item.payload.get("text", "")).split())
    if len(text) > width:
        text = text[: width - 1] + "…"
    return f'{item.actor} {verb} {when}: "{text}"'
