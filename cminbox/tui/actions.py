"""The one action table, as the TUI uses it: key bindings, the footer, the help screen and the
command palette are all generated from it, so they can never disagree. Every entry's ``id`` is
the name a user remaps in the ``[keys]`` section of the config. The table itself is plain data
in ``cminbox.core.keymap``, so the config check reads the same ids and default keys."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from cminbox.core.keymap import ACTIONS, BY_ID, ActionSpec

__all__ = ["ACTIONS", "BY_ID", "ActionSpec", "bindings"]


def bindings() -> list[BindingType]:
    return [
        Binding(
            spec.keys,
            spec.action,
            spec.label or spec.description,
            show=spec.footer,
            id=spec.id,
            tooltip=spec.description,
        )
        for spec in ACTIONS
    ]
