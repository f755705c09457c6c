"""What the inbox's first frame does not pay for (issue #14): garbage collections while it is
built (the pause ends once its rows are drawn, whatever screen comes first), and footer
rebuilds that show the same keys again (five before the first rows, one per focus move)."""

from __future__ import annotations

import gc
import itertools
import tomllib
from collections import Counter
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


async def test_what_waits_for_the_first_rows_runs_after_their_frame_is_written(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``call_after_refresh`` runs before the screen's update timer renders the frame, so the
    footer's keys (~20 ms) and, at 100k, the loader's decoding went in front of the rows they
    were meant to follow (issue #14: rows reached the terminal ~45 ms after "drawn"). The first
    rows' callbacks now wait for a frame handed to the driver with the rows in it; the footer
    has no keys in that frame, and gets them right after."""
    events: list[str] = []
    display = CminboxApp._display

    def displayed(self: CminboxApp, screen: object, renderable: object) -> None:
        display(self, screen, renderable)  # type: ignore[arg-type]
        inbox = next((s for s in self.screen_stack if isinstance(s, InboxScreen)), None)
        if renderable is not None and inbox is not None and inbox.inbox_list.rows:
            footer = inbox.query_one(KeyFooter)
            events.append("rows frame, footer keys" if _keys(footer) else "rows frame")

    first = InboxScreen._first_rows_drawn

    def drawn(self: InboxScreen) -> None:
        events.append("first rows drawn")
        first(self)

    monkeypatch.setattr(CminboxApp, "_display", displayed)
    monkeypatch.setattr(InboxScreen, "_first_rows_drawn", drawn)
    app = CminboxApp(_services(tmp_path, clock), run_engine=False, blink=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
        await until(pilot, lambda: "first rows drawn" in events, "the first rows")
        await until(pilot, lambda: "Reply" in _keys(screen.query_one(KeyFooter)), "the footer's keys")
    assert events[0] == "rows frame", events[:3]
    assert events.index("first rows drawn") > 0


async def test_frame_waiters_run_after_a_written_frame_or_after_their_limit(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cminbox.tui import frames

    app = CminboxApp(_services(tmp_path, clock), run_engine=False, blink=False)
    async with app.run_test(size=SIZE) as pilot:
        ran: list[str] = []
        waiters = frames.FrameWaiters(app)
        waiters.add(lambda: ran.append("a"))
        waiters.add(lambda: ran.append("b"))
        await pilot.pause(0.05)
        assert ran == [], "ran before any frame was written"
        waiters.frame_written()
        await until(pilot, lambda: ran == ["a", "b"], "both, in order, after the frame")
        waiters.frame_written()  # nothing waiting: nothing runs again
        await pilot.pause(0.05)
        assert ran == ["a", "b"]
        monkeypatch.setattr(frames, "FRAME_WAIT", 0.05)
        waiters.add(lambda: ran.append("c"))  # no frame comes (nothing on screen changed)
        await until(pilot, lambda: ran[-1:] == ["c"], "the limit")


async def test_the_first_frame_s_callback_finds_the_screen_taken_down(tmp_path: Path, clock: FrozenClock) -> None:
    """It runs on a timer a moment after the frame: a quit (or a test's end) may have removed
    the screen's widgets by then. It raised NoMatches for the footer (1 in ~6 runs of
    tests/test_tui_first_counts.py, 2026-12-01)."""
    app = CminboxApp(_services(tmp_path, clock), run_engine=False, blink=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
        await until(pilot, lambda: screen.rows_loaded, "the first rows")
        await screen.query_one(KeyFooter).remove()
        screen.first_frame_done()  # no footer: nothing to release, and no error


async def test_the_filter_box_is_made_at_the_first_slash_and_the_panes_shown_on_demand_start_hidden(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """The first frame carries no filter box (an Input's styles and mount, for a box most starts
    never open), and the panes shown on demand are hidden before their mount (hiding them in
    on_mount laid the screen out again). `/` makes the box, esc hides it, `/` shows the same
    one; made late, its cursor is still kept still when the app asks (review of 2026-12-02:
    it blinked, and a snapshot of it depended on the moment it was taken)."""
    from textual.widgets import Input

    app = CminboxApp(_services(tmp_path, clock), run_engine=False, blink=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
        await until(pilot, lambda: screen.rows_loaded, "the first rows")
        assert not screen.query(Input), "a filter box before the first `/`"
        for pane in ("#store-banner", "#composer"):
            assert not screen.query_one(pane).display
        await pilot.press("slash")
        await pilot.pause()
        box = screen.query_one("#filter-input", Input)
        assert box.display and box.has_focus
        assert not box.cursor_blink
        await pilot.press("t", "a", "g", ":", "enter")
        await pilot.pause()
        assert screen.query_one("#filter-error").display  # "tag:" needs a value
        await pilot.press("escape")
        await pilot.pause()
        assert not box.display and not screen.query_one("#filter-error").display
        assert screen.inbox_list.has_focus
        await pilot.press("slash")
        await pilot.pause()
        assert screen.query_one("#filter-input", Input) is box and box.display and box.has_focus
        assert len(screen.query(Input)) == 1
        # The refused text comes back to be mended, with why (it came back empty: trial of
        # 2026-12-02); once a filter applies, the box shows it, and the line what keys do.
        said = screen.query_one("#filter-error")
        assert box.value == "tag:" and said.display and "needs a value" in str(said.render())
        await pilot.press("backspace", "backspace", "backspace", "backspace", *"status:new", "enter")
        await pilot.pause()
        assert not box.display and screen.filter is not None and screen.filter.text == "status:new"
        await pilot.press("slash")
        await pilot.pause()
        assert box.value == "status:new" and "enter applies" in str(said.render())
        # A text refused under one filter is forgotten once the filter changes another way
        # (esc in the list clears it): `/` shows the filter in force, not the old mistake.
        await pilot.press(*" tag:", "enter")
        await pilot.pause()
        assert "needs a value" in str(said.render())
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("escape")  # in the list: clears the filter
        await pilot.pause()
        assert screen.filter is None
        await pilot.press("slash")
        await pilot.pause()
        assert box.value == "" and "enter applies" in str(said.render())


async def test_the_composer_s_text_made_at_its_first_opening_keeps_a_still_cursor(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """The composer's text area is made when the composer first opens, after its screen's
    mount: the app's still cursor (tests, snapshots) reaches it too."""
    from cminbox.tui.typed_area import TextArea

    app = CminboxApp(_services(tmp_path, clock), run_engine=False, blink=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
        await until(pilot, lambda: screen.rows_loaded, "the first rows")
        await pilot.press("r")
        await until(pilot, lambda: bool(screen.query(TextArea)), "the composer's text")
        assert not screen.query_one(TextArea).cursor_blink


async def test_the_dialogs_are_imported_once_the_rows_hold_every_item(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Off the first frame's path, the dialogs' modules are imported on a worker once every
    row is in, also when the first read held every item, where no RowsComplete follows
    (review of 2026-12-02: only RowsComplete started it, so a small inbox never did)."""
    imported: list[int] = []
    monkeypatch.setattr(app_mod, "import_dialogs", lambda: imported.append(1))
    app = CminboxApp(_services(tmp_path, clock), run_engine=False, blink=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
        await until(pilot, lambda: screen.rows_complete, "every row")
        await until(pilot, lambda: bool(imported), "the dialogs' import")
        await pilot.pause(0.1)
        assert imported == [1]


def test_the_dialogs_imported_after_the_first_frame_are_off_its_import_budget() -> None:
    budget = tomllib.loads(Path(__file__).with_name("import_budget.toml").read_text())
    first_frame = set(budget["tui_first_frame"]["cminbox"])
    assert not first_frame & set(app_mod.DIALOGS)


async def test_a_notice_shows_once_over_a_dialog_and_again_below_it_after(tmp_path: Path, clock: FrozenClock) -> None:
    """Textual shows every live notification again on a screen pushed on top and leaves the
    copies below: over the inbox, a dialog showed the demo's welcome twice, one through its
    backdrop (new-user trial of 2026-12-02). Also checks the pinned Textual still refreshes
    notifications the way CminboxApp._refresh_notifications relies on."""
    from textual.widgets._toast import Toast, ToastRack

    app = CminboxApp(_services(tmp_path, clock), run_engine=False, blink=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        inbox = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
        await until(pilot, lambda: inbox.rows_loaded, "the first rows")
        app.notify("Data in /tmp/somewhere", timeout=30)
        await until(pilot, lambda: bool(inbox.query(Toast)), "the notice on the inbox")
        rack = inbox.query_one(ToastRack)
        await pilot.press("t")
        await until(
            pilot, lambda: app.screen is not inbox and bool(app.screen.query(Toast)), "the notice on the dialog"
        )
        assert not rack.display, "the inbox's copy shows through the dialog's backdrop"
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is inbox and rack.display and bool(rack.query(Toast)), "the notice back")


async def test_the_inbox_is_the_first_screen_with_none_under_it(tmp_path: Path, clock: FrozenClock) -> None:
    """Textual's default screen was composed, styled and mounted (with its toast rack and
    tooltip) under the inbox for nothing: ~10 ms of the first frame at 10k (issue #14). The
    inbox is the app's first screen now; a dialog closes back onto it, and `q` still quits."""
    app = CminboxApp(_services(tmp_path, clock), run_engine=False, blink=False)
    async with app.run_test(size=SIZE) as pilot:
        assert [type(s) for s in app.screen_stack] == [InboxScreen]
        screen = app.screen_stack[0]
        await until(pilot, lambda: screen.rows_loaded, "the first rows")
        await pilot.press("question_mark")
        await until(pilot, lambda: len(app.screen_stack) == 2, "the help screen")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "back on the inbox")
        await pilot.press("escape")  # nothing to close: the inbox stays
        await pilot.pause()
        assert app.screen is screen and app.is_running
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, "quit")


async def test_the_first_frame_styles_each_widget_once(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Textual restyles a screen's every widget when the screen resumes, and the first resume
    follows the mount that had just styled them; the body was restyled again when the
    preview's place was set at mount (issue #14). The list alone may be styled twice: once
    more for the focus, which its cursor's colour depends on."""
    from textual.css.stylesheet import Stylesheet
    from textual.dom import DOMNode

    styled: Counter[int] = Counter()
    names: dict[int, str] = {}
    real = Stylesheet.apply

    def counted(sheet: Stylesheet, node: DOMNode, *args: object, **kwargs: object) -> None:
        if type(node) is not DOMNode:  # (a component class's style holder: styled with its widget)
            styled[id(node)] += 1
            names[id(node)] = type(node).__name__
        real(sheet, node, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Stylesheet, "apply", counted)
    app = CminboxApp(_services(tmp_path, clock), run_engine=False, blink=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen_stack[0]
        assert isinstance(screen, InboxScreen)
        await until(pilot, lambda: screen.rows_loaded, "the first rows")
        # (The footer's keys are made after the first frame, by Textual's Footer.)
        twice = sorted(names[node] for node, times in styled.items() if times > 1)
        assert set(twice) <= {"InboxList"}, twice
        assert screen.query_one("#body").has_class("preview-right")
