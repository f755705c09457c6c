"""The durable outbox: every reply and escalation is on disk before anything is sent.

Life of an item: ``pending`` → claimed (``sending``, with a lease) → ``sent``, or back to
``pending`` with a backoff, or ``failed`` for good; a ``pending`` item never tried may be
``withdrawn`` instead (a macro's undo), and is then never sent. Claiming happens under the store
lock, so two instances never send the same item at once. An item whose claimant died
mid-send (lease expired) is retried with the *same* idempotency key, which the channel
uses to make the retry a no-op on the server side: a reply is never posted twice.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from cminbox.core.clock import Clock, system_clock
from cminbox.core.failpoints import failpoint
from cminbox.core.instance import INSTANCE_ID
from cminbox.core.kept import MISSING_OUTBOX, Kept, MissingFileError
from cminbox.core.locking import FileLock
from cminbox.core.outbox_types import (
    LEASE,
    MARK_READ,
    MAX_ATTEMPTS,
    Backoff,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    is_orphaned,
    new_items,
)
from cminbox.core.redact import redactor
from cminbox.core.segment import Segment

__all__ = [
    "LEASE",
    "MARK_READ",
    "MAX_ATTEMPTS",
    "Backoff",
    "Outbox",
    "OutboxItem",
    "OutboxKind",
    "OutboxStatus",
    "is_orphaned",
]


class Outbox:
    """The TinyDB backend's outbox (``outbox.json``). Built by the store (``store.outbox``), which
    hands it its transaction (the store lock, with every file reloaded and the event log checked)
    and the way to record ``sent`` events in the same step; standalone, it locks ``lock`` only."""

    def __init__(
        self,
        data_dir: Path,
        lock: FileLock,
        *,
        clock: Clock = system_clock,
        durable: bool = True,
        transaction: Callable[[], AbstractContextManager[object]] | None = None,
        plain_transaction: Callable[[], AbstractContextManager[object]] | None = None,
        record_sent: Callable[[OutboxItem, dict[str, str]], None] | None = None,
    ) -> None:
        self.lock = lock
        self._txn = transaction or (lambda: lock)
        # For the steps that record no event (enqueue, list, claim): the store skips its event
        # check for them (Store.transaction(events=False)).
        self._plain_txn = plain_transaction or self._txn
        self._record_sent = record_sent
        self.clock = clock
        self.backoff = Backoff()
        self.lease = LEASE  # how long a claim runs (this host's clock: one host shares this folder)
        self._seg: Segment[dict[str, Any]] = Segment(data_dir / "outbox.json", "outbox", durable=durable)
        self._kept = Kept(data_dir)  # once written, a missing outbox.json is a loss, not an empty outbox
        self.worker_id = INSTANCE_ID

    def _refresh(self) -> None:
        """The file again, if another process changed it; a missing one that was written before
        is refused (its queued replies are gone: said, never read as "nothing pending")."""
        self._seg.refresh()
        if not len(self._seg) and not self._seg.path.exists() and self._kept.is_noted(self._seg.path):
            raise MissingFileError(self._seg.path, MISSING_OUTBOX)

    def _written(self) -> None:
        self._kept.note([self._seg.path])  # after the write (core/kept.py)

    def _load(self, *, in_flight: bool = False, item_id: str | None = None) -> list[tuple[int, OutboxItem]]:
        """Decode items, filtering on the raw document first: the sent history only grows, and
        the delivery loop looks for in-flight items every two seconds."""
        self._refresh()
        return [
            (doc_id, msgspec.convert(doc, OutboxItem, strict=False))
            for doc_id, doc in self._seg.items()
            if (not in_flight or doc.get("status") in (OutboxStatus.PENDING, OutboxStatus.SENDING))
            and (item_id is None or doc.get("id") == item_id)
        ]

    def _save(self, doc_id: int, item: OutboxItem) -> None:
        self._seg.replace_many({doc_id: msgspec.to_builtins(item)})

    def enqueue(
        self, kind: OutboxKind, message_id: str, destination: str, payload: dict[str, Any], actor: str
    ) -> OutboxItem:
        """Persist a new item (fsynced) and return it. Once this returns, the item cannot be lost."""
        [item] = self.enqueue_many(kind, [(message_id, destination, payload)], actor)
        return item

    def enqueue_many(
        self, kind: OutboxKind, targets: list[tuple[str, str, dict[str, Any]]], actor: str
    ) -> list[OutboxItem]:
        """Persist several items (message id, destination, payload) in one write and one fsync:
        a bulk action on 300 items must not cost 300 synchronous disk flushes."""
        items = new_items(kind, targets, actor, self.clock())
        if items:
            with self._plain_txn():
                self._refresh()
                self._seg.insert_many([msgspec.to_builtins(item) for item in items])
                self._written()
            failpoint("outbox.after_enqueue")
        return items

    def known(self, ids: Collection[str]) -> set[str]:
        """Which of ``ids`` are stored (any status)."""
        wanted = set(ids)
        if not wanted:
            return set()
        with self._plain_txn():
            self._refresh()
            return {str(doc.get("id")) for _, doc in self._seg.items() if doc.get("id") in wanted}

    def add_new(self, items: list[OutboxItem]) -> list[OutboxItem]:
        """Store the items whose id is not stored yet (a rule's auto-reply: its id repeats on
        purpose), in one write; the store calls it inside its own step. Returns those stored."""
        if not items:
            return []
        with self._plain_txn():
            self._refresh()
            have = {doc.get("id") for _, doc in self._seg.items()}
            fresh = []
            for item in items:
                if item.id not in have:
                    fresh.append(item)
                    have.add(item.id)
            if fresh:
                self._seg.insert_many([msgspec.to_builtins(item) for item in fresh])
                self._written()
        return fresh

    def items(self, status: OutboxStatus | None = None) -> list[OutboxItem]:
        with self._plain_txn():
            rows = [item for _, item in self._load()]
        return [i for i in rows if status is None or i.status == status]

    def claim_due(self, limit: int = 20) -> list[OutboxItem]:
        """Claim items that are due (or whose claimant died) for this worker."""
        now = self.clock()
        claimed: list[OutboxItem] = []
        with self._plain_txn():
            for doc_id, item in self._load(in_flight=True):
                if len(claimed) >= limit:
                    break
                due = item.status == OutboxStatus.PENDING and (
                    item.next_attempt_at is None or item.next_attempt_at <= now
                )
                orphaned = is_orphaned(item, now)
                if not (due or orphaned):
                    continue
                item = msgspec.structs.replace(
                    item,
                    status=OutboxStatus.SENDING,
                    attempts=item.attempts + 1,
                    lease_until=now + self.lease,
                    claimed_by=self.worker_id,
                )
                self._save(doc_id, item)
                claimed.append(item)
        return claimed

    def _update(
        self, item_id: str, *, sent: dict[str, str] | None = None, mine: bool = False, **changes: Any
    ) -> OutboxItem:
        """``mine``: only while this worker's claim is on it. A sent item is never recorded sent again."""
        with self._txn():
            for doc_id, item in self._load(item_id=item_id):
                if (sent is not None and item.status == OutboxStatus.SENT) or (
                    mine and (item.status != OutboxStatus.SENDING or item.claimed_by != self.worker_id)
                ):
                    return item  # as the PostgreSQL outbox does (pg/outbox.py): left as it is
                if sent is not None and self._record_sent is not None:
                    # The event first: if the process dies before the item is saved as sent, the
                    # store drops the event at its next step (an event never outlives its change).
                    self._record_sent(item, sent)
                if item.id == item_id:
                    new = msgspec.structs.replace(item, **changes)
                    self._save(doc_id, new)
                    return new
        raise KeyError(item_id)

    def mark_sent(self, item: OutboxItem, result: dict[str, str]) -> OutboxItem:
        return self._update(
            item.id,
            sent=result,
            status=OutboxStatus.SENT,
            sent_at=self.clock(),
            result=result,
            lease_until=None,
            last_error="",
        )

    def mark_failed(
        self, item: OutboxItem, error: str, *, permanent: bool = False, retry_at: datetime | None = None
    ) -> OutboxItem:
        error = redactor.redact(error)  # the store boundary: an error quoting a server never keeps a secret
        if permanent or item.attempts >= MAX_ATTEMPTS:
            return self._update(item.id, mine=True, status=OutboxStatus.FAILED, last_error=error, lease_until=None)
        when = retry_at or self.clock() + self.backoff.delay(item.attempts)
        return self._update(
            item.id, mine=True, status=OutboxStatus.PENDING, last_error=error, next_attempt_at=when, lease_until=None
        )

    def retry(self, item_id: str) -> OutboxItem:
        """Put a failed item back in the queue (the user asked for it)."""
        return self._update(item_id, status=OutboxStatus.PENDING, next_attempt_at=None, attempts=0)

    def import_items(self, items: list[OutboxItem]) -> int:
        """Moving a store (cminbox.core.portable_api): add unknown items as they are; a known item
        keeps its record, except that a ``sent`` copy marks it sent (never sent twice)."""
        changed = 0
        with self._txn():
            known = {item.id: (doc_id, item) for doc_id, item in self._load()}
            new: list[OutboxItem] = []
            for item in items:
                if item.id not in known:
                    new.append(item)
                    known[item.id] = (-1, item)
                elif item.status == OutboxStatus.SENT and known[item.id][1].status != OutboxStatus.SENT:
                    self._save(known[item.id][0], item)
                    changed += 1
            if new:
                self._seg.insert_many([msgspec.to_builtins(item) for item in new])
                self._written()
        return changed + len(new)

    def withdraw(self, item_ids: Collection[str], reason: str) -> list[str]:
        wanted = set(item_ids)
        if not wanted:
            return []
        done: list[str] = []
        with self._plain_txn():  # the lock claim_due takes: withdrawn or claimed, never both
            for doc_id, item in self._load(in_flight=True):
                if item.id in wanted and item.status == OutboxStatus.PENDING and item.attempts == 0:
                    self._save(doc_id, msgspec.structs.replace(item, status=OutboxStatus.WITHDRAWN, last_error=reason))
                    done.append(item.id)
        return done

    def get(self, item_id: str) -> OutboxItem | None:
        return next((i for i in self.items() if i.id == item_id or i.id.startswith(item_id)), None)
