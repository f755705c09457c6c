"""The inbox's filter bar (`/`): a query typed under the view line, on top of the saved view.

A mixin of :class:`~cminbox.tui.inbox_screen.InboxScreen`. The box is made at the first `/`,
not with the screen: an Input's styles and mount were ~3 ms of the inbox's first frame, for a
box most starts never open (issue #14). The line under it says what enter and esc do, or why
the text was refused; a refused text comes back with the box, to be mended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from cminbox.core.query import Query, QueryError, parse
from cminbox.tui.cursor import still_cursor
from cminbox.tui.panes import hidden
from cminbox.tui.plain import Label
from cminbox.tui.typed_keys import Input

if TYPE_CHECKING:
    from textual.screen import Screen

    from cminbox.core.query.context import PeopleView
    from cminbox.tui.inbox_list import InboxList

    _Base = Screen[object]
else:
    _Base = object

PLACEHOLDER = "filter: tag:outage status:new from:@alice age:<1h words…"
HINT = "enter applies · esc closes (the filter stays) · an empty filter shows the whole view"


class FilterBar(_Base):
    _filter_box: Input | None = None  # made at the first `/` (filter_widgets)
    # The text last refused, why, and the filter in force then (another since: forgotten).
    _filter_rejected: tuple[str, Text, Query | None] | None = None

    if TYPE_CHECKING:  # provided by InboxScreen
        filter: Query | None
        people: PeopleView
        inbox_list: InboxList

        def reload(self) -> None: ...

    def filter_widgets(self) -> tuple[Input, Label]:
        """The filter's box and the line under it, under the view line; made the first time."""
        if self._filter_box is None:
            self._filter_box = still_cursor(self.app, hidden(Input(placeholder=PLACEHOLDER, id="filter-input")))
            self.mount(self._filter_box, hidden(Label("", id="filter-error")), after="#view-line")
        return self._filter_box, self.query_one("#filter-error", Label)

    def action_filter(self) -> None:
        """The box, with the filter in force, or the text it last refused and why (closed to
        look at the list, it is there to mend: new-user trial of 2026-12-02, it came back
        empty) unless the filter changed since (esc in the list cleared it); below it, what
        enter and esc do."""
        box, said = self.filter_widgets()
        rejected = self._filter_rejected
        if rejected is not None and rejected[2] is self.filter:
            box.value, why, _ = rejected
            said.update(why)
        else:
            self._filter_rejected = None
            box.value = self.filter.text if self.filter else ""
            said.update(Text(HINT, style="dim"))
        box.display = said.display = True
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # (named, not @on: Textual collects @on handlers only from its own classes, not mixins)
        if event.input is not self._filter_box:
            return
        event.stop()
        _, said = self.filter_widgets()
        try:
            query = parse(event.value)
        except QueryError as exc:
            why = Text(f"✗ {exc}", style="bold red")
            self._filter_rejected = (event.value, why, self.filter)
            said.update(why)
            said.display = True
            return
        self._filter_rejected = None
        said.display = False
        event.input.display = False
        self.filter = None if query.empty else query.bind(self.people)
        self.reload()
        self.inbox_list.focus()

    def on_key(self, event: Any) -> None:
        box = self._filter_box  # (not looked up on every key)
        if event.key == "escape" and box is not None and box.has_focus:
            box.display = False
            self.filter_widgets()[1].display = False
            self.inbox_list.focus()
            event.stop()
