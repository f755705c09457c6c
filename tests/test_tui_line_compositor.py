"""The inbox's compositor (tui/line_compositor.py, issue #14): a key's frame asks only the
widgets it updates for only the lines it updates, and what it writes to the terminal puts the
same text in the same cells as Textual's own compositor for the same update. (Textual's also
writes a cursor move with nothing after it where a widget it rendered begins right at the
update's end; those moves are the only difference, and they are taken out before comparing.)"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.widget import Widget

from cminbox.core.clock import FrozenClock
from cminbox.tui.line_compositor import LineCropCompositor
from tests.pilot_helpers import SIZE, press, screen_of
from tests.tui_fixtures import make_app, make_services

# A cursor move followed by another, a new line or the end: it writes nothing.
IDLE_MOVE = re.compile(r"\x1b\[\d+;\d+H(?=\x1b\[\d+;\d+H|\n|$)")


def written(update: ChopsUpdate, console: Any) -> str:
    return IDLE_MOVE.sub("", update.render_segments(console))


async def test_a_cursor_key_renders_the_two_list_lines_and_nothing_else(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await press(pilot, "g")
        await pilot.pause(0.05)
        asked: Counter[tuple[str, int]] = Counter()
        real = Widget.render_lines

        def counted(widget: Widget, crop: Region) -> Any:
            asked[(type(widget).__name__, crop.height)] += 1
            return real(widget, crop)

        monkeypatch.setattr(Widget, "render_lines", counted)
        await press(pilot, "j")
        await pilot.pause(0.02)  # (the preview follows the cursor later, on a timer)
        monkeypatch.setattr(Widget, "render_lines", real)
        assert screen.inbox_list.cursor == 1
        # The list (and its scroll bar), for the two lines the cursor left and reached, and
        # the preview, which shows the new item; not the header, the view line, the footer,
        # the body or the screen behind them, which did not change.
        assert asked[("InboxList", 2)] == 1, asked
        assert {name for name, _ in asked} <= {"InboxList", "ScrollBar", "Preview"}, asked
        assert all(lines == 2 for name, lines in asked if name != "Preview"), asked


async def test_every_partial_update_writes_what_textuals_compositor_writes(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    compared: list[int] = []
    ours = LineCropCompositor.render_partial_update

    def both(compositor: Compositor) -> ChopsUpdate | None:
        dirty = set(compositor._dirty_regions)
        mine = ours(compositor)
        compositor._dirty_regions.update(dirty)
        # Textual's selection of widgets and lines, on the same compositor state.
        compositor._get_renders = lambda crop=None: Compositor._get_renders(compositor, crop)  # type: ignore[method-assign]
        try:
            theirs = Compositor.render_partial_update(compositor)
        finally:
            del compositor._get_renders
        if mine is None or theirs is None:
            assert mine is theirs
            return mine
        assert written(mine, app.console) == written(theirs, app.console)
        compared.append(len(mine.spans))
        return mine

    monkeypatch.setattr(LineCropCompositor, "render_partial_update", both)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        # Cursor moves, half-page scrolls, the end and back, a selection, a toast over the
        # list, the preview following, a dialog over the inbox and back.
        for key in ("j", "j", "k", "x", "j", "x", "ctrl+d", "G", "k", "g", "ctrl+d", "ctrl+u", "j"):
            await press(pilot, key)
        app.notify("a toast over the list's lower lines", timeout=30)
        await pilot.pause(0.05)
        for key in ("G", "k", "k", "t", "escape", "j", "j"):
            await press(pilot, key)
        await pilot.pause(0.3)  # the preview's and the ages' repaints
    assert len(compared) >= 15, compared
