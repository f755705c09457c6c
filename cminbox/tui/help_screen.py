"""The help screen, generated from the action table and the keymap actually in force."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen

from cminbox.core.macros import Macro
from cminbox.core.views import View
from cminbox.tui.actions import ACTIONS
from cminbox.tui.plain import Static
from cminbox.tui.texts import action_words, key_label, view_names


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help_close")]

    def __init__(self, keymap: dict[str, str], macros: Sequence[Macro] = (), views: Sequence[View] = ()) -> None:
        super().__init__()
        self.keymap = keymap
        self.macros = macros  # the config's: each with its own key (or only through `m`)
        self.view_names = view_names(views)
        # Key -> the scroll it makes, from the keymap in force (see _SCROLLS).
        self._scroll_keys = {
            key: self._SCROLLS[spec.id]
            for spec in ACTIONS
            if spec.id in self._SCROLLS
            for key in self.keymap.get(spec.id, spec.keys).split(",")
        }

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold", expand=True, pad_edge=False)
        table.add_column("keys", no_wrap=True)
        table.add_column("action", no_wrap=True, overflow="ellipsis", ratio=1)  # one line per action, cut with …
        table.add_column(Text("id (remap in [keys])"), style="dim", no_wrap=True)
        group = ""
        # Each group once, in the order groups first appear: an action appended to the table
        # (keymap.ACTIONS only grows at its end) shows with its group, not under a second heading.
        order = list(dict.fromkeys(spec.group for spec in ACTIONS))
        for spec in sorted(ACTIONS, key=lambda spec: order.index(spec.group)):
            if spec.group != group:
                group = spec.group
                table.add_row(Text(group, style="bold underline"), "", "")
            keys = self.keymap.get(spec.id, spec.keys)
            mark = Text(" (remapped)", style="italic") if spec.id in self.keymap else Text("")
            table.add_row(Text(key_label(keys)), Text(action_words(spec, self.view_names)) + mark, spec.id)
        for macro in self.macros:  # after `m`, in the Macros group (the action table's last)
            said = Text(f"macro {macro.name}: {macro.words}")
            table.add_row(Text(key_label(macro.key) if macro.key else "m …"), said, Text("[[macros]] key"))
        with VerticalScroll(classes="dialog help"):
            yield Static(Text("Keys — esc closes", style="bold"))
            yield Static(table)

    # The list's own movement keys move through the help as well, remapped ones included (G
    # did nothing here: new-user trial of 2026-12-02). From the action table, as every key is.
    _SCROLLS = {
        "cursor_down": "scroll_down",
        "cursor_up": "scroll_up",
        "cursor_top": "scroll_home",
        "cursor_bottom": "scroll_end",
        "half_page_down": "scroll_page_down",
        "half_page_up": "scroll_page_up",
    }

    def on_key(self, event: events.Key) -> None:
        scroll = self._scroll_keys.get(event.key)
        if scroll is not None:
            getattr(self.query_one(VerticalScroll), scroll)(animate=False)
            event.stop()
