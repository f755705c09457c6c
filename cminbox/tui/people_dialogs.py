"""The people dialogs: a profile tag, a note, an identity to link, one to unlink. Like the
other dialogs (tui/dialogs.py) each answers through ``dismiss`` and none touches the store."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from cminbox.core.people import PROFILE_TAGS
from cminbox.tui.author_card import FREE_TAG
from cminbox.tui.dialogs import Dialog, TagPicker
from cminbox.tui.plain import Label
from cminbox.tui.typed_keys import Input


def profile_tags(in_use: Iterable[str], without: Iterable[str] = ()) -> list[str]:
    """The tags to offer: the product's profile tags first (staff last of them: it also stops
    auto-replies and joins `from:staff`, not a tag to give by a slip of enter), then free ones
    already in use."""
    skip = set(without)
    known = [t for t in PROFILE_TAGS if t != "staff"] + ["staff"]
    offered = [*known, *(t for t in sorted(set(in_use)) if t not in PROFILE_TAGS)]
    return [t for t in offered if t not in skip]


class ProfileTagPicker(TagPicker):
    """The tag picker for people: each tag with its row glyph (``★ vip``), a word too."""

    def label(self, tag: str) -> Text:
        return Text(f"{PROFILE_TAGS.get(tag, FREE_TAG)} {tag}")


class NoteDialog(Dialog):
    def __init__(self, who: str) -> None:
        super().__init__()
        self.who = who

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Note on {self.who}"), classes="dialog-title")
            yield Input(placeholder="what the team should know (prefers email, beta tester ...)", id="note-input")
            yield Label("enter adds it · esc cancels", classes="dialog-hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())


class LinkDialog(Dialog):
    """Another identity of this person: typed (CHANNEL:HANDLE, or a handle) or one of the
    suggestions (the same user name on another channel); enter on an empty box picks the
    highlighted suggestion."""

    def __init__(self, who: str, suggested: list[str]) -> None:
        super().__init__()
        self.who = who
        self.suggested = suggested

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Link {self.who} to"), classes="dialog-title")
            yield Input(placeholder="CHANNEL:HANDLE (gh:priya) or a handle", id="link-input")
            if self.suggested:
                yield Label("same user name elsewhere (not linked; only you decide):", classes="dialog-hint")
                yield OptionList(*(Option(Text(k), id=k) for k in self.suggested), id="link-options")
            yield Label("enter links · ↓ to the suggestions · esc cancels", classes="dialog-hint")

    @on(Input.Submitted)
    def _typed(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())
        elif self.suggested:
            options = self.query_one(OptionList)
            self.dismiss(self.suggested[options.highlighted or 0])

    def on_key(self, event: events.Key) -> None:
        if event.key == "down" and self.query_one(Input).has_focus and self.suggested:
            self.query_one(OptionList).focus()
            event.stop()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class ChoiceDialog(Dialog):
    """One of a few choices (an identity to unlink): enter or its number picks it."""

    def __init__(self, title: str, choices: list[str], hint: str) -> None:
        super().__init__()
        self.title = title
        self.choices = choices
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.title), classes="dialog-title")
            yield OptionList(*(Option(Text(c), id=c) for c in self.choices), id="choice-options")
            yield Label(self.hint, classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
