"""Community answers: a question answered in its thread by someone who is neither its author
nor staff, before any staff reply.

Detected at ingest, inside the store's step that stores the messages (both backends), so an
item is never seen without its answer: whenever a message of a conversation arrives or
changes, the conversation is read again (the stored messages with the batch's) and the
first reply to its question decides. Arrival order does not matter: an answer that arrives
before its question is found when the question arrives.

- The question is the message the conversation is keyed on (its thread key is its own id),
  else its first message without a parent. Mastodon keys a reply on its parent, so there the
  conversation of a question is the question and its direct replies.
- A reply counts from the first one by anyone but the question's author, in time order; one
  by a staff account (configured ``staff``, or a person tagged staff) first makes the item
  ``answered:staff``; anyone else first makes it ``answered:community``.
- A helper whose person is tagged muted or troll never counts: their reply is skipped (the
  next reply decides), so a troll's "answer" does not close a question.
- An answer a teammate confirmed is never replaced by a later detection.
- A staff account's reply is the team's first response to the item it replies to (its parent;
  the question when it names none), wherever it was written (the channel's own site or app,
  not only cminbox's composer): the first one sets that item's ``first_response_at`` to its
  time and moves it from new to open, as a reply sent through cminbox does (core/dispatch.py),
  so "needs reply", the overdue count and the first-response times agree with the "answered
  first by staff" line. A community answer before it does not count (it is not the official
  response), and a teammate's later status is kept.

The record lives in the item's triage state (``TriageState.answered``), written as an effect
(a history line by "community"), so confirming it and undoing that are ordinary actions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import msgspec

from cminbox.core.effects import Effect
from cminbox.core.models import Answered, Message, Status
from cminbox.core.people import Person, effective_tags, identity_of
from cminbox.core.triage import IfStill, SetAnswer, SetFirstResponse, SetStatus, Several

COMMUNITY = "community"
STAFF = "staff"
KINDS = (COMMUNITY, STAFF, "none")
ACTOR = "community"
#: Who the history names for a staff reply seen on the channel (core/community.first_response_effect).
STAFF_REPLY_ACTOR = "staff"
#: Profile tags whose holders' replies are never taken for an answer.
IGNORED_TAGS = frozenset({"muted", "troll"})

ThreadKey = tuple[str, str]
#: The stored messages of these conversations (called inside the store's step).
ThreadLookup = Callable[[set[ThreadKey]], Iterable[Message]]


def thread_key(message: Message) -> ThreadKey:
    """The conversation a message belongs to, as the stores index it."""
    return (message.channel, message.thread_id or message.id)


class Answering(msgspec.Struct, frozen=True):
    """Who is staff and whose replies are ignored, read once per batch before the step."""

    staff: frozenset[str] = frozenset()  # identity keys
    ignored: frozenset[str] = frozenset()

    @classmethod
    def of(cls, people: Iterable[Person], staff: frozenset[str]) -> Answering:
        """``staff``: the configured staff identities; people tagged staff count too."""
        everyone = staff
        ignored: set[str] = set()
        for person in people:
            tags = set(effective_tags(person, staff))
            if "staff" in tags:
                everyone = everyone | frozenset(person.identities)
            if tags & IGNORED_TAGS:
                ignored.update(person.identities)
        return cls(everyone, frozenset(ignored))


def question_of(messages: Sequence[Message]) -> Message | None:
    """The message a conversation asks (see the module's doc), or None."""
    for m in messages:
        if thread_key(m)[1] == m.id:
            return m
    roots = [m for m in messages if not m.parent_id]
    return min(roots, key=lambda m: (m.created_at, m.id)) if roots else None


def _replies(question: Message, thread: Iterable[Message]) -> list[Message]:
    """The replies to ``question`` on its channel, oldest first (equal times by id)."""
    return sorted(
        (
            m
            for m in thread
            if m.id != question.id and m.channel == question.channel and m.created_at >= question.created_at
        ),
        key=lambda m: (m.created_at, m.id),
    )


def staff_first_responses(
    question: Message, thread: Iterable[Message], answering: Answering
) -> list[tuple[str, Message]]:
    """(item id, reply) for each item of the conversation a staff account replied to, with the
    first such reply: the item its parent names (a nested comment on Reddit, GitHub, Matrix,
    Bluesky or in a mail thread), the question when it names none. A reply whose parent is not
    stored is left alone (which item it answers is not known), and so are replies to the team's
    own posts, a staff account's own question and a staff account tagged muted or troll."""
    by_id = {m.id: m for m in thread}
    staff = answering.staff - answering.ignored
    found: dict[str, Message] = {}
    for m in sorted(by_id.values(), key=lambda m: (m.created_at, m.id)):
        if identity_of(m) not in staff:
            continue
        target = by_id.get(m.parent_id) if m.parent_id else question
        if target is None or target.id == m.id or identity_of(target) in answering.staff:
            continue
        if m.channel == target.channel and m.created_at >= target.created_at:
            found.setdefault(target.id, m)
    return list(found.items())


def first_response_effect(item_id: str, reply: Message) -> Effect:
    """A staff reply seen on the channel answers the item as a reply sent through cminbox does:
    its time is the first response and a new item becomes open, unless a first response is
    recorded already (this one, or a reply sent through cminbox): a later poll of the thread
    then changes nothing, so a teammate who set the item back to new keeps it new."""
    opened = IfStill({"status": Status.NEW.value}, SetStatus(Status.OPEN))
    steps = IfStill({"first_response_at": None}, Several((SetFirstResponse(reply.created_at), opened)))
    return Effect(item_id, steps, STAFF_REPLY_ACTOR, f"replied on the channel by staff {reply.author.handle}")


def first_answer(question: Message, thread: Iterable[Message], answering: Answering) -> Answered | None:
    """The first reply that decides (see the module's doc), as the record kept on the item."""
    asker = identity_of(question)
    for m in _replies(question, thread):
        who = identity_of(m)
        if who == asker or who in answering.ignored:
            continue
        kind = STAFF if who in answering.staff else COMMUNITY
        return Answered(
            kind=kind,
            who=who,
            handle=m.author.handle,
            name=m.author.display_name,
            at=m.created_at,
            message_id=m.id,
            url=m.url,
        )
    return None


def answer_effects(batch: Iterable[Message], stored: ThreadLookup, answering: Answering) -> list[Effect]:
    """The answer records to write for the conversations the batch touches (effects on the
    questions, stored or in the batch). The batch's version of a message wins."""
    by_key: dict[ThreadKey, dict[str, Message]] = {}
    mine = list(batch)
    keys = {thread_key(m) for m in mine}
    if not keys:
        return []
    for m in stored(keys):
        by_key.setdefault(thread_key(m), {})[m.id] = m
    for m in mine:
        by_key.setdefault(thread_key(m), {})[m.id] = m
    effects: list[Effect] = []
    for key in sorted(keys):
        thread = list(by_key.get(key, {}).values())
        question = question_of(thread)
        if question is None:
            continue
        found = first_answer(question, thread, answering)
        if found is not None:
            label = f"{found.kind} answer by {found.handle}"
            effects.append(Effect(question.id, SetAnswer(found, detected=True), ACTOR, label))
        effects += (
            first_response_effect(mid, reply) for mid, reply in staff_first_responses(question, thread, answering)
        )
    return effects


#: Who closes a staff account's own post at ingest (core/community.official_effects).
OFFICIAL_ACTOR = "staff"


def official_effects(new: Iterable[Message], answering: Answering) -> list[Effect]:
    """The team's own posts are official answers, never incoming work: a new message by a
    staff account (configured ``staff``, or a person tagged staff) is stored (the thread view
    and the collision check read it) and closed in the same step, before anyone sees it, with
    a history line saying why. Only new messages: a teammate may reopen one on purpose."""
    return [
        Effect(m.id, SetStatus(Status.DONE), OFFICIAL_ACTOR, "official: posted by a staff account, not incoming")
        for m in new
        if identity_of(m) in answering.staff
    ]


def confirmed_by(answered: Answered, at: datetime, actor: str) -> Answered:
    return msgspec.structs.replace(answered, confirmed_at=at, confirmed_by=actor)


def answer_line(answered: Answered, now: datetime, age: Callable[[datetime, datetime], str]) -> str:
    """``answered by Mira Okafor (@mira) 12m ago``: the preview's line (server text made one
    line and inert by the caller's sanitising of the author's names at ingest)."""
    who = f"{answered.name} ({answered.handle})" if answered.name else answered.handle
    verb = "answered by" if answered.kind == COMMUNITY else "answered by staff:"
    mark = " ✓ confirmed" if answered.confirmed_at else ""
    return f"{verb} {who} {age(answered.at, now)} ago{mark}"
