"""Planning what the rules do to a batch of items: pure, run inside the store's step.

For each item, the rules run in file order on the state the earlier ones left (a rule can read
the tag another added), until one that matches says ``stop``. A rule's steps that change the
item become one effect: one action, one history line ("rule NAME: tag bug; priority → high"),
one thing to undo. A rule that raises is skipped for that item, with a warning; the others run.

Replies (a rule's ``reply``, with ``auto_reply = true``) are decided last, for the whole batch:
one per author per rule per day (UTC), which the outbox item's id says (made from the rule, the
author's person and the day, so the store keeps the first and refuses the rest, across batches
and instances); never to staff, troll- or muted-tagged authors, to an item the rules muted or
closed, nor to an item older than the rule (:attr:`Context.since`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import msgspec

from cminbox.core import triage
from cminbox.core.effects import Effect, OutboxLookup, Planned
from cminbox.core.escalation import escalation_payload
from cminbox.core.models import Message, Note, Status, TriageState
from cminbox.core.outbox_types import MARK_READ, OutboxItem, OutboxKind
from cminbox.core.people import NO_AUTO_REPLY, identity_of
from cminbox.core.query import PeopleView
from cminbox.core.rules import MUTED, Rule, digest, haystack
from cminbox.core.saved_replies import Context as ReplyContext
from cminbox.core.saved_replies import expand
from cminbox.core.triage import Action, AddNote, SetEscalation, Several

SAMPLES = 3  # items kept per rule for `rules test`

#: The reply text to queue for a message (made inert), or None when its channel cannot reply (a
#: feed, a channel no longer configured); raises ValueError when it is too long for the channel
#: (rules_run.py builds it from the config).
Outgoing = Callable[[Message, str], str | None]


class Context(msgspec.Struct, frozen=True):
    now: datetime
    people: PeopleView  # profile tags, for the authors no reply goes to
    since: Mapping[str, datetime]  # per replying rule: the items created before get no reply from it
    outgoing: Outgoing
    marks_read: Callable[[str], bool]  # does this channel mark an item read when it is done
    me: str = ""  # {me} in a saved reply


class Sample(msgspec.Struct, frozen=True):
    message_id: str
    text: str
    label: str  # what the rule does to it ("" when it matched and changed nothing)


class RuleWarning(msgspec.Struct, frozen=True):
    rule: str
    message_id: str
    problem: str


class Outcome(msgspec.Struct):
    """What the rules did (or, for ``rules test``, would do) to a batch."""

    planned: Planned = msgspec.field(default_factory=Planned)
    items: int = 0  # items the rules looked at
    matched: Counter[str] = msgspec.field(default_factory=Counter)  # rule → items its query matched
    changed: Counter[str] = msgspec.field(default_factory=Counter)  # rule → items it changed
    replies: Counter[str] = msgspec.field(default_factory=Counter)  # rule → replies queued
    samples: dict[str, list[Sample]] = msgspec.field(default_factory=dict)
    warnings: list[RuleWarning] = msgspec.field(default_factory=list)

    def add(self, other: Outcome) -> None:
        self.planned.effects.extend(other.planned.effects)
        self.planned.outbox.extend(other.planned.outbox)
        self.items += other.items
        self.matched.update(other.matched)
        self.changed.update(other.changed)
        self.replies.update(other.replies)
        for name, found in other.samples.items():
            mine = self.samples.setdefault(name, [])
            mine.extend(found[: SAMPLES - len(mine)])
        self.warnings.extend(other.warnings)


class _Hit(msgspec.Struct):
    """One rule matching one item: the steps it keeps, the outbox items it needs."""

    rule: Rule
    steps: list[tuple[Action, str]]
    outbox: list[OutboxItem]
    reply: OutboxItem | None = None


def plan(rules: Iterable[Rule], items: list[tuple[Message, TriageState]], known: OutboxLookup, ctx: Context) -> Outcome:
    rules = list(rules)
    out = Outcome(items=len(items))
    hits: list[tuple[Message, list[_Hit]]] = []
    for message, state in items:
        found: list[_Hit] = []
        hay = haystack(message)
        for rule in rules:
            if rule.sieve is not None and not rule.sieve(hay):
                continue  # cannot match: its phrases are not in the item
            try:
                hit, state = _run(rule, message, state, ctx)
            except Exception as exc:  # a rule's bug must cost that rule this item, nothing more
                out.warnings.append(RuleWarning(rule.name, message.id, f"{type(exc).__name__}: {exc}"))
                continue
            if hit is None:
                continue
            out.matched[rule.name] += 1
            found.append(hit)
            if rule.stop:
                break
        hits.append((message, found))
    replies = _accepted([h.reply for _, found in hits for h in found if h.reply is not None], known)
    for message, found in hits:
        for hit in found:
            if hit.reply is not None and hit.reply.id in replies:
                replies.discard(hit.reply.id)  # the first of the batch; the author's next items get none
                note = AddNote(
                    Note(
                        id="rule-" + hit.reply.id,
                        author=hit.rule.actor,
                        at=ctx.now,
                        text=f"auto-reply “{hit.rule.reply}” queued by rule {hit.rule.name}",
                    )
                )
                hit.steps.append((note, f"auto-reply “{hit.rule.reply}”"))
                hit.outbox.append(hit.reply)
                out.replies[hit.rule.name] += 1
            if not hit.steps:
                _sample(out, hit.rule.name, message, "")
                continue
            actions = [a for a, _ in hit.steps]
            action = actions[0] if len(actions) == 1 else Several(tuple(actions))
            label = f"{hit.rule.actor}: " + "; ".join(text for _, text in hit.steps)
            out.planned.effects.append(Effect(message.id, action, hit.rule.actor, label))
            out.planned.outbox.extend(hit.outbox)
            out.changed[hit.rule.name] += 1
            _sample(out, hit.rule.name, message, label)
    return out


def _run(rule: Rule, message: Message, state: TriageState, ctx: Context) -> tuple[_Hit | None, TriageState]:
    """The rule on one item: None when its query does not match; else what it keeps (the steps
    that change the item) and the state after them."""
    if not rule.when.matches(message, state, ctx.now, ""):
        return None, state
    kept: list[tuple[Action, str]] = []
    outbox: list[OutboxItem] = []
    start = state
    for action, label in rule.steps(message, state, ctx.now):
        after = triage.apply(state, action)
        if not triage.changed_fields(state, after)[1]:
            continue
        kept.append((action, label))
        if isinstance(action, SetEscalation) and action.escalation is not None:
            payload: dict[str, Any] = {**escalation_payload(message, after, action.escalation), "rule": rule.name}
            outbox.append(_item("esc", rule, message, OutboxKind.ESCALATION, rule.escalate, payload, ctx.now))
        if after.status == Status.DONE and state.status != Status.DONE and ctx.marks_read(message.channel):
            payload = {"action": MARK_READ, "rule": rule.name}
            outbox.append(_item("read", rule, message, OutboxKind.ACTION, message.channel, payload, ctx.now))
        state = after
    if kept and not triage.changed_fields(start, state)[1]:
        kept = []  # its steps undid each other: nothing to record
    reply = _reply(rule, message, state, ctx) if rule.reply_text else None
    return _Hit(rule, kept, outbox, reply), state


def _item(
    what: str, rule: Rule, message: Message, kind: OutboxKind, destination: str, payload: dict[str, Any], now: datetime
) -> OutboxItem:
    """An outbox item whose id a second run of the same rule on the same item repeats."""
    return OutboxItem(
        id=f"rule-{what}-" + digest(what, rule.name, message.id),
        kind=kind,
        message_id=message.id,
        destination=destination,
        payload=payload,
        actor=rule.actor,
        created_at=now,
    )


def _reply(rule: Rule, message: Message, state: TriageState, ctx: Context) -> OutboxItem | None:
    since = ctx.since.get(rule.name)
    if since is None or message.created_at < since:
        return None  # older than the rule: a backlog is never answered by a rule written later
    if state.status == Status.DONE or MUTED in state.tags:
        return None
    key = identity_of(message)
    if any(key in ctx.people.tagged.get(tag, ()) for tag in NO_AUTO_REPLY):
        return None
    text = expand(rule.reply_text, ReplyContext(message, ctx.me))
    sent = ctx.outgoing(message, text)
    if sent is None:
        return None
    person = min(ctx.people.members.get(key, (key,)))  # linked identities are one author
    day = ctx.now.date().isoformat()
    return OutboxItem(
        id="rule-reply-" + digest(rule.name, person, day),
        kind=OutboxKind.REPLY,
        message_id=message.id,
        destination=message.channel,
        payload={"text": sent, "rule": rule.name},
        actor=rule.actor,
        created_at=ctx.now,
    )


def _accepted(candidates: list[OutboxItem], known: OutboxLookup) -> set[str]:
    """The replies to queue: the first of each id in the batch, unless the store has it already."""
    if not candidates:
        return set()
    stored = known({c.id for c in candidates})
    return {c.id for c in candidates if c.id not in stored}


def _sample(out: Outcome, rule: str, message: Message, label: str) -> None:
    found = out.samples.setdefault(rule, [])
    if len(found) < SAMPLES:
        found.append(Sample(message.id, message.text, label))
