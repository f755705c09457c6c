"""Handing a worker thread's result to the UI thread, for a screen that may be gone by then.

Two hazards of ``App.call_from_thread`` while the app quits, both seen in CI:

- the call reaches a screen whose widgets were already removed (``NoMatches`` from a presence
  read that finished during shutdown). Posting a message instead would be dropped by a closing
  screen, but a plain callable is not, so the check happens here, on the UI thread, right before
  the call: nothing can be removed between the check and the call;
- the call is queued after the event loop stopped running, and ``call_from_thread`` then waits
  for it forever, holding the worker thread (and the interpreter's exit) hostage. Here the wait
  gives up as soon as the loop is no longer running.

Exceptions raised by the call itself still reach the worker: they are bugs, not shutdown noise.
The call runs in the app's context (Textual's ``_context``, as ``call_from_thread`` does), so
what it starts (a timer, an interval) works as if started by the UI thread's own code.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import TypeVarTuple

from textual.widget import Widget

Ts = TypeVarTuple("Ts")
POLL_LOOP = 0.2  # seconds between checks that the UI loop still runs while waiting for the call


def is_alive(node: Widget) -> bool:
    """False once the node, its screen or the app has started closing (Textual's own flags)."""
    app = node.app
    return not (app._closing or app._exit or node._closing or node._closed or node._pruning or not node.is_attached)


def from_worker(node: Widget, call: Callable[[*Ts], object], *args: *Ts) -> None:
    """Run ``call(*args)`` on the UI thread (from a worker thread) and wait for it, unless
    ``node`` is closing by then or the app has stopped."""
    app = node.app
    if app._thread_id == threading.get_ident():  # already on the UI thread: waiting would deadlock
        if is_alive(node):
            call(*args)
        return
    loop = app._loop
    if loop is None or loop.is_closed() or not loop.is_running():
        return  # the app has stopped: there is no view left to update

    async def if_alive() -> None:
        if is_alive(node):
            # In the app's context, as call_from_thread runs its callback: a timer or interval
            # the call starts is a task that copies this context, and Textual's ticks read the
            # active app from it. Without it, the store-outage probe's interval died silently at
            # its first tick and the banner stayed up for good (review of 2026-12-01).
            with app._context():
                call(*args)

    try:
        future = asyncio.run_coroutine_threadsafe(if_alive(), loop)
    except RuntimeError:  # the loop closed between the check and the hand-over
        return
    while True:
        try:
            future.result(timeout=POLL_LOOP)
            return
        except concurrent.futures.TimeoutError:
            if not loop.is_running():
                future.cancel()
                return
