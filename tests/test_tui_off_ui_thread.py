"""The inbox never calls the store on the UI thread: a store that is a network away (PostgreSQL,
blocking up to ``connect_timeout``) or a file behind a lock must never freeze the keys.

Every public method of the store and its outbox records the thread it runs on; the test drives
the inbox through everything it does with the store (moving, the composer and its saved draft,
sending, a delivery, the thread view, the author card, the person screen and its writes, reloads,
a poll's new items, a bulk "done" over a selection, a profile tag for the authors of a selection)
and asserts that none of those calls ran on the thread of the app's event loop."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from textual.pilot import Pilot

from cminbox.core.clock import FrozenClock
from cminbox.core.dispatch import Delivery
from cminbox.core.health import ChannelHealth, HealthState
from cminbox.core.models import Status
from cminbox.core.outbox_types import OutboxKind
from cminbox.core.poller import PollReport
from cminbox.core.store import Store
from cminbox.tui.app import CminboxApp, DeliveryUpdate, PollUpdate
from cminbox.tui.bulk_confirm import BulkConfirm
from cminbox.tui.composer import Composer
from cminbox.tui.dialogs import ConfirmDialog
from cminbox.tui.inbox_list import Row
from cminbox.tui.inbox_screen import InboxScreen
from cminbox.tui.panes import Preview
from cminbox.tui.people_dialogs import ProfileTagPicker
from cminbox.tui.person_screen import PersonScreen
from cminbox.tui.thread_screen import ThreadScreen
from tests.factories import make_message
from tests.tui_fixtures import Gate, blocked, make_app, make_services, settle

SIZE = (120, 40)
DRAFTED = "masto:100"  # the second row: a saved reply draft waits on it


@dataclass
class Call:
    method: str
    where: str  # the TUI line that made it (or the first frame outside the store)


@dataclass
class ThreadProbe:
    """Wraps every public method of some objects; records the calls made on ``ui`` (the thread
    that runs the app's event loop) while ``watching``."""

    ui: int = 0
    watching: bool = False
    on_ui: list[Call] = field(default_factory=list)
    off_ui: int = 0

    def wrap(self, obj: object, label: str) -> None:
        for name in dir(type(obj)):
            if name.startswith("_") or isinstance(getattr(type(obj), name, None), property):
                continue
            real = getattr(obj, name)
            if callable(real):
                setattr(obj, name, self._recording(f"{label}.{name}", real))

    def _recording(self, method: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if self.watching:
                if threading.get_ident() == self.ui:
                    self.on_ui.append(Call(method, caller()))
                else:
                    self.off_ui += 1
            return real(*args, **kwargs)

        return call

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The test's own look at the store (assertions, another instance's writes)."""
        self.watching = False
        try:
            yield
        finally:
            self.watching = True


def caller() -> str:
    """The TUI line behind a store call (the store calls itself, the inbox verbs call it)."""
    frame: FrameType | None = sys._getframe(2)
    first = ""
    while frame is not None:
        where = f"{frame.f_code.co_filename.rsplit('/cminbox/', 1)[-1]}:{frame.f_lineno} {frame.f_code.co_name}"
        if "/cminbox/tui/" in frame.f_code.co_filename:
            return where
        first = first or where
        frame = frame.f_back
    return first


def screen_of(app: CminboxApp) -> InboxScreen:
    for screen in app.screen_stack:
        if isinstance(screen, InboxScreen):
            return screen
    raise AssertionError("no inbox screen")


async def until(pilot: Pilot[None], ok: Callable[[], bool], what: str) -> None:
    for _ in range(300):
        if ok():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"never happened: {what}")


async def test_no_store_call_runs_on_the_ui_thread(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    store = services.store
    store.set_draft(DRAFTED, "Saved earlier:")
    store.set_draft("masto:103", "half a reply")  # held back by the bulk "done" below
    outbox_items = store.outbox.items  # the test's own look, unrecorded
    engine = services.engine
    assert engine is not None

    async def deliver_due() -> list[Delivery]:
        """What the engine's dispatcher reports once it sent the queued reply (it reads the
        outbox on a thread of its own; the test's stand-in reads it here, unrecorded)."""
        with probe.paused():
            return [Delivery(item, True, "sent") for item in outbox_items() if item.kind == OutboxKind.REPLY]

    engine.dispatcher.deliver_due = deliver_due  # type: ignore[method-assign]
    probe = ThreadProbe()
    probe.wrap(store, "store")
    probe.wrap(store.outbox, "outbox")
    app = make_app(services)
    probe.ui = threading.get_ident()  # the app's event loop runs on this thread (checked below)
    probe.watching = True  # from the first screen on
    async with app.run_test(size=SIZE) as pilot:
        assert asyncio.get_running_loop() is app._loop
        await settle(pilot)
        screen = screen_of(app)
        screen.refresh_chrome()  # the header's channel health, as any key redraws it
        await pilot.press("j")  # move
        await settle(pilot)
        lst = screen.inbox_list
        assert lst.current is not None and lst.current.message.id == DRAFTED

        # The composer with its saved draft; typing; closing keeps the draft; sending a public reply.
        await pilot.press("r")
        await settle(pilot)
        composer = screen.query_one(Composer)
        assert composer.text == "Saved earlier:"
        await pilot.press(*" on it", "escape")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert composer.text == "Saved earlier: on it"
        engine.active = True  # this instance sends: the delivered reply's row is re-read
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the public-reply question")
        await pilot.press("y")
        await settle(pilot)
        assert not composer.display
        with probe.paused():
            [reply] = [i for i in outbox_items() if i.kind == OutboxKind.REPLY]
        assert reply.payload["text"] == "Saved earlier: on it"
        app.post_message(DeliveryUpdate(Delivery(reply, True, "sent")))  # a delivery by the engine
        await settle(pilot)

        # The thread view.
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ThreadScreen), "the thread view")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)

        # The author card (read with the preview), the person screen, a profile tag and a note
        # written from it, back; then a thread opened from it.
        assert "── person: " in str(screen.query_one(Preview).render())
        await pilot.press("P")
        await until(pilot, lambda: isinstance(app.screen, PersonScreen), "the person screen")
        await settle(pilot)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, ProfileTagPicker), "the profile tag picker")
        await pilot.press("1")  # vip
        await settle(pilot)
        await pilot.press("n", *"likes the API", "enter")
        await settle(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ThreadScreen), "a thread from the person screen")
        await settle(pilot)
        await pilot.press("escape", "escape")
        await settle(pilot)
        with probe.paused():
            person = store.person("masto:priya@example.social")  # the author of the item under the cursor
        assert person is not None and person.tags == ["vip"] and [n.text for n in person.notes] == ["likes the API"]

        # Reloads: another view, another sort, and back.
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        await pilot.press("S", "S", "S", "1")  # priority, sentiment, back to newest; view 1
        await settle(pilot)

        # New items from a poll merge into the list.
        with probe.paused():
            new = store.upsert_messages([make_message(900 + i, channel="masto", at=clock.now) for i in range(3)])
        health = ChannelHealth(channel="masto", state=HealthState.OK)
        app.post_message(PollUpdate(PollReport(channel="masto", health=health, new_ids=new)))
        await settle(pilot)
        await until(pilot, lambda: all(mid in lst.index for mid in new), "the new items in the list")

        # A bulk "done" over a selection with a drafted item: asked first.
        lst.cursor = lst.index["masto:102"]
        await pilot.press("x", "x")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, BulkConfirm), "the question about the drafted item")
        await pilot.press("s")
        await settle(pilot)

        # A profile tag for the authors of a selection.
        lst.cursor = lst.index["masto:104"]
        await pilot.press("x", "x", "A")
        await until(pilot, lambda: isinstance(app.screen, ProfileTagPicker), "the tag-authors picker")
        await pilot.press(*"press", "enter")
        await settle(pilot)
        probe.watching = False
        pressed = {key for p in store.people() if "press" in p.tags for key in p.identities}
        assert pressed == {"masto:mallory@example.social", "masto:yael@example.social"}
        assert store.triage("masto:102").status == Status.DONE
        assert store.triage("masto:103").status == Status.NEW  # skipped: it has a draft
    assert probe.off_ui > 0  # the probe sees the workers' calls too
    on_ui = Counter(f"{c.method} from {c.where}" for c in probe.on_ui)
    assert not on_ui, "store calls on the UI thread:\n" + "\n".join(f"{n}x {w}" for w, n in sorted(on_ui.items()))


