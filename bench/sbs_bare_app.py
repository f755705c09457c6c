"""The floor the start-up targets are measured against: a Textual app with one static widget.

Run by bench/side_by_side.py with the Python of the cminbox it measures (same Textual, same
interpreter); its first frame is the time until MARK is on screen. Its `j` changes that one
line: the least a Textual app does for a key (read, dispatch, one line drawn), printed beside
cminbox's `j` so a run shows how much of a key's time is Textual's floor on that machine.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

MARK = "bare Textual app: first frame"


class Bare(App[None]):
    BINDINGS = [("q", "quit", "Quit"), ("j", "down", "Down"), ("g", "top", "Top")]
    presses = 0

    def compose(self) -> ComposeResult:
        yield Static(MARK)

    def action_down(self) -> None:
        self.presses += 1
        self.query_one(Static).update(f"{MARK} ({self.presses})")

    def action_top(self) -> None:
        """The harness presses the first-row key before its `j` presses: nothing to do here."""


if __name__ == "__main__":
    Bare().run()
