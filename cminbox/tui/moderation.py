"""The moderation dialog: one of the actions the item's channel offers, with an optional reason."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from cminbox.tui.dialogs import Dialog


@dataclass(frozen=True)
class ModerationRequest:
    action: str
    reason: str


class ModerateDialog(Dialog):
    """Enter in the reason box (or on an action) queues the highlighted action with that reason."""

    def __init__(
        self, channel: str, actions: tuple[str, ...], count: int, reasons: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__()
        self.channel = channel
        self.actions = actions
        self.count = count
        self.reasons = dict(reasons)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            items = f"{self.count} items" if self.count > 1 else "this item"
            yield Label(f"Moderate {items} on {self.channel}", classes="dialog-title")
            yield OptionList(*(Option(a, id=a) for a in self.actions), id="moderate-actions")
            yield Input(placeholder="reason or guideline (optional)", id="moderate-reason")
            yield Label("", id="moderate-reasons", classes="dialog-hint")
            yield Label("↑↓ action · type a reason · enter queues it · esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0
        self.query_one(Input).focus()  # type the reason at once; ↑↓ still move through the actions

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        action = self.actions[event.option_index]
        hint = self.reasons.get(action)
        self.query_one("#moderate-reasons", Label).update(f"reason for {action}: {hint}" if hint else "")

    def _done(self) -> None:
        options = self.query_one(OptionList)
        index = options.highlighted if options.highlighted is not None else 0
        self.dismiss(ModerationRequest(self.actions[index], self.query_one(Input).value.strip()))

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self._done()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self._done()

    def key_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def key_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()
