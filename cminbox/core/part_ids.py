"""The ids one store part holds, kept sorted in a list.

A set took ~40 bytes an id, a list 8: ~4 MB at 100k items for an index that only says which
part holds an id (issue #14). Membership is a binary search; the few ids of an edit or a poll
are inserted in place, and a part read whole is sorted once.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Collection, Iterable, Iterator

# Up to this many new ids are inserted one by one; more, and the list is merged and sorted again.
FEW = 64
# A lookup of fewer ids than the part holds / this is a binary search per id; more, one pass.
SEARCH_RATIO = 16


class PartIds:
    __slots__ = ("_ids",)

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._ids: list[str] = sorted(set(ids))

    def __contains__(self, mid: str) -> bool:
        ids = self._ids
        i = bisect_left(ids, mid)
        return i < len(ids) and ids[i] == mid

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def update(self, mids: Collection[str]) -> None:
        if len(mids) <= FEW:
            for mid in mids:
                if mid not in self:
                    insort(self._ids, mid)
        else:
            self._ids = sorted(set(self._ids).union(mids))

    def discard(self, mid: str) -> None:
        ids = self._ids
        i = bisect_left(ids, mid)
        if i < len(ids) and ids[i] == mid:
            del ids[i]

    def common(self, wanted: set[str]) -> set[str]:
        """The ids of ``wanted`` held here."""
        if len(wanted) * SEARCH_RATIO < len(self._ids):
            return {mid for mid in wanted if mid in self}
        return wanted.intersection(self._ids)
