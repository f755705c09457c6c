"""Worker threads that finish while the app quits must not call into removed widgets.

Regression: a presence read finishing during shutdown called ``show_presence`` after the
inbox list had been removed (``NoMatches`` failed a CI run). The worker side below keeps
handing results to the UI thread while the app quits, as a slow store read would.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from pathlib import Path

from cminbox.core.clock import FrozenClock
from cminbox.core.errors import StoreUnavailable
from cminbox.tui.inbox_screen import InboxScreen
from cminbox.tui.ui_thread import from_worker
from tests.conftest import T0
from tests.tui_fixtures import make_app, make_services


async def test_results_arriving_during_shutdown_are_dropped_not_crashing(tmp_path: Path) -> None:
    app = make_app(make_services(tmp_path, FrozenClock(T0)))
    stop = threading.Event()
    delivered = 0
    failures: list[BaseException] = []

    def worker(screen: InboxScreen) -> None:
        nonlocal delivered
        try:
            while not stop.is_set() and app._loop is not None:
                from_worker(screen, screen.show_presence, [])
                from_worker(screen, screen.notice_unreachable, StoreUnavailable("store gone"))
                delivered += 1
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)

    async with app.run_test() as pilot:
        screen = app.screen
        assert isinstance(screen, InboxScreen)
        # Textual's thread workers run in a copy of the app's context; so does this one.
        context = contextvars.copy_context()
        thread = threading.Thread(target=context.run, args=(worker, screen), daemon=True)
        thread.start()
        await pilot.pause(0.05)
        await pilot.press("q")  # quits while the thread keeps delivering
    stop.set()
    await asyncio.to_thread(thread.join, 5)  # not thread.join: the loop must keep running
    assert not thread.is_alive()
    assert failures == []
    assert delivered > 0
    assert app.return_code in (0, None)


async def test_a_timer_started_from_a_plain_thread_fires(tmp_path: Path) -> None:
    """Regression (review of 2026-12-01): the store check's thread is a plain one (no copy of the
    app's context); the outage probe's interval it started through from_worker died at its first
    tick (Textual's timers read the active app from the context), so after a 15 s PostgreSQL
    outage the banner stayed up and every action was refused until a restart."""
    app = make_app(make_services(tmp_path, FrozenClock(T0)))
    fired = asyncio.Event()
    async with app.run_test() as pilot:
        screen = app.screen

        def worker() -> None:  # not a Textual worker: an empty context, as threading.Thread gives
            from_worker(screen, screen.set_timer, 0.01, fired.set)

        thread = threading.Thread(target=contextvars.Context().run, args=(worker,), daemon=True)
        thread.start()
        await asyncio.to_thread(thread.join, 5)
        await asyncio.wait_for(fired.wait(), 5)
        await pilot.pause()
