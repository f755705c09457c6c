"""People on the TinyDB store: ``state/people.json``, one document per stored person.

A mixin of :class:`~cminbox.core.store.Store`. The file is a durable state table (fsynced,
replaced atomically, reloaded when another process replaced it). A write is one step of the
store (store_events.py): under the store lock, its ``person`` events first, then the file,
written once with every put and removal (:meth:`Segment.write_many`), so a kill leaves all
of it or none, and the crash check (:meth:`PeopleTables._person_written`) drops the events of
a write that never reached the file. Revisions make the writes optimistic: a record changed
by someone else since it was read is refused, not overwritten.

Lookups use a small index (person id and identity key → record) rebuilt when the file's
contents change; what messages say about an identity (:meth:`authors`) is computed from the
in-memory message indexes each time, never stored.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import msgspec

from cminbox.core.clock import Clock
from cminbox.core.events import Event, EventKind
from cminbox.core.indexes import Indexes
from cminbox.core.models import Message, Status
from cminbox.core.people import Person, Seen, changed_fields, claims
from cminbox.core.query import PeopleView
from cminbox.core.segment import Segment
from cminbox.core.store_api import removed_meanwhile, stale_write
from cminbox.core.store_events import draft, new_group
from cminbox.core.store_parts import StoreParts


@dataclass
class _Index:
    raw: dict[str, Person]  # the segment's table as last indexed: rebuilt when it is another object
    by_id: dict[str, tuple[int, Person]] = field(default_factory=dict)  # person id -> (doc id, record)
    owner: dict[str, str] = field(default_factory=dict)  # identity key -> person id
    views: dict[frozenset[str], PeopleView] = field(default_factory=dict)  # by staff identities


def holder_of_claims(puts: list[Person], touched: set[str], owner: dict[str, str]) -> str | None:
    """The stored person, not touched by this write, that holds an identity one of ``puts`` claims."""
    for key in claims(puts):
        holder = owner.get(key)
        if holder is not None and holder not in touched:
            return holder
    return None


class PeopleTables(StoreParts):
    ix: Indexes
    clock: Clock
    _mutex: threading.RLock
    _people: Segment[Person]
    _people_ix: _Index | None

    def _reload(self, seg: Segment[Person]) -> bool:
        raise NotImplementedError

    def _init_people(self, seg: Segment[Person]) -> None:
        self._people = seg
        self._people_ix = None

    def _people_index(self) -> _Index:
        raw = self._people.raw()
        if self._people_ix is None or self._people_ix.raw is not raw:
            ix = _Index(raw)
            for doc_id, person in self._people.items():
                ix.by_id[person.id] = (doc_id, person)
                for key in person.identities:
                    ix.owner[key] = person.id
            self._people_ix = ix
        return self._people_ix

    def _person(self, ref: str) -> Person | None:
        ix = self._people_index()
        found = ix.by_id.get(ix.owner.get(ref, ref))
        return found[1] if found else None

    # ----------------------------------------------------------------- PeopleStore
    def person(self, ref: str) -> Person | None:
        with self._mutex:
            # The committed view: a file another process replaced is read again (whole: files
            # are replaced atomically, so no lock is needed to read one).
            self._reload(self._people)
            return self._person(ref)

    def people(self) -> list[Person]:
        with self._mutex:
            self._reload(self._people)
            return sorted((p for _, p in self._people_index().by_id.values()), key=lambda p: p.id)

    def write_people(
        self, puts: Iterable[Person], deletes: Iterable[Person] = (), *, actor: str, label: str
    ) -> list[Person]:
        put_list, delete_list = list(puts), list(deletes)
        now = self.clock()
        group = new_group()
        with self.transaction():
            ix = self._people_index()
            leaving = {d.id for d in delete_list}
            for wanted in [*put_list, *delete_list]:
                have = ix.by_id.get(wanted.id)
                if have is None and (wanted.rev != 0 or wanted.id in leaving):
                    raise removed_meanwhile(wanted.id)
                if have is not None and have[1].rev != wanted.rev:
                    raise stale_write(wanted.id, have[1].updated_by)
            holder = holder_of_claims(put_list, leaving | {p.id for p in put_list}, ix.owner)
            if holder is not None:
                raise stale_write(holder, ix.by_id[holder][1].updated_by)
            stored: list[Person] = []
            events: list[Event] = []
            updates: dict[int, Person] = {}
            inserts: list[Person] = []
            for put in put_list:
                new = msgspec.structs.replace(put, rev=put.rev + 1, updated_at=now, updated_by=actor)
                have = ix.by_id.get(put.id)
                before, after = changed_fields(have[1] if have else None, new)
                events.append(
                    draft(EventKind.PERSON, now, actor, new.id, label, group, before=before, after=after, rev=new.rev)
                )
                if have is None:
                    inserts.append(new)
                else:
                    updates[have[0]] = new
                stored.append(new)
            removes: list[int] = []
            for gone in delete_list:
                doc_id, have_person = ix.by_id[gone.id]
                before, after = changed_fields(have_person, None)
                events.append(draft(EventKind.PERSON, now, actor, gone.id, label, group, before=before, after=after))
                removes.append(doc_id)
            self._append_events(events)  # first: see store_events.py
            self._people.write_many(updates, inserts, removes)
        return stored

    def import_people(self, people: list[Person]) -> int:
        """PortableStore (``store migrate``, ``import``): records verbatim, one file write."""
        with self.transaction():
            ix = self._people_index()
            owner = dict(ix.owner)
            updates: dict[int, Person] = {}
            inserts: list[Person] = []
            for person in people:
                have = ix.by_id.get(person.id)
                if (have is not None and have[1].rev >= person.rev) or any(
                    owner.get(k, person.id) != person.id for k in person.identities
                ):
                    continue
                if have is None:
                    inserts.append(person)
                else:
                    updates[have[0]] = person
                owner.update(dict.fromkeys(person.identities, person.id))
            if updates or inserts:
                self._people.write_many(updates, inserts, [])
            return len(updates) + len(inserts)

    def authors(self, keys: Iterable[str] | None = None) -> dict[str, Seen]:
        with self._mutex:
            self._ensure_all()
            index, msgs = self.ix.by_identity(), self.ix.messages
            wanted = index.keys() if keys is None else [k for k in set(keys) if k in index]
            return {key: self._seen(key, [msgs[i] for i in index[key]]) for key in wanted}

    def identities(self) -> frozenset[str]:
        with self._mutex:
            self._ensure_all()
            return frozenset(self.ix.by_identity())

    def _seen(self, key: str, msgs: list[Message]) -> Seen:
        newest = max(msgs, key=lambda m: (m.created_at, m.id))
        return Seen(
            identity=key,
            handle=newest.author.handle,
            name=newest.author.display_name,
            items=len(msgs),
            open=sum(1 for m in msgs if self.ix.status_of(m.id) != Status.DONE),
            first_seen=min(m.created_at for m in msgs),
            last_seen=newest.created_at,
        )

    # ----------------------------------------------------------------- for the other mixins
    def _people_view(self, staff: frozenset[str]) -> PeopleView:
        """The query fields' view of the people (cached until the file changes)."""
        ix = self._people_index()
        view = ix.views.get(staff)
        if view is None:
            view = ix.views[staff] = PeopleView.of((p for _, p in ix.by_id.values()), staff)
        return view

    def _person_written(self, event: Event) -> bool:
        """The crash check (store_events.py): the record reached the event's revision, or is
        gone when the event removed it."""
        found = self._people_index().by_id.get(event.message_id)
        return found is None if event.rev == 0 else found is not None and found[1].rev >= event.rev
