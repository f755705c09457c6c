"""The outbox's data: items, their kinds and states, the retry backoff, and when an item's
sender is gone. Shared by every backend's outbox (cminbox.core.sending_api.OutboxStore)."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import msgspec

from cminbox.core.random_ids import token_hex

MAX_ATTEMPTS = 8
MARK_READ = "mark_read"  # the ACTION that marks an item read on its server (e.g. a GitHub notification)
LEASE = timedelta(seconds=120)


class OutboxKind(StrEnum):
    REPLY = "reply"
    ESCALATION = "escalation"
    # A channel-side action: moderation (lock, hide, remove...) or marking a notification read.
    ACTION = "action"
    # A guideline follow-up to an item's author (a private message, else a reply): its own item,
    # so it is sent exactly once, and only after the moderation it follows (payload "after").
    FOLLOW_UP = "follow_up"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # Taken back before any attempt to send it (a macro's undo): never sent, needs nothing.
    WITHDRAWN = "withdrawn"


class OutboxItem(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kind: OutboxKind
    message_id: str
    destination: str  # channel name for replies, target name for escalations
    payload: dict[str, Any]
    actor: str
    created_at: datetime
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_until: datetime | None = None
    claimed_by: str = ""
    sent_at: datetime | None = None
    result: dict[str, str] = msgspec.field(default_factory=dict)
    last_error: str = ""

    @property
    def idempotency_key(self) -> str:
        return f"cminbox-{self.id}"


class Backoff(msgspec.Struct, frozen=True):
    base: float = 5.0
    cap: float = 900.0

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.cap, self.base * 2 ** max(0, attempts - 1)))


def claimant_dead(claimed_by: str) -> bool:
    """True if the claimant was a process on this host that no longer exists."""
    host, _, rest = claimed_by.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def is_orphaned(item: OutboxItem, now: datetime) -> bool:
    """A ``sending`` item whose sender is gone (lease expired, or a dead process on this host)."""
    return item.status == OutboxStatus.SENDING and (
        (item.lease_until is not None and item.lease_until <= now) or claimant_dead(item.claimed_by)
    )


def new_items(
    kind: OutboxKind, targets: list[tuple[str, str, dict[str, Any]]], actor: str, now: datetime
) -> list[OutboxItem]:
    """Fresh queued items, one per (message id, destination, payload): each backend persists
    them its own way, but every item starts the same (a new random id is its idempotency key)."""
    return [
        OutboxItem(
            id=token_hex(8),
            kind=kind,
            message_id=message_id,
            destination=destination,
            payload=payload,
            actor=actor,
            created_at=now,
        )
        for message_id, destination, payload in targets
    ]
