"""Full garbage collections while the user is idle, not in the middle of a keypress.

Measured at 100k messages: after start-up, CPython ran a full (generation 2) collection
every ~10 s while keys were held down, each 13-45 ms, which is where the rare slow
keypresses came from. The store's objects are frozen out of the collector's reach (and
the model structs are untracked), so what is left is Textual's per-frame garbage: small,
and safe to collect a little later. So: automatic full collections are pushed far out,
and this collector runs one when no key has arrived for a second (or, after five
minutes of non-stop input, anyway).
Why there is garbage at all: Textual 8.2.8's ``Strip`` caches results of its own
operations in itself, and ``crop_extend``/``divide`` return the strip itself when nothing
needs doing; the compositor calls both on every line it draws, so each repaint leaves
~40 self-referencing strips that only a full collection can free (a few MB a minute
while scrolling).
"""

from __future__ import annotations

import gc
import time

IDLE_AFTER = 1.0  # seconds without input: the user is reading, not moving
EVERY = 10.0  # at most one full collection per this many seconds (each takes 15-25 ms)
AT_LEAST = 300.0  # and at least one this often, idle or not (garbage must not pile up forever)
FULL_THRESHOLD = 1_000_000  # gen-1 collections before CPython would start a full one itself


class IdleCollector:
    def __init__(self) -> None:
        self.last_input = time.monotonic()
        self.last_collect = time.monotonic()
        self._saved: tuple[int, int, int] | None = None

    def install(self) -> None:
        self._saved = gc.get_threshold()
        first, second, _ = self._saved
        gc.set_threshold(first, second, FULL_THRESHOLD)

    def uninstall(self) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def note_input(self) -> None:
        self.last_input = time.monotonic()

    def tick(self) -> bool:
        """Call a few times a second; collects if the user is idle. Returns True if it collected."""
        now = time.monotonic()
        since = now - self.last_collect
        if since < AT_LEAST and (now - self.last_input < IDLE_AFTER or since < EVERY):
            return False
        gc.collect()
        self.last_collect = time.monotonic()
        return True
