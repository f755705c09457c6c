"""The last guard between stored text and the terminal: no control character reaches it.

Channels' messages are made inert on their way into a store (core/text.py), but other
strings reach the screen too: a server's reply id, a Matrix sender in a live thread, imported
triage fields, a store written by an older version. One of them carrying OSC 52 wrote the
user's clipboard, ESC[2J cleared the screen (hostile-data trial of 2026-12-01). This filter
runs on every line Textual renders, after layout: it drops C0 and C1 controls, lone
surrogates, bidi overrides, and the Hangul fillers terminals draw 2 cells wide where Rich
counts 0. Rich counts every one of them as 0 cells, so removing them leaves each line's
layout exactly as Textual made it. A clean line costs a join and one regex search (~0.6 µs).
"""

from __future__ import annotations

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from cminbox.core.text import UNSAFE_CELLS as UNSAFE


class InertLines(LineFilter):
    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        search = UNSAFE.search
        if not search("".join([segment[0] for segment in segments])):  # one C-level scan of the line
            return segments
        return [
            Segment(UNSAFE.sub("", text), style, control) if search(text) else segment
            for segment in segments
            for text, style, control in (segment,)
        ]
