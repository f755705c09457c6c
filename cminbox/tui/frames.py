"""Work that must wait until a frame has actually been handed to the terminal.

Textual's ``call_after_refresh`` runs its callback when the message queue is next idle, which
is before the screen's update timer renders and writes the frame. The inbox's first rows used
it to say "drawn", so what waited for that (the footer's keys, ~20 ms; at 100k the loader of
the older parts, whose decoding then shared the interpreter with the frame's rendering) ran in
front of the very frame it was meant to follow: in-process marks at 10k put the rows' frame
~45 ms after the "drawn" callback (issue #14). An app that is :class:`FrameAware` runs these
callbacks once its next frame was written (``App._display``, Textual is pinned), or after
:data:`FRAME_WAIT` when no frame comes (nothing on screen changed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from textual.app import App
from textual.timer import Timer

FRAME_WAIT = 0.25  # seconds: the callbacks run by then even if no frame was written
# Seconds between handing a frame over and running what waited for it. The frame goes to the
# terminal from Textual's writer thread, which needs the interpreter for it; started at once,
# the footer's rebuild and (at 100k) the loader's decoding held it, and the first rows reached
# the terminal up to ~35 ms after they were handed over. A moment of idle loop lets it through.
WRITE_GRACE = 0.005


@runtime_checkable
class FrameAware(Protocol):
    def call_after_frame(self, callback: Callable[[], object]) -> None: ...


def after_frame(app: App[Any], callback: Callable[[], object]) -> None:
    """``callback`` once the next frame is written (after the next refresh for other apps)."""
    if isinstance(app, FrameAware):
        app.call_after_frame(callback)
    else:
        app.call_after_refresh(callback)


class FrameWaiters:
    """The callbacks waiting for the next frame, for the App's ``_display`` to run."""

    def __init__(self, app: App[Any]) -> None:
        self._app = app
        self._waiting: list[Callable[[], object]] = []
        self._timer: Timer | None = None

    def add(self, callback: Callable[[], object]) -> None:
        self._waiting.append(callback)
        if self._timer is None:
            self._timer = self._app.set_timer(FRAME_WAIT, self._run, name="no frame")

    def frame_written(self) -> None:
        """Called after each frame is handed to the driver: what waits runs
        :data:`WRITE_GRACE` later, once the writer thread has written it."""
        if not self._waiting:
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self._app.set_timer(WRITE_GRACE, self._run, name="after frame")

    def _run(self) -> None:
        self._timer = None
        waiting, self._waiting = self._waiting, []
        for callback in waiting:
            callback()
