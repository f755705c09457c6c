"""Guideline follow-ups: after hiding, removing or reporting a post, tell its author which
community guideline applied ("follow up and explain why a post was removed").

How it is delivered is the channel's declaration (:class:`~cminbox.core.channel.ChannelTraits`):
a private message where the channel has them (``direct_messages``), else a reply where the
channel can reply, else nothing, with the reason shown. The text is a template (a guideline's
``follow_up`` or :data:`DEFAULT_FOLLOW_UP`) expanded with the saved-reply variables, and checked
against the channel's limit as it will be sent, before anything is queued.

A follow-up is its own outbox item (``OutboxKind.FOLLOW_UP``), so the dispatcher sends it
exactly once (claims, leases, the idempotency key) like a reply. One queued with a moderation
names that action's item (``after``): the dispatcher sends it only once that action is ``sent``,
waits while it is retried, and fails it (unsent) when the action failed for good.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

import msgspec

from cminbox.core import registry, saved_replies
from cminbox.core.channel import Channel, OutgoingReply, outgoing_direct_of
from cminbox.core.config import Config
from cminbox.core.config_schema import Guideline
from cminbox.core.errors import CminboxError
from cminbox.core.models import Message
from cminbox.core.outbox_types import MARK_READ, OutboxItem, OutboxKind, OutboxStatus
from cminbox.core.people import identity_of

#: The variables a follow-up may name beyond the saved replies' own.
FOLLOW_UP_VARIABLES: dict[str, str] = {
    **saved_replies.GUIDELINE_VARIABLES,
    "action": "what was done to the post: removed, hidden, reported ...",
}
DEFAULT_FOLLOW_UP = (
    'Hi {author.name}, your post was {action} under our community guideline "{guideline.name}": '
    "{guideline.text} {guideline.url}"
)
# {action} in words. An action not listed reads "moderated (lock)"; no action (a post moderated
# outside cminbox, or long ago) reads "moderated".
_DONE = {
    "hide": "hidden",
    "remove": "removed",
    "spam": "removed as spam",
    "report": "reported to the moderators",
    "flag": "flagged for the moderators",
    "agree": "hidden",
    "redact": "removed",
}


class GuidelineError(CminboxError):
    pass


def done_word(action: str) -> str:
    return _DONE.get(action) or (f"moderated ({action})" if action else "moderated")


def find(config: Config, name: str) -> Guideline:
    """The guideline ``name``, or an error listing the configured ones."""
    for g in config.guidelines:
        if g.name == name:
            return g
    known = [g.name for g in config.guidelines]
    close = difflib.get_close_matches(name, known, n=1)
    raise GuidelineError(
        f"no guideline named {name!r}.",
        (f"Did you mean {close[0]!r}? " if close else "")
        + (f"Guidelines: {', '.join(known)}." if known else "Add [[guidelines]] (name, text, url) to the config."),
    )


class Via(StrEnum):
    DM = "dm"
    REPLY = "reply"
    NONE = "none"


class Route(msgspec.Struct, frozen=True):
    """How a follow-up reaches the author on a channel type, in words for the user."""

    via: Via
    how: str


def route_for(cls: type[Channel]) -> Route:
    name = cls.type_name
    if cls.traits.direct_messages:
        return Route(Via.DM, f"a direct message on {name}")
    if cls.capabilities.reply:
        public = "public " if cls.capabilities.reply_is_public else ""
        return Route(Via.REPLY, f"a {public}reply on {name} ({name} has no private messages)")
    return Route(Via.NONE, f"{name} has no private messages and cannot reply: no follow-up sent")


class FollowUp(msgspec.Struct, frozen=True):
    """One planned follow-up: what would be sent, how, and why not when it cannot be."""

    message: Message
    guideline: Guideline
    action: str
    route: Route
    typed: str  # the expanded template (the channel adds its mention to it when sending)
    outgoing: OutgoingReply | None  # exactly as sent, with its length; None when there is no route
    problem: str = ""  # why it cannot be sent ("" when it can)
    too_long: bool = False  # the problem is its length: refused before anything is queued

    @property
    def ok(self) -> bool:
        return not self.problem

    def payload(self, after: str = "") -> dict[str, Any]:
        return {
            "text": self.typed,
            "guideline": self.guideline.name,
            "via": self.route.via.value,
            "action": self.action,
            "identity": identity_of(self.message),
            "after": after,
        }


def expand(guideline: Guideline, message: Message, action: str, me: str) -> str:
    extra = {
        "guideline.name": guideline.name,
        "guideline.text": guideline.text,
        "guideline.url": guideline.url,
        "action": done_word(action),
    }
    text = saved_replies.expand(guideline.follow_up or DEFAULT_FOLLOW_UP, saved_replies.Context(message, me, extra))
    return " ".join(text.split(" ")).strip()  # an empty {guideline.url} leaves no trailing space


def plan(config: Config, message: Message, guideline: Guideline, action: str, *, after_action: bool) -> FollowUp:
    """The follow-up for ``message`` (no I/O). ``after_action``: it follows ``action`` queued now,
    and is offered only after the actions the channel declares as hiding, removing or reporting."""
    cfg = config.channel(message.channel)
    cls = registry.load_channel(cfg.type)
    route = route_for(cls)
    typed = expand(guideline, message, action, config.actor)
    if route.via == Via.NONE:
        return FollowUp(message, guideline, action, route, typed, None, route.how)
    direct = outgoing_direct_of(cls) if route.via == Via.DM else None
    out: OutgoingReply = (
        direct(message, typed, cfg.options) if direct else cls.outgoing_reply(message, typed, cfg.options)
    )
    problem = ""
    if after_action and action not in cls.traits.guideline_actions:
        offered = ", ".join(cls.traits.guideline_actions) or "no action"
        problem = f"no follow-up after {action!r}: {cfg.type} offers one after {offered}"
    elif out.too_long:
        problem = out.refusal(cfg.type).replace("the reply", "the follow-up", 1)
    return FollowUp(message, guideline, action, route, typed, out, problem, too_long=bool(problem) and out.too_long)


def earlier(items: Iterable[OutboxItem], message_id: str, guideline: str) -> OutboxItem | None:
    """A follow-up of ``guideline`` to ``message_id`` already queued or sent (not failed)."""
    return next(
        (
            i
            for i in items
            if i.kind == OutboxKind.FOLLOW_UP
            and i.message_id == message_id
            and i.payload.get("guideline") == guideline
            and i.status != OutboxStatus.FAILED
        ),
        None,
    )


def last_action(items: Iterable[OutboxItem], message_id: str) -> str:
    """The newest moderation cminbox ran on the item ("" when none: moderated elsewhere)."""
    done = [
        i
        for i in items
        if i.kind == OutboxKind.ACTION
        and i.message_id == message_id
        and i.status == OutboxStatus.SENT
        and i.payload.get("action") != MARK_READ
    ]
    return str(max(done, key=lambda i: i.created_at).payload.get("action") or "") if done else ""


class Notices(msgspec.Struct, frozen=True):
    """A person's guideline record: follow-ups sent and moderations, per guideline."""

    sent: dict[str, int] = msgspec.field(default_factory=dict)
    moderated: dict[str, int] = msgspec.field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.sent.values())


