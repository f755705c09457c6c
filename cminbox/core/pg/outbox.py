"""The outbox on PostgreSQL: the TinyDB outbox's items and lifecycle, claimed across hosts.

``claim_due`` takes due items (and orphaned ones) with ``FOR UPDATE SKIP LOCKED``: two
instances claiming at once each get different rows and never wait on each other. A claim
sets ``claimed_by``, ``claimed_at`` and ``claimed_until``, all by the **server's clock**
(``clock_timestamp()``), as the poller lease does (lease.py): hosts whose clocks disagree
still agree on when a claim runs out, so a host ten minutes ahead does not take a live
claim, nor does one ten minutes behind wait ten minutes more.

An item in flight is orphaned, and claimed again by the next instance that asks:

* when its claim's lease (``LEASE``, 120 s) ran out;
* when its claimant was a process on this host that is gone (its pid, checked here);
* when its claimant is known dead on any host: the instance asking holds the poller lease
  and took it *after* the claim was made, from someone else. Only the lease holder claims
  and sends (sending_api.py), so the claimant lost the lease, which happens only when it
  stopped renewing it for the lease's 15 s (dead, or cut off); and an engine that loses the
  lease sends nothing more of its batch (dispatch.py). Its claims are then taken over at
  once instead of up to 120 s later. A claim the asking instance made itself in an earlier
  tenure is not one of these: it is alive, so those run their lease out.

A claimed-again item is retried with the *same* idempotency key (``cminbox-<id>``,
:attr:`OutboxItem.idempotency_key`), which the channel uses to make the retry a no-op on the
server: a reply is sent once across hosts and crashes, even when the old claimant was alive
after all and its send went out too. ``mark_sent`` records one ``sent`` per item (a second
report of the same delivery changes nothing), and ``mark_failed`` leaves an item alone that
is no longer this instance's claim.
"""

from __future__ import annotations

import socket
from collections.abc import Collection
from datetime import datetime
from typing import Any

import msgspec
from psycopg import Connection, sql

from cminbox.core.clock import Clock, system_clock
from cminbox.core.failpoints import failpoint
from cminbox.core.outbox_types import (
    LEASE,
    MAX_ATTEMPTS,
    Backoff,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    claimant_dead,
    new_items,
)
from cminbox.core.packed_extras import enc_hook
from cminbox.core.pg.db import Database
from cminbox.core.pg.feed import EventRow, append_events
from cminbox.core.pg.lease import POLLER
from cminbox.core.redact import redactor

_ENC = msgspec.json.Encoder(enc_hook=enc_hook)
_ALWAYS = sql.SQL("true")
_COLUMNS = sql.SQL(
    "id, kind, message_id, destination, payload::text, actor, created_at, status, attempts,"
    " next_attempt_at, claimed_until, claimed_by, sent_at, result::text, last_error"
)


def _item(row: tuple[Any, ...]) -> OutboxItem:
    (iid, kind, mid, dest, payload, actor, created, status, attempts, nxt, until, by, sent, result, error) = row
    return OutboxItem(
        id=iid,
        kind=OutboxKind(kind),
        message_id=mid,
        destination=dest,
        payload=msgspec.json.decode(payload),
        actor=actor,
        created_at=created,
        status=OutboxStatus(status),
        attempts=attempts,
        next_attempt_at=nxt,
        lease_until=until,
        claimed_by=by,
        sent_at=sent,
        result=msgspec.json.decode(result),
        last_error=error,
    )


_INSERT = (
    "INSERT INTO outbox (id, kind, message_id, destination, payload, actor, created_at)"
    " VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s)"
)


def insert_items(conn: Connection[Any], items: list[OutboxItem], *, only_new: bool = False) -> list[OutboxItem]:
    """Store new ``pending`` items in the caller's transaction; ``only_new``: skip an item whose id
    is stored (a rule's auto-reply: its id repeats on purpose). Returns the items stored."""
    if not items:
        return []
    statement = _INSERT + (" ON CONFLICT (id) DO NOTHING RETURNING id" if only_new else "")
    rows = [
        (i.id, i.kind.value, i.message_id, i.destination, _ENC.encode(i.payload).decode(), i.actor, i.created_at)
        for i in items
    ]
    stored: set[str] = set()
    with conn.cursor() as cur:
        cur.executemany(statement, rows, returning=only_new)
        while only_new:
            stored.update(row[0] for row in cur.fetchall())
            if not cur.nextset():
                break
    return [i for i in items if i.id in stored] if only_new else items


