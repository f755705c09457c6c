"""The composer's TextArea with its editing keys kept in typing order (see typed_keys.py).

A module of its own: TextArea is imported when the composer first opens, not at start-up."""

from __future__ import annotations

from textual import events, widgets

from cminbox.tui.typed_keys import run_own_binding


class TextArea(widgets.TextArea):
    async def _on_key(self, event: events.Key) -> None:
        await run_own_binding(self, event)
