"""A still cursor for tests and snapshots (Textual calls on_mount for each class in the MRO)."""

from __future__ import annotations

from typing import TypeVar

from textual.screen import Screen
from textual.widget import Widget

W = TypeVar("W", bound=Widget)


def still_cursor(app: object, widget: W) -> W:
    """``widget`` (an Input or a TextArea) with its cursor still when the app asks for that.
    For one made after its screen's mount (the filter's box, the composer's text), which
    StillCursorScreen.on_mount never saw: its blink made a snapshot depend on timing."""
    if not getattr(app, "blink", True):
        widget.cursor_blink = False  # type: ignore[attr-defined]
    return widget


class StillCursorScreen(Screen[object]):
    def on_mount(self) -> None:
        for widget in self.query("Input, TextArea"):
            still_cursor(self.app, widget)
