"""The floor the start-up targets are measured against: a Textual app with one static widget.

Run by bench/side_by_side.py with the Python of the cminbox it measures (same Textual, same
interpreter); its first frame is the time until MARK is on screen.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

MARK = "bare Textual app: first frame"


class Bare(App[None]):
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Static(MARK)


if __name__ == "__main__":
    Bare().run()
