"""Every live message id in time order: what makes a query's result newest first (core/indexes.py).

StoreApi.query answers newest first, equal times by id (last first). Sorting the candidates at
each query, by a float per id kept in a dict, cost ~120 ms at 100k ids and ~6 MB (issue #14).
This keeps one sorted list instead: the ids, and their times in an array (8 bytes each, no float
objects), ~1.6 MB at 100k. A large set of candidates is answered by walking the list (a few ms
at 100k), a small one by sorting it. The list is settled when a query needs it: parts added
while loading are sorted in once, a few new messages are put in their places, and anything
that left (an edit, an archived item, a part another process rewrote) has the list rebuilt
from the live messages (:meth:`TimeOrder._settle` says how that is noticed).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, KeysView, Mapping
from itertools import compress, islice
from operator import attrgetter, eq, methodcaller

from cminbox.core.models import Message

_CREATED = attrgetter("created_at")
_TIMESTAMP = methodcaller("timestamp")
SMALL = 64  # a set of at most 1/SMALL of the live ids is sorted, not looked for in the list
FEW = 256  # at most this many new ids are put in their places; more are sorted in


class TimeOrder:
    def __init__(self) -> None:
        self._ids: list[str] = []  # oldest first; equal times by id
        self._times = array("d")  # the ids' times (POSIX timestamps), in the same order
        self._new_ids: list[str] = []  # added since the list was last settled
        self._new_times = array("d")

    def add(self, ids: list[str], times: Iterable[float]) -> None:
        """``ids`` arrived (a part loaded, a message stored), with their times."""
        self._new_ids.extend(ids)
        self._new_times.extend(times)

    def newest_first(self, ids: Iterable[str], live: Mapping[str, Message]) -> list[str]:
        """``ids`` (live ones: the indexes' candidates) newest first, equal times by id, last first."""
        if not isinstance(ids, Collection):
            ids = list(ids)
        if len(ids) * SMALL <= len(live):
            return sorted(ids, key=lambda mid: (_TIMESTAMP(live[mid].created_at), mid), reverse=True)
        self._settle(live)
        every = self._ids
        want = ids if isinstance(ids, set | frozenset | KeysView) else set(ids)
        if len(want) == len(every):  # every live id: the whole list
            return every[::-1]
        return [mid for mid in reversed(every) if mid in want]

    def _settle(self, live: Mapping[str, Message]) -> None:
        if self._new_ids:
            if len(self._new_ids) <= FEW and self._ids:
                for mid, at in zip(self._new_ids, self._new_times, strict=True):
                    self._put(mid, at)
            else:
                self._ids, self._times = _in_order(self._ids + self._new_ids, self._times + self._new_times)
        self._new_ids, self._new_times = [], array("d")
        # Every id added since the last rebuild has an entry, so the list holds each live id
        # once exactly when it is as long as the live dict. Longer: an id left (an edit is a
        # drop and an add: its old time is still listed; an archived item; a part another
        # process rewrote), or one was stored twice over. Then it is rebuilt from the live ids.
        if len(self._ids) != len(live):
            times = array("d", map(_TIMESTAMP, map(_CREATED, live.values())))
            self._ids, self._times = _in_order(list(live), times)

    def _put(self, mid: str, at: float) -> None:
        lo = bisect_left(self._times, at)
        hi = bisect_right(self._times, at, lo)
        place = bisect_left(self._ids, mid, lo, hi)  # equal times: by id
        self._ids.insert(place, mid)
        self._times.insert(place, at)


def _in_order(ids: list[str], times: array[float]) -> tuple[list[str], array[float]]:
    """``ids`` sorted by time, then by id where times are equal (rare: none in most stores;
    the runs of equal times are found in C-level passes and sorted by id after the sort)."""
    by_time = sorted(range(len(ids)), key=times.__getitem__)
    found = list(map(ids.__getitem__, by_time))
    ordered = array("d", map(times.__getitem__, by_time))
    tied = list(compress(range(1, len(ordered)), map(eq, ordered, islice(ordered, 1, None))))
    at = 0
    while at < len(tied):  # a run: the position before a tie, through its last equal one
        first = last = tied[at]
        while at + 1 < len(tied) and tied[at + 1] == last + 1:
            at += 1
            last = tied[at]
        found[first - 1 : last + 1] = sorted(found[first - 1 : last + 1])
        at += 1
    return found, ordered
