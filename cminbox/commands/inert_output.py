"""The command line's output, inert: no control character from stored or fetched text reaches
the terminal (or a pipe, or a CSV export on stdout).

Messages are made inert on their way into a store, but a command prints other strings too: a
reply id a server answered, a Matrix sender in a fetched thread, imported triage fields, a
store written by an older version. `show` printed one carrying OSC 52 (the clipboard written)
and ESC[2J (the screen cleared): hostile-data trial of 2026-12-01. Every text write of a
command goes through :class:`InertStream`, which drops what :data:`UNSAFE_OUTPUT` matches
(newlines and tabs are kept). Bytes written to ``.buffer`` (the JSONL export, where JSON escapes
every control character) are passed as they are.
"""

from __future__ import annotations

from typing import Any, TextIO

from cminbox.core.text import UNSAFE_OUTPUT


class InertStream:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if UNSAFE_OUTPUT.search(text):
            text = UNSAFE_OUTPUT.sub("", text)
        return self._stream.write(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, buffer, fileno, isatty, encoding...
        return getattr(self._stream, name)
