"""What a teammate does with a community answer (confirm it, correct it) and who helps most;
shared by the CLI (``cminbox answer``, ``cminbox people top``) and the TUI.

Confirming is one action on the question (status done, and the answer marked confirmed by
whom and when): one undo takes back both. The helper's credit is counted from those records
when asked (``people top``, the person's card), as everything else about a person that the
messages can say is (core/people.py): nothing is written on the person, so nothing can
disagree with the items. The optional thank-you is an outbox reply to the helper's answer
whose id is made from that answer, so confirming again after an undo never thanks twice.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta

import msgspec

from cminbox.core import registry
from cminbox.core.clock import Clock
from cminbox.core.collision import staff_handles
from cminbox.core.community import COMMUNITY, Answering, confirmed_by
from cminbox.core.config import Config
from cminbox.core.effects import OutboxLookup, Planned
from cminbox.core.errors import CminboxError
from cminbox.core.inbox import Inbox
from cminbox.core.models import Answered, Message, Status, TriageState
from cminbox.core.outbox_types import OutboxItem, OutboxKind
from cminbox.core.people import Person, identity_of, staff_identities
from cminbox.core.query import parse
from cminbox.core.query.evaluate import age_limit
from cminbox.core.query.fields import AGE
from cminbox.core.saved_replies import Context as ReplyContext
from cminbox.core.saved_replies import expand
from cminbox.core.store_api import ActResult, StoreApi
from cminbox.core.text import one_line, sanitize
from cminbox.core.triage import SetAnswer, SetStatus, Several

QUOTED = 400  # characters of the community answer the correcting reply quotes


class AnswerError(CminboxError):
    pass


class Confirmed(msgspec.Struct, frozen=True):
    result: ActResult
    answered: Answered
    thanked: OutboxItem | None = None  # the thank-you queued now (None: not asked, or already queued)


class Helper(msgspec.Struct):
    """One person's help over a time window."""

    key: str  # their person id, or their identity when no one has recorded them
    name: str
    handle: str
    confirmed: int = 0
    answers: int = 0  # community answers (first in the thread, before staff)
    replies: int = 0  # replies in threads others started
    channels: Counter[str] = msgspec.field(default_factory=Counter)

    def rank_key(self) -> tuple[int, int, int, str]:
        return (-self.confirmed, -self.answers, -self.replies, self.name.casefold())

    def to_json(self) -> dict[str, object]:
        return {
            "person": self.key,
            "name": self.name,
            "handle": self.handle,
            "confirmed": self.confirmed,
            "answers": self.answers,
            "replies": self.replies,
            "channels": dict(sorted(self.channels.items())),
        }


def parse_since(text: str) -> timedelta:
    """``30d``, ``12h``, ``2w``, ``90m``: the units of ``age:``."""
    if not AGE.fullmatch(text.strip()):
        raise AnswerError(f"--since {text!r}: write 30d, 12h, 2w or 90m.")
    return age_limit(text.strip())


def thank_you_id(answer_message_id: str) -> str:
    """The thank-you's outbox id: one per answer, whoever confirms it and however often."""
    return "thanks-" + hashlib.sha256(answer_message_id.encode()).hexdigest()[:16]


