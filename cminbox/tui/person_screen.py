"""One person: the card, and their items on every channel (all their identities).

Opened from the inbox on an item's author (``person``, P). From here the person is tagged or
untagged (profile tags), noted, linked to another identity and unlinked. It opens at once; the
card and the items are read on a worker, and again after each write. Writes go through the
inbox's write queue (tui/store_worker.Writes: in order with the triage keys, never on the UI
thread, refused at once while the store cannot be written). A person write is one atomic,
optimistic step of the store: a record a teammate changed meanwhile is refused ("changed by
bob meanwhile; nothing was written"), shown as such, and the screen re-reads what is stored,
so it never shows a half-applied change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from cminbox.core.errors import CminboxError
from cminbox.core.models import Message
from cminbox.core.people import PROFILE_TAGS, Person, is_stored
from cminbox.core.people_ops import PeopleOps
from cminbox.tui.author_card import FREE_TAG, card_text, card_title
from cminbox.tui.inbox_list import InboxList, Row
from cminbox.tui.key_footer import KeyFooter
from cminbox.tui.people_dialogs import ChoiceDialog, LinkDialog, NoteDialog, ProfileTagPicker, profile_tags
from cminbox.tui.plain import Label, Static
from cminbox.tui.store_worker import PersonData, marker_of, person_data
from cminbox.tui.ui_thread import from_worker

# A person write for the inbox's queue: the call (run on the store worker), what to do with its
# result and with a refusal (both on the UI thread).
Submit = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[CminboxError], None]], None]


class PersonScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="person_back"),
        Binding("j,down", "move(1)", "Down", show=False, id="person_down"),
        Binding("k,up", "move(-1)", "Up", show=False, id="person_up"),
        # The list's own ScrollView keys are gone (tui/inbox_list.py): these move its cursor.
        Binding("g,home", "move_to(0)", "First", show=False, id="person_first"),
        Binding("G,end", "move_to(-1)", "Last", show=False, id="person_last"),
        Binding("ctrl+d,pagedown", "half_page(1)", "Half a page down", show=False, id="person_page_down"),
        Binding("ctrl+u,pageup", "half_page(-1)", "Half a page up", show=False, id="person_page_up"),
        Binding("enter", "open_thread", "Thread", id="person_thread"),
        Binding("t", "tag", "Tag", id="person_tag"),
        Binding("T", "untag", "Untag", id="person_untag"),
        Binding("n", "note", "Note", id="person_note"),
        Binding("l", "link", "Link", id="person_link"),
        Binding("L", "unlink", "Unlink", id="person_unlink"),
    ]

    def __init__(
        self,
        ref: str,
        ops: PeopleOps,
        clock: Callable[[], datetime],
        *,
        submit: Submit,
        tags_in_use: Iterable[str] = (),
        open_thread: Callable[[Message], None] | None = None,
        catch_up: Callable[[], None] = lambda: None,
    ) -> None:
        """``ref``: the person (an identity key or a person id). ``catch_up`` runs on the worker
        before each read (the inbox's change check: the card's outbox read would otherwise take
        in other instances' changes unreported, tui/author_card.read_card)."""
        super().__init__()
        self.ref = ref
        self.ops = ops
        self.clock = clock
        self.submit = submit
        self.tags_in_use = list(tags_in_use)
        self.open_thread = open_thread
        self.catch_up = catch_up
        self.data: PersonData | None = None
        self._reads = 0  # reads started; only the newest one's result is shown

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble((" Person ", "reverse bold"), f"  {self.ref}"), id="person-title")
        yield Static(Text("reading…", style="dim italic"), id="person-card")
        yield Label("", id="person-items-title")
        yield InboxList(self.clock, id="person-items")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(InboxList).focus()
        self.read()

    # ------------------------------------------------------------------ reading
    def read(self) -> None:
        """Read the person again on a worker; only the newest read is shown (a thread worker
        cannot be stopped, so an older one that lands late is dropped here)."""
        self._reads += 1
        self._read(self._reads, self.ref)

    @work(thread=True, group="person-read")
    def _read(self, number: int, ref: str) -> None:
        self.catch_up()
        try:
            data = person_data(self.ops, ref)
        except CminboxError as exc:
            from_worker(self, self._unreadable, number, str(exc))
            return
        from_worker(self, self.show, number, data)

    def _unreadable(self, number: int, problem: str) -> None:
        if number == self._reads:
            self.query_one("#person-card", Static).update(Text(f"cannot be read: {problem}", style="bold"))

    def show(self, number: int, data: PersonData) -> None:
        if number != self._reads:
            return  # a newer read is on its way
        self.data = data
        card, now = data.card, self.clock()
        title = Text.assemble((" Person ", "reverse bold"), "  ", (card_title(card), "bold"))
        self.query_one("#person-title", Static).update(title)
        text = card_text(card, now, full=True)
        text.rstrip()  # the card is as tall as its lines: no blank one at its end
        self.query_one("#person-card", Static).update(text)
        channels = len({m.channel for m, _ in data.items})
        where = f" on {channels} channels" if channels > 1 else ""
        self.query_one("#person-items-title", Label).update(
            Text(f"── {len(data.items)} item{'s' if len(data.items) != 1 else ''}{where}, newest first ──", style="dim")
        )
        items = self.query_one(InboxList)
        mark = marker_of(card.person, self.ops.staff)
        items.markers = dict.fromkeys(card.person.identities, mark) if mark else {}
        items.set_rows([Row(m, st) for m, st in data.items])

    @property
    def person(self) -> Person | None:
        return self.data.card.person if self.data is not None else None

    @property
    def who(self) -> str:
        return card_title(self.data.card) if self.data is not None else self.ref

    # ------------------------------------------------------------------ keys
    # The list's validate_cursor keeps each move on a row.
    def action_move(self, lines: int) -> None:
        self.query_one(InboxList).cursor += lines

    def action_move_to(self, line: int) -> None:
        listed = self.query_one(InboxList)
        listed.cursor = len(listed.rows) - 1 if line < 0 else line

    def action_half_page(self, direction: int) -> None:
        self.query_one(InboxList).half_page(direction)

    def action_open_thread(self) -> None:
        row = self.query_one(InboxList).current
        if row is not None and self.open_thread is not None:
            self.open_thread(row.message)

    def action_tag(self) -> None:
        if (person := self.person) is None:
            return
        offered = profile_tags(self.tags_in_use, without=person.tags)

        def picked(tag: str | None) -> None:
            if tag:
                self.write(lambda: self.ops.tag([self.ref], add=[tag]), f"{self._glyph(tag)} {tag}")

        self.app.push_screen(ProfileTagPicker(f"Profile tag for {self.who}", offered), picked)

    def action_untag(self) -> None:
        if (person := self.person) is None:
            return
        if not person.tags:
            # An implied staff tag (a channel's staff account) is the config's, not removable here.
            implied = self.data is not None and "staff" in self.data.card.tags
            self.notify("No profile tag to remove" + (": staff comes from the config" if implied else ""), timeout=4)
            return

        def picked(tag: str | None) -> None:
            if tag:
                self.write(lambda: self.ops.tag([self.ref], remove=[tag]), f"Removed {self._glyph(tag)} {tag}")

        title = f"Remove a profile tag of {self.who}"
        self.app.push_screen(ProfileTagPicker(title, person.tags, allow_new=False), picked)

    def action_note(self) -> None:
        if self.person is None:
            return

        def written(text: str | None) -> None:
            if text:
                self.write(lambda: self.ops.note(self.ref, text), "Note added")

        self.app.push_screen(NoteDialog(self.who), written)

    def action_link(self) -> None:
        if self.data is None:
            return

        def chosen(other: str | None) -> None:
            if other:
                self.write(lambda: self.ops.link(self.ref, other), f"Linked {other}")

        self.app.push_screen(LinkDialog(self.who, self.data.card.suggested), chosen)

    def action_unlink(self) -> None:
        if (person := self.person) is None:
            return
        if len(person.identities) < 2:
            self.notify(f"{person.identities[0]} is {self.who}'s only identity: nothing to unlink", timeout=4)
            return

        def chosen(key: str | None) -> None:
            if key:
                self.write(lambda: self.ops.unlink(key), f"Unlinked {key} (it keeps no tag or note)")

        hint = "enter unlinks it: a person of its own again, bare · esc cancels"
        self.app.push_screen(ChoiceDialog(f"Unlink from {self.who}", list(person.identities), hint), chosen)

    # ------------------------------------------------------------------ writing
    def write(self, call: Callable[[], Person | list[Person]], what: str) -> None:
        """Queue a person write; when it lands, say so and show what is stored now. A refusal
        (a teammate's change meanwhile, the store unreachable) is said and nothing changed."""

        def done(result: Person | list[Person]) -> None:
            stored = result if isinstance(result, Person) else (result[0] if result else None)
            if stored is not None and is_stored(stored):
                self.ref = stored.id  # the id never changes, whatever is linked or unlinked later
            self.notify(what if stored is not None else f"{what}: nothing to change", timeout=4, markup=False)
            self.read()

        def failed(exc: CminboxError) -> None:
            self.notify(str(exc), title="Not changed", severity="error", timeout=15, markup=False)
            self.read()  # what is stored now (a teammate's change), never a half-applied one

        self.submit(call, done, failed)

    @staticmethod
    def _glyph(tag: str) -> str:
        return PROFILE_TAGS.get(tag, FREE_TAG)
