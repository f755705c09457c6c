"""Textual's writer thread, made safe for a terminal that goes away under the app.

Over SSH or in tmux the terminal can vanish while cminbox runs (a dropped connection, a closed
pane, a killed tmux server): every write to it then fails (EIO). Textual's ``WriterThread``
dies on the first failed write; the UI thread's next 30 frames fill its queue and the one
after waits for good. The event loop stops there, so the SIGHUP and SIGTERM handlers (which run
on it) never run, and Textual's input thread spins on the closed terminal at ~90% of a core.
Seen on 2026-12-02: a demo left running for 25 minutes after `tmux kill-server`, where a shell
stood between tmux and cminbox and no SIGHUP reached the app; `kill` did not end it either.
(Textual's pull request #6690 is about the input thread's half.)

:class:`TerminalWriter` keeps taking frames after a failed write and drops them, so the UI
thread never waits on a terminal that is gone, and it says so once (:func:`on_gone`): the app
then ends as `q` ends it (drafts saved, the demo's data folder removed). A terminal that is
slow or stalled but there (an SSH link that stops, a terminal paused) no longer holds the UI
thread back either: once :data:`BEHIND` writes wait, the app draws no more frames
(:meth:`TerminalWriter.behind`, checked by the App's ``_display``), keys and workers go on,
and the whole screen is drawn once the writer has caught up (:meth:`TerminalWriter.when_drained`).
Before, the UI thread waited on the full queue: no key, poll result or timer ran until the link
came back (tests/test_stalled_terminal.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import IO

from textual.drivers import linux_driver
from textual.drivers._writer_thread import WriterThread

_hook: list[Callable[[], None]] = []
# Writes waiting when the next frame is dropped: a frame is three (its synchronized-output begin
# and end marks and its text) where the terminal has synchronized output, else one; so two to six
# frames in flight are kept, and a terminal that is just slow still sees every one it takes in time.
BEHIND = 6


class TerminalWriter(WriterThread):
    gone = False  # a write failed: the terminal is gone, the rest is dropped

    def __init__(self, file: IO[str]) -> None:
        super().__init__(file)
        self._drained_lock = threading.Lock()
        self._drained: Callable[[], None] | None = None

    def behind(self) -> bool:
        """Frames wait for a terminal that does not take them: the next one is better dropped."""
        return self._queue.qsize() >= BEHIND

    def when_drained(self, hook: Callable[[], None]) -> None:
        """``hook`` once nothing waits any more (on this thread), or now if nothing does."""
        with self._drained_lock:
            if self._queue.qsize():
                self._drained = hook
                return
        hook()

    def _caught_up(self) -> None:
        with self._drained_lock:
            hook, self._drained = self._drained, None
        if hook is not None:
            try:
                hook()
            except Exception:  # this thread must go on writing whatever comes next
                logging.getLogger(__name__).exception("the writer's caught-up hook failed")

    def run(self) -> None:
        write, flush, get, qsize = self._file.write, self._file.flush, self._queue.get, self._queue.qsize
        while (text := get()) is not None:
            if self.gone:
                self._caught_up()
                continue
            try:
                write(text)
                if qsize() == 0:
                    flush()
                    self._caught_up()
            except (OSError, ValueError):  # EIO: hung up; ValueError: the file was closed
                self._lost()
        if not self.gone:
            try:
                flush()
            except (OSError, ValueError):
                self._lost()
        self._caught_up()  # stopped (a suspend) with frames queued: the hook still fires

    def _lost(self) -> None:
        self.gone = True
        for hook in _hook:
            try:
                hook()
            except Exception:  # this thread must go on draining whatever the hook did
                logging.getLogger(__name__).exception("the terminal-gone hook failed")


def install() -> None:
    """Textual's Linux driver makes its writer from this class from now on (Textual is pinned:
    the name it looks up is checked by tests/test_terminal_writer.py)."""
    linux_driver.WriterThread = TerminalWriter  # type: ignore[attr-defined]


def on_gone(hook: Callable[[], None] | None) -> None:
    """``hook`` is called (on the writer's thread, once) when the terminal is gone."""
    _hook[:] = [hook] if hook is not None else []
