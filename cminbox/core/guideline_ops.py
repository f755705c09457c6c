"""Queueing guideline follow-ups, for the CLI and the TUI alike (the verbs of ``guidelines.py``).

Everything is checked before anything is queued: the guideline, the channel's action, and the
follow-up's length as the channel will send it (a follow-up too long refuses the whole step, the
moderation too, so the user can shorten the guideline's text and try again). Each step leaves a
line in the item's history naming the guideline and how the author is told.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cminbox.core.guidelines import FollowUp, Via, earlier, find, last_action, plan
from cminbox.core.inbox import Inbox, InboxError
from cminbox.core.models import Message, Note, TriageState
from cminbox.core.outbox_types import OutboxItem, OutboxKind
from cminbox.core.triage import AddNote

_VIA_WORDS = {Via.DM: "by direct message", Via.REPLY: "as a reply"}


@dataclass
class Queued:
    actions: list[OutboxItem] = field(default_factory=list)
    follow_ups: list[OutboxItem] = field(default_factory=list)
    # (message id, why its author is not told): no route, an action that takes nothing away ...
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _messages(inbox: Inbox, ids: Iterable[str]) -> list[Message]:
    out = []
    for mid in dict.fromkeys(ids):
        message = inbox.store.get_message(mid)
        if message is None:
            raise InboxError(f"no message {mid}")
        out.append(message)
    return out


def _refuse_too_long(plans: list[FollowUp]) -> None:
    for p in plans:
        if p.too_long:
            raise InboxError(f"{p.message.id}: {p.problem}; nothing was queued", "Shorten the guideline's text.")


def _history(inbox: Inbox, lines: list[tuple[str, str, str]]) -> None:
    """A line in each item's history (a note, as the dispatcher records a moderation), given as
    (message id, note id, text): one step per distinct text, so a bulk moderation is a few
    writes, not one per item. The note id makes a repeated step change nothing."""
    by_text: dict[str, dict[str, str]] = {}
    for mid, note_id, text in lines:
        by_text.setdefault(text, {})[mid] = note_id
    at = inbox.clock()
    for text, note_ids in by_text.items():

        def note(st: TriageState, note_ids: dict[str, str] = note_ids, text: str = text) -> AddNote | None:
            nid = note_ids[st.id]
            if any(n.id == nid for n in st.notes):
                return None
            return AddNote(Note(id=nid, author=inbox.actor, at=at, text=text))

        inbox.store.act(list(note_ids), note, actor=inbox.actor, undoable=False, label=text)


def preview(inbox: Inbox, message: Message, guideline: str, action: str, *, after_action: bool = True) -> FollowUp:
    """What the follow-up would be (the dialog's preview): nothing is queued."""
    return plan(inbox.config, message, find(inbox.config, guideline), action, after_action=after_action)


def moderate(
    inbox: Inbox, ids: Iterable[str], action: str, reason: str, guideline: str, *, follow_up: bool = True
) -> Queued:
    """Queue the moderation and, per item, the follow-up that waits for it to succeed."""
    rule = find(inbox.config, guideline)
    messages = _messages(inbox, ids)
    plans = [plan(inbox.config, m, rule, action, after_action=True) for m in messages] if follow_up else []
    _refuse_too_long(plans)
    queued = Queued(
        actions=inbox.moderate([m.id for m in messages], action, reason or f"guideline: {rule.name}", rule.name)
    )
    if not follow_up:
        asked = f"guideline {rule.name}: {action}, no follow-up (asked)"
        _history(inbox, [(i.message_id, f"gl-{i.id}", asked) for i in queued.actions])
        return queued
    sent_before = inbox.outbox.items()
    targets: list[tuple[str, str, dict[str, Any]]] = []
    lines: list[tuple[str, str, str]] = []
    for item, p in zip(queued.actions, plans, strict=True):
        if p.ok and (already := earlier(sent_before, item.message_id, rule.name)) is not None:
            p = FollowUp(p.message, rule, action, p.route, p.typed, p.outgoing, f"already told ({already.id})")
        if not p.ok:
            queued.skipped.append((item.message_id, p.problem))
            lines.append(
                (item.message_id, f"gl-{item.id}", f"guideline {rule.name}: {action}; no follow-up: {p.problem}")
            )
            continue
        targets.append((item.message_id, p.message.channel, p.payload(item.id)))
        how = _VIA_WORDS[p.route.via]
        lines.append(
            (
                item.message_id,
                f"gl-{item.id}",
                f"guideline {rule.name}: {action}; follow-up queued {how} (sent once it succeeds)",
            )
        )
    queued.follow_ups = inbox.outbox.enqueue_many(OutboxKind.FOLLOW_UP, targets, inbox.actor)
    _history(inbox, lines)
    return queued


def follow_up(inbox: Inbox, ids: Iterable[str], guideline: str) -> Queued:
    """Tell the authors of items moderated earlier (or outside cminbox) which guideline applied.
    Refused up front for any item whose author cannot be told or was told already."""
    rule = find(inbox.config, guideline)
    messages = _messages(inbox, ids)
    items = inbox.outbox.items()
    plans = [plan(inbox.config, m, rule, last_action(items, m.id), after_action=False) for m in messages]
    for p in plans:
        if not p.ok:
            raise InboxError(f"{p.message.id}: {p.problem}; nothing was queued")
        if (already := earlier(items, p.message.id, rule.name)) is not None:
            raise InboxError(
                f"{p.message.id}: its author was told of {rule.name!r} already ({already.id}, {already.status}); "
                "nothing was queued"
            )
    targets = [(p.message.id, p.message.channel, p.payload()) for p in plans]
    queued = Queued(follow_ups=inbox.outbox.enqueue_many(OutboxKind.FOLLOW_UP, targets, inbox.actor))
    _history(
        inbox,
        [
            (fu.message_id, f"gl-{fu.id}", f"guideline {rule.name}: follow-up queued {_VIA_WORDS[p.route.via]}")
            for fu, p in zip(queued.follow_ups, plans, strict=True)
        ],
    )
    return queued
