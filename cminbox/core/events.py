"""The event log's records: one append-only line per thing that happened to an item.

An event is written in the same atomic step as what it records (the backend's guarantee,
see :class:`~cminbox.core.store_api.EventLog`) and is never changed afterwards. Positions
increase monotonically in the order events were committed; they may have gaps (an event
whose step did not complete is not kept), so "since position N" is the way to follow
the log, never "the N-th event".
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import msgspec


class EventKind(StrEnum):
    ARRIVED = "arrived"  # a new message was stored
    ACTION = "action"  # a triage action (tag, status, assign, note, snooze, escalate, ...)
    UNDO = "undo"  # the undo of an earlier action group
    SENT = "sent"  # an outbox item was delivered: a reply, an escalation, a moderation action
    ARCHIVED = "archived"  # the item left the live store for the archive
    RESTORED = "restored"  # the item came back from the archive
    EDITED = "edited"  # a stored message came again with new content (its author edited it)
    PERSON = "person"  # a person record was written or removed (core/people.py): message_id is its id


class Event(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """``before``/``after``: the fields an action changed (JSON-ready values); for ``edited``,
    the content fields that changed (previews, cminbox.core.edits) and the new content's
    digest; for ``sent``, ``after`` is the delivery's result (native id, url); for ``person``,
    the record's fields that changed (``after`` empty: the record was removed). ``group`` ties
    the events of one step together (an action group, which undo refers to; an outbox item id
    for ``sent``)."""

    pos: int
    kind: EventKind
    at: datetime
    actor: str
    instance: str
    message_id: str
    label: str = ""
    before: dict[str, object] = msgspec.field(default_factory=dict)
    after: dict[str, object] = msgspec.field(default_factory=dict)
    group: str = ""
    rev: int = 0  # actions, undos and edits (TinyDB): the item's triage revision after this event;
    # person (TinyDB): the record's revision after it (0: removed)
