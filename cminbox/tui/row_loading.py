"""Filling the inbox's rows from the store, off the UI thread: the first screen, the older
months of a lazily opened store, reloads (a view, a filter, a sort), a poll's new items.

A mixin of :class:`~cminbox.tui.inbox_screen.InboxScreen` (kept apart so each file stays small).
Every read runs on a worker thread and its result is applied on the UI thread
(:func:`~cminbox.tui.ui_thread.from_worker`). Reloads are newest-wins: one read at a time, and a
result that a newer request overtook is dropped and read again. Applying keeps the cursor on its
item and the selection, and never puts back an older state than a row shows.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Collection, Iterable
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING

from textual.message import Message as TextualMessage

from cminbox.core import gc_pause
from cminbox.core.census import Counts
from cminbox.core.errors import CminboxError
from cminbox.core.models import Message, TriageState
from cminbox.core.people import identity_of
from cminbox.core.query import Query
from cminbox.core.query.evaluate import Predicate
from cminbox.core.views import Sort, View, arrange_by
from cminbox.tui.first_read import Read, RowsRead, load_first_screen, read_rows
from cminbox.tui.frames import after_frame
from cminbox.tui.inbox_list import BLANK, InboxList, Row, row_of
from cminbox.tui.panes import HeaderCounts
from cminbox.tui.services import Services
from cminbox.tui.store_worker import Lookups, PeopleRead, PreviewData, Writes
from cminbox.tui.ui_thread import from_worker, is_alive

if TYPE_CHECKING:
    from cminbox.core.people_ops import Card, PeopleOps
    from cminbox.tui.first_read import EarlyRead
    from cminbox.tui.replying import ReplyingScreen as _Base
else:
    _Base = object

# How long the loader waits for the first screen to be drawn before it reads the older
# parts: decoding and indexing them is CPU work in this interpreter, and beside it the first
# screen's read (the rows and the census, ~0.15 s at 100k) got a fraction of the CPU: the
# first rows came after 1.1-1.6 s instead of ~0.5 s (tests/test_tui_first_counts.py).
FIRST_SCREEN_WAIT = 2.0
ROW_MESSAGE, ROW_FIELDS = attrgetter("message"), attrgetter("fields")


class FirstRows(TextualMessage):
    """The inbox's first rows are on screen: what waited for them may start."""

    def __init__(self, complete: bool) -> None:
        super().__init__()
        self.complete = complete  # they hold every stored item (the store had every part loaded)


class RowsComplete(TextualMessage):
    """The rows hold every stored item (posted once, after the last part was loaded)."""


def _both(first: Predicate, second: Predicate) -> Predicate:
    return lambda m, s, now, me: first(m, s, now, me) and second(m, s, now, me)


def _insertion_point(rows: list[Row], row: Row, newest_first: bool) -> int:
    """Binary search by created_at in rows already in that order."""
    lo, hi = 0, len(rows)
    t = row.message.created_at
    while lo < hi:
        mid = (lo + hi) // 2
        before = rows[mid].message.created_at > t if newest_first else rows[mid].message.created_at < t
        if before:
            lo = mid + 1
        else:
            hi = mid
    return lo