async def test_a_lazy_store_is_read_in_off_the_ui_thread(tmp_path: Path, clock: FrozenClock) -> None:
    """The TUI opens the store lazily: the newest month for the first screen, the older ones
    after; each segment is read on a worker."""
    Store(tmp_path / "data", clock=clock).upsert_messages(
        make_message(n, at=clock.now - timedelta(days=40 * n)) for n in range(4)
    )
    services = make_services(tmp_path, clock)
    lazy = Store(tmp_path / "data", clock=clock, lazy=True)
    services.inbox.store = lazy
    services.inbox.outbox = lazy.outbox
    probe = ThreadProbe(ui=threading.get_ident(), watching=True)
    probe.wrap(lazy, "store")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        await until(pilot, lambda: screen.fully_loaded and "masto:3" in screen.inbox_list.index, "every month")
        await settle(pilot)
        probe.watching = False
    lazy.close()
    on_ui = Counter(f"{c.method} from {c.where}" for c in probe.on_ui)
    assert not on_ui, "store calls on the UI thread:\n" + "\n".join(f"{n}x {w}" for w, n in sorted(on_ui.items()))


async def test_the_first_screen_shows_at_once_while_its_rows_are_read(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = CminboxApp(services, run_engine=False, blink=False)  # not the tests' app: it waits for the rows
    with blocked(services.store, "every_item") as gate:
        async with app.run_test(size=SIZE) as pilot:
            await gate.wait_entered()
            await pilot.pause()
            screen = screen_of(app)
            assert "loading…" in str(screen.query_one("#view-line").render())
            await pilot.press("j", "x", "d")  # the keys work meanwhile (nothing to act on yet)
            assert app.is_running and screen.inbox_list.rows == []
            gate.release.set()
            await settle(pilot)
            assert len(screen.inbox_list.rows) == 13
            assert "loading…" not in str(screen.query_one("#view-line").render())


@contextmanager
def returning_late(obj: object, name: str) -> Iterator[Gate]:
    """``obj.name`` reads at once but hands its result back only when the gate opens: a read
    that something newer overtakes on its way back."""
    real: Callable[..., Any] = getattr(obj, name)
    gate = Gate()

    def late(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        gate.threads.append(threading.get_ident())
        gate.entered.set()
        gate.release.wait()
        return out

    setattr(obj, name, late)
    try:
        yield gate
    finally:
        gate.release.set()
        setattr(obj, name, real)


async def test_reloads_are_newest_wins_and_keep_the_cursor_and_selection(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    services.inbox.set_status(["masto:105"], Status.DONE)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        lst = screen.inbox_list
        await pilot.press("5")  # the "all" view: done items listed too
        await settle(pilot)
        lst.cursor = lst.index["masto:103"]
        await pilot.press("x")  # selected; the cursor moves on to the next item
        assert lst.current is not None and lst.selected == {"masto:103"}
        reading = lst.current.message.id
        screen.show_preview()  # its lookup lands first (the author card queries the store too)
        await settle(pilot)
        shown: list[set[str]] = []
        set_rows = lst.set_rows
        with returning_late(services.store, "every_item") as gate:
            await pilot.press("S")  # oldest first: the list follows at once, the store is read
            assert lst.rows[0].message.created_at < lst.rows[-1].message.created_at
            await gate.wait_entered()  # that read has masto:105; it is archived before it lands
            later = Store(tmp_path / "data", clock=lambda: clock() + timedelta(days=100))
            assert later.archive(timedelta(days=90)) == ["masto:105"]
            later.close()
            services.store.refresh()  # this handle learns of it (what the change check does)
            await pilot.press("S", "S", "S")  # by priority, by sentiment, newest first again: each at once
            assert len(gate.threads) == 1  # one read at a time: the newer requests wait for it

            def recording(rows: list[Row], *, gone_to_top: bool = False) -> None:
                shown.append({r.message.id for r in rows})
                set_rows(rows, gone_to_top=gone_to_top)

            lst.set_rows = recording  # type: ignore[method-assign]
            gate.release.set()
            await settle(pilot)
        assert shown and all("masto:105" not in ids for ids in shown)  # the overtaken read never showed
        assert "masto:105" not in lst.index
        assert lst.rows[0].message.created_at > lst.rows[-1].message.created_at  # newest first
        assert lst.current is not None and lst.current.message.id == reading and lst.selected == {"masto:103"}
