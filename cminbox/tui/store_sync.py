"""Keeping the inbox in step with the store: the change check, the change watcher, rows
re-read after a delivery, the channels' health, the banner while the store cannot be written,
and the probe that clears it.

A mixin of :class:`~cminbox.tui.inbox_screen.InboxScreen` (kept apart so each file stays
small). The store is only ever read or probed on worker threads (tui/store_worker.py); what
they find comes back to the UI thread as a message or through
:func:`~cminbox.tui.ui_thread.from_worker`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from textual.message import Message as TextualMessage
from textual.timer import Timer
from textual.worker import Worker, WorkerError, get_current_worker

from cminbox.core.errors import CminboxError
from cminbox.core.health import ChannelHealth
from cminbox.core.models import Message, TriageState
from cminbox.core.people import identity_of
from cminbox.core.people_ops import Card
from cminbox.tui.drafts import Drafts
from cminbox.tui.inbox_list import InboxList, Row
from cminbox.tui.panes import StoreBanner
from cminbox.tui.services import Services
from cminbox.tui.store_worker import Changes, Lookups, PreviewData, Writes, check_changes, is_unreachable, probe
from cminbox.tui.ui_thread import from_worker

if TYPE_CHECKING:
    from cminbox.tui.replying import ReplyingScreen as _Base
else:
    _Base = object

WATCH_TIMEOUT = 2.0  # s a watcher blocks at most, so quitting never waits longer
PROBE_EVERY = 2.0  # seconds between checks whether an unwritable store can be written again
HEALTH_EVERY = 5.0  # seconds between reads of the channels' health (another instance may poll)
# An item another instance stored gets the `*` when it was written at most this long before the
# inbox opened: one posted just before, polled just after, is news to whoever opened it.
FRESH_SLACK = timedelta(minutes=10)
# Workers that run as long as the screen: waiting for them (tests) would never end.
ENDLESS = frozenset({"store-writes", "store-watch", "engine"})


class RefusedForNow(CminboxError):
    """Refused at once: the store could not be written a moment ago (the banner says why)."""


class StoreChanged(TextualMessage):
    """What the change check read on its worker thread, for the UI thread to apply."""

    def __init__(self, changes: Changes) -> None:
        super().__init__()
        self.changes = changes


class StoreSync(_Base):
    if TYPE_CHECKING:  # provided by InboxScreen
        s: Services
        inbox_list: InboxList
        writes: Writes
        drafts: Drafts
        lookups: Lookups[PreviewData]
        cards: Lookups[Card | None]
        health: dict[str, ChannelHealth]
        store_ok: bool
        store_problem: CminboxError | None
        reported_problems: set[str]
        _preview_timer: Timer | None
        _checking: Worker[None] | None
        _check_again: bool
        _probe_timer: Timer | None
        _probed_at_start: bool
        rows_in_store_order: bool
        rows_complete: bool
        fresh: set[str]
        opened_at: datetime

        def reload_from_store(self) -> None: ...

        def apply_states(
            self, states: Iterable[TriageState], messages: Mapping[str, Message] | None = None
        ) -> set[str]: ...

        def merge_new(self, ids: Iterable[str], read: dict[str, tuple[Message, TriageState]]) -> None: ...

        def retry_reload(self) -> None: ...

        def refresh_chrome(self) -> None: ...

        def _show_current_preview_if_stale(self) -> None: ...

        def _redraw_preview(self, row: Row) -> None: ...

        def read_presence_in_thread(self) -> None: ...

        def follow_person_screens(self) -> None: ...

    def check_store(self) -> Worker[None] | None:
        """Show what another cminbox instance wrote (within a second, without a keypress). The
        store is read on a worker thread; a check still running is not doubled, but a request
        that arrives meanwhile makes it look once more (a change committed after its read began
        would otherwise wait for the next one)."""
        if self._checking is not None and not self._checking.is_finished:
            self._check_again = True
            return None
        self._check_again = False
        self._checking = self.run_worker(self._check_in_thread, thread=True, group="store-check", name="store check")
        return self._checking

    def _check_in_thread(self) -> None:
        try:
            changes = check_changes(self.s.store)
        except CminboxError as exc:  # the store cannot be read now: try again in a second
            from_worker(self, self.notice_unreachable, exc)
            return
        if changes.changed:
            self.post_message(StoreChanged(changes))
        self.read_presence_in_thread()  # a teammate's composer wakes the watcher too

    def catch_up_in_thread(self) -> None:
        """The change check's read, on the calling worker thread, before a store step that would
        take in other instances' changes without reporting them (the author card's outbox read
        on TinyDB: tui/author_card.py); what it finds is applied as the check's would be."""
        try:
            changes = check_changes(self.s.store)
        except CminboxError:
            return  # the step that follows meets the same problem and reports it
        if changes.changed:
            self.post_message(StoreChanged(changes))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # On the UI thread, like check_store itself: no request can slip between the two.
        if event.worker is self._checking and event.worker.is_finished and self._check_again:
            self.check_store()

    def _watch_changes(self) -> None:
        """A thread blocked on the store's notifications; each wake-up runs the change check."""
        worker = get_current_worker()
        while not worker.is_cancelled:
            try:
                woke = self.s.store.wait_for_change(WATCH_TIMEOUT)
            except CminboxError:
                woke = True  # the check that follows reports the outage (banner) and retries
            if woke and not worker.is_cancelled:
                from_worker(self, self.check_store)

    def on_store_changed(self, event: StoreChanged) -> None:
        changes = event.changes
        self.report_store_problems()
        self.lookups.forget()
        # The cards of the authors whose items changed (counts, trend); all when some left.
        if changes.gone:
            self.cards.forget()
        else:
            self.cards.forget({identity_of(m) for m in changes.messages.values()})
        self.follow_person_screens()  # an open person screen lists items that may have changed
        if changes.gone:
            self.reload_from_store()  # items left the live store (archived here or by another instance)
            return
        # An edited message (its author changed it on the channel) shows its new text at once.
        listed = self.inbox_list.index.positions([*changes.messages, *changes.changed])  # one pass
        if self.inbox_list.update_messages(m for mid, m in changes.messages.items() if mid in listed):
            self.rows_in_store_order = False  # an edit moved an item in time: the next arrangement sorts
        # Every row's state, listed or not (the header counts them all); only a state at least
        # as new as the row's is taken (InboxList.update_states): the change check and the author
        # card's catch-up read on two workers and may land out of order.
        states = [changes.states[mid] for mid in changes.changed if mid in changes.states]
        known = self.apply_states(self.writes.stored(states), changes.messages) if states else set()
        new = [mid for mid in changes.changed if mid not in known and mid in changes.messages]
        if new:
            if self.rows_complete:
                # Every stored item has a row: one without was stored since. It gets the `*` of
                # an arrival (polled by the instance that polls for the team) when it was written
                # lately, not when it is old: a channel's backlog, an import, a restore.
                since = self.opened_at - FRESH_SLACK
                self.fresh.update(mid for mid in new if changes.messages[mid].created_at >= since)
            self.merge_new(new, {mid: (changes.messages[mid], changes.states[mid]) for mid in new})
        self.refresh_chrome()
        self._show_current_preview_if_stale()

    def reread_states(self, ids: list[str]) -> None:
        """Rows something else changed (a reply delivered): read on a worker, then shown."""
        read = functools.partial(self._reread_in_thread, ids)
        self.run_worker(read, thread=True, group="reread", name="re-read rows")

    def _reread_in_thread(self, ids: list[str]) -> None:
        try:
            states = [self.s.store.triage(mid) for mid in ids]
        except CminboxError:
            return  # unreadable now (the banner's business): the change check brings it later
        from_worker(self, self._reread_arrived, states)

    def _reread_arrived(self, states: list[TriageState]) -> None:
        self.apply_states(self.writes.stored(states))  # under the writes still in flight
        self.refresh_chrome()

    def read_health(self) -> None:
        """The channels' health for the header: this instance's polls report it as they run,
        but another instance may be the one polling, so it is read every few seconds too."""
        if self.s.engine is not None:
            self.run_worker(self._health_in_thread, thread=True, group="health", name="channel health")

    def _health_in_thread(self) -> None:
        engine = self.s.engine
        assert engine is not None
        try:
            found = {name: engine.poller.health(name) for name in engine.channels}
        except CminboxError:
            return  # unreadable now: the header keeps what it shows
        from_worker(self, self._health_arrived, found)

    def _health_arrived(self, found: dict[str, ChannelHealth]) -> None:
        if found != self.health:
            self.health = found
            self.refresh_chrome()

    # ------------------------------------------------------------------ writes and the banner
    def _show_states(self, states: list[TriageState]) -> None:
        self.apply_states(states)
        self.refresh_chrome()
        row = self.inbox_list.current
        if row is not None and any(st.id == row.message.id for st in states):
            self._redraw_preview(row)

    def refused(self) -> CminboxError | None:
        if self.store_ok:
            return None
        return RefusedForNow(self.banner_text())

    def banner_reason(self) -> str:
        problem = self.store_problem
        return (problem.message if problem is not None else "unknown").rstrip(". ")

    def banner_text(self) -> str:
        return f"the store cannot be written: {self.banner_reason()}; actions are refused until it can"

    def write_failed(self, exc: CminboxError, title: str) -> None:
        """A write came back refused: its rows are back as they were; say why once."""
        if isinstance(exc, RefusedForNow):
            return  # queued behind the write that raised the banner: the banner says it
        if is_unreachable(exc):
            self.notice_unreachable(exc)
        self.notify(str(exc), title=title, severity="error", timeout=15, markup=False)

    def notice_unreachable(self, exc: CminboxError) -> None:
        if not is_unreachable(exc):
            return
        self.store_problem = exc
        self.store_ok = False
        self.query_one(StoreBanner).show(self.banner_reason())

    def watch_store_ok(self, ok: bool) -> None:
        banner = self.query_one(StoreBanner)
        banner.display = not ok
        if ok:
            if self._probe_timer is not None:
                self._probe_timer.stop()
                self._probe_timer = None
                self.notify("The store can be written again.", timeout=4)
                self.drafts.retry()
                self.retry_reload()
            self.store_problem = None
        else:
            banner.show(self.banner_reason())
            if self._probe_timer is None:
                self._probe_timer = self.set_interval(PROBE_EVERY, self.start_probe)

    def start_probe(self) -> None:
        self.run_worker(self.probe_store(), group="store-probe", exclusive=True, name="store probe")

    def probe_at_start(self) -> None:
        """The banner from the start when the store cannot be written (a read-only folder, a
        full disk): it came only after the first key was refused (fault trial of 2026-12-01).
        One scratch write on a worker, after the first frame."""
        if not self._probed_at_start:
            self._probed_at_start = True
            self.run_worker(self._probe_at_start, thread=True, group="store-probe", name="store probe at start")

    def _probe_at_start(self) -> None:
        try:
            probe(self.s.store)
        except CminboxError as exc:
            if is_unreachable(exc):
                from_worker(self, self.notice_unreachable, exc)

    async def probe_store(self) -> bool:
        """Can the store be written again? Clears the banner by itself when it can."""
        try:
            await asyncio.to_thread(probe, self.s.store)
        except CminboxError as exc:
            if is_unreachable(exc):
                self.store_problem = exc
                self.query_one(StoreBanner).show(self.banner_reason())
            return False
        self.store_ok = True
        return True

    def _draft_refused(self, exc: CminboxError) -> None:
        self.notice_unreachable(exc)
        self.notify(
            f"Draft not saved: {exc} It is kept here and saved once the store can be written.",
            severity="warning",
            timeout=10,
            markup=False,
        )

    async def settled(self) -> None:
        """Until nothing started by a key, a timer or the store is on its way (tests): the
        writes, the preview's lookup, and every worker that ends (store reads, presence...),
        including those started by what landed meanwhile, and the preview's pending redraw
        (a card that lands while it waits is drawn by it)."""
        while True:
            while self._preview_timer is not None:
                await asyncio.sleep(0.02)
            await self.writes.idle()
            await self.lookups.idle()
            await self.cards.idle()
            busy = [w for w in self.app.workers if not w.is_finished and w.group not in ENDLESS]
            if not busy and not self.writes.pending:
                return
            for worker in busy:
                with contextlib.suppress(WorkerError):  # failed or cancelled: done all the same
                    await worker.wait()

    def report_store_problems(self) -> None:
        """A store file that cannot be read (hand-edited, say) is said once, not silently skipped."""
        for path, problem in self.s.store.problems.items():
            if path not in self.reported_problems:
                self.reported_problems.add(path)
                self.notify(problem, title="Store file skipped", severity="error", timeout=30, markup=False)
        self.reported_problems &= set(self.s.store.problems)
