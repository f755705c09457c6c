"""Small modal dialogs. Each returns its answer through ``dismiss``; none touches the store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.containers import Vertical
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import OptionList, Select
from textual.widgets.option_list import Option

from cminbox.core.models import Priority
from cminbox.core.triage import normalise_tag
from cminbox.core.when import WhenError, example_time, parse_when
from cminbox.tui.cursor import StillCursorScreen
from cminbox.tui.panes import hidden
from cminbox.tui.plain import Label, Static
from cminbox.tui.typed_keys import Input


class Dialog(ModalScreen[Any], StillCursorScreen):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog_cancel")]
    title = ""

    def action_cancel(self) -> None:
        self.dismiss(None)

    def dismiss(self, result: Any = None) -> AwaitComplete:
        """Once. Keys queued while the app was busy (typed ahead, pasted, batched over a slow
        SSH link) can reach the dialog's box after the one that closed it: a second Enter or
        digit ran the dialog's result again (a tag applied twice) and popped the screen under
        it, the inbox, which is the app's first screen: a crash (review of 2026-12-02)."""
        if not self.is_active:
            return AwaitComplete()
        return super().dismiss(result)


class TagSearch(Input):
    """While empty, 1-9 pick from the list; once typing, digits are text.

    Decided here, as the box takes each key in turn, not by a binding: a binding is checked when
    the key reaches the app, before the box has taken the letters queued ahead of it, so
    "release2" typed fast, pasted or batched over SSH picked the second tag (review of 2026-12-01)."""

    async def _on_key(self, event: events.Key) -> None:
        if not self.value and event.character is not None and event.character in "123456789":
            event.stop()
            event.prevent_default()
            await self.screen.run_action(f"pick({int(event.character) - 1})")
            return
        await super()._on_key(event)


