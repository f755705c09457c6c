"""The header's counts are exact on the first screen of a lazily opened store (issue #14):
while the older parts are still being read, they come from the store's census (every item's
id, date and state), not from the rows read so far; and the first screen is full."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from cminbox.core.clock import FrozenClock
from cminbox.core.models import Status
from cminbox.core.people import identity_of
from cminbox.core.store import Store
from cminbox.core.triage import SetStatus
from cminbox.tui.app import CminboxApp
from cminbox.tui.inbox_screen import InboxScreen
from cminbox.tui.panes import InboxHeader
from cminbox.tui.row_loading import RowLoading
from tests.factories import make_message
from tests.test_tui_presence import until
from tests.tui_fixtures import hold_older_parts, make_services

SIZE = (120, 40)


def _fill(data: Path, clock: FrozenClock) -> None:
    """300 items this month (more than a screen), 100 in each of five older months; some
    done, some open, the rest new (so some are overdue and some are not)."""
    store = Store(data, clock=clock)
    newest = [make_message(n, channel="masto", at=clock.now - timedelta(minutes=3 * n)) for n in range(300)]
    older = [
        make_message(1000 * month + n, channel="masto", at=clock.now - timedelta(days=35 * month, minutes=n))
        for month in range(1, 6)
        for n in range(100)
    ]
    store.upsert_messages(newest + older)
    done = [f"masto:{1000 * m + n}" for m in range(1, 6) for n in range(0, 100, 3)]
    store.act(done, SetStatus(Status.DONE), actor="a")
    store.act([f"masto:{n}" for n in range(0, 300, 7)], SetStatus(Status.OPEN), actor="a")
    store.close()


def _header(app: CminboxApp) -> str:
    screen = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
    return str(screen.query_one(InboxHeader).render())


async def test_the_first_screen_counts_every_item_while_older_parts_load(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    data = services.store.dir
    _fill(data, clock)
    full = CminboxApp(make_services(tmp_path, clock), run_engine=False, blink=False)
    async with full.run_test(size=SIZE) as pilot:  # everything loaded: the counts to expect
        await until(pilot, lambda: "new 0 " not in _header(full) and "loading" not in _view(full), "the full counts")
        expected = _header(full).split("  ")[1]
    assert "open 43" in expected and "overdue 0" not in expected, expected  # (and the 13 seeded items)

    lazy = Store(data, clock=clock, lazy=True)
    services.inbox.store = lazy
    services.inbox.outbox = lazy.outbox
    release = threading.Event()
    hold_older_parts(lazy, release)  # the first part reads; the older ones wait for the test
    app = CminboxApp(services, run_engine=False, blink=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
            await until(pilot, lambda: screen.rows_loaded, "the first rows")
            assert not lazy.fully_loaded and len(screen.inbox_list.rows) >= 40  # a full first screen
            assert "loading" in _view(app)
            assert _header(app).split("  ")[1] == expected  # every item counted, not just the rows
            release.set()
            await until(pilot, lambda: "loading" not in _view(app), "every part")
            assert _header(app).split("  ")[1] == expected
    finally:
        release.set()
        lazy.close()


def _view(app: CminboxApp) -> str:
    screen = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
    return str(screen.query_one("#view-line").render())


async def test_the_view_line_says_loading_until_the_rows_hold_everything(tmp_path: Path, clock: FrozenClock) -> None:
    """The store has read its last part, but the read that brings every item to the rows has
    not landed: the line still says "loading older messages…" (it said "107 items" as if that
    were all, found by the side-by-side benchmark)."""
    services = make_services(tmp_path, clock)
    _fill(services.store.dir, clock)
    lazy = Store(services.store.dir, clock=clock, lazy=True)
    services.inbox.store = lazy
    services.inbox.outbox = lazy.outbox
    real_load, real_query = lazy.load_next_segment, lazy.every_item
    calls, loads, reads = [0], threading.Event(), threading.Event()

    def held_load(*args: Any) -> Any:
        calls[0] += 1
        if calls[0] > 1:
            loads.wait()
        return real_load(*args)

    def held_query(*args: Any, **kwargs: Any) -> Any:
        if lazy.fully_loaded:
            reads.wait()  # the read of everything: held until the test has looked
        return real_query(*args, **kwargs)

    lazy.load_next_segment = held_load  # type: ignore[method-assign]
    lazy.every_item = held_query  # type: ignore[method-assign]
    app = CminboxApp(services, run_engine=False, blink=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
            await until(pilot, lambda: screen.rows_loaded, "the first rows")
            partial = len(screen.all_rows)
            loads.set()
            await until(pilot, lambda: lazy.fully_loaded, "the store's last part")
            screen.refresh_chrome()
            assert len(screen.all_rows) == partial and "loading older messages" in _view(app)
            reads.set()
            await until(pilot, lambda: "loading" not in _view(app), "every item in the rows")
            assert len(screen.all_rows) == len(lazy)
    finally:
        loads.set()
        reads.set()
        lazy.close()


def _burn(seconds: float) -> None:
    """CPU work in Python (as decoding and indexing a part, or a census, are): it holds the
    interpreter, shared with the other threads in 5 ms turns."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def test_the_first_screen_is_not_kept_waiting_behind_the_older_parts(
    tmp_path: Path, clock: FrozenClock, monkeypatch: Any
) -> None:
    """Regression (issue #14, at 100k): the loader read the older parts while the first
    screen's read (the rows and the census) ran; sharing the interpreter with it, that read
    got a fraction of the CPU and the first rows came after 1.1-1.6 s instead of ~0.5 s. The
    loader now waits until the first rows are drawn."""
    services = make_services(tmp_path, clock)
    store = Store(services.store.dir, clock=clock)
    store.upsert_messages(
        [make_message(n, channel="masto", at=clock.now - timedelta(minutes=n)) for n in range(250)]
        + [make_message(5000 + m, channel="masto", at=clock.now - timedelta(days=31 * m)) for m in range(1, 11)]
    )
    store.close()
    lazy = Store(services.store.dir, clock=clock, lazy=True)
    services.inbox.store = lazy
    services.inbox.outbox = lazy.outbox
    slow_load, real_query = lazy._load_segment, lazy.every_item
    left_when_shown: list[int] = []

    def load(key: str) -> None:
        _burn(0.03)
        slow_load(key)

    def query(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("loaded_only"):
            _burn(0.15)  # the first screen's read of a large store
        return real_query(*args, **kwargs)

    real_reloaded = RowLoading._reloaded

    def reloaded(screen: RowLoading, *args: Any, **kwargs: Any) -> None:
        if not left_when_shown:
            left_when_shown.append(len(lazy._unloaded))
        real_reloaded(screen, *args, **kwargs)

    lazy._load_segment = load  # type: ignore[method-assign]
    lazy.every_item = query  # type: ignore[method-assign]
    monkeypatch.setattr(RowLoading, "_reloaded", reloaded)
    app = CminboxApp(services, run_engine=False, blink=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: bool(left_when_shown), "the first rows")
            assert left_when_shown[0] >= 9, left_when_shown  # the older parts waited for them
            await until(pilot, lambda: "loading" not in _view(app), "every part")
    finally:
        lazy.close()


async def test_on_postgresql_the_first_screen_is_the_newest_items_and_the_counts_come_from_sql(
    tmp_path: Path, clock: FrozenClock, pg_database: str
) -> None:
    """`cminbox` opens the team store lazily too: the first screen reads the newest items
    (one LIMIT query) and the header counts every item in SQL; the rest follows."""
    from cminbox.core import config as config_mod
    from cminbox.core.secrets import Secrets
    from cminbox.core.wiring import wire
    from cminbox.tui import launch

    text = (
        f'[store]\nbackend = "postgresql"\ndsn = "{pg_database}"\nconnect_timeout = 5\n\n'
        '[[channels]]\nname = "masto"\ntype = "mastodon"\nurl = "http://127.0.0.1:9"\ninterval = 3600\n'
    )
    cfg = config_mod.parse(text, tmp_path / "config.toml")
    filled = wire(cfg, tmp_path / "data", clock=clock, secrets=Secrets({})).store
    filled.upsert_messages([make_message(n, at=clock.now - timedelta(minutes=3 * n)) for n in range(1500)])
    filled.act([f"masto:{n}" for n in range(0, 1500, 4)], SetStatus(Status.DONE), actor="a")
    filled.act([f"masto:{n}" for n in range(1, 1500, 9)], SetStatus(Status.OPEN), actor="a")
    filled.close()
    full = CminboxApp(launch.services(cfg, Secrets({}), tmp_path / "data", clock, engine=False), blink=False)
    async with full.run_test(size=SIZE) as pilot:  # everything read: the counts to expect
        inbox = next(s for s in full.screen_stack if isinstance(s, InboxScreen))
        await until(pilot, lambda: inbox.rows_complete and "loading" not in _view(full), "all")
        expected = _header(full).split("  ")[1]
    assert "new 999 · open 167" in expected and "done 334" in expected, expected  # 1500 in all

    services = launch.services(cfg, Secrets({}), tmp_path / "data", clock, engine=False)
    loader, release = services.store.progressive, threading.Event()
    assert loader is not None
    hold_older_parts(loader, release)  # the newest items come; everything else waits for the test
    app = CminboxApp(services, run_engine=False, blink=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
            await until(pilot, lambda: screen.rows_loaded, "the first rows")
            assert len(screen.all_rows) == 500 and "loading" in _view(app)
            assert _header(app).split("  ")[1] == expected  # every item counted, in SQL
            release.set()
            await until(pilot, lambda: "loading" not in _view(app), "every item")
            assert len(screen.all_rows) == 1500 and _header(app).split("  ")[1] == expected
    finally:
        release.set()
        if app.services is not None:
            app.services.store.close()


async def test_the_author_card_waits_for_every_part_and_then_shows(tmp_path: Path, clock: FrozenClock) -> None:
    """The card counts the author's items in the whole store: asked for while the older parts
    were still being read, it read them all on its own worker and indexed every item by person
    under the store's lock, which held the loader's last read back. It is asked for once the
    rows hold every item; the preview shows the message meanwhile."""
    services = make_services(tmp_path, clock)
    _fill(services.store.dir, clock)
    lazy = Store(services.store.dir, clock=clock, lazy=True)
    services.inbox.store = lazy
    services.inbox.outbox = lazy.outbox
    release = threading.Event()
    hold_older_parts(lazy, release)
    app = CminboxApp(services, run_engine=False, blink=False)
    screen_ops: list[str] = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
            real_card = screen.people_ops.card

            def card(key: str) -> Any:
                screen_ops.append(key)
                return real_card(key)

            screen.people_ops.card = card  # type: ignore[method-assign]
            await until(pilot, lambda: screen.rows_loaded, "the first rows")
            screen.show_preview()
            await until(pilot, lambda: screen.lookups.cache != {}, "the preview's lookups")
            assert screen_ops == [] and not lazy.fully_loaded  # no card yet: nothing forced to load
            release.set()
            await until(pilot, lambda: screen.rows_complete and bool(screen.cards.cache), "the card after every part")
            current = screen.inbox_list.current
            assert current is not None and len(screen_ops) == 1
            shown = screen.cards.cache[identity_of(current.message)]
            everywhere = [m for m in lazy.all_messages() if identity_of(m) == identity_of(current.message)]
            assert shown is not None and shown.items == len(everywhere) > 0  # counted over every part
    finally:
        release.set()
        lazy.close()
