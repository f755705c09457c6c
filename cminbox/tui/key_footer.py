"""The footer of every screen: Textual's Footer, rebuilt only when what it shows changed.

Textual's Footer removes and mounts all of its key widgets again whenever the screen says
its bindings may have changed: a focus move, a screen mounted or resumed, a
``refresh_bindings()``. The inbox started with five such rebuilds before its first rows
(each key widget styled again: ~20 ms of the first frame at 10k, issue #14), and a focus
move while triaging paid one more. The keys, labels and enabled states are compared with
what was last composed; the same ones keep the widgets on screen.

A footer made ``held`` (the inbox's) composes its keys only once released: building them
took 11-15 ms of the 10k inbox's ~60 ms from the App's start to its first rows (issue #14),
so they follow one frame after the rows, which a key pressed meanwhile does not wait for
(the bindings work without the footer).
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.app import ComposeResult
from textual.widgets import Footer


class KeyFooter(Footer):
    _shown: Hashable = None  # the keys the last compose put on screen (None: none yet)

    def __init__(self, *, held: bool = False) -> None:
        super().__init__()
        self._held = held
        self._wanted = False  # a rebuild was asked for while held

    def release(self) -> None:
        """Compose the keys now if a rebuild was asked for while held (idempotent)."""
        if self._held:
            self._held = False
            if self._wanted and self.is_attached:
                self.call_later(self.recompose)

    def _showing(self) -> Hashable:
        active = self.screen.active_bindings
        keys = tuple(
            (b.key, b.action, b.description, b.key_display, b.group, enabled, tooltip)
            for _node, b, enabled, tooltip in active.values()
            if b.show
        )
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        return keys, None if palette is None else (palette.binding.key, palette.enabled)

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._shown = self._showing()
        yield from super().compose()

    async def recompose(self) -> None:
        if self._held:
            self._wanted = True
            return
        # Decided when the rebuild runs, not when it was asked for: the signal often comes
        # several times before (three at start-up), and the keys may have changed back since.
        if self._shown is not None and self.is_attached and self._showing() == self._shown:
            return
        await super().recompose()
