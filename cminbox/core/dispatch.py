"""Delivering the outbox: replies through their channel, escalations to their target."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from cminbox.core.channel import (
    AuthFailed,
    Channel,
    ChannelError,
    RateLimited,
    Rejected,
    direct_message_of,
    mark_read_of,
)
from cminbox.core.clock import Clock
from cminbox.core.errors import CminboxError
from cminbox.core.escalation import Target
from cminbox.core.failpoints import failpoint
from cminbox.core.models import Message, Note, Status
from cminbox.core.outbox_types import MARK_READ, OutboxItem, OutboxKind, OutboxStatus
from cminbox.core.sending_api import OutboxStore
from cminbox.core.store_api import StoreApi
from cminbox.core.text import one_line
from cminbox.core.triage import AddNote, SetFirstResponse, SetStatus

log = logging.getLogger(__name__)


class WaitingFor(RateLimited):
    """An item that must wait for another (a follow-up for its moderation): retried at ``retry_at``."""


@dataclass(frozen=True)
class Delivery:
    item: OutboxItem
    ok: bool
    detail: str


class Dispatcher:
    def __init__(
        self,
        store: StoreApi,
        outbox: OutboxStore,
        channels: dict[str, Channel],
        targets: dict[str, Target],
        clock: Clock,
        may_send: Callable[[], bool] = lambda: True,
    ) -> None:
        self.store = store
        # False once this instance lost the poller lease mid-batch (the engine says): the rest
        # of the batch is left to the new holder, which takes those claims over at once
        # (pg/outbox.py), rather than sent by both.
        self.may_send = may_send
        self.outbox = outbox
        self.channels = channels
        self.targets = targets
        self.clock = clock
        # Told of every delivery, whoever asked for it (the TUI updates the row a reply answered).
        self.on_delivery: Callable[[Delivery], None] | None = None

    async def deliver_due(self) -> list[Delivery]:
        items = await asyncio.to_thread(self.outbox.claim_due)
        if items:
            failpoint("outbox.after_claim")
        # A follow-up waits for its moderation: run the batch's actions first (a stable sort; a
        # backend may claim one instant's items in any order).
        items.sort(key=lambda i: i.kind == OutboxKind.FOLLOW_UP)
        deliveries: list[Delivery] = []
        for item in items:
            if not self.may_send():
                log.warning(
                    "lost the poller lease: %d claimed item(s) left to the new poller", len(items) - len(deliveries)
                )
                break
            deliveries.append(await self._deliver(item))
        if self.on_delivery is not None:
            for delivery in deliveries:
                self.on_delivery(delivery)
        return deliveries

    async def deliver_all_due(self) -> list[Delivery]:
        """Batch after batch until nothing due is left (`outbox flush`: one batch sent 20 of
        30 and said nothing of the rest, fault trial of 2026-12-01). An item tried once is
        not tried again in the same call, so a failing one cannot keep it going."""
        done: list[Delivery] = []
        tried: set[str] = set()
        while True:
            batch = await self.deliver_due()
            fresh = [d for d in batch if d.item.id not in tried]
            done += fresh
            tried.update(d.item.id for d in batch)
            if not fresh:
                return done

    async def _deliver(self, item: OutboxItem) -> Delivery:
        try:
            if item.kind == OutboxKind.REPLY:
                detail = await self._send_reply(item)
            elif item.kind == OutboxKind.ACTION:
                detail = await self._run_action(item)
            elif item.kind == OutboxKind.FOLLOW_UP:
                detail = await self._send_follow_up(item)
            else:
                detail = await self._send_escalation(item)
        except RateLimited as exc:
            await asyncio.to_thread(self.outbox.mark_failed, item, exc.reason, retry_at=exc.retry_at)
            return Delivery(item, False, exc.reason)
        except (AuthFailed, Rejected, LookupError) as exc:
            reason = exc.reason if isinstance(exc, ChannelError) else str(exc)
            await asyncio.to_thread(self.outbox.mark_failed, item, reason, permanent=True)
            return Delivery(item, False, reason)
        except ChannelError as exc:
            new = await asyncio.to_thread(self.outbox.mark_failed, item, exc.reason)
            return Delivery(new, False, exc.reason)
        except Exception as exc:
            log.exception("outbox item %s: unexpected error", item.id)
            new = await asyncio.to_thread(self.outbox.mark_failed, item, f"internal error ({type(exc).__name__})")
            return Delivery(new, False, new.last_error)
        return Delivery(item, True, detail)

    async def _target(self, item: OutboxItem) -> tuple[Channel, Message]:
        channel = self.channels.get(item.destination)
        if channel is None:
            raise LookupError(f"channel {item.destination!r} is no longer configured")
        message = await asyncio.to_thread(self.store.get_message, item.message_id)
        if message is None and item.payload.get("rule"):
            # A rule's item is stored in the same step as its message, just before it: a step cut
            # there (store_effects.py) leaves it waiting for the next poll to bring the message again.
            raise ChannelError(f"message {item.message_id} is not in the store yet")
        if message is None:
            raise LookupError(f"message {item.message_id} is not in the store")
        return channel, message

    async def _run_action(self, item: OutboxItem) -> str:
        """Moderation and mark-read: both are idempotent on every server we talk to (locking a
        locked issue, removing a removed comment, reading a read thread), so a retry is safe."""
        channel, message = await self._target(item)
        action = str(item.payload["action"])
        if action == MARK_READ:
            mark_read = mark_read_of(channel)
            if mark_read is None:
                raise LookupError(f"channel {item.destination!r} cannot mark items read")
            await mark_read(message)
        else:
            await channel.moderate(message, action, str(item.payload.get("reason") or ""))
        failpoint("outbox.after_send")
        await asyncio.to_thread(self.outbox.mark_sent, item, {"action": action})
        if action != MARK_READ:
            # Teammates see it on the item: a note, the moderation's only trace outside the outbox.
            reason = str(item.payload.get("reason") or "")
            text = f"moderation: {action} on {item.destination}" + (f" ({reason})" if reason else "")
            note = Note(id=f"mod-{item.id}", author=item.actor, at=self.clock(), text=text)
            await asyncio.to_thread(
                self.store.act,
                [message.id],
                AddNote(note),
                actor=item.actor,
                undoable=False,
                label=f"moderated: {action}",
            )
        return f"{action} on {item.destination}"

    async def _send_follow_up(self, item: OutboxItem) -> str:
        """A guideline follow-up: only once the moderation it follows (``after``) was done; a
        private message or a reply, with the item's idempotency key like any reply."""
        channel, message = await self._target(item)
        after = str(item.payload.get("after") or "")
        action = await asyncio.to_thread(self.outbox.get, after) if after else None
        if after and action is None:
            raise LookupError(f"the moderation it follows ({after}) is not in the outbox")
        if action is not None and action.status == OutboxStatus.FAILED:
            raise Rejected(f"not sent: the {action.payload.get('action')} it follows failed ({action.last_error})")
        if action is not None and action.status != OutboxStatus.SENT:
            # Not an error: put back until the action's next try (a claim that counts an attempt).
            when = max(action.next_attempt_at or self.clock(), self.clock()) + timedelta(seconds=2)
            raise WaitingFor(f"waiting for the {action.payload.get('action')} to succeed", when)
        text = str(item.payload["text"])
        if item.payload.get("via") == "dm":
            send = direct_message_of(channel)
            if send is None:
                raise LookupError(f"channel {item.destination!r} has no private messages any more")
            receipt = await send(message, text, item.idempotency_key)
        else:
            receipt = await channel.reply(message, text, item.idempotency_key)
        failpoint("outbox.after_send")
        await asyncio.to_thread(
            self.outbox.mark_sent, item, {"native_id": one_line(receipt.native_id), "url": one_line(receipt.url)}
        )
        how = "by direct message" if item.payload.get("via") == "dm" else "as a reply"
        text = f"guideline {item.payload.get('guideline')}: follow-up sent {how}"
        note = Note(id=f"fu-{item.id}", author=item.actor, at=self.clock(), text=text)
        await asyncio.to_thread(
            self.store.act,
            [message.id],
            lambda st: None if any(n.id == note.id for n in st.notes) else AddNote(note),
            actor=item.actor,
            undoable=False,
            label=text,
        )
        return f"follow-up ({item.payload.get('guideline')}) {how} on {item.destination}"

    async def _send_reply(self, item: OutboxItem) -> str:
        channel, message = await self._target(item)
        receipt = await channel.reply(message, str(item.payload["text"]), item.idempotency_key)
        failpoint("outbox.after_send")
        # The server's words: one inert line each, like everything stored from it (a reply id
        # carrying OSC 52 went into the outbox, the history and `show`: hostile-data trial).
        native, url = one_line(receipt.native_id), one_line(receipt.url)
        await asyncio.to_thread(self.outbox.mark_sent, item, {"native_id": native, "url": url})
        now = self.clock()
        try:
            # Answered is no longer new: the item stays open (for a follow-up) until someone closes it.
            await asyncio.to_thread(
                self.store.act,
                [message.id],
                lambda st: SetStatus(Status.OPEN) if st.status == Status.NEW else None,
                actor=item.actor,
                undoable=False,
                label="replied: new → open",
            )
            await asyncio.to_thread(
                self.store.act,
                [message.id],
                lambda st: SetFirstResponse(now) if st.first_response_at is None else None,
                actor=item.actor,
                undoable=False,
                label=f"replied ({native})",
            )
        except CminboxError as exc:
            # Sent, and marked so: only the item's own record could not be written (its triage
            # file is damaged, the disk is full). Said as what it is: "not sent" (with no reason)
            # invited sending it again (fault trial of 2026-12-01).
            log.warning("outbox item %s: sent; recording it on %s failed: %s", item.id, message.id, exc)
            return f"{url or native} (sent; recording it on the item failed: {exc})"
        return url or native

    async def _send_escalation(self, item: OutboxItem) -> str:
        target = self.targets.get(item.destination)
        if target is None:
            raise LookupError(f"escalation target {item.destination!r} is no longer configured")
        result = await target.deliver(item.payload, item.id)
        failpoint("outbox.after_send")
        await asyncio.to_thread(self.outbox.mark_sent, item, result)
        return f"delivered to {item.destination}"
