"""The first screen's read, started by the launcher before Textual is imported
(tui/first_read.py, issue #14): done by the inbox screen's mount, its rows are in the screen's
first frame (read on the screen's worker, they came a full draw later); not done yet, the
screen's loader waits for it instead of reading again; failed, the screen reads and reports
as it always did."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from cminbox.core import config as config_mod
from cminbox.core.clock import FrozenClock
from cminbox.core.errors import StoreUnavailable
from cminbox.core.people_ops import PeopleOps
from cminbox.core.store_api import StoreApi
from cminbox.tui import first_read, row_loading
from cminbox.tui.app import CminboxApp
from cminbox.tui.inbox_screen import InboxScreen
from cminbox.tui.services import Services
from tests.factories import make_message
from tests.test_tui_presence import until
from tests.tui_fixtures import launched

SIZE = (120, 40)
CONFIG = '[[channels]]\nname = "masto"\ntype = "mastodon"\nurl = "http://127.0.0.1:9"\ninterval = 3600\n'


def _services(tmp_path: Path, clock: FrozenClock) -> Services:
    cfg = config_mod.parse(CONFIG, tmp_path / "config.toml")
    return launched(cfg, tmp_path / "data", clock, [make_message(n, channel="masto") for n in range(30)], engine=False)


def _screen(app: CminboxApp) -> InboxScreen:
    return next(s for s in app.screen_stack if isinstance(s, InboxScreen))


def _count_screen_reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the screen read the first screen's parts, and its rows, itself."""
    calls = {"parts": 0, "rows": 0}
    parts, rows = row_loading.load_first_screen, row_loading.read_rows

    def counted_parts(store: StoreApi) -> None:
        calls["parts"] += 1
        parts(store)

    def counted_rows(store: StoreApi, people: PeopleOps, clock: FrozenClock) -> first_read.RowsRead:
        calls["rows"] += 1
        return rows(store, people, clock)

    monkeypatch.setattr(row_loading, "load_first_screen", counted_parts)
    monkeypatch.setattr(row_loading, "read_rows", counted_rows)
    return calls


async def test_a_read_done_by_the_mount_is_in_the_screen_s_first_frame(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = _services(tmp_path, clock)
    assert services.early_read is not None and services.early_read.result(wait=True) is not None
    reads = _count_screen_reads(monkeypatch)
    at_mount: list[tuple[bool, int]] = []
    mounted = InboxScreen.on_mount

    def noting(self: InboxScreen) -> None:
        mounted(self)
        at_mount.append((self.rows_loaded, len(self.inbox_list.rows)))

    monkeypatch.setattr(InboxScreen, "on_mount", noting)
    app = CminboxApp(services, run_engine=False, blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        assert at_mount == [(True, 30)]  # before Textual drew the screen once
        assert services.early_read is None  # taken
        assert reads == {"parts": 0, "rows": 0}  # and not read a second time
        assert "loading" not in str(_screen(app).query_one("#view-line").render())


async def test_a_read_still_running_at_the_mount_is_waited_for_on_the_worker(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, started = threading.Event(), threading.Event()
    parts = first_read.load_first_screen

    def slow(store: StoreApi) -> None:
        started.set()
        release.wait(10)
        parts(store)

    monkeypatch.setattr(first_read, "load_first_screen", slow)
    services = _services(tmp_path, clock)
    reads = _count_screen_reads(monkeypatch)
    app = CminboxApp(services, run_engine=False, blink=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = _screen(app)
            assert started.wait(5)
            await pilot.pause(0.1)
            assert not screen.rows_loaded and "loading" in str(screen.query_one("#view-line").render())
            release.set()
            await until(pilot, lambda: screen.rows_loaded, "the early read's rows")
            assert len(screen.all_rows) == 30
            assert reads == {"parts": 0, "rows": 0}
    finally:
        release.set()


def _early_read_raising(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> Services:
    """The launcher's services, their early read failing with ``error``."""

    def failing(store: StoreApi, people: PeopleOps, clock: FrozenClock) -> first_read.RowsRead:
        raise error

    monkeypatch.setattr(first_read, "read_rows", failing)
    return _services(tmp_path, clock)


async def test_a_read_that_failed_is_read_again_by_the_screen(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = _early_read_raising(tmp_path, clock, monkeypatch, StoreUnavailable("the data folder cannot be read"))
    assert services.early_read is not None and services.early_read.result(wait=True) is None
    reads = _count_screen_reads(monkeypatch)
    app = CminboxApp(services, run_engine=False, blink=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        await until(pilot, lambda: screen.rows_loaded, "the screen's own read")
        assert len(screen.all_rows) == 30 and reads["rows"] >= 1


def test_a_bug_in_the_read_is_raised_where_it_is_taken(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = _early_read_raising(tmp_path, clock, monkeypatch, KeyError("oops"))
    assert services.early_read is not None
    with pytest.raises(KeyError):
        services.early_read.result(wait=True)


def test_an_app_that_ended_on_an_error_exits_non_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression (review of 2026-12-01): `cminbox` exited 0 after Textual printed a crash, so a
    wrapper or script could not tell it from a quit."""
    import argparse

    from cminbox.tui import launch
    from cminbox.tui.app import CminboxApp

    class Broken(CminboxApp):
        def on_mount(self) -> None:
            raise RuntimeError("a bug")

    app = Broken(None)
    run = app.run
    monkeypatch.setattr(app, "run", lambda **options: run(headless=True, **options))
    assert launch.run(app, argparse.Namespace(), False) == 1
