"""The domain model: messages from channels and the triage state kept about them.

Structs are msgspec ``frozen`` structs: cheap to decode from the store, hashable, and
impossible to mutate behind a reader's back (triage produces new values instead). They
are ``gc=False``: plain data that never forms reference cycles, so the garbage collector
never has to walk the 100k+ of them a large store holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import msgspec


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING = "waiting"
    ESCALATED = "escalated"
    DONE = "done"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return _PRIORITY_RANK[self]

    def next(self) -> Priority:
        order = list(Priority)
        return order[(order.index(self) + 1) % len(order)]


_PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class Kind(StrEnum):
    MENTION = "mention"
    REPLY = "reply"
    DIRECT = "direct"
    COMMENT = "comment"
    POST = "post"
    REVIEW = "review"


class Author(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    id: str
    handle: str
    display_name: str = ""
    url: str = ""


class Message(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One inbound item. ``id`` is ``<channel-name>:<native-id>`` and never changes."""

    id: str
    channel: str
    channel_type: str
    native_id: str
    kind: Kind
    author: Author
    text: str
    # Timezone-aware: checked by msgspec as a stored message is decoded (in C), and for a new
    # one on its way into a store (text.bound_message). A __post_init__ check ran in Python for
    # each of 100k messages decoded at a full load (~15 ms).
    created_at: Annotated[datetime, msgspec.Meta(tz=True)]
    url: str = ""
    thread_id: str = ""
    parent_id: str = ""
    visibility: str = ""
    # Channel-specific facts an adapter needs later (e.g. the account id to mention). Read-only:
    # decoded as a dict, held by the store as core/packed_extras.PackedExtras.
    extra: Mapping[str, str] = msgspec.field(default_factory=dict)
    # Set at ingest (core/enrich.py), derived from the text: VADER's compound score (None: not
    # scored, the text is not English or too short) and the language gate's verdict.
    sentiment: float | None = None
    lang: str = ""


def message_id(channel: str, native_id: str) -> str:
    return f"{channel}:{native_id}"


def utc(dt: datetime) -> datetime:
    """Normalise to timezone-aware UTC (naive values are taken to be UTC)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


class Note(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    id: str
    author: str
    at: datetime
    text: str


class Escalation(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    target: str
    priority: Priority
    note: str
    at: datetime
    by: str


class HistoryEntry(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One line of the append-only audit trail: who did what, when, and what changed."""

    at: datetime
    actor: str
    action: str
    before: dict[str, object]
    after: dict[str, object]
    group: str = ""


class Answered(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The first reply to an item in its thread by someone other than its author
    (core/community.py): ``kind`` "community" (before any staff reply) or "staff"."""

    kind: str
    who: str  # the identity key (core.people.identity) of the one who answered
    handle: str
    name: str
    at: datetime
    message_id: str
    url: str = ""
    confirmed_at: datetime | None = None  # a teammate confirmed the community's answer
    confirmed_by: str = ""


class TriageState(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    id: str
    status: Status = Status.NEW
    tags: tuple[str, ...] = ()
    assignee: str | None = None
    priority: Priority = Priority.NORMAL
    snoozed_until: datetime | None = None
    notes: tuple[Note, ...] = ()
    first_response_at: datetime | None = None
    escalation: Escalation | None = None
    history: tuple[HistoryEntry, ...] = ()
    rev: int = 0
    # Who answered the item first in its thread, set at ingest (core/community.py).
    answered: Answered | None = None

    def is_snoozed(self, now: datetime) -> bool:
        return self.snoozed_until is not None and self.snoozed_until > now

    def needs_attention(self, now: datetime) -> bool:
        return self.status in (Status.NEW, Status.OPEN, Status.ESCALATED) and not self.is_snoozed(now)


class Archived(msgspec.Struct, frozen=True, kw_only=True):
    """An item moved out of the live store: its message and triage state, kept together."""

    id: str
    message: Message
    triage: TriageState
    archived_at: datetime
