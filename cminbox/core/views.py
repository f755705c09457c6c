"""Saved views (a name, a query, a number key) and the orderings of the inbox."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cminbox.core.models import Message, TriageState
from cminbox.core.query import Query, parse


@dataclass(frozen=True)
class View:
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
    items = list(rows)
    if sort == Sort.PRIORITY:
        items.sort(key=lambda r: (r[1].priority.rank, r[0].created_at), reverse=True)
    elif sort == Sort.SENTIMENT:
        # The angriest first (what to read first in a burst); unscored last, since "?" says
        # nothing either way; newest first among equal scores (two stable sorts).
        items.sort(key=lambda r: (r[0].created_at, r[0].id), reverse=True)
        items.sort(key=lambda r: (r[0].sentiment is None, r[0].sentiment or 0.0))
    else:
        items.sort(key=lambda r: (r[0].created_at, r[0].id), reverse=sort == Sort.NEWEST)
    if not group_threads:
        return items
    latest: dict[str, datetime] = {}
    first_pos: dict[str, int] = {}
    for pos, (m, _) in enumerate(items):
        key = m.thread_id or m.id
        latest[key] = max(latest.get(key, m.created_at), m.created_at)
        first_pos.setdefault(key, pos)
    return sorted(items, key=lambda r: (first_pos[r[0].thread_id or r[0].id], r[0].created_at))
