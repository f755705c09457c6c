"""Presence in the inbox: telling the team what this instance views or replies to, and showing
what theirs do (a marker in the row, a line in the preview).

A mixin of :class:`~cminbox.tui.inbox_screen.InboxScreen`. The store is written and read only on
worker threads: a heartbeat writes the latest wanted record (so two beats racing still leave the
newest), then reads the others' records; the change check (woken by the database's NOTIFY, or
the 1-second check on TinyDB) reads them too, so a teammate opening a composer shows at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TYPE_CHECKING

from cminbox.core.errors import CminboxError
from cminbox.core.presence import HEARTBEAT, ONLINE, Activity, Presence, by_item, describe, online
from cminbox.tui.inbox_list import InboxList
from cminbox.tui.panes import InboxHeader, Preview
from cminbox.tui.services import Services
from cminbox.tui.ui_thread import from_worker

if TYPE_CHECKING:
    from textual.timer import Timer

    from cminbox.tui.replying import ReplyingScreen as _Base
else:
    _Base = object

LEAVE_WAIT = 3.0  # seconds quitting waits at most to remove this instance's record (it expires anyway)
# Seconds a new "viewing" waits before it is written, taking the cursor's later moves with it.
# Written on every move, holding `j` down wrote the store ~30 times a second, and on
# PostgreSQL each write's NOTIFY made every teammate's inbox read the presence table again;
# the writes' threads also took the interpreter from the frames being drawn (issue #14).
VIEWING_SETTLE = 0.3
REPLYING_MARK, VIEWING_MARK = "✎", "⊙"  # one cell each (not emoji): the row says it in a glyph and a name


def row_marks(records: list[Presence]) -> tuple[dict[str, str], dict[str, str]]:
    """Per item: the row's marker ("✎ bob", "⊙ ana+1") and the preview's line ("bob is replying")."""
    marks, lines = {}, {}
    for mid, recs in by_item(records).items():
        first = recs[0]
        people = sorted({r.person for r in recs})
        more = f"+{len(people) - 1}" if len(people) > 1 else ""
        glyph = REPLYING_MARK if first.activity == Activity.REPLYING else VIEWING_MARK
        marks[mid] = f"{glyph} {first.person}{more}"
        lines[mid] = describe(recs)
    return marks, lines


class PresenceSync(_Base):
    if TYPE_CHECKING:  # provided by InboxScreen
        s: Services
        inbox_list: InboxList
        store_ok: bool

    _presence_lock: threading.Lock
    _presence_wanted: tuple[str, Activity]
    _presence_left: bool
    _presence_due: Timer | None  # a "viewing" to write when it fires (VIEWING_SETTLE)
    presence_seen: list[Presence]

    def start_presence(self) -> None:
        self._presence_lock = threading.Lock()
        self._presence_wanted = (ONLINE, Activity.VIEWING)
        self.presence_seen = []
        self._presence_left = False
        self._presence_due = None
        self.set_interval(HEARTBEAT, self.beat)
        self.beat()  # teammates see this instance at once, not after the first heartbeat

    def want_presence(self, message_id: str | None, activity: Activity = Activity.VIEWING) -> None:
        """What this instance is doing now (UI thread), written on a worker if it changed: a
        composer opened or closed at once (a teammate about to reply must see it: collision), a
        cursor move once it is VIEWING_SETTLE old, with the moves made meanwhile. No item (an
        empty list) still says "online", so the others' headers list this person."""
        wanted = (message_id or ONLINE, activity)
        if wanted == self._presence_wanted:
            return
        viewing = activity is Activity.VIEWING and self._presence_wanted[1] is Activity.VIEWING
        self._presence_wanted = wanted
        if not viewing:
            self._written_now()
        elif self._presence_due is None:
            self._presence_due = self.set_timer(VIEWING_SETTLE, self._written_now)

    def _written_now(self) -> None:
        if self._presence_due is not None:
            self._presence_due.stop()
            self._presence_due = None
        self.beat()

    def beat(self) -> None:
        self.run_worker(self._beat_in_thread, thread=True, group="presence", name="presence heartbeat")

    def _beat_in_thread(self) -> None:
        with self._presence_lock:  # the newest wish is written last, whichever beat runs first
            if self._presence_left:
                return
            mid, activity = self._presence_wanted
            try:
                self.s.store.set_presence(self.s.config.actor, mid, activity)
            except CminboxError:
                # Throwaway: the next heartbeat tries again (the banner reports the outage).
                self._expire_seen_in_thread()
                return
        self.read_presence_in_thread()

    def _leave_in_thread(self) -> None:
        with self._presence_lock:
            self._presence_left = True  # a beat still queued writes nothing back
            self.s.store.set_presence(self.s.config.actor, None)

    async def on_unmount(self) -> None:
        """Quitting removes this instance's record at once (else it would linger until it expires);
        not when the store cannot be reached now (the banner is up): it expires by itself, and
        trying held the exit for LEAVE_WAIT more."""
        if not self.store_ok:
            return
        with contextlib.suppress(CminboxError, TimeoutError):
            await asyncio.wait_for(asyncio.to_thread(self._leave_in_thread), LEAVE_WAIT)

    def read_presence_in_thread(self) -> None:
        """The others' records, shown on the UI thread when they changed (from a worker thread)."""
        try:
            records = self.s.store.presence()
        except CminboxError:
            self._expire_seen_in_thread()
            return
        key = sorted((r.instance, r.person, r.message_id, r.activity) for r in records)
        if key != sorted((r.instance, r.person, r.message_id, r.activity) for r in self.presence_seen):
            from_worker(self, self.show_presence, records)

    def _expire_seen_in_thread(self) -> None:
        """The store cannot be read: what was last seen still expires by its own time, so a
        teammate who left while the database was away does not stay "with" us or "viewing"."""
        now = self.s.clock()
        kept = [r for r in self.presence_seen if r.expires_at > now]
        if len(kept) != len(self.presence_seen):
            from_worker(self, self.show_presence, kept)

    def show_presence(self, records: list[Presence]) -> None:
        self.presence_seen = records
        marks, lines = row_marks(records)
        self.inbox_list.set_presence(marks)
        self.query_one(Preview).set_presence(lines)
        self.query_one(InboxHeader).set_online(online(records, self.s.config.actor))
