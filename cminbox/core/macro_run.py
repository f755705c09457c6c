"""Running a macro (cminbox.core.macros) on items: planned in full, then written.

The plan reads everything first and writes nothing: each item's reply expanded from the saved
reply and checked as the channel will send it (its unit, its limit, a read-only channel); if
any item's reply would be refused, the whole macro is refused, naming the items and why, so
nothing is ever half-applied. Items someone is working on (a teammate's, escalated, an unsent
draft: cminbox.core.bulk) are held back from a macro over several items unless forced, and an
item already answered (a teammate's reply through cminbox, this macro's own from an earlier run,
or a staff account's reply on the channel: cminbox.core.collision) gets no second reply; both
are reported.

Then, in this order: the triage steps of every item as ONE store action group (one history line
per item, "macro NAME: ...", one ``u``), the "done" items' mark-read, the replies in one durable
outbox write, the escalations in another. The group comes first: a crash after it leaves the
items triaged and unanswered (visible, and the macro can run again), never answered twice.
Undo withdraws the replies no sender has tried yet (cminbox.core.macro_undo).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import msgspec

from cminbox.core import collision, registry, saved_replies
from cminbox.core.bulk import Hold, hold_reason
from cminbox.core.errors import CminboxError
from cminbox.core.escalation import escalation_payload
from cminbox.core.inbox import Inbox
from cminbox.core.macros import Macro, Step
from cminbox.core.models import Escalation, Message, Note, Priority, Status, TriageState
from cminbox.core.outbox_types import OutboxItem, OutboxKind, OutboxStatus
from cminbox.core.rule_lines import ACTOR_PREFIX
from cminbox.core.rules import digest
from cminbox.core.store_api import ActResult
from cminbox.core.text import one_line
from cminbox.core.triage import (
    Action,
    AddNote,
    AddTags,
    Assign,
    RemoveTags,
    SetEscalation,
    SetPriority,
    SetStatus,
    Several,
    Snooze,
    apply,
)
from cminbox.core.when import parse_when


class MacroRefused(CminboxError):
    """The macro would fail on some items (a reply too long, a read-only channel): nothing was done."""

    def __init__(self, macro: Macro, refused: list[tuple[str, str]]) -> None:
        shown = "; ".join(f"{mid}: {why}" for mid, why in refused[:5])
        more = f" (and {len(refused) - 5} more)" if len(refused) > 5 else ""
        super().__init__(
            f"macro {macro.name} refused on {len(refused)} item(s), so it changed nothing: {shown}{more}",
            "Leave those items out of the selection, or shorten the saved reply.",
        )
        self.refused = refused


@dataclass(frozen=True)
class ItemPlan:
    id: str
    channel: str
    reply: str | None = None  # the exact text to queue (None: no reply for this item)
    no_reply: str = ""  # why a macro that replies does not reply to this one (answered already)
    held: Hold | None = None


@dataclass
class MacroPlan:
    macro: Macro
    items: list[ItemPlan]
    missing: list[str] = field(default_factory=list)  # ids no longer live

    @property
    def held(self) -> list[ItemPlan]:
        return [i for i in self.items if i.held is not None]

    def held_summary(self) -> str:
        counts: dict[Hold, int] = defaultdict(int)
        for item in self.held:
            assert item.held is not None
            counts[item.held] += 1
        return ", ".join(f"{n} {reason.value}" for reason, n in counts.items())

    def running(self, force: bool) -> list[ItemPlan]:
        return [i for i in self.items if force or i.held is None]


@dataclass(frozen=True)
class MacroResult:
    macro: Macro
    act: ActResult | None  # None: the macro has no triage step (only a reply)
    ran: list[str]  # the items it ran on (held ones left out unless forced)
    replies: list[OutboxItem]
    escalations: list[OutboxItem]
    not_replied: list[tuple[str, str]]  # (id, why): answered already
    held: list[tuple[str, Hold]]  # left out

    def summary(self) -> str:
        """``macro outage: 40 items, 40 replies queued`` (and what was skipped)."""
        n = len(self.ran)
        parts = [f"macro {self.macro.name}: {n} item{'s' if n != 1 else ''}"]
        if self.act is not None and len(self.act.changed) != n:
            parts.append(f"{len(self.act.changed)} changed")
        if self.macro.reply is not None:
            parts.append(f"{len(self.replies)} repl{'ies' if len(self.replies) != 1 else 'y'} queued")
        if self.escalations:
            parts.append(f"{len(self.escalations)} escalated")
        if self.not_replied:
            parts.append(f"{len(self.not_replied)} already answered (no reply)")
        if self.held:
            parts.append(f"{len(self.held)} held back")
        return ", ".join(parts)


def plan(inbox: Inbox, macro: Macro, ids: Iterable[str]) -> MacroPlan:
    """What the macro would do to each item; raises MacroRefused when a reply would be refused.
    Reads the store (a worker's job in the TUI), writes nothing."""
    store, config = inbox.store, inbox.config
    wanted = list(dict.fromkeys(ids))
    answered = Answered.read(inbox, macro) if macro.reply is not None else None
    template = next((r.text for r in config.saved_replies if r.name == macro.reply), None)
    final = macro.final_status
    several = len(wanted) > 1
    items: list[ItemPlan] = []
    missing: list[str] = []
    refused: list[tuple[str, str]] = []
    for mid in wanted:
        message = store.get_message(mid)
        if message is None:
            missing.append(mid)
            continue
        state = store.triage(mid)
        held = _hold(inbox, macro, state, final) if several else None
        reply: str | None = None
        no_reply = ""
        if template is not None and answered is not None:
            if why_not := answered.why(message):
                no_reply = why_not
            else:
                reply, why = _reply_for(inbox, message, template)
                if why:
                    refused.append((mid, why))
        items.append(ItemPlan(mid, message.channel, reply, no_reply, held))
    if refused:
        raise MacroRefused(macro, refused)
    return MacroPlan(macro, items, missing)


def _hold(inbox: Inbox, macro: Macro, state: TriageState, final: Status | None) -> Hold | None:
    """Why the macro would take work away from this item (bulk.py's reasons): its status change
    does, as a bulk status change would; its reply over a teammate's item or an unsent draft does."""
    drafted = {state.id} if inbox.store.get_draft(state.id).strip() else set()
    if final is not None and (reason := hold_reason(state, final, inbox.actor, drafted)) is not None:
        return reason
    if macro.reply is not None:
        if state.assignee is not None and state.assignee != inbox.actor:
            return Hold.ASSIGNED
        if drafted:
            return Hold.DRAFT
    return None


@dataclass
class Answered:
    """Which items need no reply from the macro, from the outbox and the threads as read now."""

    inbox: Inbox
    macro: Macro
    replies: dict[str, list[OutboxItem]]  # per item: its replies through cminbox (not failed or withdrawn)
    echoes: set[str]  # the channel ids of the replies sent through cminbox
    staff: collision.Staff

    @classmethod
    def read(cls, inbox: Inbox, macro: Macro) -> Answered:
        replies: dict[str, list[OutboxItem]] = defaultdict(list)
        echoes: set[str] = set()
        for item in inbox.store.outbox.items():
            if item.kind == OutboxKind.REPLY and item.status not in collision.NOT_REPLIES:
                replies[item.message_id].append(item)
                if item.result.get("native_id"):
                    echoes.add(item.result["native_id"])
        return cls(inbox, macro, replies, echoes, collision.staff_handles(inbox.config.channels))

    def why(self, message: Message) -> str:
        """Why the item gets no reply ("" when it does): a teammate's reply queued or sent
        through cminbox, this macro's own reply from an earlier run (by anyone), or a staff
        account's answer written on the channel itself. Your own earlier replies and a rule's
        auto-reply (an acknowledgement) do not stop it: you know of those, as the composer does."""
        for item in sorted(self.replies[message.id], key=lambda r: r.created_at, reverse=True):
            if item.payload.get("macro") == self.macro.name:
                return f"macro {self.macro.name} already replied ({one_line(item.actor, 40)})"
            if item.actor != self.inbox.actor and not item.actor.startswith(ACTOR_PREFIX):
                verb = "replied" if item.status == OutboxStatus.SENT else "queued a reply"
                return f"{one_line(item.actor, 40)} {verb} already"
        if not self.staff:
            return ""
        # A reply sent through cminbox comes back in the thread as the staff account's: not news.
        thread = self.inbox.store.thread_of(message)
        official = [
            m for m in collision.official_replies(thread, message, self.staff) if m.native_id not in self.echoes
        ]
        if official:
            return f"{one_line(official[-1].author.handle, 60)} answered on {message.channel}"
        return ""


def _reply_for(inbox: Inbox, message: Message, template: str) -> tuple[str | None, str]:
    """The reply's text for this item, or why the channel would refuse it."""
    if not inbox.config.has_channel(message.channel):
        return None, f"channel {message.channel!r} is not in the config"
    cfg = inbox.config.channel(message.channel)
    if not registry.declaration(cfg.type).capabilities.reply:
        return None, f"{cfg.type} channels are read-only"
    text = saved_replies.expand(template, saved_replies.Context(message, inbox.actor))
    out = inbox.outgoing_reply(message, text)
    if out.too_long:
        return None, out.refusal(cfg.type)
    if not text.strip():
        return None, "the reply is empty"
    return text.strip(), ""


def triage_action(inbox: Inbox, macro: Macro) -> tuple[Callable[[TriageState], Action | None], Escalation | None]:
    """The function of an item's committed state that ``store.act`` calls per item, and the
    escalation record it sets (one for the whole run; its priority may rise per item)."""
    now = inbox.clock()
    esc_cfg = macro.escalation
    esc = None
    if esc_cfg is not None:
        esc = Escalation(
            target=esc_cfg.target,
            priority=Priority(esc_cfg.priority),
            note=esc_cfg.note.strip(),
            at=now,
            by=inbox.actor,
        )

    def one(step: Step, state: TriageState) -> Action | None:
        match step.kind:
            case "tag":
                return AddTags(step.tags)
            case "untag":
                return RemoveTags(step.tags)
            case "status" | "done":
                assert step.status is not None
                return SetStatus(step.status)
            case "priority":
                assert step.priority is not None
                return SetPriority(step.priority)
            case "assign":
                return Assign(step.text or None)
            case "snooze":
                return Snooze(parse_when(step.text, now))
            case "note":
                # An id of the macro, the text and the item: run twice, it adds its note once.
                nid = "macro-" + digest(macro.name, step.text, state.id)
                return AddNote(Note(id=nid, author=inbox.actor, at=now, text=step.text))
            case "escalate" if esc is not None and state.escalation is None:  # escalated once, never again
                # Escalating never lowers a priority (the item's, or an earlier step's).
                prio = max(state.priority, esc.priority, key=lambda p: p.rank)
                return SetEscalation(msgspec.structs.replace(esc, priority=prio), Status.ESCALATED, prio)
            case _:
                return None  # the reply: the outbox's

    def action(state: TriageState) -> Action | None:
        steps: list[Action] = []
        for step in macro.steps:  # each step sees the state the steps before it left
            if (a := one(step, state)) is not None:
                steps.append(a)
                state = apply(state, a)
        if not steps:
            return None
        return steps[0] if len(steps) == 1 else Several(tuple(steps))

    return action, esc


def run(inbox: Inbox, planned: MacroPlan, *, force: bool = False) -> MacroResult:
    """Apply the plan: one action group, then the replies and escalations through the outbox."""
    macro, store = planned.macro, inbox.store
    todo = planned.running(force)
    ids = [i.id for i in todo]
    held = [(i.id, i.held) for i in planned.items if i.held is not None and not force]
    act: ActResult | None = None
    escalated_before = {mid for mid in ids if store.triage(mid).escalation is not None} if macro.escalation else set()
    if macro.triages and ids:
        action, esc = triage_action(inbox, macro)
        act = store.act(ids, action, actor=inbox.actor, label=macro.label)
        if macro.final_status == Status.DONE:
            inbox.mark_read(act.changed)
    else:
        esc = None
    payload_macro = {"macro": macro.name}
    not_replied = [(i.id, i.no_reply) for i in todo if i.no_reply]
    to_reply = [i for i in todo if i.reply is not None]
    if to_reply:
        # A last look: a teammate may have answered since the plan (the TUI's question was open).
        now = Answered.read(inbox, macro)
        for i in list(to_reply):
            message = store.get_message(i.id)
            if message is not None and (why_not := now.why(message)):
                to_reply.remove(i)
                not_replied.append((i.id, why_not))
    replies = inbox.outbox.enqueue_many(
        OutboxKind.REPLY, [(i.id, i.channel, {"text": i.reply, **payload_macro}) for i in to_reply], inbox.actor
    )
    escalations: list[OutboxItem] = []
    if esc is not None:
        targets = []
        for mid in ids:
            message = store.get_message(mid)
            if message is None or mid in escalated_before:
                continue
            state = store.triage(mid)
            record = state.escalation or esc  # as set on the item (its priority may be higher)
            targets.append((mid, esc.target, {**escalation_payload(message, state, record), **payload_macro}))
        escalations = inbox.outbox.enqueue_many(OutboxKind.ESCALATION, targets, inbox.actor)
    return MacroResult(macro, act, ids, replies, escalations, not_replied, [(m, h) for m, h in held if h])
