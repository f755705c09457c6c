"""A still cursor for tests and snapshots (Textual calls on_mount for each class in the MRO)."""

from __future__ import annotations

from textual.screen import Screen


class StillCursorScreen(Screen[object]):
    def on_mount(self) -> None:
        if not getattr(self.app, "blink", True):
            for widget in self.query("Input, TextArea"):
                widget.cursor_blink = False  # type: ignore[attr-defined]
