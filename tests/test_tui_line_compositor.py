"""The inbox's compositor (tui/line_compositor.py, issue #14): a key's frame asks only the
widgets it updates for only the lines it updates, and what it writes to the terminal puts the
same text in the same cells as Textual's own compositor for the same update. (Textual's also
writes a cursor move with nothing after it where a widget it rendered begins right at the
update's end; those moves are the only difference, and they are taken out before comparing.)"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual._compositor import ChopsUpdate, Compositor, LayoutUpdate
from textual._context import active_app
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from cminbox.core.clock import FrozenClock
from cminbox.tui.line_compositor import LineCropCompositor
from tests.pilot_helpers import press
from tests.tui_fixtures import make_services, opened

# A cursor move followed by another, a new line or the end: it writes nothing.
IDLE_MOVE = re.compile(r"\x1b\[\d+;\d+H(?=\x1b\[\d+;\d+H|\n|$)")


def written(update: ChopsUpdate, console: Any) -> str:
    return IDLE_MOVE.sub("", update.render_segments(console))


async def test_a_cursor_key_renders_the_two_list_lines_and_nothing_else(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = make_services(tmp_path, clock)
    async with opened(services) as (pilot, screen):
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


async def test_every_update_writes_what_textuals_compositor_writes(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Partial updates (a key's frame) and full ones (the first frame, a resize, the screen
    under a dialog's translucent backdrop) alike (review of 2026-12-02: the override serves
    both, since Textual passes a crop to every render)."""
    services = make_services(tmp_path, clock)
    compared: Counter[str] = Counter()

    def textuals(compositor: Compositor, render: Callable[[], Any]) -> Any:
        """What ``render`` gives with Textual's selection of widgets and lines."""
        compositor._get_renders = lambda crop=None: Compositor._get_renders(compositor, crop)  # type: ignore[method-assign]
        try:
            return render()
        finally:
            del compositor._get_renders

    def partial(compositor: Compositor) -> ChopsUpdate | None:
        dirty = set(compositor._dirty_regions)
        mine = Compositor.render_partial_update(compositor)
        compositor._dirty_regions.update(dirty)
        theirs = textuals(compositor, lambda: Compositor.render_partial_update(compositor))
        if mine is None or theirs is None:
            assert mine is theirs
            return mine
        console = active_app.get().console  # (the compositor refreshes in the app's context)
        assert written(mine, console) == written(theirs, console)
        compared["partial"] += 1
        return mine

    def full(compositor: Compositor, simplify: bool = False) -> LayoutUpdate:
        mine = Compositor.render_full_update(compositor, simplify)
        theirs = textuals(compositor, lambda: Compositor.render_full_update(compositor, simplify))
        console = active_app.get().console
        assert mine.render_segments(console) == theirs.render_segments(console)
        compared["full"] += 1
        return mine

    def strips(compositor: Compositor, size: Size | None = None) -> list[Strip]:
        mine = Compositor.render_strips(compositor, size)
        assert mine == textuals(compositor, lambda: Compositor.render_strips(compositor, size))
        compared["strips"] += 1
        return mine

    monkeypatch.setattr(LineCropCompositor, "render_partial_update", partial)
    monkeypatch.setattr(LineCropCompositor, "render_full_update", full)
    monkeypatch.setattr(LineCropCompositor, "render_strips", strips)
    async with opened(services, notifications=True) as (pilot, screen):
        # Cursor moves, half-page scrolls, the end and back, a selection, a toast over the
        # list, the preview following, dialogs over the inbox (the inbox drawn under their
        # backdrop) and back, the palette, a resize to 80x24 (the preview below) and back.
        for key in ("j", "j", "k", "x", "j", "x", "ctrl+d", "G", "k", "g", "ctrl+d", "ctrl+u", "j"):
            await press(pilot, key)
        screen.app.notify("a toast over the list's lower lines", timeout=30)
        await pilot.pause(0.05)
        for key in ("G", "k", "k", "t", "escape", "j", "j", "question_mark", "escape", "ctrl+p", "escape"):
            await press(pilot, key)
        await pilot.resize_terminal(80, 24)
        for key in ("j", "k", "ctrl+d"):
            await press(pilot, key)
        await pilot.resize_terminal(120, 40)
        await press(pilot, "g")
        await pilot.pause(0.3)  # the preview's and the ages' repaints
    assert compared["partial"] >= 15 and compared["full"] >= 2 and compared["strips"] >= 1, compared
