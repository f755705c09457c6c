"""The macro picker (`m`) and the question before a macro takes items someone is working on."""

from __future__ import annotations

from typing import Literal

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from cminbox.core.macro_run import MacroPlan
from cminbox.core.macros import Macro
from cminbox.tui.dialogs import Dialog
from cminbox.tui.plain import Label
from cminbox.tui.texts import bound_key, items, key_label

MacroChoice = Literal["all", "skip"]


class MacroPicker(Dialog):
    """Lists the macros (key, name, steps in words); dismisses with the chosen one's name.
    1-9 pick by number; a macro's own key also works outside the picker."""

    BINDINGS = [
        *Dialog.BINDINGS,
        *(Binding(str(n), f"pick({n - 1})", show=False) for n in range(1, 10)),
    ]

    def __init__(self, macros: list[Macro], count: int) -> None:
        super().__init__()
        self.macros = macros
        self.count = count

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog macro-picker"):
            yield Label(Text(f"Run a macro on {items(self.count)}"), classes="dialog-title")
            options = []
            width = max(len(m.name) for m in self.macros)
            for n, macro in enumerate(self.macros):
                # One grid per macro: number, name, key, then its steps (and what it is for) wrapped.
                row = Table.grid(padding=(0, 1), expand=True)
                row.add_column(width=1, style="dim")
                row.add_column(width=width, style="bold")
                row.add_column(width=max(3, len(key_label(macro.key))), style="dim")
                row.add_column(ratio=1)
                what = Text(macro.words)
                if macro.description:
                    what.append("\n" + macro.description, style="italic dim")
                row.add_row(str(n + 1) if n < 9 else "", macro.name, key_label(macro.key) or "-", what)
                options.append(Option(row, id=macro.name))
            yield OptionList(*options, id="macro-options")
            undo = bound_key(self.app, "undo")
            yield Label(f"enter runs it · 1-9 by number · {undo} undoes all of it · esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_pick(self, index: int) -> None:
        if index < len(self.macros):
            self.dismiss(self.macros[index].name)


class MacroConfirm(Dialog):
    """Dismisses with "all", "skip" or None (cancel: nothing runs, the selection stays)."""

    BINDINGS = [
        *Dialog.BINDINGS,
        Binding("s,enter", "choose('skip')", "Skip them", id="macro_skip"),
        Binding("a", "choose('all')", "All", id="macro_all"),
        Binding("n", "cancel", "Cancel", id="macro_cancel"),
    ]

    def __init__(self, plan: MacroPlan) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        plan = self.plan
        held, total = len(plan.held), len(plan.items)
        with Vertical(classes="dialog"):
            yield Label(Text(f"Run macro {plan.macro.name} on {items(total)}?"), classes="dialog-title")
            yield Label(Text(plan.macro.words))
            yield Label(Text(f"{held} of them {'is' if held == 1 else 'are'} work in progress:"))
            for part in plan.held_summary().split(", "):
                yield Label(Text(f"· {part}"))
            yield Label(Text(f"s / enter: skip those {held}, run it on the other {total - held}"))
            yield Label(Text(f"a: run it on all {total}"))
            yield Label("n / esc: cancel (nothing changes)", classes="dialog-hint")

    def action_choose(self, choice: MacroChoice) -> None:
        self.dismiss(choice)
