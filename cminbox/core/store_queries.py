"""The TinyDB store's read side: listing with exact filters, an author's other messages, a
conversation, and ids given in part. A mixin of :class:`~cminbox.core.store.Store`, answered
from the in-memory indexes (indexes.py), never by scanning TinyDB tables."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from cminbox.core.census import Counts, Part, Signature, cache_bytes, load_cache, read_part
from cminbox.core.clock import Clock
from cminbox.core.indexes import Indexes
from cminbox.core.locking import synchronized
from cminbox.core.models import Message, Status, TriageState
from cminbox.core.query import PeopleView, Query
from cminbox.core.query.plan import plan
from cminbox.core.segment import Segment, atomic_write_bytes, file_signature
from cminbox.core.store_api import one_id
from cminbox.core.store_parts import StoreParts

_NO_STATE = TriageState(id="")  # what a message-only residue is given instead of a state


class QueryTables(StoreParts):
    ix: Indexes
    clock: Clock
    _mutex: threading.RLock
    _shards: list[Segment[TriageState]]
    _people_view: Callable[[frozenset[str]], PeopleView]  # store_people.py
    _segments: dict[str, Segment[Message]]
    _unloaded: set[str]
    _census_parts: dict[str, tuple[Signature, Part]]
    dir: Path
    _load_segment: Callable[[str], None]

    @synchronized
    def resolve_id(self, partial: str) -> str:
        """Accept a full id, or a unique suffix such as the native id (handy on the command line)."""
        self._ensure_all()
        if partial in self.ix.messages:
            return partial
        hits = [mid for mid in self.ix.messages if mid.endswith(":" + partial) or mid.endswith(partial)]
        return one_id(partial, hits)

    @synchronized
    def query(
        self,
        *,
        status: Status | None = None,
        tag: str | None = None,
        channel: str | None = None,
        where: Query | None = None,
        me: str = "",
        limit: int | None = None,
        loaded_only: bool = False,
        staff: frozenset[str] = frozenset(),
    ) -> list[tuple[Message, TriageState]]:
        """Messages with their triage state, newest first: exact ``status``/``tag``/``channel``
        fields, and ``where`` (the filter language, for actor ``me``) planned over the indexes
        (query/plan.py) and evaluated per candidate for the rest; its people fields read the
        stored people and ``staff`` (store_people.py)."""
        if not loaded_only and limit is not None and self._unloaded:
            return self._newest_loaded(
                limit,
                lambda: self.query(
                    status=status,
                    tag=tag,
                    channel=channel,
                    where=where,
                    me=me,
                    limit=limit,
                    staff=staff,
                    loaded_only=True,
                ),
            )
        if not loaded_only:
            self._ensure_all()
        found = self.ix.candidates(status=status, tag=tag, channel=channel)
        residue: Query | None = None
        if where is not None and not where.empty:
            people = self._people_view(staff) if where.uses_people else None
            planned = plan(where.node, self.ix, people)
            if planned.candidates is not None:
                # Per candidate, not set.intersection: ``found`` may be the 100k-key view of
                # every message, which intersection would walk whole for a handful of ids.
                found = {mid for mid in planned.candidates if mid in found}
            residue = Query.of(planned.residue) if planned.residue is not None else None
            if residue is not None and residue.uses_people:
                assert people is not None
                residue = residue.bind(people)
        ids = self.ix.newest_first(found)
        msgs, at, shards, shard_no = self.ix.messages, self.ix.triage_at, self._shards, self.ix.triage_shard
        rows: list[tuple[Message, TriageState]] = []
        now = self.clock()
        check = residue.predicate if residue is not None else None
        lazy_state = residue is not None and not residue.uses_state
        for mid in ids:
            if limit is not None and len(rows) >= limit:
                break
            msg = msgs[mid]
            if lazy_state:  # the residue reads the message only: fetch the state for matches
                assert check is not None
                if not check(msg, _NO_STATE, now, me):
                    continue
                check_now = None
            else:
                check_now = check
            doc_id = at.get(mid)
            state = shards[shard_no[mid]].get(doc_id) if doc_id is not None else None
            state = state or TriageState(id=mid)
            if check_now is not None and not check_now(msg, state, now, me):
                continue
            rows.append((msg, state))
        return rows

    @synchronized
    def every_item(self, *, loaded_only: bool = False) -> list[tuple[Message, TriageState | None]]:
        """Every item with its stored state, None for one without a record (none is made)."""
        if not loaded_only:
            self._ensure_all()
        msgs, at, shards, shard_no = self.ix.messages, self.ix.triage_at.get, self._shards, self.ix.triage_shard
        return [
            (msgs[mid], shards[shard_no[mid]].get(doc_id) if (doc_id := at(mid)) is not None else None)
            for mid in self.ix.newest_first(msgs.keys())
        ]

    @synchronized
    def by_author(self, message: Message, limit: int = 3) -> list[Message]:
        """The author's other recent messages, newest first, on any channel (same handle)."""
        ids = self.ix.author_ids(self.ix.author_of(message.author.handle)) - {message.id}
        found = [m for m in (self._get_message(i) for i in ids) if m is not None]
        return sorted(found, key=lambda m: m.created_at, reverse=True)[:limit]

    @synchronized
    def thread_of(self, message: Message) -> list[Message]:
        """Stored messages of the same conversation, oldest first (from the segments loaded so far)."""
        ids = self.ix.thread_ids(message.channel, message.thread_id or message.id) or {message.id}
        same = [m for m in (self._get_message(i) for i in ids) if m is not None]
        return sorted(same or [message], key=lambda m: m.created_at)

    def _unread_parts(self) -> dict[str, Part]:
        """The parts not loaded yet, as ids and dates (core/census.py): from state/census.json
        where a part's file is unchanged since, else read for those two fields (and the cache
        rewritten). A part that cannot be read so is loaded whole instead (and reported as
        loading reports it). Called with the store's lock held."""
        cache_file = self.dir / "state" / "census.json"
        if not self._census_parts:  # what an earlier run read (its parts checked below)
            self._census_parts.update(load_cache(cache_file))
        read, parts = False, {}
        for key in sorted(self._unloaded):
            seg = self._segments[key]
            sig = file_signature(seg.path)
            cached = self._census_parts.get(key)
            if cached is None or cached[0] != sig:
                try:
                    cached = self._census_parts[key] = (sig, read_part(seg.path))
                    read = True
                except (OSError, msgspec.DecodeError, msgspec.ValidationError):
                    self._load_segment(key)
                    continue
            parts[key] = cached[1]
        if read:  # kept for the next start; derived data, so not flushed to disk
            with suppress(OSError):
                atomic_write_bytes(cache_file, cache_bytes(self._census_parts), durable=False)
        return parts

    def _newest_loaded(
        self, limit: int, read: Callable[[], list[tuple[Message, TriageState]]]
    ) -> list[tuple[Message, TriageState]]:
        """The first ``limit`` matches, newest first, of a lazily opened store, reading only the
        parts that can hold one (`cminbox list --limit 20` reads one or two parts, not all):
        ``read`` lists the matches among the loaded items; the newest parts not loaded are read
        while one could hold an item that sorts before the last of them (1, 2, 4... parts at a
        time: a query that matches little reads everything in a few passes, not one per part).
        Each part's newest date comes from the census (the dates stored, not the part's month),
        so an item filed in an older month's part is never missed."""
        newest = {key: max(part.at, default=float("-inf")) for key, part in self._unread_parts().items()}
        batch = 1
        while True:
            rows = read()
            waiting = sorted((key for key in self._unloaded if key in newest), key=newest.__getitem__, reverse=True)
            if not waiting:
                if self._unloaded:  # not in the census (a part added meanwhile): read as before
                    self._ensure_all()
                    return read()
                return rows
            if len(rows) >= limit and rows[-1][0].created_at.timestamp() > newest[waiting[0]]:
                return rows  # nothing left unread can sort before the last match
            for key in waiting[:batch]:
                self._load_segment(key)
            batch *= 2

    @synchronized
    def census(self, cutoff: datetime, exclude: Collection[str]) -> Counts:
        """The counts of every live item not in ``exclude`` (the rows a caller read and counts
        itself), the parts not loaded yet read for ids and dates only (core/census.py); items
        waiting for a first answer since before ``cutoff`` are overdue. Exact whatever loads
        meanwhile: loaded items are counted from the indexes, unloaded ones from their part.
        A part that cannot be read so is loaded whole (and reported as loading reports it)."""
        parts = list(self._unread_parts().values())
        counts, edge = Counts(), cutoff.timestamp()
        records, messages, seen = self.ix.triage_at, self.ix.messages, set(exclude)
        fresh = overdue = 0  # the common case inlined (no triage record: new, unanswered)
        for part in parts:
            ids, dates = part.ids, part.at
            idset = set(ids)
            if len(idset) == len(ids) and seen.isdisjoint(idset) and messages.keys().isdisjoint(idset):
                # The common part (nothing of it read or counted yet): set operations and
                # C-level scans instead of a Python step per item (census at 100k: 105 -> 40 ms).
                seen |= idset
                triaged = records.keys() & idset
                at_of = dict(zip(ids, dates, strict=True)) if triaged else {}
                for mid in triaged:
                    counts.add(mid, at_of[mid], self._triage(mid), edge)
                recent = (
                    [(m, a) for m, a in zip(ids, dates, strict=True) if a >= edge and m not in triaged]
                    if dates and max(dates) >= edge
                    else []
                )
                fresh += len(ids) - len(triaged)
                overdue += len(ids) - len(triaged) - len(recent)
                counts.young += [(m, datetime.fromtimestamp(a, UTC), _NO_STATE) for m, a in recent]
                continue
            for mid, at in zip(ids, dates, strict=True):
                if mid in seen or mid in messages:
                    continue
                seen.add(mid)  # an id in two parts (a move cut short) counts once
                if mid in records:
                    counts.add(mid, at, self._triage(mid), edge)
                elif at < edge:
                    fresh, overdue = fresh + 1, overdue + 1
                else:
                    fresh += 1
                    counts.young.append((mid, datetime.fromtimestamp(at, UTC), _NO_STATE))
        counts.status[Status.NEW] += fresh
        counts.overdue += overdue
        for mid, msg in messages.items():  # loaded since the caller read its rows
            if mid not in seen:
                counts.add(mid, msg.created_at.timestamp(), self._triage(mid), edge)
        return counts
