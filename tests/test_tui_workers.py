"""The inbox never waits on the store: writes show at once and run in order on a worker, a
failed write takes its rows back and says why, an unwritable store raises a banner that
clears by itself, the change check and the preview's lookups run off the UI thread.

Deterministic: a blocked store call waits on a threading.Event the test sets; the test then
waits for the workers (``InboxScreen.settled``), never for a duration."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from cminbox.core.clock import FrozenClock
from cminbox.core.errors import CminboxError, FileAccessError
from cminbox.core.models import Priority, Status, TriageState
from cminbox.core.store import Store
from cminbox.core.triage import AddTags
from cminbox.tui.app import CminboxApp
from cminbox.tui.inbox_screen import InboxScreen
from tests.tui_fixtures import blocked, make_app, make_services

SIZE = (120, 40)
UNWRITABLE = FileAccessError(
    Path("/data/cminbox/triage/shard-03.json"),
    "cannot write /data/cminbox/triage/shard-03.json (Read-only file system).",
    "Make the data folder writable by this user.",
    30,
)


def screen_of(app: CminboxApp) -> InboxScreen:
    screen = app.screen
    assert isinstance(screen, InboxScreen)
    return screen


def shown(app: CminboxApp, mid: str) -> TriageState:
    lst = screen_of(app).inbox_list
    return lst.rows[lst.index[mid]].state


def current_id(app: CminboxApp) -> str:
    row = screen_of(app).inbox_list.current
    assert row is not None
    return row.message.id


def notes(app: CminboxApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def settle(app: CminboxApp, pilot: Any) -> None:
    await screen_of(app).settled()
    await pilot.pause()


async def test_a_blocked_write_does_not_block_the_keys(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        target = current_id(app)
        with blocked(services.store, "act") as gate:
            await pilot.press("d")
            assert shown(app, target).status == Status.DONE  # on screen at once
            assert current_id(app) != target  # auto-advanced at once
            moved_to = current_id(app)
            await pilot.press("j")
            assert current_id(app) != moved_to  # the cursor moves while the write waits
            assert services.store.triage(target).status == Status.NEW  # not written yet
            assert gate.threads and gate.threads[0] != threading.get_ident()  # off the UI thread
            gate.release.set()
            await settle(app, pilot)
        assert services.store.triage(target).status == Status.DONE
        assert shown(app, target).status == Status.DONE
        assert shown(app, target).history  # the store's state (with its history) replaced the guess
        assert any("Done · 1 item · u undoes" in n for n in notes(app))


async def test_quick_keys_on_one_item_are_written_in_order(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        target = current_id(app)
        with blocked(services.store, "act") as gate:
            await pilot.press("p", "p", "d", "o")
            state = shown(app, target)
            assert (state.priority, state.status) == (Priority.URGENT, Status.OPEN)
            gate.release.set()
            await settle(app, pilot)
        state = services.store.triage(target)
        assert (state.priority, state.status) == (Priority.URGENT, Status.OPEN)
        assert shown(app, target) == state


async def test_bulk_selection_clears_at_once(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        with blocked(services.store, "act") as gate:
            await pilot.press("x", "x")
            picked = sorted(screen_of(app).inbox_list.selected)
            await pilot.press("d")
            assert not screen_of(app).inbox_list.selected
            assert all(shown(app, m).status == Status.DONE for m in picked)
            gate.release.set()
            await settle(app, pilot)
        assert all(services.store.triage(m).status == Status.DONE for m in picked)


async def test_undo_shows_at_once_and_is_written_by_the_worker(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        target = current_id(app)
        await pilot.press("d")
        await settle(app, pilot)
        with blocked(services.store, "undo") as gate:
            await pilot.press("u")
            assert shown(app, target).status == Status.NEW
            assert current_id(app) == target  # undo shows what it restored, at once
            assert services.store.triage(target).status == Status.DONE
            gate.release.set()
            await settle(app, pilot)
        assert services.store.triage(target).status == Status.NEW
        assert any("Undone: " in n for n in notes(app))


async def test_a_refused_write_rolls_back_only_its_own_change(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        target = current_id(app)
        store, real = services.store, services.store.act
        release, calls = threading.Event(), []

        def first_fails(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            if len(calls) == 1:
                release.wait()
                raise CminboxError("triage shard-03.json is damaged", "Run `cminbox repair`.")
            return real(*args, **kwargs)

        monkeypatch.setattr(store, "act", first_fails)
        try:
            await pilot.press("t", *"outage", "enter")  # refused by the store, later
            await pilot.press("p")  # queued behind it, written
            assert shown(app, target).tags == ("outage",) and shown(app, target).priority == Priority.HIGH
        finally:
            release.set()
        await settle(app, pilot)
        state = shown(app, target)
        assert state.tags == () and state.priority == Priority.HIGH  # the tag is taken back, not the priority
        assert state == store.triage(target)
        assert any("Not done" in n and "shard-03.json is damaged" in n for n in notes(app))
        assert screen_of(app).store_ok  # a refusal of one action: no banner


async def test_a_refused_action_takes_the_cursor_back_to_its_item(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (fault trial of 2026-12-01): on a full disk `d` was refused, and the cursor
    stayed on the next item, where the next key would act."""
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        target = current_id(app)

        def full(*args: Any, **kwargs: Any) -> Any:
            raise CminboxError("cannot write triage/shard-01.json: the disk is full")

        monkeypatch.setattr(services.store, "act", full)
        await pilot.press("d")
        await settle(app, pilot)
        assert current_id(app) == target and shown(app, target).status != Status.DONE
        assert any("Not done" in n and "disk is full" in n for n in notes(app))