class RowLoading(_Base):
    if TYPE_CHECKING:  # provided by InboxScreen
        s: Services
        inbox_list: InboxList
        writes: Writes
        lookups: Lookups[PreviewData]
        cards: Lookups[Card | None]
        all_rows: list[Row]
        fresh: set[str]
        stale: set[str]
        counts: HeaderCounts
        view: View
        sort: Sort
        group: bool
        filter: Query | None
        people_ops: PeopleOps

        def in_view(self, row: Row, view: Query, now: datetime, me: str) -> bool: ...

        def view_query(self) -> Query: ...

        def people_arrived(self, read: PeopleRead) -> None: ...

        def refresh_chrome(self) -> None: ...

        def first_frame_done(self) -> None: ...

        def write_failed(self, exc: CminboxError, title: str) -> None: ...

    rows_loaded = False  # the first read landed (until then the view line says "loading…")
    _reload_wanted = 0  # counts reload requests: a read for an older one is dropped
    _reload_running = False
    # Items merged in while a reload reads (a poll's): its read may not hold them, and they stay.
    # A set from the start of each read (a read that starts later holds what was merged before).
    _merged_during_read: set[str] | None = None
    _reload_failed = False  # the last read failed: tried again when the store is back

    rows_complete = False  # the rows shown were read after the store had loaded every part
    # all_rows are in the store's order, newest first by time then id (StoreApi.query), which is
    # what the newest and oldest sorts give: arranging them needs no sort (~30 ms at 100k
    # rows, at the full load and at each change of view). A merge or an edit's new time ends it.
    rows_in_store_order = False
    _first_read: threading.Event | None = None  # set once the first rows are drawn (or their read failed)

    @property
    def fully_loaded(self) -> bool:
        """The rows hold every item: the view line says "loading older messages…" until then
        (the store having read its last part is not enough: the read that brings them to the
        rows lands a moment later, and the line must not claim "107 items" as all)."""
        return self.rows_complete

    def load_segments(self) -> None:
        """The rows the launcher's early read brought (tui/first_read.py) go into this
        screen's first frame when the read is done by its mount; else the loader waits for
        it on its worker. Without one (services not made by tui/launch.py: tests) the loader
        reads the first screen itself."""
        self._first_read = threading.Event()
        early, self.s.early_read = self.s.early_read, None
        if early is not None and (got := early.result(wait=False)) is not None:
            self._apply_early(got)
            early = None
            applied = True
        else:
            applied = False
        work = functools.partial(self._load_segments, early, applied)
        self.run_worker(work, thread=True, exclusive=True, group="load", name="load segments")

    def _apply_early(self, got: RowsRead) -> None:
        """The early read as the first reload, unless one of the screen's own is on its way
        or landed (that one is newer)."""
        if self._reload_running or self.rows_loaded:
            return
        self._reload_wanted += 1
        self._reload_running = True
        self.people_arrived(got.people)
        self._reloaded(self._reload_wanted, got.everything, got.census, got.complete)

    def _load_segments(self, early: EarlyRead | None, applied: bool) -> None:
        """A lazily opened store: the newest parts first, enough to fill the first screen,
        then the older ones; the list is rebuilt after each step (the cursor stays put).
        Meanwhile the counts come from the store's census (tui/panes.HeaderCounts): exact
        from the first screen."""
        loader = self.s.store.progressive
        landed = self._first_read
        assert landed is not None
        try:
            if early is not None and (got := early.result(wait=True)) is not None:
                from_worker(self, self._apply_early, got)
                applied = True
            if not applied:
                load_first_screen(self.s.store)
                from_worker(self, self.reload_from_store)
            if loader is None or loader.fully_loaded:
                return
            landed.wait(FIRST_SCREEN_WAIT)  # the first screen first, then the older parts
            while loader.load_next_segment() is not None:
                pass
        except CminboxError as exc:
            from_worker(self, self.write_failed, exc, "Not loaded")
        from_worker(self, self.reload_from_store)

    def reload(self) -> None:
        """The view, the filter or the sort changed: the list follows at once from the rows in
        memory (so a key pressed next acts on the new list, never the old one), then again from
        the store when its read lands (bringing what changed meanwhile)."""
        if self.rows_loaded:
            self.arrange_rows(new_view=True)
        self.reload_from_store()

    def reload_from_store(self) -> None:
        """Re-read every row on a worker; applied when it lands, unless a newer request came
        meanwhile (then it is read again: newest wins, one read at a time)."""
        self._reload_wanted += 1
        if not self._reload_running:
            self._start_reload()

    def _start_reload(self) -> None:
        self._reload_running = True
        self._merged_during_read = set()
        read = functools.partial(self._reload_in_thread, self._reload_wanted)
        self.run_worker(read, thread=True, group="reload", name="reload")

    def _reload_in_thread(self, wanted: int) -> None:
        try:
            got = read_rows(self.s.store, self.people_ops, self.s.clock)
        except CminboxError as exc:
            from_worker(self, self._reload_failed_with, wanted, exc)
            return
        from_worker(self, self.people_arrived, got.people)
        from_worker(self, self._reloaded, wanted, got.everything, got.census, got.complete)

    def _reload_failed_with(self, wanted: int, exc: CminboxError) -> None:
        self._reload_running = False
        self._merged_during_read = None
        if self._first_read is not None:
            self._first_read.set()  # the loader does not wait for a read that failed
        self.first_frame_done()
        if wanted != self._reload_wanted:
            self._start_reload()
            return
        self._reload_failed = True
        self.write_failed(exc, "Not reloaded")  # raises the banner when the store cannot be reached

    def retry_reload(self) -> None:
        """The store can be reached again: the read that failed meanwhile is done now."""
        if self._reload_failed:
            self.reload_from_store()

    def _reloaded(self, wanted: int, everything: Read, census: Counts | None = None, complete: bool = True) -> None:
        self._reload_running = False
        if wanted != self._reload_wanted:
            self._start_reload()  # overtaken while reading: read again for the newest request
            return
        self._reload_failed = False
        if not self.rows_loaded:
            after_frame(self.app, self._first_rows_drawn)
        self.rows_loaded = True
        if complete and not self.rows_complete and self._first_read is not None and self._first_read.is_set():
            # After the frame that shows them: what waits for every row (the engine's build on a
            # worker) took the interpreter from that frame (~40 ms of a 100k inbox's full load).
            after_frame(self.app, functools.partial(self.post_message, RowsComplete()))
        self.rows_complete = complete
        shown = {r.message.id: st for r in self.all_rows if (st := r.triage) is not None}
        pending = self.writes.confirmed  # items with writes in flight keep showing them
        # The rows, and the counters' 100k-id sets, are long-lived: no collections while they
        # are made, and frozen after, so full collections do not walk them (~150 ms at 100k).
        with gc_pause.paused():
            before, self.all_rows = self.all_rows, self._rows(everything, shown, pending)
            self.rows_in_store_order = True
            merged, self._merged_during_read = self._merged_during_read, None
            if merged:
                # Merged while this read ran, after it had read past them: kept, not dropped
                # until the next reload (an incident's mentions arriving during a view change).
                read = {m.id for m, _ in everything}
                if kept := [r for r in before if (mid := r.message.id) in merged and mid not in read]:
                    self.all_rows.extend(kept)
                    self.rows_in_store_order = False
                    if census is not None:
                        # The census of the parts not loaded yet, taken after the rows were read,
                        # may count these too: read again for counts that hold each item once.
                        self.reload_from_store()
            self.lookups.forget()
            # Older parts not loaded yet: their items are counted by the census, not just the rows.
            self.counts.recount(self.all_rows, self.s.clock(), census)
            self.arrange_rows()

    def _rows(self, everything: Read, shown: dict[str, TriageState], pending: Collection[str]) -> list[Row]:
        """Rows for what the store read; an item with a write in flight keeps showing it, and
        so does one whose row shows a newer state: a read that started before a change the
        row already shows (the change check landed first) must not take it back (each store
        write raises ``rev``)."""
        stored, fresh, get = self.writes.stored, self.fresh, shown.get
        # One comprehension, no per-row call or append (100k rows at a full load). A state of
        # None (no record: rev 0) stays None, unless a write or a newer state shows.
        return [
            Row(
                m,
                stored([st or TriageState(id=mid)])[0]
                if (mid := m.id) in pending
                else old
                if (old := get(mid)) is not None and old.rev > (st.rev if st is not None else 0)
                else st,
                mid in fresh,
            )
            for m, st in everything
        ]

    def _first_rows_drawn(self) -> None:
        """After the first rows' frame: the loader may take the CPU back for the older parts,
        and the engine may be built (neither must delay that frame)."""
        if self._first_read is not None:
            self._first_read.set()
        if not is_alive(self):  # the app quit before the frame's timer fired
            return
        self.first_frame_done()
        self.post_message(FirstRows(self.rows_complete))

    def arrange_rows(self, *, new_view: bool = False) -> None:
        """The list from the rows in memory, through the view, the filter and the sort; the
        cursor stays on its item, the selection on the items still listed."""
        now, me = self.s.clock(), self.s.config.actor
        query, filt = self.view_query(), self.filter
        every = self.all_rows
        # (InboxScreen.in_view, inlined: ~100k calls on a view change)
        test = query.predicate if filt is None else _both(query.predicate, filt.predicate)
        if every and not query.uses_message and (filt is None or not filt.uses_message):
            # The view and the filter read the triage state alone: every row of an item nobody
            # has triaged gets the same answer, asked once (~40 ms of a 100k view change).
            blank = test(every[0].message, BLANK, now, me)
            kept = [r for r in every if (blank if (st := r.triage) is None else test(r.message, st, now, me))]
        else:
            kept = [r for r in every if test(r.message, r.triage or BLANK, now, me)]
        self.stale.clear()
        # The list shares Row objects with all_rows, so an update to one is seen by the other.
        if self.rows_in_store_order and not self.group and self.sort in (Sort.NEWEST, Sort.OLDEST):
            rows = kept if self.sort == Sort.NEWEST else kept[::-1]  # what arrange_by would give
        else:
            rows = arrange_by(kept, self.sort, self.group, message=ROW_MESSAGE, state=ROW_FIELDS)
        for row in rows:
            row.stale = False  # it matches the view (again)
        self.inbox_list.set_rows(rows, gone_to_top=new_view)
        self.refresh_chrome()

    def merge_soon(self, ids: list[str]) -> None:
        """A poll's new items: read on a worker, then merged in."""
        self.run_worker(functools.partial(self._merge_in_thread, ids), thread=True, group="merge", name="merge")

    def _merge_in_thread(self, ids: list[str]) -> None:
        try:
            messages = {mid: m for mid in dict.fromkeys(ids) if (m := self.s.store.get_message(mid)) is not None}
            read = {mid: (m, self.s.store.triage(mid)) for mid, m in messages.items()}
        except CminboxError:
            return  # unreadable now (the banner's business): the change check brings them later
        from_worker(self, self.merge_new, list(read), read)

    def merge_new(self, ids: Iterable[str], read: dict[str, tuple[Message, TriageState]]) -> None:
        """Add newly arrived messages, already read off the UI thread, without rebuilding every
        row (a rebuild at 100k items would stall typing on each poll during an incident). The
        cursor stays on its item."""
        self.lookups.forget()
        now = self.s.clock()
        known = {r.message.id for r in self.all_rows}
        added = []
        for mid in dict.fromkeys(ids):
            if mid in known or mid not in read:
                continue
            message, state = read[mid]
            row = row_of(message, state, fresh=mid in self.fresh)
            self.all_rows.append(row)
            self.rows_in_store_order = False
            if self._merged_during_read is not None:  # a reload is reading
                self._merged_during_read.add(mid)
            self.counts.add(row, now)
            added.append(row)
        self.cards.forget({identity_of(row.message) for row in added})  # their counts moved on
        view, me = self.view_query(), self.s.config.actor
        self.list_in_view([row for row in added if self.in_view(row, view, now, me)])
        self.refresh_chrome()

    def list_in_view(self, rows: list[Row]) -> None:
        """Rows of the view that are not listed (new ones, or ones a change brought into the
        view) put in their places; the cursor stays on its item, and the rows listed stay,
        dimmed ones too (a rebuild from every row would drop them under the cursor)."""
        if not rows:
            return
        for row in rows:
            row.stale = False  # it matches the view (a row dropped while dimmed kept the mark)
        listed = list(self.inbox_list.rows)
        if self.group or self.sort not in (Sort.NEWEST, Sort.OLDEST):
            # Orderings that are not by time (priority, sentiment, threads): the listed rows and
            # these sorted together, as the view would list them.
            listed = arrange_by([*listed, *rows], self.sort, self.group, message=ROW_MESSAGE, state=ROW_FIELDS)
        else:
            for row in rows:
                listed.insert(_insertion_point(listed, row, self.sort == Sort.NEWEST), row)
        self.inbox_list.set_rows(listed)
