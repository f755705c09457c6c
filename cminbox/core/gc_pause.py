"""Pausing CPython's cyclic garbage collector while cminbox builds long-lived objects.

Start-up and loading allocate hundreds of thousands of objects that live as long as the
process (modules, classes, the config, the widgets, the stored messages). Each allocation
burst trips the collector, and every full collection walks all of them again: measured at
10k messages, collections took ~40 ms of the ~0.2 s of imports and ~40 ms more before the
first rows (issue #14). So: no collections while they are made, then ``gc.freeze()`` moves
them out of the collector's reach for good (what the store already did after a load).

The pauses nest and come from several threads (the command line's start-up, the TUI's
loader worker, a store opening), so they are counted under a lock: the collector runs again
only when the last pause ends, and only if it was running when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holds = 0
_was_enabled = True
_start_up = False  # the start-up pause is held (released once, by whichever comes first)


def hold() -> None:
    global _holds, _was_enabled
    with _lock:
        if _holds == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holds += 1


def release(*, freeze: bool = True) -> None:
    """End one pause; the last one re-enables the collector, after freezing what was made
    meanwhile (``freeze=False`` leaves it to be collected: nothing long-lived was made)."""
    global _holds
    with _lock:
        if _holds == 0:
            return
        _holds -= 1
        if _holds:
            return
        if freeze:
            gc.freeze()
        if _was_enabled:
            gc.enable()


@contextmanager
def paused(*, freeze: bool = True) -> Iterator[None]:
    hold()
    try:
        yield
    finally:
        release(freeze=freeze)


def hold_start_up() -> None:
    """The process is starting: no collections until :func:`end_start_up` (called when the
    first screen is drawn, or when a command has its modules, and in any case on exit)."""
    global _start_up
    if not _start_up:
        _start_up = True
        hold()


def end_start_up() -> None:
    """Idempotent: the first caller ends the start-up pause, later ones do nothing."""
    global _start_up
    with _lock:
        was, _start_up = _start_up, False
    if was:
        release()


def holding() -> int:
    """How many pauses are open (for tests and the bench)."""
    return _holds
