"""The team store's first screen: the newest items first, the header's counts from SQL.

The TUI opens its store lazily (StoreApi.progressive): TinyDB reads its newest parts before
the first frame and the older ones after. The PostgreSQL store has no parts, and its first
screen was the whole read (1.2-1.3 s and every row decoded at 100k items: issue #14). Opened
lazily it now answers ``query(loaded_only=True)`` with the newest FIRST_WINDOW items (one
indexed ``ORDER BY created_at DESC LIMIT``) until the loader's second step, and its census
counts everything else in SQL, so the header is exact from the first frame; then the TUI's
loader takes the second step and reads everything, as before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg import Connection

from cminbox.core.census import Counts
from cminbox.core.models import Status
from cminbox.core.pg.items import state_of

if TYPE_CHECKING:
    from cminbox.core.pg.db import Database

FIRST_WINDOW = 500  # the newest items read for the first screen (a 40-row screen and scrolling)
# The census counts every item from indexes alone (items_status, items_waiting) and takes away
# the first screen's, found by their keys: a filter "not one of these 500 ids" read every row
# of the table instead (95 ms of the first screen's read at 100k items, issue #14).
_BY_STATUS = "SELECT status, count(*) FROM items GROUP BY status"
# census.waiting in SQL (the statuses still waiting for the team, with no first response yet):
# "status IN ('new', 'open') AND first_response_at IS NULL", items_waiting's condition.
_OVERDUE = (
    "SELECT count(*) FROM items WHERE status IN ('new', 'open') AND first_response_at IS NULL AND created_at < %s"
)
_SHOWN = (
    "SELECT status, count(*), count(*) FILTER (WHERE status IN ('new', 'open') AND first_response_at IS NULL"
    " AND created_at < %s) FROM items WHERE id = ANY(%s) GROUP BY status"
)
_YOUNG = (
    "SELECT id, created_at, triage::text, rev FROM items WHERE status IN ('new', 'open')"
    " AND first_response_at IS NULL AND created_at >= %s AND NOT (id = ANY(%s))"
)


class PgFirstScreen:
    db: Database
    _lazy = False  # opened by the TUI: the first screen first
    _window: int | None = None  # the first screen's size until the second step; None: everything
    _stepped = False

    def open_windowed(self) -> None:
        self._lazy, self._window = True, FIRST_WINDOW

    @property
    def progressive(self) -> PgFirstScreen | None:
        return self if self._lazy else None

    @property
    def fully_loaded(self) -> bool:
        return self._window is None

    def load_next_segment(self) -> str | None:
        """First step: the newest FIRST_WINDOW items; second: all of them; then None."""
        if self._window is None:
            return None
        if not self._stepped:
            self._stepped = True
            return "newest"
        self._window = None
        return "all"

    @property
    def loaded_items(self) -> int:
        """What ``query(loaded_only=True)`` reads: the window, then every live item."""
        if self._window is not None:
            return self._window if self._stepped else 0
        return int(self.db.read(lambda c: c.execute("SELECT count(*) FROM items").fetchone()[0]))  # type: ignore[index]

    def window(self, loaded_only: bool, plain: bool) -> int | None:
        """The LIMIT a ``loaded_only`` query without conditions gets while windowed."""
        return self._window if loaded_only and plain and self._stepped else None

    def census(self, cutoff: datetime, exclude: Collection[str]) -> Counts:
        """Every live item not in ``exclude`` counted in SQL, as core/census.py counts them:
        by status, waiting ones created before ``cutoff`` as overdue, later ones kept (the
        clock makes them overdue)."""
        ids = sorted(exclude)

        def read(c: Connection[Any]) -> Counts:
            # One snapshot for all four statements: an item written meanwhile is counted once.
            c.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            counts = Counts()
            every = Counter({Status(status): n for status, n in c.execute(_BY_STATUS).fetchall()})
            shown = c.execute(_SHOWN, (cutoff, ids)).fetchall()
            counts.status = every - Counter({Status(status): n for status, n, _ in shown})
            overdue = c.execute(_OVERDUE, (cutoff,)).fetchone()[0]  # type: ignore[index]
            counts.overdue = overdue - sum(late for _, _, late in shown)
            young = c.execute(_YOUNG, (cutoff, ids)).fetchall()
            counts.young = [(mid, created, state_of(mid, tj, rev)) for mid, created, tj, rev in young]
            return counts

        return self.db.read(read)