class TagPicker(Dialog):
    """Fuzzy search over existing tags; typing a new word creates it; 1-9 pick the first nine."""

    # With the list focused (tab), 1-9 pick through these; with the search box focused, TagSearch does.
    BINDINGS = [*Dialog.BINDINGS, *(Binding(str(n), f"pick({n - 1})", show=False) for n in range(1, 10))]

    def __init__(self, title: str, tags: list[str], *, allow_new: bool = True) -> None:
        super().__init__()
        self.title = title
        self.tags = tags
        self.allow_new = allow_new

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title, classes="dialog-title")
            yield TagSearch(
                placeholder="type to search" + (" or create a tag" if self.allow_new else ""), id="tag-input"
            )
            yield OptionList(id="tag-options")
            yield Label("enter picks · 1-9 pick by number · esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self._fill("")

    def _fill(self, query: str) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        if query:
            matcher = Matcher(query)
            scored = sorted(((matcher.match(t), t) for t in self.tags), key=lambda p: -p[0])
            names = [t for score, t in scored if score > 0]
        else:
            names = list(self.tags)
        new = normalise_tag(query)
        if self.allow_new and new and new not in names:
            names.insert(0, new)
        for n, name in enumerate(names):
            label = Text(f"{n + 1} " if n < 9 else "  ", style="dim") + self.label(name)
            if self.allow_new and name == new and name not in self.tags:
                label.append("  (new)", style="italic dim")
            options.add_option(Option(label, id=name))
        if names:
            options.highlighted = 0

    def label(self, tag: str) -> Text:
        """How a tag is listed (item tags as ``#tag``; profile tags with their glyph)."""
        return Text(f"#{tag}")

    @on(Input.Changed, "#tag-input")
    def _changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#tag-input")
    def _submitted(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_pick(self, index: int) -> None:
        options = self.query_one(OptionList)
        if index < options.option_count:
            self.dismiss(options.get_option_at_index(index).id)


class SavedReplyPicker(TagPicker):
    """The composer's saved replies (ctrl+r): the same search and number keys, listed by their
    names, not as ``#tags`` (they read as hashtags: new-user trial of 2026-12-02)."""

    def __init__(self, names: list[str]) -> None:
        super().__init__("Insert saved reply", names, allow_new=False)

    def label(self, tag: str) -> Text:
        return Text(tag)


class EscalationRequest(msgspec.Struct, frozen=True):
    target: str
    priority: Priority
    note: str


class EscalateDialog(Dialog):
    BINDINGS = [*Dialog.BINDINGS, Binding("ctrl+s", "submit", "Escalate", id="escalate_submit")]

    def __init__(self, targets: list[str], count: int, priority: Priority = Priority.HIGH) -> None:
        super().__init__()
        self.targets = targets
        # The priority offered: high, or the items' own when it is higher (escalating an urgent
        # item with the defaults made it high, and nothing said so: review of 2026-12-01).
        self.priority = priority
        self.count = count

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Escalate {self.count} item{'s' if self.count != 1 else ''}", classes="dialog-title")
            yield Label("Target")
            yield Select([(t, t) for t in self.targets], value=self.targets[0], allow_blank=False, id="esc-target")
            yield Label("Priority")
            yield Select(
                [(p.value, p.value) for p in Priority], value=self.priority.value, allow_blank=False, id="esc-priority"
            )
            yield Label("Note for the team")
            yield Input(placeholder="what is going on, what you need", id="esc-note")
            yield Label("enter or ctrl+s escalates · esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#esc-note", Input).focus()

    @on(Input.Submitted, "#esc-note")
    def action_submit(self) -> None:
        self.dismiss(
            EscalationRequest(
                str(self.query_one("#esc-target", Select).value),
                Priority(str(self.query_one("#esc-priority", Select).value)),
                self.query_one("#esc-note", Input).value,
            )
        )


class AssignDialog(Dialog):
    def __init__(self, people: list[str], current: str | None) -> None:
        super().__init__()
        self.people = people
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Assign to", classes="dialog-title")
            yield Input(value=self.current or "", placeholder="a name; empty unassigns", id="assign-input")
            if self.people:
                yield Label("known: " + ", ".join(self.people[:8]), classes="dialog-hint")
            yield Label("enter assigns · esc cancels", classes="dialog-hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())


SNOOZE_PRESETS = (
    ("1h", "1 hour"),
    ("3h", "3 hours"),
    ("tomorrow 9:00", "tomorrow 9:00"),
    ("next week", "next week (Monday 9:00)"),
)


class SnoozeInput(Input):
    """The typed time; ↑ ↓ move through the presets meanwhile (the box keeps the keys typed)."""

    BINDINGS = [
        Binding("down", "screen.preset(1)", show=False),
        Binding("up", "screen.preset(-1)", show=False),
    ]


class SnoozeDialog(Dialog):
    """Typing goes straight into the time box; enter reads what was typed, or, with nothing
    typed, picks the highlighted preset. (The presets had the focus, so a typed "30m" went
    nowhere and enter snoozed for the first preset, an hour: review of 2026-12-01.)"""

    def __init__(self, now: datetime) -> None:
        super().__init__()
        self.now = now

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Snooze until", classes="dialog-title")
            yield OptionList(*(Option(label, id=value) for value, label in SNOOZE_PRESETS), id="snooze-presets")
            example = example_time(self.now)
            yield SnoozeInput(placeholder=f"or type: 2d, friday 14:00, {example}", id="snooze-input")
            # Shown with an error only: empty, Textual's error Label still drew its coloured
            # background, a blank bar under the box (new-user trial of 2026-12-02).
            yield hidden(Label("", id="snooze-error", classes="error"))
            yield Label("type a time, or ↑↓ a preset · enter snoozes · esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0
        self.query_one(SnoozeInput).focus()

    def action_preset(self, step: int) -> None:
        options = self.query_one(OptionList)
        at = options.highlighted or 0
        options.highlighted = max(0, min(options.option_count - 1, at + step))

    @on(OptionList.OptionSelected)
    def _preset(self, event: OptionList.OptionSelected) -> None:
        self._answer(str(event.option.id))

    @on(Input.Submitted)
    def _typed(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self._answer(event.value)
            return
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self._answer(str(options.get_option_at_index(options.highlighted).id))

    def _answer(self, text: str) -> None:
        try:
            self.dismiss(parse_when(text, self.now))
        except WhenError as exc:
            error = self.query_one("#snooze-error", Label)
            error.update(Text(str(exc)))
            error.display = True


class ConfirmDialog(Dialog):
    BINDINGS = [
        *Dialog.BINDINGS,
        Binding("y,enter", "yes", "Yes", id="confirm_yes"),
        Binding("n", "cancel", "No", id="confirm_no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.question), classes="dialog-title")
            yield Label("y / enter: yes · n / esc: no", classes="dialog-hint")

    def action_yes(self) -> None:
        self.dismiss(True)


class CollisionDialog(ConfirmDialog):
    """Before sending over a teammate's reply: who replied, when, and what (wrapped in full)."""

    def __init__(self, replies: list[str]) -> None:
        super().__init__("Send yours anyway?")
        self.replies = replies

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Someone replied since you started", classes="dialog-title")
            for said in self.replies:
                yield Static(Text(said), classes="dialog-body")
            yield Label(Text(self.question), classes="dialog-title dialog-question")
            yield Label("y / enter: send it · n / esc: not now (your text stays)", classes="dialog-hint")
