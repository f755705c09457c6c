"""Helpers for the Pilot tests of the inbox (tests/test_tui_pilot*.py)."""

from __future__ import annotations

from typing import Any

from cminbox.tui.inbox_screen import InboxScreen

SIZE = (120, 40)


def screen_of(app: object) -> InboxScreen:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, InboxScreen)
    return screen


def help_table_text(app: object) -> str:
    """The help table as plain text."""
    from rich.console import Console

    table = app.screen.query("Static").last().render()  # type: ignore[attr-defined]
    console = Console(width=200, record=True, color_system=None)
    console.print(table._renderable)  # the Rich table inside Textual's visual
    return console.export_text(styles=False)


async def press(pilot: Any, *keys: str) -> None:
    """Press, then wait for the store writes, lookups and change check the keys started (they
    run on workers), so the assertions that follow see what the store holds."""
    await pilot.press(*keys)
    await settle(pilot)


async def settle(pilot: Any) -> None:
    for screen in pilot.app.screen_stack:
        if isinstance(screen, InboxScreen):
            await screen.settled()
    await pilot.pause()


async def check_now(pilot: Any, screen: InboxScreen) -> None:
    """What the 1 s timer does, now: no check left running, then one that sees everything."""
    await screen.settled()
    screen.check_store()
    await settle(pilot)


def current_id(app: object) -> str:
    row = screen_of(app).inbox_list.current
    assert row is not None
    return row.message.id
