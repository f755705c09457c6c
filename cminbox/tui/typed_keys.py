"""Text boxes whose editing keys stay in their place among the characters typed around them.

Textual's Input and TextArea insert a typed character as its key event reaches them, but an
editing key they bind (backspace, ctrl+u, the arrows, enter) bubbles up to the App first and
only then runs its action. When several keys arrive in one read, which is what a slow SSH
link or tmux does with a burst of typing, the characters after the editing key were inserted
before it ran: "hello", two backspaces and "tag:outage" gave "hellotag:o", and ctrl+u then a
new filter gave an empty one (Textual issue #6605, open in the pinned 8.2.8; seen in tmux on
2026-12-01). Here the box runs its own bindings when the key reaches it, as the App would have
(the focused widget's bindings come first in its chain, and priority bindings were checked
before the key was forwarded), so the order is the order typed. Every Input of the TUI is
this one (tests/test_tui_typed_keys.py checks the screens); the composer's TextArea is in
:mod:`cminbox.tui.typed_area`, imported when it is first opened.
"""

from __future__ import annotations

from textual import events, widgets
from textual.widget import Widget


async def run_own_binding(widget: Widget, event: events.Key) -> bool:
    """Run ``widget``'s own non-priority binding for the key now; True when one ran (the key
    is then done with: no bubbling, no default handling)."""
    if event.is_printable:  # typed text is the widget's own business, in order already
        return False
    own = next((bindings for node, bindings in widget.screen._modal_binding_chain if node is widget), None)
    if own is None:
        return False
    for binding in own.key_to_bindings.get(event.key, ()):
        if not binding.priority and await widget.app.run_action(binding.action, widget):
            event.prevent_default()
            event.stop()
            return True
    return False


class Input(widgets.Input):
    async def _on_key(self, event: events.Key) -> None:
        # Textual calls each class's _on_key down the MRO; prevent_default (set when a binding
        # ran) keeps Input's own from handling the key a second time.
        await run_own_binding(self, event)
