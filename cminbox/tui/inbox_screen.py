"""The main screen: header, filter bar, the list, the preview, the composer, the footer.

Handlers call the core's triage verbs and then update only the rows that changed. Nothing
here waits on the store: writes, the preview's lookups and the change check run on workers
(tui/store_worker.py), and so do the reads that fill the rows (tui/row_loading.py), reply drafts
(tui/drafts.py) and the thread view's stored thread; while the store cannot be written, a banner
says so and actions are refused until a background probe finds it writable again.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Container
from textual.reactive import reactive
from textual.timer import Timer
from textual.worker import Worker

from cminbox.core.errors import CminboxError
from cminbox.core.health import ChannelHealth
from cminbox.core.models import Message, TriageState
from cminbox.core.people import identity_of
from cminbox.core.people_ops import Card
from cminbox.core.query import Query
from cminbox.core.query.context import PeopleView
from cminbox.core.views import Sort, View
from cminbox.tui import actions
from cminbox.tui.author_card import read_card
from cminbox.tui.community_keys import CommunityKeys
from cminbox.tui.composer import Composer
from cminbox.tui.drafts import Drafts
from cminbox.tui.filter_bar import FilterBar
from cminbox.tui.guideline_keys import GuidelineKeys
from cminbox.tui.inbox_list import InboxList, Row
from cminbox.tui.key_footer import KeyFooter
from cminbox.tui.line_compositor import LineCropCompositor
from cminbox.tui.macro_keys import MacroKeys, macro_bindings
from cminbox.tui.panes import HeaderCounts, InboxHeader, Preview, StoreBanner, hidden
from cminbox.tui.people_sync import PeopleSync
from cminbox.tui.plain import Label
from cminbox.tui.presence_sync import PresenceSync
from cminbox.tui.replying import ReplyingScreen
from cminbox.tui.row_loading import RowLoading, RowsComplete
from cminbox.tui.services import Services
from cminbox.tui.store_sync import HEALTH_EVERY, StoreSync
from cminbox.tui.store_worker import (
    Lookups,
    PreviewData,
    Writes,
    preview_data,
)
from cminbox.tui.texts import items, view_names
from cminbox.tui.triage_keys import TriageKeys, UndoRecord
from cminbox.tui.ui_thread import is_alive

if TYPE_CHECKING:  # the engine's report: the poller is imported with the engine, after the first frame
    from cminbox.core.poller import PollReport

SORTS = list(Sort)

# The footer's own keys (reply, tag, done...): hidden while composing, where typing them writes text.
FOOTER_ACTIONS = frozenset(spec.action.partition("(")[0] for spec in actions.ACTIONS if spec.footer)
PREVIEW_MODES = ("right", "bottom", "off")
NARROW = 100  # columns
PREVIEW_DELAY = 0.06  # seconds of stillness before the preview follows the cursor


class InboxScreen(
    RowLoading,
    StoreSync,
    FilterBar,
    MacroKeys,
    GuidelineKeys,
    CommunityKeys,
    TriageKeys,
    PresenceSync,
    PeopleSync,
    ReplyingScreen,
):
    BINDINGS: ClassVar[list[BindingType]] = actions.bindings()
    # The list has the keys from the start (not the filter bar first, then the list: every
    # focus move restyles the screen and refreshes the footer's keys).
    AUTO_FOCUS = "#inbox"
    store_ok: reactive[bool] = reactive(True)

    def __init__(self, services: Services) -> None:
        super().__init__()
        self._compositor = LineCropCompositor()  # a key's frame renders its lines only (issue #14)
        self._resumed = False  # (_on_screen_resume)
        self.s = services
        macro_bindings(self.macros, self._bindings)  # each macro's own key, from the config
        ui = services.config.ui
        self.view: View = next(v for v in services.config.views if v.key == ui.view)
        self.filter: Query | None = None  # bound to self.people (author-tag:, person:, from:staff)
        self.people_ops = services.people_ops
        self.people = PeopleView.of([], self.people_ops.staff)  # read on workers (reloads, ticks)
        self.sort = Sort(ui.sort)
        self.group = ui.group_threads
        self.preview_mode = ui.preview
        self.fresh: set[str] = set()
        self.opened_at = services.clock()  # items written long before are not arrivals (tui/store_sync.py)
        self.reported_problems: set[str] = set()
        self.polled_once: set[str] = set()  # the first poll of a channel is the backlog, not news
        self.all_rows: list[Row] = []
        self.stale: set[str] = set()  # rows in the list that no longer match the view (until a reload)
        self.counts = HeaderCounts()
        self._preview_timer: Timer | None = None
        self._preview_due = 0.0  # time.monotonic() when the preview may follow the cursor
        self.store_problem: CminboxError | None = None  # why the store cannot be written
        self._probe_timer: Timer | None = None
        self._probed_at_start = False  # (tui/store_sync.py: probe_at_start)
        self._checking: Worker[None] | None = None
        self._check_again = False
        self.reply_marks = {}
        self.reply_opened = services.clock()
        self.thread_open = None
        self.health: dict[str, ChannelHealth] = {}  # per channel, as last read (tui/store_sync.py)
        self.undo_stack: list[UndoRecord] = []  # this session's actions, newest last (triage_keys.py)
        self.writes = Writes(
            lambda: self.s.store, self._show_states, self.shown_many, self.refused, alive=self.is_alive
        )
        self.drafts = Drafts(self.writes, lambda: self.s.store, self._draft_refused)
        self.lookups = Lookups(lambda m: preview_data(self.s.store, m), self._preview_arrived)
        # The author cards: slower than the preview's lookups, so apart from them (it shows first).
        read = functools.partial(read_card, self.people_ops, self.catch_up_in_thread)
        self.cards: Lookups[Card | None] = Lookups(read, self._card_arrived, key=identity_of)

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        # The panes shown only on demand are hidden from the start, not at mount: hiding them
        # there laid the screen out again before the first frame (issue #14). The filter's box
        # is made at the first `/` (tui/filter_bar.py).
        yield InboxHeader(id="header")
        yield hidden(StoreBanner(id="store-banner"))
        yield Label("", id="view-line")
        # The preview's place from the start: set at mount, it restyled the body and everything
        # in it before the first frame (issue #14).
        with Container(id="body", classes=self.preview_class(self.app.size.width)):
            yield InboxList(self.s.clock, id="inbox")
            yield Preview(self.s.clock, id="preview")
        yield hidden(Composer(id="composer"))
        yield KeyFooter(held=True)  # released by the first rows' frame (row_loading.py)

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        """Textual's handler (Screen's, called after this one) restyles every widget of a
        resumed screen; the first resume comes right after the mount that styled them all, so it
        restyled the whole inbox a second time before its first frame (issue #14). A change of
        stylesheet or theme meanwhile restyles every screen by itself (App.refresh_css)."""
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    def on_mount(self) -> None:
        self.place_preview()
        self.run_worker(self.writes.run(), group="store-writes", name="store writes")
        self.load_segments()  # the rows fill in when read (the view line says "loading…" until then)
        if not self.rows_loaded:
            self.show_view_line()
        self.read_health()
        self.inbox_list.focus()
        if self.s.store.pushes_changes:
            # The database wakes a watcher thread on every other instance's commit: changes show
            # within milliseconds, and nothing asks the server on a timer.
            self.run_worker(self._watch_changes, thread=True, group="store-watch", name="store watch")
        else:
            self.set_interval(1.0, self.check_store)
        self.set_interval(1.0, self.refresh_ages)
        self.set_interval(30.0, self.tick)
        self.set_interval(HEALTH_EVERY, self.read_health)
        self.start_presence()
        self.report_store_problems()

    def first_frame_done(self) -> None:
        """The first rows are drawn (or their read failed): the footer's keys follow. The call
        comes a moment after the frame, on a timer: a test or a quit may have taken the
        screen's widgets down by then (NoMatches from query_one, seen in tests)."""
        for footer in self.query(KeyFooter):
            footer.release()
        self.probe_at_start()

    # ------------------------------------------------------------------ data
    def view_query(self) -> Query:
        """The saved view's query, its people fields answered from the people last read."""
        return self.view.compiled().bind(self.people)

    def in_view(self, row: Row, view: Query, now: datetime, me: str) -> bool:
        """Does the row belong in the list: the saved view's query and the filter."""
        m, st = row.message, row.fields
        return view.matches(m, st, now, me) and (self.filter is None or self.filter.matches(m, st, now, me))

    def tick(self) -> None:
        """Every 30 s: items become overdue."""
        self.counts.tick(self.s.clock())
        self.refresh_chrome()
        self.read_people_soon()  # a tag or link made elsewhere (tui/people_sync.py)

    def refresh_ages(self) -> None:
        """Every second: ages ("4m", "12s") move on in the list and the preview. Cheap: only lines
        whose age text changed are repainted."""
        self.inbox_list.refresh_ages()
        self.query_one(Preview).refresh_age()

    def apply_states(self, states: Iterable[TriageState], messages: Mapping[str, Message] | None = None) -> set[str]:
        """Show these states on their rows, listed or not, and count them; a state older than
        the row's is not taken (InboxList.update_states). ``messages``: the items' messages as
        read with the states (the change check), for the rows not listed (the caller updates the
        listed ones: InboxList.update_messages). Returns the ids that have a row."""
        now, me = self.s.clock(), self.s.config.actor
        states = list(states)
        view = self.view_query()
        authors: set[str] = set()
        listed = self.inbox_list.update_states(states)
        for row, old in listed:
            self.counts.change(row, old, now)
            authors.add(identity_of(row.message))
            # A reply sent, a snooze, a done: the row stays where it is (no list shifting under
            # the cursor) but is marked as no longer in this view; the next reload drops it.
            row.stale = not self.in_view(row, view, now, me)
            (self.stale.add if row.stale else self.stale.discard)(row.message.id)
        found = set(self.inbox_list.index.positions(st.id for st in states))
        # Rows outside the current view: the full row set and the counters follow too, and a
        # row the change brings into the view (a teammate escalated it) is listed, as a new one is.
        if hidden := [st for st in states if st.id not in found]:
            by_id = {r.message.id: r for r in self.all_rows}
            entering: list[Row] = []
            for st in hidden:
                outside = by_id.get(st.id)
                if outside is None:
                    continue
                found.add(st.id)
                if messages is not None and (edited := messages.get(st.id)) is not None and edited != outside.message:
                    if edited.created_at != outside.message.created_at:
                        self.rows_in_store_order = False  # the next arrangement sorts
                    outside.message = edited  # listed by it below, or when the view next shows it
                if outside.state == st or st.rev < outside.state.rev:
                    continue
                previous, outside.state = outside.state, st
                self.counts.change(outside, previous, now)
                authors.add(identity_of(outside.message))
                if self.in_view(outside, view, now, me):
                    entering.append(outside)
            self.list_in_view(entering)
        if authors:  # their cards count open items: read again when next shown
            self.cards.forget(authors)
        return found

    def refresh_chrome(self) -> None:
        health = []
        if self.s.engine is not None:  # as last read on a worker (unknown until then)
            health = [self.health.get(name) or ChannelHealth(channel=name) for name in self.s.engine.channels]
        self.query_one(InboxHeader).show(self.counts, health, len(self.inbox_list.selected))
        self.show_view_line()

    def show_view_line(self) -> None:
        """The view, its item count (once read), the filter and the sort; "loading…" until the
        first read lands (the header's counts stay empty until then: none is better than 0)."""
        line = Text.assemble((f" {self.view.key} {self.view.name} ", "reverse"))
        if self.rows_loaded:
            line.append(f"  {items(len(self.inbox_list.rows))}")
        if self.stale:
            key = self.s.config.keys.get(f"view_{self.view.key}", self.view.key).split(",")[0]
            line.append(f" ({len(self.stale)} no longer in this view; {key} reloads)", style="italic")
        if not self.rows_loaded:
            line.append("  loading…", style="italic")
        elif not self.fully_loaded:
            line.append("  loading older messages…", style="italic")
        if self.filter is not None and not self.filter.empty:
            line.append(f"  filter: {self.filter.text}", style="bold")
        line.append(f"  sort: {self.sort}" + ("  grouped" if self.group else ""), style="dim")
        self.query_one("#view-line", Label).update(line)

    def apply_poll(self, report: PollReport, degraded_now: bool) -> None:
        backlog = report.channel not in self.polled_once
        if report.health.state == "ok":
            self.polled_once.add(report.channel)
        self.health[report.channel] = report.health
        if report.new_ids:
            if not backlog:
                self.fresh |= set(report.new_ids)
            self.merge_soon(report.new_ids)
        self.refresh_chrome()
        if degraded_now:
            self.notify(
                f"{report.channel}: {report.health.reason}",
                title=f"{report.channel} {report.health.state}",
                severity="warning",
                timeout=8,
            )

    @on(InboxList.Highlighted)
    def _highlighted(self, event: InboxList.Highlighted) -> None:
        # Debounced: holding j repaints only the cursor lines; the preview follows when you pause.
        # One timer per pause, not one per key (each timer is a task started, and one cancelled,
        # on the cursor's frame: issue #14): it fires, and waits again if a key came meanwhile.
        self._preview_due = time.monotonic() + PREVIEW_DELAY
        if self._preview_timer is None:
            self._preview_timer = self.set_timer(PREVIEW_DELAY, self._preview_tick)

    def _preview_tick(self) -> None:
        self._preview_timer = None  # this one has fired
        left = self._preview_due - time.monotonic()
        if left > 0.001:
            self._preview_timer = self.set_timer(left, self._preview_tick)
        else:
            self.show_preview()

    def empty_text(self) -> str:
        """What an empty list says: "new mentions appear" fit the first view only (a new-user
        trial read it in the escalated, mine and snoozed views)."""
        if self.filter is not None and not self.filter.empty:
            return "Nothing matches the filter (esc clears it)."
        if self.view.key == "1":
            return f"Nothing in “{self.view.name}”. New mentions appear as they arrive."
        return f"Nothing in “{self.view.name}”."

    def show_preview(self) -> None:
        """The cursor's item, with its thread and the author's other messages: from the cache
        at once, or looked up on a worker (only the newest cursor position's lookup lands)."""
        if self._preview_timer is not None:  # shown now: the one pending is not needed
            self._preview_timer.stop()
            self._preview_timer = None
        row = self.inbox_list.current
        if row is None:
            preview = self.query_one(Preview)
            preview.empty = self.empty_text()
            preview.show(None, [])
            return
        if row.fresh:
            row.fresh = False
            self.fresh.discard(row.message.id)
        if not self.composing and self.thread_open is None:
            self.want_presence(row.message.id)
        data = self.lookups.request(row.message)
        # The card counts the author's items in the whole store: while older parts are still
        # being read, asking for it read them all on the card's worker and then indexed every
        # item by person under the store's lock, which the loader's last read waited for (~30
        # ms of a 100k inbox's full load). It is asked for when the rows hold every item.
        card = self.cards.request(row.message) if self.rows_complete else None
        if data is not None:
            self.query_one(Preview).show(row, data.thread, data.others, card)

    def on_rows_complete(self, _message: RowsComplete) -> None:
        """Every item is in the rows: the author card the preview went without meanwhile."""
        row = self.inbox_list.current
        if row is not None:
            self.cards.request(row.message)

    def _preview_arrived(self, message: Message, data: PreviewData) -> None:
        row = self.inbox_list.current
        if row is not None and row.message.id == message.id:
            self.query_one(Preview).show(row, data.thread, data.others, self.cards.cache.get(identity_of(message)))

    def _card_arrived(self, message: Message, card: Card | None) -> None:
        row = self.inbox_list.current
        if row is not None and identity_of(row.message) == identity_of(message):
            self._redraw_preview(row, card)

    def _redraw_preview(self, row: Row, card: Card | None = None) -> None:
        """The shown item's state (or its author's card) changed: redraw it from the caches."""
        data = self.lookups.cache.get(row.message.id)
        card = card or self.cards.cache.get(identity_of(row.message))
        if data is not None and self._preview_timer is None:
            self.query_one(Preview).show(row, data.thread, data.others, card)

    def _show_current_preview_if_stale(self) -> None:
        if self._preview_timer is None and self.inbox_list.current is not None:
            self.show_preview()

    # ------------------------------------------------------------------ movement
    def action_cursor_down(self) -> None:
        self.inbox_list.cursor += 1

    def action_cursor_up(self) -> None:
        self.inbox_list.cursor -= 1

    def action_cursor_top(self) -> None:
        self.inbox_list.cursor = 0

    def action_cursor_bottom(self) -> None:
        self.inbox_list.cursor = len(self.inbox_list.rows) - 1

    def action_half_page(self, direction: int) -> None:
        self.inbox_list.half_page(direction)

    def action_next_match(self, direction: int) -> None:
        """With a filter: cycle through its matches. Without: the next item that needs attention."""
        rows, now = self.inbox_list.rows, self.s.clock()
        if not rows:
            return
        for step in range(1, len(rows) + 1):
            i = (self.inbox_list.cursor + direction * step) % len(rows)
            r = rows[i]
            if r.stale:  # no longer in the view: dimmed until the next reload
                continue
            if (self.filter is not None and not self.filter.empty) or r.fields.needs_attention(now):
                self.inbox_list.cursor = i
                return

    def action_open_thread(self) -> None:
        row = self.inbox_list.current
        if row is not None:
            self.open_thread_of(row.message)

    def is_alive(self) -> bool:
        return is_alive(self)

    # ------------------------------------------------------------------ selection, view, filter
    def action_toggle_select(self) -> None:
        row = self.inbox_list.current
        if row is not None:
            self.inbox_list.selected ^= {row.message.id}
            self.inbox_list.refresh_line(self.inbox_list.cursor)
            self.inbox_list.cursor += 1
            self.refresh_chrome()

    def action_select_all(self) -> None:
        # Not the dimmed rows that left the view since the last reload (a new-user trial's
        # select-all in "needs reply" took in 21 answered ones).
        self.inbox_list.selected = {r.message.id for r in self.inbox_list.rows if not r.stale}
        self.inbox_list.refresh()
        self.refresh_chrome()

    def action_clear_selection(self) -> None:
        if self.inbox_list.selected:
            self.inbox_list.selected.clear()
            self.inbox_list.refresh()
        elif self.filter is not None:
            self.filter = None
            self.reload()
        self.refresh_chrome()

    def action_view(self, key: str) -> None:
        view = next((v for v in self.s.config.views if v.key == key), None)
        if view is None:
            self.notify(f"No saved view on {key}; add one under [[views]]", timeout=3)
            return
        self.view = view
        self.inbox_list.selected.clear()
        self.reload()

    def action_cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.reload()

    def action_toggle_group(self) -> None:
        self.group = not self.group
        self.reload()

    def action_toggle_preview(self) -> None:
        self.preview_mode = PREVIEW_MODES[(PREVIEW_MODES.index(self.preview_mode) + 1) % len(PREVIEW_MODES)]
        self.place_preview()

    def on_resize(self) -> None:
        self.place_preview()
        # Below 100 columns the footer drops its padding, so every key and ^p palette fit in 80.
        self.query_one(KeyFooter).compact = self.size.width < NARROW

    def on_descendant_focus(self) -> None:
        """Composing shows the message being answered: below 100 columns the preview takes the
        list's place while the composer is open (it is the one item that matters then)."""
        focused = self.focused
        composing = focused is not None and any(isinstance(n, Composer) for n in focused.ancestors_with_self)
        if composing != self.has_class("-composing"):
            self.set_class(composing, "-composing")
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Hidden from the footer while composing: the composer's keys are what apply then.
        return not (action in FOOTER_ACTIONS and self.has_class("-composing"))

    def preview_class(self, width: int) -> str:
        """A side preview below 100 columns squeezes the list: put it underneath instead."""
        mode = self.preview_mode
        if mode == "right" and width < NARROW:
            mode = "bottom"
        return f"preview-{mode}"

    def place_preview(self) -> None:
        self.query_one("#body").set_classes(self.preview_class(self.size.width))

    def action_help(self) -> None:
        from cminbox.tui.help_screen import HelpScreen

        self.app.push_screen(HelpScreen(self.s.config.keys, self.macros, self.s.config.views))

    @property
    def view_names(self) -> dict[str, str]:
        """The views by action id, for the palette (texts.view_names)."""
        return view_names(self.s.config.views)

    def action_pick_theme(self) -> None:
        self.app.search_themes()

    def action_poll_now(self) -> None:
        engine = self.s.engine
        if engine is None:
            self.notify(
                "The channels are starting: try again in a moment" if self.s.engine_starting else "No channels to poll",
                timeout=2,
            )
        elif not engine.active:
            self.notify("Another cminbox instance is polling this data; its results appear here.", timeout=4)
        else:
            self.run_worker(engine.poll_once(), group="poll-now", exclusive=True)

    def known_thread(self, message: Message) -> list[Message] | None:
        data = self.lookups.request(message)
        return None if data is None else data.thread
