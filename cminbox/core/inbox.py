"""The triage verbs, shared by the CLI and the TUI: everything a key does, a command can do."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cminbox.core import registry
from cminbox.core.bulk import BulkPlan, plan_status_change
from cminbox.core.channel import OutgoingReply
from cminbox.core.clock import Clock
from cminbox.core.config import Config
from cminbox.core.config_schema import NAME_MAX
from cminbox.core.errors import CminboxError
from cminbox.core.escalation import escalation_payload
from cminbox.core.macro_undo import explained
from cminbox.core.models import Escalation, Message, Note, Priority, Status
from cminbox.core.outbox_types import MARK_READ, OutboxItem, OutboxKind
from cminbox.core.random_ids import token_hex
from cminbox.core.rules_undo import undo_item
from cminbox.core.sending_api import OutboxStore
from cminbox.core.store_api import ActResult, StoreApi, UndoResult
from cminbox.core.text import sanitize
from cminbox.core.triage import (
    AddNote,
    AddTags,
    Assign,
    RemoveTags,
    SetEscalation,
    SetPriority,
    SetStatus,
    Snooze,
    normalise_tag,
)

if TYPE_CHECKING:
    from cminbox.core.send_lint import SendCheck


class InboxError(CminboxError):
    pass


@dataclass
class Inbox:
    config: Config
    store: StoreApi
    outbox: OutboxStore
    clock: Clock

    @property
    def actor(self) -> str:
        return self.config.actor

    def tag(self, ids: Iterable[str], tags: Iterable[str]) -> ActResult:
        clean = tuple(t for t in (normalise_tag(x) for x in tags) if t)
        if not clean:
            raise InboxError("no tag given")
        return self.store.act(ids, AddTags(clean), actor=self.actor)

    def untag(self, ids: Iterable[str], tags: Iterable[str]) -> ActResult:
        return self.store.act(ids, RemoveTags(tuple(normalise_tag(t) for t in tags)), actor=self.actor)

    def plan_status(self, ids: Iterable[str], status: Status) -> BulkPlan:
        """Which of ``ids`` a bulk status change may change, and which it would take work from
        (escalated, assigned to someone else, an unsent draft): the faces ask or skip those."""
        ids = list(dict.fromkeys(ids))
        drafted = {mid for mid in ids if self.store.get_draft(mid).strip()} if len(ids) > 1 else set()
        return plan_status_change((self.store.triage(mid) for mid in ids), status, actor=self.actor, drafted=drafted)

    def set_status(self, ids: Iterable[str], status: Status) -> ActResult:
        result = self.store.act(ids, SetStatus(status), actor=self.actor)
        if status == Status.DONE:
            self.mark_read(result.changed)
        return result

    def mark_read(self, ids: Iterable[str]) -> None:
        """Channels configured with ``mark_read_on_done`` get a durable mark-read action per item
        (undoing "done" does not mark it unread again: the server has no such verb everywhere)."""
        wanted: dict[str, bool] = {}  # channel name → does it mark read on done
        targets: list[tuple[str, str, dict[str, Any]]] = []
        for mid in ids:
            message = self.store.get_message(mid)
            if message is None:
                continue
            if message.channel not in wanted:
                wanted[message.channel] = self.config.marks_read(message.channel)
            if wanted[message.channel]:
                targets.append((mid, message.channel, {"action": MARK_READ}))
        self.outbox.enqueue_many(OutboxKind.ACTION, targets, self.actor)

    def moderate(self, ids: Iterable[str], action: str, reason: str = "", guideline: str = "") -> list[OutboxItem]:
        """Queue a moderation action (lock, hide, remove, ...) per message, durably; the dispatcher
        runs it with retries. Refused up front when the channel has no such action."""
        reason = sanitize(reason, single_line=True).strip()
        plan: list[tuple[str, str]] = []
        for mid in ids:
            message = self.store.get_message(mid)
            if message is None:
                raise InboxError(f"no message {mid}")
            cfg = self.config.channel(message.channel)
            offered = registry.declaration(cfg.type).capabilities.moderation
            if action not in offered:
                can = ", ".join(offered) or "nothing"
                raise InboxError(f"{cfg.type} channel {cfg.name!r} cannot {action!r}; it can: {can}")
            plan.append((mid, message.channel))
        payload = {"action": action, "reason": reason} | ({"guideline": guideline} if guideline else {})
        return self.outbox.enqueue_many(OutboxKind.ACTION, [(mid, ch, payload) for mid, ch in plan], self.actor)

    def assign(self, ids: Iterable[str], who: str | None) -> ActResult:
        who = self.member(who) if who else None
        return self.store.act(ids, Assign(who or None), actor=self.actor)

    def member(self, who: str) -> str:
        """The teammate's name as ``[team] members`` spells it; with members configured, any
        other name is refused (a typo would assign to nobody who will ever see it)."""
        clean = sanitize(who, single_line=True).strip()
        if len(clean) > NAME_MAX:  # as `[team] members` are: a row's column, not a paragraph
            raise InboxError(
                f"an assignee's name is at most {NAME_MAX} characters (this one has {len(clean)}).",
                "Use the teammate's name as `[team] me` spells it.",
            )
        members = self.config.team.members
        if not members or not clean:
            return clean
        for name in members:
            if name.casefold() == clean.casefold():
                return name
        close = difflib.get_close_matches(clean, members, n=1)
        raise InboxError(
            f"{clean!r} is not a teammate",
            (f"Did you mean {close[0]!r}? " if close else "") + f"[team] members: {', '.join(members)}.",
        )

    def set_priority(self, ids: Iterable[str], priority: Priority) -> ActResult:
        return self.store.act(ids, SetPriority(priority), actor=self.actor)

    def cycle_priority(self, ids: Iterable[str]) -> ActResult:
        return self.store.act(ids, lambda st: SetPriority(st.priority.next()), actor=self.actor)

    def snooze(self, ids: Iterable[str], until: datetime | None) -> ActResult:
        return self.store.act(ids, Snooze(until), actor=self.actor)

    def note(self, ids: Iterable[str], text: str) -> ActResult:
        text = sanitize(text).strip()
        if not text:
            raise InboxError("the note is empty")
        note = Note(id=token_hex(6), author=self.actor, at=self.clock(), text=text)
        return self.store.act(ids, AddNote(note), actor=self.actor)

    def undo(self, item: str | None = None, *, group: str | None = None) -> UndoResult | None:
        """Undo your last action group; with ``item`` (the one under the cursor), the newest
        rule effect on it instead when it has one (rules_undo.py), else your last group; with
        ``group``, that group of yours (store_api.StoreApi.undo)."""
        if item is not None and (found := undo_item(self.store, item, actor=self.actor)) is not None:
            return found
        # A macro's replies are not taken back: its undo message says so (macro_undo.py).
        return explained(self.store.undo(self.actor, group), self.outbox, self.actor)

    def escalate(
        self, ids: Iterable[str], target: str, priority: Priority = Priority.HIGH, note: str = ""
    ) -> tuple[ActResult, list[OutboxItem]]:
        """Mark escalated (undoable) and queue a durable delivery to the target per message."""
        if not any(t.name == target for t in self.config.targets):
            # The argument's error, not the config's: the config is fine, the name is not in it
            # (it was reported as "config error in ...toml": new-user trial of 2026-12-01).
            known = ", ".join(t.name for t in self.config.targets) or "none configured"
            raise InboxError(
                f"no escalation target named {target!r} (configured: {known}). "
                "Add one under [[escalation.targets]] in the config."
            )
        esc = Escalation(target=target, priority=priority, note=sanitize(note).strip(), at=self.clock(), by=self.actor)
        ids = list(ids)
        result = self.store.act(ids, SetEscalation(esc, Status.ESCALATED, priority), actor=self.actor)
        queued = []
        for mid in ids:
            message = self.store.get_message(mid)
            if message is None:
                continue
            payload = escalation_payload(message, self.store.triage(mid), esc)
            queued.append(self.outbox.enqueue(OutboxKind.ESCALATION, mid, target, payload, self.actor))
        return result, queued

    def outgoing_reply(self, message: Message, text: str) -> OutgoingReply:
        """The reply as the message's channel will send it (with its own additions), counted in
        the channel's unit: the composer's counter and the check before queueing."""
        cfg = self.config.channel(message.channel)
        channel = registry.load_channel(cfg.type)
        out: OutgoingReply = channel.outgoing_reply(message, sanitize(text).strip(), cfg.options)
        return out

    def send_check(self, message: Message, text: str, thread: Sequence[Message]) -> SendCheck:
        """Who the reply as sent mentions outside ``thread`` (core/send_lint.py): warnings, and
        whether sending needs a yes (a private conversation would be widened)."""
        from cminbox.core.send_lint import check_send  # its patterns: only when a reply is written

        staff = self.config.channel(message.channel).staff
        return check_send(self.outgoing_reply(message, text), message, thread, staff)

    def reply(self, message_id: str, text: str) -> OutboxItem:
        """Queue a reply (durably). The dispatcher sends it exactly once."""
        message = self.store.get_message(message_id)
        if message is None:
            raise InboxError(f"no message {message_id}")
        text = sanitize(text).strip()
        if not text:
            raise InboxError("the reply is empty")
        cfg = self.config.channel(message.channel)
        if not registry.declaration(cfg.type).capabilities.reply:
            raise InboxError(f"{cfg.type} channels are read-only: replying is not possible there")
        out = self.outgoing_reply(message, text)
        if out.too_long:
            raise InboxError(out.refusal(cfg.type) + "; nothing was queued")
        return self.outbox.enqueue(OutboxKind.REPLY, message_id, message.channel, {"text": text}, self.actor)
