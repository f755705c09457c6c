"""The people verbs the CLI (and the TUI) share, over any store (store_api.PeopleStore).

A reference to a person (``REF``) is a person's id (``p-3f9a0c12de``), an identity key
(``masto:priya@example.social``, case and a leading "@" ignored), an item's id (its author),
or a bare handle found among the stored messages and records (``priya``, ``@priya``): when
that names several people it is refused with the candidates, never guessed.

Every write reads the records it changes just before, and the store refuses it when one was
changed meanwhile (optimistic revisions), so two teammates never overwrite each other. Links
are made only here, on an operator's word; :meth:`PeopleOps.card` merely suggests them.

What the messages say (items per identity, first and last seen, open items, the team's last
reply, the sentiment trend) is computed when asked: nothing here is written at ingest.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterable
from datetime import datetime

import msgspec

from cminbox.core.clock import Clock
from cminbox.core.collision import staff_handles
from cminbox.core.community import STAFF as STAFF_ANSWER
from cminbox.core.community_ops import credit_of
from cminbox.core.config import Config
from cminbox.core.errors import CminboxError
from cminbox.core.guidelines import Notices, notices
from cminbox.core.models import Answered, Message, Note, Status, TriageState
from cminbox.core.outbox_types import OutboxItem, OutboxKind, OutboxStatus
from cminbox.core.people import (
    PeopleError,
    Person,
    Seen,
    clean_tags,
    effective_tags,
    handle_of,
    identity,
    identity_of,
    implicit,
    is_stored,
    linked,
    new_id,
    staff_identities,
    suggestions,
    tagged,
    unlinked,
    user_of,
)
from cminbox.core.query import PeopleView, Query, Term
from cminbox.core.random_ids import token_hex
from cminbox.core.rules_plan import Outcome, RuleWarning
from cminbox.core.rules_run import RuleRunner
from cminbox.core.store_api import StoreApi
from cminbox.core.text import sanitize

log = logging.getLogger(__name__)
PERSON_ID = re.compile(r"p-[0-9a-z]+")
TREND_ITEMS = 10  # the sentiment trend compares the mean of the last 10 scored items with the 10 before
TREND_STEP = 0.1  # a change of the mean compound score smaller than this is "steady"
OPEN_LISTED = 10  # the card lists this many open items


class Trend(msgspec.Struct, frozen=True):
    recent: float | None  # mean score of the newest TREND_ITEMS scored items
    before: float | None  # of the TREND_ITEMS before those
    scored: int  # items with a score (the others are not English, or too short)

    @property
    def word(self) -> str:
        if self.recent is None or self.before is None:
            return "unknown"
        if self.recent - self.before >= TREND_STEP:
            return "improving"
        if self.before - self.recent >= TREND_STEP:
            return "worsening"
        return "steady"


def trend_of(items: Iterable[Message]) -> Trend:
    """``items`` newest first."""
    from statistics import fmean  # a card's trend only, not the first frame (issue #14)

    scores = [m.sentiment for m in items if m.sentiment is not None]
    recent, before = scores[:TREND_ITEMS], scores[TREND_ITEMS : 2 * TREND_ITEMS]
    return Trend(fmean(recent) if recent else None, fmean(before) if before else None, len(scores))


class Row(msgspec.Struct, frozen=True):
    """A person in a listing: the record (or an implicit one), what the messages say."""

    person: Person
    tags: list[str]  # the stored ones and the implied (staff)
    seen: dict[str, Seen]  # per identity that has live items

    @property
    def name(self) -> str:
        return self.person.name or display_name(self.seen) or handle_of(self.person.identities[0])

    @property
    def items(self) -> int:
        return sum(s.items for s in self.seen.values())

    @property
    def open(self) -> int:
        return sum(s.open for s in self.seen.values())

    @property
    def first_seen(self) -> datetime | None:
        return min((s.first_seen for s in self.seen.values()), default=None)

    @property
    def last_seen(self) -> datetime | None:
        return max((s.last_seen for s in self.seen.values()), default=None)


class TeamReply(msgspec.Struct, frozen=True, kw_only=True):
    """The team's newest reply to one of the person's items: sent through cminbox (``by`` the
    teammate), or by a staff account on the channel itself (``outside``: ``by`` its name)."""

    at: datetime
    by: str
    message_id: str  # the person's item it answered
    outside: bool = False
    reply_id: str = ""  # outside: the staff account's reply (a stored message's id)


class Card(Row, msgspec.Struct, frozen=True):
    """``people show``: a row, and what needs the person's items."""

    open_items: list[tuple[Message, TriageState]]  # newest first, at most OPEN_LISTED
    last_reply: OutboxItem | None  # the newest reply the team sent to one of their items
    trend: Trend
    suggested: list[str]  # identities on other channels with the same user name, not linked
    # The guideline follow-ups sent to them, per guideline (counted from the outbox: guidelines.py).
    guideline_notices: Notices = msgspec.field(default_factory=Notices)
    answers: tuple[int, int] = (0, 0)  # community answers, confirmed ones (core/community_ops.py)
    # The newest of their items' first answers that came from a staff account on the channel
    # (core/community.py): a reply made outside cminbox, which the outbox does not hold; with
    # the id of the item it answered.
    staff_answer: tuple[str, Answered] | None = None

    def team_reply(self) -> TeamReply | None:
        """The newest reply from the team, through cminbox or on the channel: the card said
        "no reply from the team yet" beside an item its preview showed answered by staff
        (new-user trial of 2026-12-02)."""
        sent = self.last_reply
        mine = (
            TeamReply(at=sent.sent_at, by=sent.actor, message_id=sent.message_id)
            if sent is not None and sent.sent_at is not None
            else None
        )
        if self.staff_answer is None:
            return mine
        item, staff = self.staff_answer
        if mine is not None and mine.at >= staff.at:
            return mine
        by = staff.name or staff.handle or staff.who
        return TeamReply(at=staff.at, by=by, message_id=item, outside=True, reply_id=staff.message_id)