def known_items(conn: Connection[Any], ids: Collection[str]) -> set[str]:
    """Which of ``ids`` are stored (any status), in the caller's transaction."""
    if not ids:
        return set()
    return {r[0] for r in conn.execute("SELECT id FROM outbox WHERE id = ANY(%s)", (list(ids),)).fetchall()}


class PgOutbox:
    def __init__(self, db: Database, *, worker_id: str, clock: Clock = system_clock) -> None:
        self.db = db
        self.clock = clock
        self.backoff = Backoff()
        self.worker_id = worker_id
        self.lease = LEASE  # how long a claim runs, by the server's clock

    def enqueue(
        self, kind: OutboxKind, message_id: str, destination: str, payload: dict[str, Any], actor: str
    ) -> OutboxItem:
        [item] = self.enqueue_many(kind, [(message_id, destination, payload)], actor)
        return item

    def enqueue_many(
        self, kind: OutboxKind, targets: list[tuple[str, str, dict[str, Any]]], actor: str
    ) -> list[OutboxItem]:
        """Persist several items in one transaction; once this returns, none can be lost."""
        items = new_items(kind, targets, actor, self.clock())
        if items:
            self.db.run(lambda conn: insert_items(conn, items), "the outbox item")
            failpoint("outbox.after_enqueue")
        return items

    def items(self, status: OutboxStatus | None = None) -> list[OutboxItem]:
        where = sql.SQL("WHERE status = %s" if status is not None else "")
        params: tuple[Any, ...] = (status.value,) if status is not None else ()
        query = sql.SQL("SELECT {} FROM outbox {} ORDER BY seq").format(_COLUMNS, where)
        rows = self.db.read(lambda c: c.execute(query, params).fetchall())
        return [_item(r) for r in rows]

    def _dead_claims(self) -> list[str]:
        """Items in flight whose claimant was a process on this host that is gone: taken over at
        once rather than after their lease (a claimant on another host is judged by its lease)."""
        prefix = socket.gethostname() + ":"
        rows = self.db.read(
            lambda c: c.execute(
                "SELECT id, claimed_by FROM outbox WHERE status = 'sending' AND left(claimed_by, %s) = %s",
                (len(prefix), prefix),
            ).fetchall()
        )
        return [item_id for item_id, by in rows if claimant_dead(by)]

    def claim_due(self, limit: int = 20) -> list[OutboxItem]:
        """Claim items that are due, or orphaned (see the module docstring).

        A retry's time (``next_attempt_at``) is the sending instance's clock, as the backoff
        and a server's ``Retry-After`` are: a skewed host retries early or late by its skew,
        never at once with another (the claim is exclusive)."""
        now = self.clock()
        dead = self._dead_claims()
        rows = self.db.run(
            lambda c: c.execute(
                sql.SQL(
                    "WITH due AS (SELECT id FROM outbox o WHERE"
                    " (o.status = 'pending' AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= %(now)s))"
                    " OR (o.status = 'sending' AND (o.claimed_until <= clock_timestamp() OR o.id = ANY(%(dead)s)"
                    "  OR EXISTS (SELECT 1 FROM leases l WHERE l.name = %(poller)s AND l.holder = %(me)s"
                    "   AND l.expires_at >= clock_timestamp() AND o.claimed_by <> %(me)s"
                    "   AND l.acquired_at > o.claimed_at)))"
                    " ORDER BY o.seq LIMIT %(limit)s FOR UPDATE SKIP LOCKED)"
                    " UPDATE outbox SET status = 'sending', attempts = attempts + 1, claimed_by = %(me)s,"
                    " claimed_at = clock_timestamp(), claimed_until = clock_timestamp() + %(lease)s"
                    " WHERE id IN (SELECT id FROM due)"
                    " RETURNING {}"
                ).format(_COLUMNS),
                {
                    "now": now,
                    "limit": limit,
                    "me": self.worker_id,
                    "lease": self.lease,
                    "dead": dead,
                    "poller": POLLER,
                },
            ).fetchall(),
            "the outbox claim",
        )
        order = {item_id: n for n, item_id in enumerate(r[0] for r in rows)}
        return sorted((_item(r) for r in rows), key=lambda i: (i.created_at, order[i.id]))

    def _update(
        self,
        item_id: str,
        changes: dict[str, Any],
        events: list[EventRow] | None = None,
        *,
        only_if: sql.Composable = _ALWAYS,
    ) -> OutboxItem:
        """Apply ``changes`` (with ``events``) when the item meets ``only_if``; else return it
        as it is, unchanged. KeyError when there is no such item."""
        sets = sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)) for column in changes
        )
        query = sql.SQL("UPDATE outbox SET {} WHERE id = %(id)s AND ({}) RETURNING {}").format(sets, only_if, _COLUMNS)
        current = sql.SQL("SELECT {} FROM outbox WHERE id = %(id)s").format(_COLUMNS)

        def work(conn: Connection[Any]) -> tuple[Any, ...] | None:
            row: tuple[Any, ...] | None = conn.execute(
                query, {**changes, "id": item_id, "me": self.worker_id}
            ).fetchone()
            if row is not None:
                append_events(conn, events or [])
                return row
            row = conn.execute(current, {"id": item_id}).fetchone()
            return row

        row = self.db.run(work, "the outbox update")
        if row is None:
            raise KeyError(item_id)
        return _item(row)

    def mark_sent(self, item: OutboxItem, result: dict[str, str]) -> OutboxItem:
        """Record the delivery and its ``sent`` event in one transaction."""
        now = self.clock()
        changes = {
            "status": OutboxStatus.SENT.value,
            "sent_at": now,
            "result": _ENC.encode(result).decode(),
            "claimed_until": None,
            "last_error": "",
        }
        sent: EventRow = (
            now,
            item.actor,
            self.worker_id,
            item.message_id,
            "sent",
            item.kind.value,
            item.id,
            {},
            dict(result),
        )
        # Sent once: a second report of the delivery (the old claimant's, after the new holder
        # retried it with the same key) records no second ``sent``.
        return self._update(item.id, changes, events=[sent], only_if=sql.SQL("status <> 'sent'"))

    def mark_failed(
        self, item: OutboxItem, error: str, *, permanent: bool = False, retry_at: datetime | None = None
    ) -> OutboxItem:
        error = redactor.redact(error)  # an error quoting a server never keeps a secret
        # Only this instance's claim: another that took the item over (this one lost the
        # lease) may be sending it now, and a sent item stays sent.
        mine = sql.SQL("status = 'sending' AND claimed_by = %(me)s")
        if permanent or item.attempts >= MAX_ATTEMPTS:
            return self._update(
                item.id, {"status": OutboxStatus.FAILED.value, "last_error": error, "claimed_until": None}, only_if=mine
            )
        when = retry_at or self.clock() + self.backoff.delay(item.attempts)
        return self._update(
            item.id,
            {"status": OutboxStatus.PENDING.value, "last_error": error, "next_attempt_at": when, "claimed_until": None},
            only_if=mine,
        )

    def retry(self, item_id: str) -> OutboxItem:
        """Put a failed item back in the queue (the user asked for it)."""
        return self._update(item_id, {"status": OutboxStatus.PENDING.value, "next_attempt_at": None, "attempts": 0})

    def withdraw(self, item_ids: Collection[str], reason: str) -> list[str]:
        wanted = list(dict.fromkeys(item_ids))
        if not wanted:
            return []
        # A claim updates the row under its lock: this re-checks the status after it, so an item
        # is withdrawn or claimed, never both.
        query = (
            "UPDATE outbox SET status = 'withdrawn', last_error = %s"
            " WHERE id = ANY(%s) AND status = 'pending' AND attempts = 0 RETURNING id"
        )
        rows = self.db.run(lambda conn: conn.execute(query, (reason, wanted)).fetchall(), "the outbox withdrawal")
        return [str(r[0]) for r in rows]

    def get(self, item_id: str) -> OutboxItem | None:
        rows = self.db.read(
            lambda c: c.execute(
                sql.SQL("SELECT {} FROM outbox WHERE id = %s OR left(id, %s) = %s ORDER BY id LIMIT 1").format(
                    _COLUMNS
                ),
                (item_id, len(item_id), item_id),
            ).fetchall()
        )
        return _item(rows[0]) if rows else None