class CommunityOps(msgspec.Struct):
    config: Config
    store: StoreApi
    clock: Clock

    @property
    def inbox(self) -> Inbox:
        """The verbs a confirm shares with the rest of triage (the reply check, mark-read)."""
        return Inbox(self.config, self.store, self.store.outbox, self.clock)

    @property
    def staff(self) -> frozenset[str]:
        return staff_identities(staff_handles(self.config.channels))

    def answer_of(self, message_id: str) -> Answered:
        """The item's community answer, or an error saying why there is none."""
        state = self.store.triage(message_id)
        found = state.answered
        if found is None or found.kind != COMMUNITY:
            how = "was answered by staff first" if found is not None else "has no answer in its thread yet"
            raise AnswerError(f"{message_id} {how}: there is no community answer to confirm or correct.")
        return found

    def confirm(self, message_id: str, *, thank: bool = False) -> Confirmed:
        """Done, and the answer confirmed (one action, one undo); ``thank``: queue the
        configured thank-you (``[community] thank_you``) as a reply to the helper's answer."""
        answered = self.answer_of(message_id)
        now, me = self.clock(), self.config.actor

        def confirming(state: TriageState) -> Several | None:
            a = state.answered
            if a is None or a.kind != COMMUNITY:
                return None
            stamped = a if a.confirmed_at else confirmed_by(a, now, me)
            return Several((SetStatus(Status.DONE), SetAnswer(stamped)))

        thanks = self.thank_you(message_id, answered) if thank else None  # refused before anything is written
        result = self.store.act([message_id], confirming, actor=me, label=f"confirm answer by {answered.handle}")
        # Done as `d` is: channels that mark read on done get their mark-read (core/inbox.py).
        self.inbox.mark_read(result.changed)
        thanked = self._queue_thanks(thanks) if thanks is not None else None
        return Confirmed(result, self.store.triage(message_id).answered or answered, thanked)

    def thank_text(self, answer: Message) -> str:
        name = self.config.community.thank_you
        if not name:
            raise AnswerError(
                "no thank-you is configured.", 'Name a saved reply in [community] thank_you = "..." (README).'
            )
        reply = next(r for r in self.config.saved_replies if r.name == name)  # config_checks: it exists
        return sanitize(expand(reply.text, ReplyContext(answer, self.config.actor))).strip()

    def thank(self, message_id: str, answered: Answered) -> OutboxItem | None:
        """Queue the thank-you unless it was queued before (its id is the answer's: once)."""
        return self._queue_thanks(self.thank_you(message_id, answered))

    def thank_you(self, message_id: str, answered: Answered) -> OutboxItem:
        """The thank-you as it will be queued, checked as any reply is: the channel can reply,
        and the text as sent (its mention, the helper's name filled in) fits its limit."""
        answer = self.store.get_message(answered.message_id)
        if answer is None:
            raise AnswerError(f"the answer {answered.message_id} is no longer in the store (archived?): not thanked.")
        if not registry.declaration(self.config.channel(answer.channel).type).capabilities.reply:
            raise AnswerError(f"{answer.channel} is read-only: no thank-you can be sent there.")
        out = self.inbox.outgoing_reply(answer, self.thank_text(answer))
        if out.too_long:
            raise AnswerError(out.refusal(answer.channel_type) + "; nothing was done", "Shorten the saved reply.")
        return OutboxItem(
            id=thank_you_id(answer.id),
            kind=OutboxKind.REPLY,
            message_id=answer.id,
            destination=answer.channel,
            payload={"text": self.thank_text(answer), "thanks": message_id},
            actor=self.config.actor,
            created_at=self.clock(),
        )

    def _queue_thanks(self, item: OutboxItem) -> OutboxItem | None:
        def only_the_thanks(items: list[tuple[Message, TriageState]], known: OutboxLookup) -> Planned:
            return Planned(outbox=[item])

        stored = self.store.apply_plan([item.message_id], only_the_thanks)
        return stored.outbox[0] if stored.outbox else None

    def quote(self, message_id: str) -> str:
        """The correcting reply's start: the community answer quoted, for the official word."""
        answered = self.answer_of(message_id)
        answer = self.store.get_message(answered.message_id)
        text = one_line(answer.text, QUOTED) if answer is not None else ""
        who = answered.name or answered.handle
        return f"> {who} ({answered.handle}) wrote: {text}\n\n"

    # ----------------------------------------------------------------- who helps most
    def top(self, since: timedelta, channel: str | None = None, limit: int | None = None) -> list[Helper]:
        """Who helps most since ``since`` ago (on ``channel``): confirmed answers, then
        community answers, then replies in threads others started. Staff, the muted and
        trolls are not ranked."""
        now = self.clock()
        edge = now - since
        answering = Answering.of(self.store.people(), self.staff)
        owners = _owners(self.store.people())
        where = " ".join(p for p in ("answered:community", f"channel:{channel}" if channel else "") if p)
        helpers: dict[str, Helper] = {}

        def helper(key: str, name: str, handle: str) -> Helper:
            person = owners.get(key)
            ref = person.id if person is not None else key
            if ref not in helpers:
                helpers[ref] = Helper(ref, (person.name if person and person.name else "") or name or handle, handle)
            return helpers[ref]

        for _, state in self.store.query(where=parse(where)):
            a = state.answered
            if a is None or a.at < edge or a.who in answering.ignored:
                continue
            h = helper(a.who, a.name, a.handle)
            h.answers += 1
            h.confirmed += int(a.confirmed_at is not None)
            h.channels[a.who.partition(":")[0]] += 1
        recent = [m for m, _ in self.store.query(where=parse(f"age:<{_minutes(since)}m" + _on(channel)))]
        for m in _replies_to_others(recent, self.store):
            key = identity_of(m)
            if key in answering.staff or key in answering.ignored:
                continue
            h = helper(key, m.author.display_name, m.author.handle)
            h.replies += 1
            h.channels[m.channel] += 1
        ranked = sorted(helpers.values(), key=Helper.rank_key)
        return ranked[:limit] if limit else ranked


def credit_of(store: StoreApi, identities: Iterable[str]) -> tuple[int, int]:
    """(community answers, confirmed ones) written from these identities, all time: the
    helper's credit on their card (people show, the person screen)."""
    keys = set(identities)
    found = [s.answered for _, s in store.query(where=parse("answered:community"))]
    mine = [a for a in found if a is not None and a.who in keys]
    return len(mine), sum(a.confirmed_at is not None for a in mine)


def _owners(people: Iterable[Person]) -> dict[str, Person]:
    return {key: p for p in people for key in p.identities}


def _minutes(span: timedelta) -> int:
    return max(1, int(span.total_seconds() // 60))


def _on(channel: str | None) -> str:
    return f" channel:{channel}" if channel else ""


def _replies_to_others(messages: list[Message], store: StoreApi) -> list[Message]:
    """The messages that reply to someone else's message (the parent read from the window,
    else from the store)."""
    by_id = {m.id: m for m in messages}
    out = []
    for m in messages:
        if not m.parent_id or m.parent_id == m.id:
            continue
        parent = by_id.get(m.parent_id) or store.get_message(m.parent_id)
        if parent is not None and identity_of(parent) != identity_of(m):
            out.append(m)
    return out