def _claimed(key: str, people: list[Person]) -> bool:
    return any(key in p.identities for p in people)


def display_name(seen: dict[str, Seen]) -> str:
    newest = max(seen.values(), key=lambda s: s.last_seen, default=None)
    return newest.name if newest is not None else ""


class PeopleOps:
    def __init__(
        self, store: StoreApi, staff: frozenset[str], actor: str, clock: Clock, rules: RuleRunner | None = None
    ) -> None:
        self.store = store
        self.staff = staff  # identity keys of the configured staff accounts
        self.actor = actor
        self.clock = clock
        self.rules = rules  # run again on a person's open items when their profile tags change
        self.rerun = Outcome()  # what that did after the last write

    @classmethod
    def of(cls, config: Config, store: StoreApi, clock: Clock) -> PeopleOps:
        staff = staff_identities(staff_handles(config.channels))
        return cls(store, staff, config.actor, clock, RuleRunner.of(config, store, clock))

    def view(self) -> PeopleView:
        """For evaluating the people fields in Python (archived items, the TUI's rows)."""
        return PeopleView.of(self.store.people(), self.staff)

    # ----------------------------------------------------------------- finding people
    def resolve(self, ref: str) -> Person:
        ref = ref.strip()
        if not ref:
            raise PeopleError("an empty person reference", "Give a person id (p-...), CHANNEL:HANDLE or a handle.")
        if PERSON_ID.fullmatch(ref):
            found = self.store.person(ref)
            if found is not None:
                return found
            try:  # a handle that merely looks like an id ("p-bot")
                return self._by_handle(ref)
            except PeopleError:
                raise PeopleError(f"there is no person {ref}.", "`cminbox people list` shows them.") from None
        if ":" in ref:
            return self._by_key(ref)
        return self._by_handle(ref)

    def resolve_many(self, refs: Iterable[str]) -> list[Person]:
        """Each reference resolved (comma-separated ones too), each person once."""
        found: dict[str, Person] = {}
        for ref in refs:
            for part in ref.split(","):
                if part.strip():
                    person = self.resolve(part)
                    found.setdefault(person.id, person)
        if not found:
            raise PeopleError("no person given")
        return list(found.values())

    def _by_key(self, ref: str) -> Person:
        channel, _, handle = ref.partition(":")
        key = identity(channel, handle)
        found = self.store.person(key)
        if found is not None:
            return found
        if key in self.staff or key in self.store.authors([key]):
            return implicit(key)
        message = self.store.get_message(ref)  # an item's id: its author
        if message is not None:
            return self.store.person(identity_of(message)) or implicit(identity_of(message))
        close = difflib.get_close_matches(key, self._known_keys(), n=3, cutoff=0.6)
        hint = f"Did you mean {', '.join(close)}?" if close else "`cminbox people list --all` shows who is known."
        raise PeopleError(f"nobody is known as {key}: no live item is from that account.", hint)

    def _by_handle(self, ref: str) -> Person:
        want = ref.lstrip("@").casefold()
        keys = self._known_keys()
        # A full handle (user@server) names one account; a bare name also matches that user
        # name on every network (gh:priya and masto:priya@example.social): refused when they
        # are not one person, rather than picking the exact match and hiding the other.
        matches = [k for k in keys if handle_of(k) == want or ("@" not in want and user_of(k) == want)]
        owners: dict[str, tuple[Person, list[str]]] = {}
        for key in sorted(matches):
            owner = self.store.person(key) or implicit(key)
            owners.setdefault(owner.id, (owner, []))[1].append(key)
        if len(owners) == 1:
            [(person, _)] = owners.values()
            return person
        if not owners:
            close = difflib.get_close_matches(want, sorted({handle_of(k) for k in keys}), n=3, cutoff=0.6)
            hint = f"Did you mean {', '.join(close)}?" if close else "`cminbox people list --all` shows who is known."
            raise PeopleError(f"nobody is known as {ref!r}.", hint)
        named = "; ".join(", ".join(ks) + (f" ({p.id})" if is_stored(p) else "") for p, ks in owners.values())
        raise PeopleError(f"{ref!r} could be {len(owners)} people: {named}.", "Give one of them as CHANNEL:HANDLE.")

    def _known_keys(self) -> set[str]:
        return set(self.store.identities()) | {k for p in self.store.people() for k in p.identities} | self.staff

    # ----------------------------------------------------------------- writing
    def _write(
        self, puts: list[Person], label: str, deletes: Iterable[Person] = (), *, tags_change: bool = True
    ) -> list[Person]:
        # A person nobody stored gets a record (and an id that never changes) at its first write.
        ready = [p if is_stored(p) else msgspec.structs.replace(p, id=new_id(), rev=0) for p in puts]
        gone = list(deletes)
        stored = self.store.write_people(ready, gone, actor=self.actor, label=label)
        if tags_change:  # tagging, linking, unlinking: what a rule's author-tag: or person: reads
            self._rerun_rules([*stored, *(implicit(k) for p in gone for k in p.identities if not _claimed(k, stored))])
        return stored

    def _rerun_rules(self, people: list[Person]) -> None:
        """The rules that read profile tags, again on these people's open items. The write is
        done and stands whatever happens here: a failure is logged and said in ``rerun``."""
        self.rerun = Outcome()
        if self.rules is None or not people:
            return
        try:
            self.rerun = self.rules.rerun_for(people)
        except CminboxError as exc:
            log.warning("the rules did not run again after a people change: %s", exc)
            self.rerun.warnings.append(RuleWarning("*", "", str(exc)))

    def tag(self, refs: Iterable[str], add: Iterable[str] = (), remove: Iterable[str] = ()) -> list[Person]:
        """Add and remove profile tags on several people in one step; returns the people changed
        (one already tagged so is left alone)."""
        plus, minus = clean_tags(add), clean_tags(remove)
        if not plus and not minus:
            raise PeopleError("no tag given")
        changed = [new for p in self.resolve_many(refs) if (new := tagged(p, plus, minus)).tags != p.tags]
        label = "; ".join(
            [*(["tag " + " ".join(plus)] if plus else []), *(["untag " + " ".join(minus)] if minus else [])]
        )
        return self._write(changed, label) if changed else []

    def note(self, ref: str, text: str) -> Person:
        text = sanitize(text).strip()
        if not text:
            raise PeopleError("the note is empty")
        person = self.resolve(ref)
        note = Note(id=token_hex(6), author=self.actor, at=self.clock(), text=text)
        [stored] = self._write(
            [msgspec.structs.replace(person, notes=[*person.notes, note])], "note", tags_change=False
        )
        return stored

    def link(self, a_ref: str, b_ref: str) -> Person:
        """One person of A's and B's identities, tags and notes. A stored record keeps its id
        (the first one's when both are stored; the second's record is then removed)."""
        a, b = self.resolve(a_ref), self.resolve(b_ref)
        if a.id == b.id:
            raise PeopleError(f"{a_ref} and {b_ref} are already one person ({a.id}).")
        if is_stored(b) and not is_stored(a):
            a, b = b, a
        label = f"link {' + '.join([*a.identities, *b.identities])}"
        [stored] = self._write([linked(a, b)], label, [b] if is_stored(b) else [])
        return stored

    def unlink(self, ref: str) -> Person:
        """Take identity ``ref`` (CHANNEL:HANDLE) out of its person; it is a person of its own
        again, bare (nothing decided about the others sticks to it). Returns the rest."""
        channel, colon, handle = ref.strip().partition(":")
        if not colon:
            raise PeopleError(f"unlink takes an identity, CHANNEL:HANDLE (masto:priya@example.social), not {ref!r}.")
        key = identity(channel, handle)
        person = self.store.person(key)
        if person is None:
            raise PeopleError(f"{key} is not linked to anyone.")
        kept, _ = unlinked(person, key)
        [stored] = self._write([kept], f"unlink {key}")
        return stored

    # ----------------------------------------------------------------- reading
    def listing(self, *, tag: str | None = None, everyone: bool = False) -> list[Row]:
        """Stored people and the configured staff accounts (``everyone``: every author too),
        most recently seen first; ``tag``: only those with that profile tag (implied staff too)."""
        people = self.store.people()
        claimed = {k for p in people for k in p.identities}
        seen = self.store.authors() if everyone else self.store.authors(claimed | self.staff)
        extra = (set(seen) | self.staff) if everyone else set(self.staff)
        people += [implicit(key) for key in sorted(extra - claimed)]
        want = clean_tags([tag])[0] if tag else None
        rows: list[Row] = []
        for person in people:
            tags = effective_tags(person, self.staff)
            if want is None or want in tags:
                rows.append(Row(person, tags, {k: seen[k] for k in person.identities if k in seen}))
        rows.sort(key=lambda r: r.person.id)
        rows.sort(key=lambda r: r.last_seen.timestamp() if r.last_seen else float("-inf"), reverse=True)
        return rows

    def row(self, person: Person) -> Row:
        return Row(person, effective_tags(person, self.staff), self.store.authors(person.identities))

    def card(self, ref: str) -> Card:
        person = self.resolve(ref)
        mine = Term("person", ":", person.id if is_stored(person) else person.identities[0])
        items = self.store.query(where=Query.of(mine), staff=self.staff)
        ids = {m.id for m, _ in items}
        sent = self.store.outbox.items(OutboxStatus.SENT)
        replies = [
            (i.sent_at, i) for i in sent if i.kind == OutboxKind.REPLY and i.message_id in ids and i.sent_at is not None
        ]
        everyone = {p.id: p for p in self.store.people()}
        known = set(self.store.identities()) | {k for p in everyone.values() for k in p.identities}
        mine_keys = set(person.identities)
        suggested = sorted(
            {
                b if a in mine_keys else a
                for a, b in suggestions(known, everyone)
                if (a in mine_keys) != (b in mine_keys)
            }
        )
        return Card(
            person=person,
            tags=effective_tags(person, self.staff),
            seen=self.store.authors(person.identities),
            open_items=[(m, s) for m, s in items if s.status != Status.DONE][:OPEN_LISTED],
            last_reply=max(replies, key=lambda pair: pair[0], default=(None, None))[1],
            trend=trend_of(m for m, _ in items),
            suggested=suggested,
            guideline_notices=notices(sent, person.identities, ids),
            answers=credit_of(self.store, person.identities),
            staff_answer=max(
                ((m.id, a) for m, s in items if (a := s.answered) is not None and a.kind == STAFF_ANSWER),
                key=lambda pair: pair[1].at,
                default=None,
            ),
        )
