"""The sending side of the store interface: the durable outbox and the single-poller lease.

Exactly one instance of a team polls the channels and sends the outbox: the holder of the
poller lease. Every instance may enqueue; only the lease holder claims and delivers. The
contracts below are what :mod:`cminbox.core.outbox` (TinyDB, under the store lock) and a
database backend (``FOR UPDATE SKIP LOCKED``, a lease row) both meet.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from cminbox.core.outbox_types import OutboxItem, OutboxKind, OutboxStatus


class OutboxStore(Protocol):
    worker_id: str  # the instance id stamped on the items this handle claims
    lease: timedelta  # how long a claim runs (outbox_types.LEASE; tests shorten it)

    def enqueue(
        self, kind: OutboxKind, message_id: str, destination: str, payload: dict[str, Any], actor: str
    ) -> OutboxItem:
        """Persist one new ``pending`` item. Durable on return: it will be sent (or fail visibly)."""
        ...

    def enqueue_many(
        self, kind: OutboxKind, targets: list[tuple[str, str, dict[str, Any]]], actor: str
    ) -> list[OutboxItem]:
        """Persist several items (message id, destination, payload) in one atomic, durable
        step: a bulk action must not cost one synchronous flush per item."""
        ...

    def items(self, status: OutboxStatus | None = None) -> list[OutboxItem]:
        """Every item (of ``status``), oldest first (committed view)."""
        ...

    def claim_due(self, limit: int = 20) -> list[OutboxItem]:
        """Claim up to ``limit`` items that are due (``pending`` whose retry time has come) or
        orphaned (``sending`` whose lease expired or whose claimant is known dead): each becomes
        ``sending`` with ``attempts + 1``, ``claimed_by = worker_id`` and a lease
        (:attr:`lease`). Atomic: no two claimants ever get the same item while its lease
        runs. A re-claimed item keeps its id, hence its idempotency key.

        Known dead: a process on this host that is gone; on a database, also an instance whose
        poller lease the claiming instance took over after the claim. A lease's expiry is
        judged by one clock for all claimants (the database's; TinyDB: its one host's)."""
        ...

    def mark_sent(self, item: OutboxItem, result: dict[str, str]) -> OutboxItem:
        """Record the delivery (``sent``, the result) atomically with its ``sent`` event. Durable.
        An item already sent is returned as it is: one ``sent`` event per item, whoever reports."""
        ...

    def mark_failed(
        self, item: OutboxItem, error: str, *, permanent: bool = False, retry_at: datetime | None = None
    ) -> OutboxItem:
        """Back to ``pending`` with a backoff (or at ``retry_at``), or ``failed`` for good when
        ``permanent`` or out of attempts. The error is redacted before it is stored. Durable.
        Only while the item is still this worker's claim; otherwise it is returned as it is
        (another instance took it over and may be sending it)."""
        ...

    def retry(self, item_id: str) -> OutboxItem:
        """Put an item back to ``pending`` now, attempts reset (the user asked). KeyError if unknown."""
        ...

    def get(self, item_id: str) -> OutboxItem | None:
        """An item by id or id prefix."""
        ...

    def withdraw(self, item_ids: Collection[str], reason: str) -> list[str]:
        """Take back the items of ``item_ids`` that no sender ever tried (``pending`` with no
        attempt): each becomes ``withdrawn`` with ``reason`` as its last error, and is never
        claimed. Returns the ids withdrawn. Atomic against :meth:`claim_due`: an item is either
        withdrawn or claimed, never both; one tried before (it may have reached the server,
        its answer lost) is left to be sent. Durable."""
        ...


@dataclass(frozen=True)
class LeaseHolder:
    instance: str  # host:pid:random of the holder ("" when it did not say)
    pid: int  # the holder's process id when on this host and known, else 0
    # Seconds until the lease expires unless renewed (a passive instance tries again then);
    # None when it never expires under a live holder (an flock).
    expires_in: float | None = field(default=None, compare=False)


class PollerLease(Protocol):
    """The team's single-poller lease, as seen by one instance.

    Semantics a backend must meet: at most one instance holds it at a time; a holder that
    dies (or, for a database, stops renewing within the lease time or loses its connection)
    loses it, and another instance's :meth:`acquire` then succeeds. On TinyDB the lease is an
    ``flock`` on ``poller.lock`` (the kernel drops it when its holder dies, so it never expires
    while the process lives) with the holder's pid and instance id written in the file."""

    def acquire(self) -> bool:
        """Take the lease if it is free; never blocks. True if this instance now holds it
        (also when it already did)."""
        ...

    def renew(self) -> bool:
        """The holder's heartbeat (call at least every few seconds while holding): False when
        the lease was lost, and then the holder must stop polling and sending."""
        ...

    def release(self) -> None:
        """Give the lease up (idempotent); another instance may take it at once."""
        ...

    @property
    def held(self) -> bool:
        """Whether this handle holds the lease."""
        ...

    def holder(self) -> LeaseHolder | None:
        """Who holds it, as another instance sees it: None when nobody does."""
        ...
