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
from cminbox.core.triage import SetAnswer, SetStatus

COMMUNITY = "community"
STAFF = "staff"
KINDS = (COMMUNITY, STAFF, "none")
ACTOR = "community"
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


def first_answer(question: Message, thread: Iterable[Message], answering: Answering) -> Answered | None:
    """The first reply that decides (see the module's doc), as the record kept on the item."""
    asker = identity_of(question)
    replies = sorted(
        (
            m
            for m in thread
            if m.id != question.id and m.channel == question.channel and m.created_at >= question.created_at
        ),
        key=lambda m: (m.created_at, m.id),
    )
    for m in replies:
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
        if found is None:
            continue
        label = f"{found.kind} answer by {found.handle}"
        effects.append(Effect(question.id, SetAnswer(found, detected=True), ACTOR, label))
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