async def test_a_store_that_cannot_be_written_is_said_from_the_start(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (fault trial of 2026-12-01): on a read-only data folder the banner came only
    after the first key was refused."""
    import errno

    from cminbox.core.errors import from_os_error

    services = make_services(tmp_path, clock)

    def read_only() -> None:
        raise from_os_error(OSError(errno.EROFS, "Read-only file system"), tmp_path / "data" / "triage")

    monkeypatch.setattr(services.store, "ping", read_only)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        assert not screen.store_ok
        assert screen.query_one("#store-banner").display
        assert "Read-only file system" in screen.banner_text()


async def test_an_unwritable_store_raises_the_banner_refuses_actions_and_recovers(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cminbox.tui.store_sync as store_sync

    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        banner = screen.query_one("#store-banner")

        def banner_shown() -> bool:  # a function: mypy would keep narrowing the attribute
            return bool(banner.display)

        def store_ok() -> bool:
            return screen.store_ok

        assert not banner_shown()
        target = current_id(app)
        calls: list[int] = []
        store, real = services.store, services.store.act

        def unwritable(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            raise UNWRITABLE

        def probe_fails(_store: Store) -> None:
            raise UNWRITABLE

        monkeypatch.setattr(store, "act", unwritable)
        monkeypatch.setattr(store_sync, "probe", probe_fails)
        await pilot.press("d")
        await settle(app, pilot)
        assert shown(app, target).status == Status.NEW  # rolled back
        assert not store_ok() and banner_shown()
        text = str(banner.render())
        assert "the store cannot be written: cannot write /data/cminbox/" in text  # cut in the middle to fit
        assert "(Read-only file system); actions are refused until it can" in text
        assert any("Read-only file system" in n for n in notes(app))

        screen.inbox_list.cursor = screen.inbox_list.index[target]
        await pilot.press("d")  # refused at once: nothing shown, nothing queued
        assert shown(app, target).status == Status.NEW and len(calls) == 1
        assert any("actions are refused until it can" in n for n in notes(app))
        # The inbox stays readable: the cursor moves, the preview follows.
        await pilot.press("j")
        assert current_id(app) != target

        assert await screen.probe_store() is False  # still unwritable: the banner stays
        assert banner_shown()
        monkeypatch.setattr(store, "act", real)
        monkeypatch.undo()  # the real probe, on the real (writable) folder
        assert await screen.probe_store() is True
        await pilot.pause()
        assert store_ok() and not banner_shown()
        screen.inbox_list.cursor = screen.inbox_list.index[target]
        await pilot.press("d")
        await settle(app, pilot)
        assert services.store.triage(target).status == Status.DONE


async def test_the_change_check_runs_off_the_ui_thread_and_never_overlaps(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await settle(app, pilot)
        # The next row's preview read first: its author card catches up with the change check's
        # read before its outbox read (tui/author_card.py); only the change check is counted here.
        screen.lookups.request(screen.inbox_list.rows[1].message)
        screen.cards.request(screen.inbox_list.rows[1].message)
        await settle(app, pilot)
        other = Store(tmp_path / "data", clock=clock)  # another instance on the same folder
        other.act(["masto:105"], AddTags(("from-bob",)), actor="bob")
        with blocked(services.store, "refresh") as gate:
            first = screen.check_store()
            assert first is not None
            await gate.wait_entered()
            assert screen.check_store() is None  # one check at a time
            await pilot.press("j")  # keys work while the check waits
            gate.release.set()
            await first.wait()
        await pilot.pause()
        assert len(gate.threads) == 1 and gate.threads[0] != threading.get_ident()
        assert shown(app, "masto:105").tags == ("from-bob",)


async def test_preview_lookups_are_latest_wins_and_cached(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await settle(app, pilot)
        screen.lookups.forget()
        lst = screen.inbox_list
        with blocked(services.store, "thread_of") as gate:
            lst.cursor = 1
            screen.show_preview()
            await gate.wait_entered()
            await pilot.press("j", "j", "j", "j")  # the cursor moves while the lookup waits
            assert lst.cursor == 5
            screen.show_preview()  # what the 60 ms debounce does once the keys stop
            gate.release.set()
            await settle(app, pilot)
            assert len(gate.threads) == 2  # the one running, then only the newest position's
            row = lst.current
            assert row is not None
            preview = str(screen.query_one("#preview").render())
            assert row.message.author.display_name in preview
            lst.cursor = 1
            screen.show_preview()  # cached: shown at once, no lookup
            assert len(gate.threads) == 2
            preview = str(screen.query_one("#preview").render())
            assert lst.rows[1].message.author.display_name in preview


async def test_quitting_finishes_the_writes_still_queued(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        target = current_id(app)
        at_exit: list[Status] = []
        real_exit, real_idle = app.exit, screen.writes.idle
        quitting = asyncio.Event()

        def recording_exit(*args: Any, **kwargs: Any) -> None:
            at_exit.append(services.store.triage(target).status)
            quitting.set()  # (an app that does not wait exits here)
            real_exit(*args, **kwargs)

        async def idle() -> None:
            quitting.set()
            await real_idle()

        app.exit = recording_exit  # type: ignore[method-assign]
        screen.writes.idle = idle  # type: ignore[method-assign]
        with blocked(services.store, "act") as gate:
            await pilot.press("d")
            await gate.wait_entered()
            press = asyncio.create_task(pilot.press("q"))
            await quitting.wait()  # quit is waiting for the write
            assert at_exit == []
            gate.release.set()
            await press
        assert at_exit == [Status.DONE]  # the write was in the store before the app exited


async def test_a_verb_failing_after_its_write_shows_what_the_store_holds(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        target = current_id(app)

        def no_delivery(*args: Any, **kwargs: Any) -> Any:
            raise CminboxError("the outbox cannot take the escalation")

        monkeypatch.setattr(services.inbox.outbox, "enqueue", no_delivery)
        await pilot.press("e", *"sync outage", "enter")
        await settle(app, pilot)
        assert services.store.triage(target).status == Status.ESCALATED  # the triage write happened
        assert shown(app, target) == services.store.triage(target)  # so the row says so
        assert any("Not done" in n and "outbox cannot take" in n for n in notes(app))


async def test_moderating_keeps_the_selection(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("x", "x")
        picked = set(screen_of(app).inbox_list.selected)
        screen_of(app).write(sorted(picked), None, lambda: [], "")  # what M's dialog submits
        await settle(app, pilot)
        assert screen_of(app).inbox_list.selected == picked


def test_a_database_that_is_down_raises_the_banner_like_an_unwritable_folder() -> None:
    """The PostgreSQL backend's "unreachable" is the same kind of error the banner is for."""
    from cminbox.core.errors import FileAccessError, from_os_error
    from cminbox.core.pg.connection import unreachable
    from cminbox.tui.store_worker import is_unreachable

    down = unreachable(ConnectionRefusedError("connection refused"), "cm@127.0.0.1:5432/cminbox")
    assert is_unreachable(down) and "nothing was changed" in str(down)
    full = from_os_error(OSError(28, "No space left on device"), "/data/triage")
    assert isinstance(full, FileAccessError) and is_unreachable(full)
