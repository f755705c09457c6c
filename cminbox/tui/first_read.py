"""The inbox's first read, started by the launcher as soon as the store is wired.

The first screen needs the newest ~200 items, the census of the parts not read yet (exact
counts from the first frame) and the stored people (the rows' markers). Read on the screen's
worker after it mounted, they arrived after Textual had drawn the whole screen once without
rows, and the rows cost a second full draw; the read itself got the interpreter in slices
beside that drawing (10k: first rows ~60 ms after the mount, issue #14). Started here before
Textual is imported, it is normally done by the time the inbox screen mounts, and the screen
shows the rows in its first frame. When it is not, the screen's loader waits for it on its
worker, never on the UI thread.

No Textual import here (the launcher starts this before importing the App).
"""

from __future__ import annotations

import threading
from datetime import timedelta

import msgspec

from cminbox.core.census import OVERDUE_AFTER, Counts
from cminbox.core.clock import Clock
from cminbox.core.errors import CminboxError
from cminbox.core.models import Message, TriageState
from cminbox.core.people_ops import PeopleOps
from cminbox.core.store_api import StoreApi
from cminbox.tui.store_worker import PeopleRead, read_people

# An item's state is None when it has no triage record (StoreApi.every_item).
Read = list[tuple[Message, TriageState | None]]
# Items the first screen needs before it shows (a 120x40 list, and then some to scroll).
FIRST_SCREEN = 200


class RowsRead(msgspec.Struct, frozen=True):
    """One read of the rows: every loaded item, the census of the parts not loaded yet (None
    once every part is), whether the store had every part before the read, and the people."""

    everything: Read
    census: Counts | None
    complete: bool
    people: PeopleRead


def read_rows(store: StoreApi, people: PeopleOps, clock: Clock) -> RowsRead:
    """Every item loaded so far, and the census of the rest (a worker thread's call)."""
    loader = store.progressive
    complete = loader is None or loader.fully_loaded  # before the read: it holds at least that
    everything = store.every_item(loaded_only=True)
    census = None
    if loader is not None and not complete:  # the items not in these rows, counted
        cutoff = clock() - timedelta(seconds=OVERDUE_AFTER)
        census = loader.census(cutoff, {m.id for m, _ in everything})
    return RowsRead(everything, census, complete, read_people(people))


def load_first_screen(store: StoreApi) -> None:
    """A lazily opened store: its newest parts, enough to fill the first screen (a newest part
    of a few items would leave it short)."""
    loader = store.progressive
    if loader is not None:
        while loader.loaded_items < FIRST_SCREEN and loader.load_next_segment() is not None:
            pass


class EarlyRead:
    """The first screen's parts and rows, read on a thread of its own from construction."""

    def __init__(self, store: StoreApi, people: PeopleOps, clock: Clock) -> None:
        self._done = threading.Event()
        self._result: RowsRead | BaseException | None = None
        self._args = (store, people, clock)
        threading.Thread(target=self._run, name="cminbox first read", daemon=True).start()

    def _run(self) -> None:
        store, people, clock = self._args
        try:
            load_first_screen(store)
            self._result = read_rows(store, people, clock)
        except BaseException as exc:  # handed to the screen, which reports it as its own read would
            self._result = exc
        finally:
            self._done.set()

    def result(self, wait: bool) -> RowsRead | None:
        """The read, or None when it is not done (``wait`` False) or failed with a
        CminboxError (the caller reads again and reports that read's error, as it always did).
        Any other exception is a bug and is raised here."""
        if not self._done.wait(None if wait else 0):
            return None
        got = self._result
        if isinstance(got, CminboxError):
            return None
        if isinstance(got, BaseException):
            raise got
        return got
