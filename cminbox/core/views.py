"""Saved views (a name, a query, a number key) and the orderings of the inbox."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from operator import itemgetter
from typing import TypeVar

import msgspec

from cminbox.core.models import Message, TriageState
from cminbox.core.query import Query, parse

T = TypeVar("T")


class View(msgspec.Struct, frozen=True):
    key: str
    name: str
    query: str

    def compiled(self) -> Query:
        return parse(self.query)


DEFAULT_VIEWS = (
    View("1", "needs reply", "is:unreplied -status:done -status:waiting -is:snoozed"),
    View("2", "escalated", "is:escalated"),
    View("3", "mine", "is:mine -status:done"),
    View("4", "snoozed due", "is:snooze-due -status:done"),
    View("5", "all", ""),
)


class Sort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    PRIORITY = "priority"
    SENTIMENT = "sentiment"  # most negative first, unscored last


def arrange(
    rows: Iterable[tuple[Message, TriageState]], sort: Sort, group_threads: bool = False
) -> list[tuple[Message, TriageState]]:
    """Order rows; with ``group_threads`` each conversation stays together, oldest first within it,
    conversations ordered by their newest message."""
    return arrange_by(rows, sort, group_threads, message=itemgetter(0), state=itemgetter(1))


def arrange_by(
    items: Iterable[T],
    sort: Sort,
    group_threads: bool = False,
    *,
    message: Callable[[T], Message],
    state: Callable[[T], TriageState],
) -> list[T]:
    """:func:`arrange` for items that hold a message and its state (the TUI's rows): sorted
    as they are, not copied into pairs and looked up again (~35 ms of a 100k view change)."""
    items = list(items)
    if sort == Sort.PRIORITY:
        items.sort(key=lambda r: (state(r).priority.rank, message(r).created_at), reverse=True)
    elif sort == Sort.SENTIMENT:
        # The angriest first (what to read first in a burst); unscored last, since "?" says
        # nothing either way; newest first among equal scores (two stable sorts).
        items.sort(key=lambda r: ((m := message(r)).created_at, m.id), reverse=True)
        items.sort(key=lambda r: ((s := message(r).sentiment) is None, s or 0.0))
    else:
        items.sort(key=lambda r: ((m := message(r)).created_at, m.id), reverse=sort == Sort.NEWEST)
    if not group_threads:
        return items
    first_pos: dict[str, int] = {}  # a conversation's place: its first item's in the sort above
    for pos, item in enumerate(items):
        m = message(item)
        first_pos.setdefault(m.thread_id or m.id, pos)
    return sorted(items, key=lambda r: (first_pos[(m := message(r)).thread_id or m.id], m.created_at))
