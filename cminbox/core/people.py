"""People: the person behind each channel identity, kept apart from the messages.

An *identity* is one account on one channel (``masto:@priya@example.social``). Every identity
is a person of its own until an operator links it to another (``cminbox people link``): links
are never made automatically, since two accounts sharing a user name on two networks are often
two people; :func:`suggestions` only proposes them.

A person's record holds what the team knows and decides (profile tags, notes, linked
identities, the name to show); what can be counted from messages (first and last seen, items
per channel, open items, sentiment) is computed from the store when asked, so ingest writes
nothing here. A record exists only for a person someone tagged, noted or linked: the record
of an identity nobody touched is implicit (:func:`implicit`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import msgspec

from cminbox.core.errors import CminboxError
from cminbox.core.models import Message, Note
from cminbox.core.random_ids import token_hex
from cminbox.core.triage import normalise_tag

#: The profile tags the product knows (any other is allowed as free-form). Each has a
#: one-cell glyph for rows, never colour alone; free-form tags show as "·".
PROFILE_TAGS = {
    "staff": "◆",
    "vip": "★",
    "advocate": "♥",
    "press": "✉",
    "complainer": "▼",
    "troll": "⚠",
}
#: Authors a rule never auto-replies to, whatever the rule says.
NO_AUTO_REPLY = frozenset({"staff", "troll", "muted"})


class PeopleError(CminboxError, ValueError):
    """A people operation that cannot be done as asked (the message says why and what to do)."""


def identity(channel: str, handle: str) -> str:
    """The key of one account on one channel: ``masto:priya@example.social`` (case and a
    leading "@" do not matter)."""
    return f"{channel}:{handle.strip().lstrip('@').casefold()}"


def identity_of(message: Message) -> str:
    return identity(message.channel, message.author.handle)


def channel_of(key: str) -> str:
    return key.partition(":")[0]


def handle_of(key: str) -> str:
    return key.partition(":")[2]


def user_of(key: str) -> str:
    """The user name in an identity's handle (``ana`` for ``ana@a.social``, ``ana.bsky.social``
    and ``ana``): what people often keep across networks, so a hint, never proof."""
    return handle_of(key).split("@")[0].split(".")[0]


class Person(msgspec.Struct, kw_only=True):
    """What the team knows of one person. ``id``: ``p-`` and a random part once stored
    (it never changes, whatever identities are linked or unlinked), the identity's key while
    the person is implicit."""

    id: str
    name: str = ""  # the name to show (the latest display name seen, unless set by hand)
    identities: list[str] = msgspec.field(default_factory=list)
    tags: list[str] = msgspec.field(default_factory=list)
    notes: list[Note] = msgspec.field(default_factory=list)
    updated_at: datetime | None = None
    updated_by: str = ""
    rev: int = 0  # bumped by every change: a write based on an older rev is refused

    def marker(self) -> str:
        """The row's glyphs for this person's profile tags, most telling first ("" for none)."""
        known = [PROFILE_TAGS[t] for t in PROFILE_TAGS if t in self.tags]
        return "".join(known) or ("·" if self.tags else "")


class Seen(msgspec.Struct, frozen=True, kw_only=True):
    """What the stored messages say about one identity (computed when asked, never stored):
    the handle and display name of its newest item, its items, those not done, first and last seen."""

    identity: str
    handle: str
    name: str
    items: int
    open: int
    first_seen: datetime
    last_seen: datetime


#: The fields of a record an event lists when they change.
RECORD_FIELDS = ("name", "identities", "tags", "notes")


def changed_fields(before: Person | None, after: Person | None) -> tuple[dict[str, object], dict[str, object]]:
    """The record fields that differ, as JSON-ready values (before, after); a new record has no
    "before", a removed one no "after"."""
    old = msgspec.to_builtins(before) if before is not None else {}
    new = msgspec.to_builtins(after) if after is not None else {}
    keys = [f for f in RECORD_FIELDS if old.get(f) != new.get(f)]
    return {k: old[k] for k in keys if k in old}, {k: new[k] for k in keys if k in new}


def claims(puts: Iterable[Person]) -> dict[str, str]:
    """identity key -> the person of ``puts`` that lists it; one identity listed by two is
    refused (an identity belongs to one person)."""
    owner: dict[str, str] = {}
    for person in puts:
        for key in person.identities:
            if owner.setdefault(key, person.id) != person.id:
                raise PeopleError(f"{key} cannot belong to both {owner[key]} and {person.id}")
    return owner


def staff_identities(staff: Mapping[str, Iterable[str]]) -> frozenset[str]:
    """The identity keys of the team's own accounts (``staff`` per channel in the config,
    core.collision.staff_handles): they are staff without anyone tagging them."""
    return frozenset(identity(channel, handle) for channel, handles in staff.items() for handle in handles)


def effective_tags(person: Person, staff: frozenset[str]) -> list[str]:
    """The stored tags, plus ``staff`` when one of the identities is a configured staff account."""
    if "staff" not in person.tags and staff.intersection(person.identities):
        return [*person.tags, "staff"]
    return list(person.tags)


def implicit(key: str, name: str = "") -> Person:
    """The person of an identity nobody has touched yet."""
    return Person(id=key, name=name, identities=[key])


def clean_tags(tags: Iterable[str]) -> list[str]:
    out = []
    for raw in tags:
        tag = normalise_tag(raw)
        if not tag:
            raise PeopleError(f"{raw!r} is not a tag (it is empty)")
        if tag not in out:
            out.append(tag)
    return out


def tagged(person: Person, add: Iterable[str] = (), remove: Iterable[str] = ()) -> Person:
    gone = set(clean_tags(remove))
    tags = [t for t in person.tags if t not in gone]
    tags += [t for t in clean_tags(add) if t not in tags]
    return msgspec.structs.replace(person, tags=tags)


def new_id() -> str:
    return "p-" + token_hex(5)


def is_stored(person: Person) -> bool:
    return person.id.startswith("p-")


def linked(a: Person, b: Person) -> Person:
    """One person with both's identities, tags and notes (``a``'s id and name are kept)."""
    if a.id == b.id:
        raise PeopleError(f"{a.identities[0]} and {b.identities[0]} are already one person")
    return msgspec.structs.replace(
        a,
        name=a.name or b.name,
        identities=[*a.identities, *(i for i in b.identities if i not in a.identities)],
        tags=[*a.tags, *(t for t in b.tags if t not in a.tags)],
        notes=sorted([*a.notes, *b.notes], key=lambda n: n.at),
    )


def unlinked(person: Person, key: str) -> tuple[Person, Person]:
    """``person`` without identity ``key``, and ``key``'s own person again. Tags and notes stay
    with the remaining person (they were decided about them); the split-off identity starts
    bare, so nothing is claimed about it that was decided about someone else."""
    if key not in person.identities:
        raise PeopleError(f"{key} is not one of {person.id}'s identities")
    if len(person.identities) == 1:
        raise PeopleError(f"{key} is {person.id}'s only identity: nothing to unlink")
    kept = msgspec.structs.replace(person, identities=[i for i in person.identities if i != key])
    return kept, implicit(key)


def suggestions(keys: Iterable[str], people: dict[str, Person]) -> list[tuple[str, str]]:
    """Pairs of identities on different channels with the same user name, not linked yet
    (``@ana@a.social`` and ``ana`` on GitHub): proposals for an operator, never merged here."""
    by_user: dict[str, list[str]] = {}
    for key in keys:
        user = user_of(key)
        if user:
            by_user.setdefault(user, []).append(key)
    owner = {i: p.id for p in people.values() for i in p.identities}
    pairs = []
    for group in by_user.values():
        for i, a in enumerate(sorted(group)):
            for b in sorted(group)[i + 1 :]:
                if a.partition(":")[0] != b.partition(":")[0] and owner.get(a, a) != owner.get(b, b):
                    pairs.append((a, b))
    return pairs
