"""Where an item is in the inbox list: its ids in list order, searched, not hashed.

A dict of id -> position took ~7 MB at 100k rows (the dict and an int object per row; issue
#14) for lookups of a handful of ids at a time: the row under the cursor, the items a key
acted on, a poll's changes. The ids' list takes 0.8 MB. One id is searched for around the
cursor first (where the rows a key acts on are), then in the whole list, a C-level scan that
compares pointers first (~1 ms at 100k); many ids at once take one pass (:meth:`positions`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

# Rows either side of the cursor searched before the whole list.
NEAR = 256
# Up to this many ids are searched for one by one; more take one pass over the list.
FEW = 8


class RowIndex:
    __slots__ = ("_ids", "near")

    def __init__(self, ids: list[str] | None = None) -> None:
        self._ids: list[str] = ids if ids is not None else []
        self.near = 0  # the cursor's row (InboxList.watch_cursor)

    def get(self, mid: str) -> int | None:
        ids = self._ids
        lo = max(0, self.near - NEAR)
        try:
            return ids.index(mid, lo, self.near + NEAR)
        except ValueError:
            pass
        try:
            return ids.index(mid)
        except ValueError:
            return None

    def __contains__(self, mid: str) -> bool:
        return self.get(mid) is not None

    def __getitem__(self, mid: str) -> int:
        at = self.get(mid)
        if at is None:
            raise KeyError(mid)
        return at

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def positions(self, mids: Iterable[str]) -> dict[str, int]:
        """The listed ones of ``mids`` and where they are."""
        wanted = set(mids)
        if len(wanted) <= FEW:
            return {mid: at for mid in wanted if (at := self.get(mid)) is not None}
        return {mid: at for at, mid in enumerate(self._ids) if mid in wanted}
