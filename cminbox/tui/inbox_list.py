"""The inbox list: a virtualised Line-API widget (as in Textual's Toolong).

Only visible lines are rendered, each from an LRU cache of strips keyed by everything
that changes it (the row's revision, cursor, selection, width, theme, its markers). So 100k
items cost what 100 do, and updating one row re-renders one line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from operator import attrgetter

import msgspec
from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.message import Message as TextualMessage
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cminbox.core.models import Message, Status, TriageState
from cminbox.core.people import identity_of
from cminbox.core.sentiment import Mood, mood_of
from cminbox.core.text import cell_safe, one_line
from cminbox.core.when import age
from cminbox.tui.row_index import RowIndex

MARKERS = {Status.NEW: "●", Status.OPEN: "○", Status.WAITING: "…", Status.ESCALATED: "!", Status.DONE: "✓"}
PRIORITY_MARKS = {"urgent": "‼", "high": "↑", "normal": " ", "low": "↓"}
SNOOZED, REPLIED = "z", "↩"  # the flag column: snoozed wins (it says why the item is quiet)
COMMUNITY = "↪"  # answered in its thread by the community first (core/community.py); after ours
# The sentiment column: one cell in every terminal (no emoji; tests/test_tui_rows.py measures
# them per code point, as tmux does); neutral is blank, so the eye catches the other three.
MOOD_MARKS = {Mood.NEGATIVE: "\N{MINUS SIGN}", Mood.POSITIVE: "+", Mood.NEUTRAL: " ", Mood.UNKNOWN: "?"}
MOOD_STYLES = {MOOD_MARKS[Mood.NEGATIVE]: "negative", MOOD_MARKS[Mood.POSITIVE]: "positive"}  # else "meta"
_ROW_ID, _ROW_CHANNEL = attrgetter("message.id"), attrgetter("message.channel")
ROW_TEXT = 1000  # characters of an item's text a row looks at: no row is wider than that


def mood_mark(message: Message) -> str:
    """The item's sentiment as a glyph: negative, positive, blank (neutral) or "?" (not scored)."""
    return MOOD_MARKS[mood_of(message.sentiment)]


def flag(state: TriageState, now: datetime) -> str:
    """The row's flag: snoozed, else replied, else answered by the community, else blank; a
    glyph, never colour alone."""
    if state.is_snoozed(now):
        return SNOOZED
    if state.first_response_at is not None:
        return REPLIED
    return COMMUNITY if state.answered is not None and state.answered.kind == "community" else " "


# The state of an item nobody has triaged, for reads that look at its fields only (a view's
# test, the header's counts, a sort): its id is not the item's. Row.state gives the item's own.
BLANK = TriageState(id="")


class Row(msgspec.Struct, gc=False):
    """One listed item. A Struct, not a slots dataclass: a full load makes 100k of them on the
    UI thread, and msgspec's C constructor is ~0.06 µs a row quicker (~6 ms at 100k, issue
    #14). Plain data, no cycles: not tracked by the collector.

    ``triage`` is None for an item with no triage record (new, untouched: at a first load,
    most of them), not a default state of its own: 112 bytes a row, 11 MB at 100k (issue
    #14). :attr:`state` makes that default state when asked; a read of fields alone uses
    :attr:`fields`, and makes nothing (a loop over 100k rows inlines ``row.triage or BLANK``)."""

    message: Message
    triage: TriageState | None
    fresh: bool = False  # arrived since the user last looked
    stale: bool = False  # changed so that it no longer matches the view: dimmed until the next reload

    @property
    def state(self) -> TriageState:
        st = self.triage
        return st if st is not None else TriageState(id=self.message.id)

    @state.setter
    def state(self, value: TriageState) -> None:
        assert value.id, "BLANK (no id) is for reading fields, never a row's state"
        self.triage = value

    @property
    def fields(self) -> TriageState:
        """The state to read fields from: the item's, or BLANK (whose id is not the item's)."""
        return self.triage or BLANK


def row_of(message: Message, state: TriageState | None, fresh: bool = False) -> Row:
    """A row for a message and its state; a default state (no record) is held as None."""
    return Row(message, None if state is None or is_blank(state) else state, fresh)


