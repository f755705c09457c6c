"""People in the inbox: who the rows' authors are, their person screen, and profile tags for
many authors at once.

A mixin of :class:`~cminbox.tui.inbox_screen.InboxScreen` (kept apart so each file stays
small). The people are read on workers, with the rows (the reload worker) and every 30 s
(:func:`~cminbox.tui.store_worker.read_people`): what the filter's people fields bind to, and
each identity's profile-tag marker for the rows. Person writes go through the inbox's write
queue (:meth:`person_write`), in order with the triage keys and never on the UI thread; once
one lands the people are read again, so markers, cards and people filters follow at once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cminbox.core.errors import CminboxError
from cminbox.core.models import Message, TriageState
from cminbox.core.people import PROFILE_TAGS, Person, identity_of
from cminbox.core.people_ops import Card, PeopleOps
from cminbox.core.query import Query
from cminbox.core.query.context import PeopleView
from cminbox.tui.inbox_list import InboxList
from cminbox.tui.services import Services
from cminbox.tui.store_worker import Lookups, PeopleRead, PreviewData, Write, Writes, read_people
from cminbox.tui.ui_thread import from_worker

if TYPE_CHECKING:
    from cminbox.tui.replying import ReplyingScreen as _Base
else:
    _Base = object


class PeopleSync(_Base):
    if TYPE_CHECKING:  # provided by InboxScreen
        s: Services
        inbox_list: InboxList
        writes: Writes
        lookups: Lookups[PreviewData]
        cards: Lookups[Card | None]
        people_ops: PeopleOps
        people: PeopleView
        filter: Query | None
        rows_loaded: bool

        def view_query(self) -> Query: ...

        def arrange_rows(self, *, new_view: bool = False) -> None: ...

        def refused(self) -> CminboxError | None: ...

        def notice_unreachable(self, exc: CminboxError) -> None: ...

        def targets(self) -> list[str]: ...

        def refresh_chrome(self) -> None: ...

        def show_preview(self) -> None: ...

        def catch_up_in_thread(self) -> None: ...

        def open_thread_of(self, message: Message) -> None: ...

    # ------------------------------------------------------------------ reading
    def read_people_soon(self) -> None:
        """Read the people on a worker (every 30 s, and after a person write)."""
        self.run_worker(self._people_in_thread, thread=True, exclusive=True, group="people", name="people")

    def _people_in_thread(self) -> None:
        try:
            people = read_people(self.people_ops)
        except CminboxError:
            return  # unreadable now: the banner's business; the next tick tries again
        from_worker(self, self.people_arrived, people)

    def people_arrived(self, read: PeopleRead) -> None:
        """People read on a worker: the rows' markers follow, and so do queries that ask about
        people (a VIP tagged from the CLI, a link made by a teammate) and the author cards."""
        self.inbox_list.set_markers(read.markers)
        if read.view == self.people:
            return
        self.people = read.view
        self.forget_cards()  # they show tags and links
        self.follow_person_screens()
        if self.filter is not None:
            self.filter = self.filter.bind(read.view)
        if self.rows_loaded and (
            self.view_query().uses_people or (self.filter is not None and self.filter.uses_people)
        ):
            self.arrange_rows()

    def follow_person_screens(self) -> None:
        """Open person screens read their person again (a teammate's tag or note, an item of
        theirs closed elsewhere): they are under this screen's watch, not a watch of their own."""
        person_screen = sys.modules.get("cminbox.tui.person_screen")  # none open before it is imported
        if person_screen is None:
            return
        for screen in self.app.screen_stack:
            if isinstance(screen, person_screen.PersonScreen):
                screen.read()

    def forget_cards(self) -> None:
        """The people changed (tags, notes, links): the cards are read again, the shown one now."""
        self.cards.forget()
        if self.inbox_list.current is not None:
            self.show_preview()

    # ------------------------------------------------------------------ writing
    def person_write(
        self, call: Callable[[], Any], done: Callable[[Any], None], failed: Callable[[CminboxError], None]
    ) -> None:
        """A person write on the store worker, in order with the triage keys. No row changes
        before the store confirms it: a person write is optimistic in the store (refused when a
        teammate changed the record meanwhile), not a step the rows can show in advance."""

        def landed(result: Any, _states: dict[str, TriageState]) -> None:
            done(result)
            self.forget_cards()  # a note, a tag, a link: the cards are read again when shown
            self.read_people_soon()

        def refused(exc: CminboxError) -> None:
            self.notice_unreachable(exc)  # the banner, when the store cannot be reached at all
            failed(exc)

        self.writes.submit(Write(call, {}, landed, refused))

    # ------------------------------------------------------------------ keys
    def action_open_person(self) -> None:
        row = self.inbox_list.current
        if row is None:
            return
        from cminbox.tui.person_screen import PersonScreen  # with its dialogs: not on the first frame's path

        self.app.push_screen(
            PersonScreen(
                identity_of(row.message),
                self.people_ops,
                self.s.clock,
                submit=self.person_write,
                tags_in_use=list(self.people.tagged),
                open_thread=self.open_thread_of,
                catch_up=self.catch_up_in_thread,
            )
        )

    def action_tag_authors(self) -> None:
        """One profile tag for the authors of the selection (else the item under the cursor),
        in one write: each person once, however many of their items are selected."""
        if not (ids := self.targets()):
            return
        rows, at = self.inbox_list.rows, self.inbox_list.index.positions(ids)
        keys = list(dict.fromkeys(identity_of(rows[at[mid]].message) for mid in ids if mid in at))
        persons = len({self.people.members.get(k, frozenset({k})) for k in keys})
        items = f"{len(ids)} item{'s' if len(ids) != 1 else ''}"
        title = f"Profile tag for {persons} author{'s' if persons != 1 else ''} ({items})"

        def picked(tag: str | None) -> None:
            if tag:
                self._tag_authors(keys, tag)

        from cminbox.tui.people_dialogs import ProfileTagPicker, profile_tags

        self.app.push_screen(ProfileTagPicker(title, profile_tags(self.people.tagged)), picked)

    def _tag_authors(self, keys: list[str], tag: str) -> None:
        if (why := self.refused()) is not None:
            self.notify(str(why), title="Not done", severity="error", timeout=8, markup=False)
            return
        glyph = PROFILE_TAGS.get(tag, "·")

        def done(changed: list[Person]) -> None:
            n = len(changed)
            said = f"{glyph} {tag}: {n} {'person' if n == 1 else 'people'} tagged" if n else f"All were {tag} already"
            self.notify(said, timeout=4, markup=False)

        def failed(exc: CminboxError) -> None:
            self.notify(str(exc), title="Not tagged", severity="error", timeout=15, markup=False)

        self.person_write(lambda: self.people_ops.tag(keys, add=[tag]), done, failed)
        if self.inbox_list.selected:  # as after a triage action on a selection
            self.inbox_list.selected.clear()
            self.inbox_list.refresh()
        self.refresh_chrome()
