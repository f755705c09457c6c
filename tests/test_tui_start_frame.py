"""What the inbox's first frame does not pay for (issue #14): garbage collections while it is
built (the pause ends once its rows are drawn, whatever screen comes first), and footer
rebuilds that show the same keys again (five before the first rows, one per focus move)."""

from __future__ import annotations

import gc
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Button

from cminbox.core import config as config_mod
from cminbox.core import gc_pause
from cminbox.core.clock import FrozenClock
from cminbox.tui import app as app_mod
from cminbox.tui.app import CminboxApp
from cminbox.tui.composer import Composer
from cminbox.tui.first_run import FirstRunScreen
from cminbox.tui.inbox_screen import InboxScreen
from cminbox.tui.key_footer import KeyFooter
from cminbox.tui.services import Services
from tests.factories import make_message
from tests.test_tui_presence import until
from tests.tui_fixtures import launched

SIZE = (120, 40)
CONFIG = '[[channels]]\nname = "masto"\ntype = "mastodon"\nurl = "http://127.0.0.1:9"\ninterval = 3600\n'


@pytest.fixture(autouse=True)
def _collector_back() -> Iterator[None]:
    yield
    gc_pause.end_start_up()
    while gc_pause.holding():
        gc_pause.release(freeze=False)
    gc.enable()


def _services(tmp_path: Path, clock: FrozenClock) -> Services:
    cfg = config_mod.parse(CONFIG, tmp_path / "config.toml")
    return launched(cfg, tmp_path / "data", clock, [make_message(n, channel="masto") for n in range(30)], engine=False)


def _keys(footer: KeyFooter) -> list[str]:
    return [str(key.description) for key in footer.query("FooterKey") if key.description]


async def test_the_collector_runs_again_once_the_first_rows_are_drawn(tmp_path: Path, clock: FrozenClock) -> None:
    gc_pause.hold_start_up()  # as cli.main does before it imports the TUI
    app = CminboxApp(_services(tmp_path, clock), run_engine=False, blink=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
        await until(pilot, lambda: screen.rows_loaded, "the first rows")
        await until(pilot, gc.isenabled, "the collector back")
        assert gc_pause.holding() == 0


async def test_a_first_run_screen_ends_the_pause_too(tmp_path: Path) -> None:
    gc_pause.hold_start_up()
    screen = lambda: FirstRunScreen(tmp_path / "c.toml", lambda: None, lambda: None)  # noqa: E731
    app = CminboxApp(None, blink=False, first_run=screen)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: bool(app.screen.query(Button)), "the first-run screen")
        await until(pilot, gc.isenabled, "the collector back")


async def test_no_screen_keeps_the_pause_past_its_limit(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_mod, "START_UP_GC_LIMIT", 0.1)
    monkeypatch.setattr(CminboxApp, "on_first_rows", lambda self, message: None)  # rows never "drawn"
    gc_pause.hold_start_up()
    app = CminboxApp(_services(tmp_path, clock), run_engine=False, blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, gc.isenabled, "the collector back")


async def test_the_footer_is_built_once_and_again_only_when_its_keys_change(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[object] = []  # the keys each rebuild showed
    compose = KeyFooter.compose

    def counted(self: KeyFooter):  # type: ignore[no-untyped-def]
        if self._bindings_ready and isinstance(self.screen, InboxScreen):
            built.append(self._showing())
        yield from compose(self)

    monkeypatch.setattr(KeyFooter, "compose", counted)
    app = CminboxApp(_services(tmp_path, clock), run_engine=False, blink=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
        await until(pilot, lambda: screen.rows_loaded, "the first rows")
        await pilot.pause(0.2)
        footer = screen.query_one(KeyFooter)
        assert len(built) == 1, "rebuilt while its keys stayed the same"
        assert "Reply" in _keys(footer)
        await pilot.press("r")  # the composer: the triage keys leave the footer
        await until(pilot, lambda: screen.query_one(Composer).display, "the composer")
        await until(pilot, lambda: "Reply" not in _keys(footer), "the composer's footer")
        await pilot.press("escape")
        await until(pilot, lambda: "Reply" in _keys(footer), "the inbox's keys back")
        await pilot.pause(0.2)
        rebuilt = len(built)
        screen.refresh_bindings()  # "the keys may have changed" when they did not: nothing rebuilt
        screen.refresh_bindings()
        await pilot.pause(0.2)
        assert len(built) == rebuilt
        assert all(a != b for a, b in itertools.pairwise(built)), "rebuilt to show the same keys"
