"""Two people answering the same item: what was replied since a composer opened.

When the composer opens, :func:`mark` notes the reply items the outbox already holds for the
item; before a reply is queued, :func:`replies_since` lists the replies queued or sent for it
since (by a teammate through cminbox, or by this person on another instance), newest first,
and the caller asks before sending its own (the TUI's dialog, the CLI's ``reply`` without
``--force``). The outbox keeps every reply it queued (sent ones included), so it is the
record of replies made through cminbox.

Replies written outside cminbox (on the channel's own site or app) reach the store with the
next poll, as messages in the item's conversation. Those written by one of the team's own
accounts (``staff`` in the channel's config) are official answers too: :func:`answers_since`
reports the ones that arrived since the mark, beside the outbox's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import msgspec

from cminbox.core.config import ChannelConfig
from cminbox.core.models import Message
from cminbox.core.outbox_types import OutboxItem, OutboxKind, OutboxStatus
from cminbox.core.sending_api import OutboxStore
from cminbox.core.text import one_line
from cminbox.core.when import age


class ReplyMark(msgspec.Struct, frozen=True):
    """What was known of an item's replies when its composer opened."""

    message_id: str
    known: frozenset[str]  # ids of the reply items already in the outbox
    official: frozenset[str] = frozenset()  # ids of the staff accounts' replies in the thread


class Answer(msgspec.Struct, frozen=True):
    """A reply to the item made since the mark: through cminbox, or on the channel itself."""

    who: str  # the teammate (cminbox) or the staff account's handle (on the channel)
    when: datetime
    text: str
    sent: bool  # False: queued in the outbox, not sent yet
    channel: str = ""  # set for a reply seen on the channel: where it was written


Staff = Mapping[str, frozenset[str]]  # channel name -> its staff handles, normalised


def _handle(handle: str) -> str:
    return handle.strip().lstrip("@").casefold()


def staff_handles(channels: Iterable[ChannelConfig]) -> Staff:
    """Each channel's ``staff`` accounts, compared without case or a leading "@"."""
    return {ch.name: frozenset(_handle(h) for h in ch.staff) for ch in channels if ch.staff}


def official_replies(thread: Iterable[Message], item: Message, staff: Staff) -> list[Message]:
    """The messages of ``item``'s conversation written by the team's own accounts after it."""
    mine = staff.get(item.channel, frozenset())
    return [
        m
        for m in thread
        if m.id != item.id
        and m.channel == item.channel
        and m.created_at >= item.created_at
        and _handle(m.author.handle) in mine
    ]


#: Outbox replies that are no reply: failed for good, or withdrawn before any attempt (an undo).
NOT_REPLIES = frozenset({OutboxStatus.FAILED, OutboxStatus.WITHDRAWN})


def _replies(outbox: OutboxStore, message_id: str) -> list[OutboxItem]:
    return [
        item
        for item in outbox.items()
        if item.kind == OutboxKind.REPLY and item.message_id == message_id and item.status not in NOT_REPLIES
    ]


#: The command line's ``reply --text`` opens no composer: it asks about teammates' replies of
#: this last stretch of time (one answering while you read the item and typed the command).
RECENT = timedelta(minutes=10)


def mark(
    outbox: OutboxStore, message_id: str, *, before: datetime | None = None, official: Iterable[Message] = ()
) -> ReplyMark:
    """The replies known now (``before``: only those queued or written before that time);
    ``official``: the staff replies in the item's conversation (:func:`official_replies`)."""
    known = [item for item in _replies(outbox, message_id) if before is None or item.created_at < before]
    seen = [m for m in official if before is None or m.created_at < before]
    return ReplyMark(message_id, frozenset(item.id for item in known), frozenset(m.id for m in seen))


def replies_since(outbox: OutboxStore, since: ReplyMark, *, not_by: str = "") -> list[OutboxItem]:
    """Replies to the item queued or sent since ``since`` (failed ones are not replies), newest
    first; ``not_by``: leave out this person's own (those they know of)."""
    new = [
        item
        for item in _replies(outbox, since.message_id)
        if item.id not in since.known and (not not_by or item.actor != not_by)
    ]
    return sorted(new, key=lambda item: item.created_at, reverse=True)


def answers_since(
    outbox: OutboxStore, since: ReplyMark, *, not_by: str = "", official: Iterable[Message] = ()
) -> list[Answer]:
    """Every reply since the mark, newest first: the outbox's (as :func:`replies_since`) and
    the staff replies seen on the channel that were not in the conversation at the mark."""
    out = [
        Answer(
            who=item.actor,
            when=item.sent_at or item.created_at,
            text=str(item.payload.get("text", "")),
            sent=item.status == OutboxStatus.SENT,
        )
        for item in replies_since(outbox, since, not_by=not_by)
    ]
    out += [
        Answer(who=m.author.handle, when=m.created_at, text=m.text, sent=True, channel=m.channel)
        for m in official
        if m.id not in since.official
    ]
    return sorted(out, key=lambda a: a.when, reverse=True)


def describe_answer(answer: Answer, now: datetime, width: int = 200) -> str:
    """``bob replied 2m ago: "…"``; ``@team@example.social replied on masto 5m ago: "…"``."""
    verb = "replied" if answer.sent else "queued a reply"
    where = f" on {answer.channel}" if answer.channel else ""
    when = "just now" if (now - answer.when).total_seconds() < 60 else f"{age(answer.when, now)} ago"
    # A staff reply came from the server: made inert (no escapes, one line) like all its text.
    return f'{one_line(answer.who, 60)} {verb}{where} {when}: "{one_line(answer.text, width)}"'
