"""Reply drafts, never read or saved on the UI thread.

Reads and saves are queued on the inbox's store worker (:class:`~cminbox.tui.store_worker.Writes`),
in order with everything else written there: a read sees every save queued before it, and the
last draft typed is the one the store keeps (saves are fire-and-forget). A save the store
refuses (a full disk, a database that is down) is kept in memory: reopening the composer on the
item shows it, the bulk "done" counts it, and it is saved again once the store can be written.

The composer opens at once and the saved draft fills in when read; text typed before it arrived
is never overwritten (the saved draft goes above it). A composer closed before the read landed
saves its text *on top of* the stored draft, joined on the worker, so neither is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cminbox.core.errors import CminboxError
from cminbox.core.models import TriageState
from cminbox.core.store_api import StoreApi as Store
from cminbox.tui.store_worker import Write, Writes, drafted_among


def joined(saved: str, typed: str) -> str:
    """A saved draft and text typed before it was read: both, the saved one first. Joining
    again changes nothing (a save retried after a reported failure that did commit)."""
    if not typed.strip():
        return saved
    if not saved.strip() or typed.lstrip().startswith(saved.strip()):
        return typed
    return f"{saved.rstrip()}\n\n{typed.lstrip()}"


@dataclass(frozen=True, eq=False)  # identity: "is this still the newest save of the item"
class Unsaved:
    text: str
    on_top: bool  # typed before the stored draft was read: saved joined under it


@dataclass
class Drafts:
    writes: Writes
    store: Callable[[], Store]
    refused: Callable[[CminboxError], None]  # the first save refused since the last one that worked (UI loop)
    unsaved: dict[str, Unsaved] = field(default_factory=dict)  # saves queued or refused, newest per item
    failing: bool = False

    def load(self, mid: str, then: Callable[[str | CminboxError], None]) -> None:
        """The item's draft to ``then`` on the UI loop (or why it cannot be read): at once when
        this instance holds a newer one than the store, else read on the worker."""
        kept = self.unsaved.get(mid)
        if kept is not None and not kept.on_top:
            then(kept.text)
            return

        def arrived(saved: str, _states: dict[str, TriageState]) -> None:
            kept = self.unsaved.get(mid)  # refused since it was queued: newer than what was read
            then(saved if kept is None else joined(saved, kept.text) if kept.on_top else kept.text)

        self.writes.submit(Write(lambda: self.store().get_draft(mid), {}, arrived, then, always=True))

    def save(self, mid: str, text: str, *, on_top: bool = False) -> None:
        """Keep ``text`` as the item's draft ("" drops it). ``on_top``: typed before the stored
        draft was read, so it is saved joined under that one (nothing typed: nothing to save)."""
        if on_top and not text.strip():
            return
        previous = self.unsaved.get(mid)
        if on_top and previous is not None and previous.on_top:
            text = joined(previous.text, text)
        entry = self.unsaved[mid] = Unsaved(text, on_top)
        self._submit(mid, entry)

    def _submit(self, mid: str, entry: Unsaved) -> None:
        def call() -> None:
            store = self.store()
            store.set_draft(mid, joined(store.get_draft(mid), entry.text) if entry.on_top else entry.text)

        def done(_result: None, _states: dict[str, TriageState]) -> None:
            if self.unsaved.get(mid) is entry:
                del self.unsaved[mid]
            self.failing = False

        def failed(exc: CminboxError) -> None:
            if not self.failing:
                self.failing = True
                self.refused(exc)

        self.writes.submit(Write(call, {}, done, failed, always=True))

    def retry(self) -> None:
        """The store can be written again: save what it refused (a save still queued is
        written twice, to the same text)."""
        for mid, entry in list(self.unsaved.items()):
            self._submit(mid, entry)

    def among(
        self, ids: Iterable[str], then: Callable[[set[str]], None], failed: Callable[[CminboxError], None]
    ) -> None:
        """Which of ``ids`` have an unsent draft, to ``then`` on the UI loop (the bulk "done"
        asks before taking those); read on the worker, after every save queued before."""
        ids = list(ids)

        def done(stored: set[str], _states: dict[str, TriageState]) -> None:
            then({mid for mid in ids if self._has_draft(mid, mid in stored)})

        self.writes.submit(Write(lambda: drafted_among(self.store(), ids), {}, done, failed))

    def _has_draft(self, mid: str, stored: bool) -> bool:
        kept = self.unsaved.get(mid)
        if kept is None:
            return stored
        return bool(kept.text.strip()) or (kept.on_top and stored)