def notices(items: Iterable[OutboxItem], identities: Iterable[str], message_ids: Iterable[str] = ()) -> Notices:
    """Counted from the outbox (both backends keep it), never stored twice: the follow-ups sent to
    any of ``identities`` and the moderations with a guideline on any of ``message_ids``."""
    keys, mids = set(identities), set(message_ids)
    sent: Counter[str] = Counter()
    moderated: Counter[str] = Counter()
    for i in items:
        name = str(i.payload.get("guideline") or "")
        if not name or i.status != OutboxStatus.SENT:
            continue
        if i.kind == OutboxKind.FOLLOW_UP and i.payload.get("identity") in keys:
            sent[name] += 1
        elif i.kind == OutboxKind.ACTION and i.message_id in mids:
            moderated[name] += 1
    return Notices(dict(sorted(sent.items())), dict(sorted(moderated.items())))


def notices_text(n: Notices) -> str:
    """``be-kind 2 · no-spam 1`` (follow-ups sent), or "" when there are none."""
    names = sorted(set(n.sent) | set(n.moderated))
    parts = []
    for name in names:
        extra = n.moderated.get(name, 0)
        told = n.sent.get(name, 0)
        parts.append(f"{name} {told}" + (f" ({extra} moderated)" if extra and extra != told else ""))
    return " · ".join(parts)
