"""The engine (channel adapters, their HTTP client, the rules) is built on a worker once the
inbox's first rows are drawn, not before the first frame (issue #14); a build that fails says
why and leaves triage usable."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from textual.notifications import Notification

from cminbox.core import config as config_mod
from cminbox.core.clock import FrozenClock
from cminbox.core.secrets import SecretError
from cminbox.tui import app as app_mod
from cminbox.tui.app import CminboxApp
from cminbox.tui.inbox_screen import InboxScreen
from cminbox.tui.services import Services
from tests.factories import make_message
from tests.test_tui_presence import until
from tests.tui_fixtures import hold_older_parts, launched

SIZE = (120, 40)
CONFIG = '[[channels]]\nname = "masto"\ntype = "mastodon"\nurl = "http://127.0.0.1:9"\ninterval = 3600\n'


def _services(tmp_path: Path, clock: FrozenClock) -> Services:
    cfg = config_mod.parse(CONFIG, tmp_path / "config.toml")
    return launched(cfg, tmp_path / "data", clock, [make_message(n, channel="masto") for n in range(30)])


def _noting_build(services: Services, note: Callable[[InboxScreen], object]) -> tuple[CminboxApp, list[object]]:
    """The app, and what ``note`` read off its inbox screen when the engine's build began."""
    build, seen = services.make_engine, []
    assert build is not None
    app = CminboxApp(services, run_engine=False, blink=False)

    def make() -> object:
        seen.append(note(next(s for s in app.screen_stack if isinstance(s, InboxScreen))))
        return build()

    services.make_engine = make  # type: ignore[assignment]
    return app, seen


def _notices(app: CminboxApp) -> list[Notification]:
    return list(app._notifications)


async def test_the_engine_is_built_after_the_first_rows(tmp_path: Path, clock: FrozenClock) -> None:
    services = _services(tmp_path, clock)
    assert services.engine is None and services.engine_starting
    app, seen = _noting_build(services, lambda screen: screen.rows_loaded)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: services.engine is not None, "the engine")
        assert seen == [True] and not services.engine_starting
        assert services.engine is not None and list(services.engine.channels) == ["masto"]
        assert services.engine.dispatcher.on_delivery is not None  # wired as a built one is


@pytest.mark.parametrize(
    ("error", "notice"),
    [
        (SecretError("the keyring is locked"), "keyring is locked"),  # the machine: says why
        (KeyError("oops"), "internal error (KeyError)"),  # a bug: called one
    ],
)
async def test_a_build_that_fails_says_why_and_triage_goes_on(
    tmp_path: Path, clock: FrozenClock, error: Exception, notice: str
) -> None:
    services = _services(tmp_path, clock)

    def failing() -> object:
        raise error

    services.make_engine = failing  # type: ignore[assignment]
    app = CminboxApp(services, run_engine=False, blink=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
        await until(pilot, lambda: any(notice in n.message for n in _notices(app)), "the notice")
        assert services.engine is None and not services.engine_starting
        await pilot.press("j", "x")  # the keys still work: the cursor moves, the item is selected
        await until(pilot, lambda: screen.inbox_list.current is not None, "a row")


async def test_polling_before_the_engine_is_ready_says_so(tmp_path: Path, clock: FrozenClock) -> None:
    services = _services(tmp_path, clock)
    build, release = services.make_engine, threading.Event()
    assert build is not None

    def slow() -> object:
        release.wait(10)
        return build()

    services.make_engine = slow  # type: ignore[assignment]
    app = CminboxApp(services, run_engine=False, blink=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
            await until(pilot, lambda: screen.rows_loaded, "the first rows")
            await pilot.press("R")
            await until(pilot, lambda: any("starting" in n.message for n in _notices(app)), "the notice")
            release.set()
            await until(pilot, lambda: services.engine is not None, "the engine")
    finally:
        release.set()


def _parts(tmp_path: Path, clock: FrozenClock) -> Services:
    """A store of several monthly parts, opened lazily (as `cminbox` opens it): the first
    screen is read from the newest part, the older ones after it is drawn."""
    cfg = config_mod.parse(CONFIG, tmp_path / "config.toml")
    older = [
        make_message(1000 * month + n, channel="masto", at=clock.now - timedelta(days=35 * month, minutes=n))
        for month in (1, 2, 3)
        for n in range(250)
    ]
    return launched(cfg, tmp_path / "data", clock, [make_message(n, channel="masto") for n in range(30)] + older)


async def test_the_engine_waits_for_the_rows_to_hold_every_item(tmp_path: Path, clock: FrozenClock) -> None:
    """The store's own items first: building the engine beside the loader slowed the full load."""
    services = _parts(tmp_path, clock)
    app, seen = _noting_build(services, lambda screen: (screen.rows_complete, len(screen.all_rows)))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: services.engine is not None, "the engine")
        assert seen == [(True, 780)]
    services.store.close()


async def test_the_memory_the_full_load_freed_is_given_back(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once every part is read (core/heap.py: ~12 MB of 287 at 100k mails), on a worker."""
    from cminbox.core import heap

    services = _parts(tmp_path, clock)
    trimmed: list[tuple[bool, str]] = []
    app = CminboxApp(services, run_engine=False, blink=False)

    def trim() -> bool:
        screen = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
        trimmed.append((screen.rows_complete, threading.current_thread().name))
        return True

    monkeypatch.setattr(heap, "release_freed_memory", trim)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: bool(trimmed), "the heap released")
        assert [done for done, _ in trimmed] == [True]
        assert trimmed[0][1] != threading.main_thread().name
    services.store.close()


async def test_a_slow_load_does_not_keep_the_channels_waiting(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_mod, "ENGINE_WAIT", 0.2)
    services = _parts(tmp_path, clock)
    store, release = services.store, threading.Event()
    loader = store.progressive
    assert loader is not None
    hold_older_parts(loader, release)  # the first screen's parts, then the older ones wait
    app = CminboxApp(services, run_engine=False, blink=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
            await until(pilot, lambda: services.engine is not None, "the engine")
            assert not screen.rows_complete  # built while the older parts were still loading
            release.set()
            await until(pilot, lambda: screen.rows_complete, "every row")
    finally:
        release.set()
        store.close()