def is_blank(state: TriageState) -> bool:
    """The state an item has before anyone touched it (its record, if any, says nothing)."""
    return state.rev == 0 and state == TriageState(id=state.id)


# inherit_bindings=False: ScrollView's up/down/home/end/pageup/pagedown scroll the view, and the
# list has the focus, so they won over the action table's (which move the cursor): the arrows
# scrolled the cursor off screen, and the next `d` closed an item nobody could see (review of
# 2026-12-01). The keys are the action table's alone (core/keymap.py), remaps included.
class InboxList(ScrollView, can_focus=True, inherit_bindings=False):
    COMPONENT_CLASSES = {
        "inbox-list--cursor",
        "inbox-list--selected",
        "inbox-list--new",
        "inbox-list--done",
        "inbox-list--escalated",
        "inbox-list--urgent",
        "inbox-list--meta",
        "inbox-list--tag",
        "inbox-list--fresh",
        "inbox-list--negative",
        "inbox-list--positive",
        "inbox-list--person",
    }

    # repaint=False: moving the cursor refreshes two lines (in watch_cursor), never the whole list.
    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Highlighted(TextualMessage):
        def __init__(self, row: Row | None) -> None:
            super().__init__()
            self.row = row

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.rows: list[Row] = []
        self.index = RowIndex()  # where each item is in ``rows`` (tui/row_index.py)
        self._reading: str | None = None  # the id of the item under the cursor at the last set_rows
        self.selected: set[str] = set()
        self.show_channel = True  # off when every item comes from one channel
        self._cache: dict[tuple[object, ...], Strip] = {}
        self._styles: dict[str, Style] = {}  # component styles, resolved once per theme
        self._ages: dict[str, tuple[str, str]] = {}  # the age text and flag each row was last drawn with
        self.presence: dict[str, str] = {}  # item -> who else is on it ("✎ bob"): tui/presence_sync.py
        # identity key -> its person's profile-tag glyphs ("★", "◆★"), read on workers: tui/people_sync.py
        self.markers: Mapping[str, str] = {}

    # ------------------------------------------------------------------ data
    def set_rows(self, rows: list[Row], *, gone_to_top: bool = False) -> None:
        """Replace the rows, keeping the cursor on the item the user was reading. When that item
        is no longer listed, the cursor stays near where it was (a refresh) or, for a new view
        or filter (``gone_to_top``), goes to the first row: the new list is read from the top."""
        current = self.current
        # Through an empty list (an empty view on the way to another) the item read last is
        # still the one to come back to (a new-user trial lost its place in view 2 on the way to 5).
        reading = current.message.id if current is not None else self._reading
        self.rows = rows
        # C-level passes, not a Python step per row (100k rows at a full load: ~25 ms less).
        self.index = RowIndex(list(map(_ROW_ID, rows)))
        self.index.near = self.cursor  # where the item read before is, most likely
        self.show_channel = len(set(map(_ROW_CHANNEL, rows))) > 1
        if self.selected:
            self.selected.intersection_update(self.index.positions(self.selected))
        self._cache.clear()
        self.virtual_size = Size(self.size.width, len(rows))
        self._reading = reading
        if reading is not None and (at := self.index.get(reading)) is not None:
            self.cursor = at
        elif gone_to_top:
            self.cursor = 0
            self.scroll_to(y=0, animate=False)
        else:
            self.cursor = min(self.cursor, max(0, len(rows) - 1))
        self.refresh()

    def update_states(self, states: Iterable[TriageState]) -> list[tuple[Row, TriageState]]:
        """Update some rows' triage state, re-rendering only their lines. A state older than
        the row's (a lower ``rev``: each store write raises it) is not taken: readers on
        several workers land out of order, and one read before a teammate's change must not
        take it back. Returns each updated row with its previous state (for the header's counts)."""
        changed = []
        states = list(states)
        at = self.index.positions(st.id for st in states)
        for state in states:
            i = at.get(state.id)
            if i is not None:
                row = self.rows[i]
                if state.rev < row.state.rev:
                    continue
                changed.append((row, row.state))
                # ``fresh`` stays: it says the cursor has not been on the item yet, which a
                # change (a CLI tag, a bulk close of unread rows) does not alter; a reload
                # showed the marker again after one had taken it off (new-user trial).
                row.state = state
                self.refresh_line(i)
        self.post_message(self.Highlighted(self.current))
        return changed

    def update_messages(self, messages: Iterable[Message]) -> bool:
        """Rows whose message came again with new content (its author edited it). Returns
        whether one of them changed its time (the rows' order by time may no longer hold)."""
        moved = False
        messages = list(messages)
        at = self.index.positions(m.id for m in messages)
        for message in messages:
            i = at.get(message.id)
            if i is not None and self.rows[i].message != message:
                moved = moved or self.rows[i].message.created_at != message.created_at
                self.rows[i].message = message
                self._cache.clear()  # the key holds the id and revision, not the text
                self.refresh_line(i)
        return moved

    def set_presence(self, marks: dict[str, str]) -> None:
        """Teammates' markers per item; repaints only the rows whose marker changed."""
        old, self.presence = self.presence, marks
        changed = [mid for mid in {*old, *marks} if old.get(mid) != marks.get(mid)]
        for i in self.index.positions(changed).values():
            self.refresh_line(i)

    def set_markers(self, markers: Mapping[str, str]) -> None:
        """People's profile-tag markers (a VIP tagged, a troll untagged): repaints only the
        visible rows whose marker changed; the others are drawn with the new one when shown."""
        old, self.markers = self.markers, markers
        top = int(self.scroll_offset.y)
        for i in range(top, min(len(self.rows), top + self.scrollable_content_region.height)):
            key = identity_of(self.rows[i].message)
            if old.get(key) != markers.get(key):
                self.refresh_line(i)

    def person_mark(self, message: Message) -> str:
        """One cell: the most telling of the author's profile-tag glyphs, or blank."""
        return self.markers.get(identity_of(message), "")[:1] or " "

    @property
    def current(self) -> Row | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def target_ids(self) -> list[str]:
        """The selection if there is one, else the item under the cursor."""
        if self.selected:
            return [r.message.id for r in self.rows if r.message.id in self.selected]
        return [self.current.message.id] if self.current else []

    # ------------------------------------------------------------------ cursor
    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.rows) - 1)) if self.rows else 0

    def watch_cursor(self, old: int, new: int) -> None:
        self.index.near = new
        # refresh_line takes the virtual line number (it subtracts the scroll offset itself).
        self.refresh_line(old)
        self.refresh_line(new)
        self.scroll_to_region_if_needed(new)
        self.post_message(self.Highlighted(self.current))

    def half_page(self, direction: int) -> None:
        """The cursor half a screen down (1) or up (-1); validate_cursor keeps it on a row."""
        self.cursor += direction * max(1, self.size.height // 2)

    def scroll_to_region_if_needed(self, line: int) -> None:
        """Leaving the view jumps half a page (as mutt does), not one line: a scroll redraws
        the whole list region, so scanning down scrolls once every half page, not every key."""
        height = self.scrollable_content_region.height
        top = int(self.scroll_offset.y)
        if line < top:
            self.scroll_to(y=max(0, line - height // 2), animate=False)
        elif height and line >= top + height:
            self.scroll_to(y=line - height // 2, animate=False)

    def refresh_ages(self) -> None:
        """Repaint only the visible lines whose age text ("4m" → "5m") or flag (a snooze ended)
        changed, not the list."""
        top, now = int(self.scroll_offset.y), self.clock()
        for i in range(top, min(len(self.rows), top + self.scrollable_content_region.height)):
            row = self.rows[i]
            if self._ages.get(row.message.id) != (age(row.message.created_at, now), flag(row.fields, now)):
                self.refresh_line(i)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows))
        self._cache.clear()
        # A smaller window could leave the cursor's row below the new bottom: no row highlighted,
        # and the preview showing an item not listed (review of 2026-12-01). After the layout.
        self.call_after_refresh(lambda: self.scroll_to_region_if_needed(self.cursor))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
        self._styles.clear()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(f"inbox-list--{name}", partial=True)
        return style

    # ------------------------------------------------------------------ rendering
    def render_line(self, y: int) -> Strip:
        index = y + int(self.scroll_offset.y)
        width = self.scrollable_content_region.width
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        row = self.rows[index]
        is_cursor = index == self.cursor
        selected = row.message.id in self.selected
        now = self.clock()
        shown_age, mark = age(row.message.created_at, now), flag(row.fields, now)  # a snooze ends with time
        self._ages[row.message.id] = (shown_age, mark)
        who = self.presence.get(row.message.id, "")
        marks = (mood_mark(row.message), self.person_mark(row.message))
        # Everything the line shows; the markers too: a person tagged or an item re-scored repaints.
        key: tuple[object, ...] = (row.message.id, row.fields.rev, row.fresh, row.stale, is_cursor, selected)
        key += (width, shown_age, mark, who, *marks)
        strip = self._cache.get(key)
        if strip is None:
            if len(self._cache) > 400:  # each Strip holds several caches: keep the collector's work small
                self._cache.clear()
            strip = self._render_row(row, is_cursor, selected, width, now, marks)
            self._cache[key] = strip
        return strip

    def _combined(self, line_style: str, part: str) -> Style:
        """``line_style`` (the row's base: normal or cursor) plus a component style, cached:
        adding Rich styles is what a row render spends most of its time on otherwise."""
        key = f"{line_style}+{part}"
        style = self._styles.get(key)
        if style is None:
            base = self._styles.get("base") or self._styles.setdefault("base", self.rich_style)
            if line_style == "cursor":
                base = base + self.get_component_rich_style("inbox-list--cursor")
            extra = {"plain": Style(), "bold-new": self._style("new") + Style(bold=True)}.get(part)
            style = self._styles[key] = base + (extra if extra is not None else self._style(part))
        return style

    def _render_row(
        self, row: Row, is_cursor: bool, selected: bool, width: int, now: datetime, marks: tuple[str, str] | None = None
    ) -> Strip:
        """Segments built directly, sized by terminal cells (emoji are two wide): no Rich Text.
        Text from outside passes through ``cell_safe``, so terminals that measure emoji
        sequences differently from Textual still draw every column where it belongs."""
        msg, st = row.message, row.fields
        line = "cursor" if is_cursor else "normal"
        status = {Status.NEW: "new", Status.ESCALATED: "escalated", Status.DONE: "done"}.get(st.status, "plain")
        if row.stale:
            status = "done"  # no longer in this view: drawn like closed items until the next reload
        tags = " ".join(f"#{cell_safe(t)}" for t in st.tags)
        who = self.presence.get(msg.id)
        right = (f" {cell_safe(who)}" if who else "") + (f" {tags} " if tags else " ")
        right += f"@{cell_safe(st.assignee)} " if st.assignee else ""
        right += f"{age(msg.created_at, now):>4}"
        channel = f"{one_line(cell_safe(msg.channel), 8):<8} " if self.show_channel else ""
        name = cell_safe(one_line(msg.author.display_name or msg.author.handle))
        new = st.status == Status.NEW and not row.stale
        mood, person = marks or (mood_mark(msg), self.person_mark(msg))
        mood_style = MOOD_STYLES.get(mood, "meta")
        head = [
            Segment("▌" if selected else " ", self._combined(line, "selected")),
            Segment(MARKERS[st.status], self._combined(line, status)),
            Segment(flag(st, now), self._combined(line, "meta")),
            Segment("*" if row.fresh else " ", self._combined(line, "fresh")),
            Segment(
                PRIORITY_MARKS[str(st.priority)], self._combined(line, "urgent" if st.priority.rank >= 2 else "meta")
            ),
            Segment(mood, self._combined(line, "meta" if row.stale else mood_style)),
            Segment(" " + channel, self._combined(line, "meta")),
            Segment(person + " ", self._combined(line, "meta" if row.stale else "person")),
            Segment(fit(name, 16) + " ", self._combined(line, "bold-new" if new else status)),
        ]
        used = sum(cell_len(seg.text) for seg in head)
        right = fit(right, max(0, width - used)) if used + cell_len(right) > width else right
        room = max(0, width - used - cell_len(right))
        text = cell_safe(one_line(msg.text[:ROW_TEXT]))
        body = Segment(fit(text or "(empty)", room), self._combined(line, status if text else "meta"))
        tail = Segment(right, self._combined(line, "tag" if tags and not row.stale else "meta"))
        return Strip([*head, body, tail], width)


def fit(text: str, width: int) -> str:
    """Exactly ``width`` terminal cells: padded, or cut with an ellipsis."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"
