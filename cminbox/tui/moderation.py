"""The moderation dialog: one of the actions the item's channel offers, with an optional reason
and, when ``[[guidelines]]`` are configured, the guideline that applied, with a preview of the
exact follow-up its author gets and how (a direct message, a reply, or not at all and why)."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from cminbox.tui.dialogs import Dialog
from cminbox.tui.plain import Label, Static
from cminbox.tui.typed_keys import Input

NO_GUIDELINE = "none"
# (guideline, action) -> the preview's text: pure (config and the channel's declaration only).
Preview = Callable[[str, str], Text]


class ModerationRequest(msgspec.Struct, frozen=True):
    action: str
    reason: str
    guideline: str = ""  # "" for none


class ModerateDialog(Dialog):
    """Enter in the reason box (or on an action or guideline) queues the highlighted action with
    that reason and guideline; ↑↓ move through the actions, tab goes to the guidelines."""

    def __init__(
        self,
        channel: str,
        actions: tuple[str, ...],
        count: int,
        reasons: tuple[tuple[str, str], ...] = (),
        guidelines: tuple[str, ...] = (),
        preview: Preview | None = None,
    ) -> None:
        super().__init__()
        self.channel = channel
        self.actions = actions
        self.count = count
        self.reasons = dict(reasons)
        self.guidelines = guidelines
        self.preview = preview

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog moderate"):
            items = f"{self.count} items" if self.count > 1 else "this item"
            yield Label(f"Moderate {items} on {self.channel}", classes="dialog-title")
            yield OptionList(*(Option(a, id=a) for a in self.actions), id="moderate-actions")
            yield Input(placeholder="reason (optional)", id="moderate-reason")
            yield Label("", id="moderate-reasons", classes="dialog-hint")
            if self.guidelines:
                yield Label("Guideline that applied (tab):")
                yield OptionList(
                    Option("none: no follow-up", id=NO_GUIDELINE),
                    *(Option(g, id=g) for g in self.guidelines),
                    id="moderate-guidelines",
                )
                yield Static("", id="moderate-preview")
            guideline = " · tab guideline" if self.guidelines else ""
            yield Label(f"↑↓ action{guideline} · enter queues it · esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#moderate-actions", OptionList).highlighted = 0
        if self.guidelines:
            self.query_one("#moderate-guidelines", OptionList).highlighted = 0
        self.query_one(Input).focus()  # type the reason at once; ↑↓ still move through the actions

    def _action(self) -> str:
        index = self.query_one("#moderate-actions", OptionList).highlighted
        return self.actions[index or 0]

    def _guideline(self) -> str:
        if not self.guidelines:
            return ""
        index = self.query_one("#moderate-guidelines", OptionList).highlighted
        return self.guidelines[index - 1] if index else ""

    def _show_preview(self) -> None:
        if not self.guidelines:
            return
        guideline = self._guideline()
        if not guideline or self.preview is None:
            text = Text("No guideline: the author is not told.", style="dim")
        else:
            text = self.preview(guideline, self._action())
        self.query_one("#moderate-preview", Static).update(text)

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "moderate-actions":
            action = self.actions[event.option_index]
            hint = self.reasons.get(action)
            self.query_one("#moderate-reasons", Label).update(f"reason for {action}: {hint}" if hint else "")
        self._show_preview()

    def _done(self) -> None:
        self.dismiss(ModerationRequest(self._action(), self.query_one(Input).value.strip(), self._guideline()))

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self._done()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self._done()

    def key_up(self) -> None:
        if isinstance(self.focused, Input):  # a focused list moves itself
            self.query_one("#moderate-actions", OptionList).action_cursor_up()

    def key_down(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one("#moderate-actions", OptionList).action_cursor_down()


class FollowUpDialog(Dialog):
    """F: which guideline applied to an item moderated earlier; its preview; enter queues it."""

    def __init__(self, guidelines: tuple[str, ...], count: int, preview: Preview | None = None) -> None:
        super().__init__()
        self.guidelines = guidelines
        self.count = count
        self.preview = preview

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog moderate"):
            whose = f"the authors of {self.count} items" if self.count > 1 else "the author"
            yield Label(f"Tell {whose} which guideline applied", classes="dialog-title")
            yield OptionList(*(Option(g, id=g) for g in self.guidelines), id="follow-up-guidelines")
            yield Static("", id="moderate-preview")
            yield Label("↑↓ guideline · enter queues it (sent once) · esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self.preview is not None:
            self.query_one("#moderate-preview", Static).update(self.preview(self.guidelines[event.option_index], ""))

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.guidelines[event.option_index])
