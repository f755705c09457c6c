"""The help screen, generated from the action table and the keymap actually in force."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen

from cminbox.core.macros import Macro
from cminbox.tui.actions import ACTIONS
from cminbox.tui.plain import Static


def key_label(keys: str) -> str:
    names = {"question_mark": "?", "colon": ":", "slash": "/", "escape": "esc", "enter": "enter"}
    return " ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


def bound_key(app: object, action_id: str) -> str:
    """An action's first key as bound now (the app's [keys] remap, else the action table), for
    the hints notices and dialogs give ("U undoes" once undo is remapped to U)."""
    keymap: dict[str, str] = getattr(app, "keymap_overrides", {})
    keys = keymap.get(action_id) or next((spec.keys for spec in ACTIONS if spec.id == action_id), "")
    return key_label(keys.split(",")[0]) if keys else action_id


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help_close")]

    def __init__(self, keymap: dict[str, str], macros: Sequence[Macro] = ()) -> None:
        super().__init__()
        self.keymap = keymap
        self.macros = macros  # the config's: each with its own key (or only through `m`)

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
            table.add_row(Text(key_label(keys)), Text(spec.description) + mark, spec.id)
        for macro in self.macros:  # after `m`, in the Macros group (the action table's last)
            said = Text(f"macro {macro.name}: {macro.words}")
            table.add_row(Text(key_label(macro.key) if macro.key else "m …"), said, Text("[[macros]] key"))
        with VerticalScroll(classes="dialog help"):
            yield Static(Text("Keys — esc closes", style="bold"))
            yield Static(table)
