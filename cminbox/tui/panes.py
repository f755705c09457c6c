"""The header counters and the preview pane: plain Rich Text, never markup."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from operator import attrgetter
from typing import TypeVar

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget

from cminbox.core.census import OVERDUE_AFTER, WAITING, Counts, waiting
from cminbox.core.health import ChannelHealth, HealthState
from cminbox.core.models import Message, Status, TriageState
from cminbox.core.people_ops import Card
from cminbox.core.text import bound_text, sanitize
from cminbox.core.when import age, ago
from cminbox.tui.author_card import card_text, card_title, tag_words
from cminbox.tui.inbox_list import BLANK, Row
from cminbox.tui.plain import Static
from cminbox.tui.texts import answer_text, bound_key

_STATUS = attrgetter("status")
_W = TypeVar("_W", bound=Widget)


def hidden(widget: _W) -> _W:
    """``widget``, not displayed until shown: hidden before it is mounted, so the screen is not
    laid out again for it (hiding in on_mount did that once more before the first frame)."""
    widget.display = False
    return widget


HEALTH_MARK = {
    HealthState.OK: ("●", "green"),
    HealthState.DEGRADED: ("▲", "yellow"),
    HealthState.RATE_LIMITED: ("◐", "yellow"),
    HealthState.AUTH_FAILED: ("✗", "red"),
    HealthState.DISABLED: ("○", "grey50"),
    HealthState.UNKNOWN: ("?", "grey50"),
}


class HeaderCounts:
    """Status counts and overdue items, kept up to date one item at a time: recounting 100k
    rows on every keypress cost ~50 ms. With time, items only *become* overdue, so the clock
    tick looks at just the young items that may still cross the line. While a lazily opened
    store is still reading its older parts, the items not read into rows yet are counted by its
    census (:meth:`recount` with ``census``), so the counts are exact from the first screen."""

    def __init__(self) -> None:
        self.status: Counter[Status] = Counter()
        # Rows waiting past the line: a number, not a set of their ids (4 MB at 100k waiting
        # items). A row is one of them exactly when it waits and is not young (:meth:`_was_overdue`).
        self.overdue_rows = 0
        self.unread_overdue = 0  # overdue items of the census, not rows yet (counted, not tracked)
        self._young: dict[str, tuple[datetime, TriageState]] = {}  # unanswered, not overdue yet

    @property
    def overdue(self) -> int:
        return self.overdue_rows + self.unread_overdue

    def _was_overdue(self, mid: str, st: TriageState) -> bool:
        """Was the row counted overdue when it was last placed with ``st``?"""
        return waiting(st) and mid not in self._young

    def _place(self, mid: str, created: datetime, st: TriageState, now: datetime, *, was_overdue: bool) -> None:
        if waiting(st):
            if (now - created).total_seconds() > OVERDUE_AFTER:
                self._young.pop(mid, None)
                self.overdue_rows += not was_overdue
            else:
                self._young[mid] = (created, st)
                self.overdue_rows -= was_overdue
        else:
            self._young.pop(mid, None)
            self.overdue_rows -= was_overdue

    def recount(self, rows: list[Row], now: datetime, census: Counts | None = None) -> None:
        """From the rows; with ``census``, the counts of the items not read into rows yet
        (tui/row_loading.py) on top: their overdue ones as a number (they cannot change here
        until they are rows), their young ones tracked like rows (the clock moves them)."""
        overdue = 0
        young: dict[str, tuple[datetime, TriageState]] = {}
        cutoff = now - timedelta(seconds=OVERDUE_AFTER)  # _place, inlined for 100k rows
        # A row with no record (triage None) is new and waits: counted, no state made for it.
        states = [st for r in rows if (st := r.triage) is not None]
        self.status = Counter(map(_STATUS, states))  # C-level: 100k rows at a full load
        if len(states) < len(rows):
            self.status[Status.NEW] += len(rows) - len(states)
        for r in rows:
            st = r.triage or BLANK
            if st.status in WAITING and st.first_response_at is None:  # census.waiting, inlined
                if r.message.created_at < cutoff:
                    overdue += 1
                else:
                    young[r.message.id] = (r.message.created_at, st)
        self.unread_overdue = 0
        if census is not None:
            self.status += census.status
            self.unread_overdue = census.overdue
            for mid, created, st in census.young:
                young[mid] = (created, st)
        self.overdue_rows, self._young = overdue, young

    def add(self, row: Row, now: datetime) -> None:
        """A row not counted before (a new message)."""
        self.status[row.state.status] += 1
        self._place(row.message.id, row.message.created_at, row.state, now, was_overdue=False)

    def change(self, row: Row, old: TriageState, now: datetime) -> None:
        """``row`` already holds its new state; ``old`` is the one it replaced."""
        mid = row.message.id
        self.status[old.status] -= 1
        self.status[row.state.status] += 1
        self._place(mid, row.message.created_at, row.state, now, was_overdue=self._was_overdue(mid, old))

    def tick(self, now: datetime) -> None:
        for mid, (created, st) in list(self._young.items()):
            self._place(mid, created, st, now, was_overdue=False)


class InboxHeader(Widget):
    """Counters and per-channel health; a problem is spelled out, never colour alone.

    The health marks are drawn at the right and never pushed off: when the line is too
    narrow, the counters give way (cut with an ellipsis), not the channels' health."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._left = Text()
        self._right = Text()
        self._online = Text()

    def set_online(self, people: list[str]) -> None:
        """Teammates with cminbox open on this store now (their presence records), shown
        at the right beside the channels' health, which the counters give way to on a narrow
        line: "with bob, chen". Names come from other instances' config: shown as plain text."""
        online = Text()
        if people:
            online.append("  with ")
            online.append(", ".join(people), style="bold")
        if online != self._online:
            self._online = online
            self.refresh()

    def show(self, counts: HeaderCounts, health: list[ChannelHealth], selected: int) -> None:
        status, overdue = counts.status, counts.overdue
        left = Text(" cminbox ", style="bold reverse")
        if selected:
            left.append("  ")
            left.append(f" {selected} selected ", style="bold reverse")
        left.append_text(
            Text.assemble(
                "  ",
                (f"new {status[Status.NEW]}", "bold"),
                " · ",
                f"open {status[Status.OPEN]}",
                " · ",
                (f"escalated {status[Status.ESCALATED]}", "bold red" if status[Status.ESCALATED] else ""),
                " · ",
                (f"overdue {overdue}", "bold yellow" if overdue else ""),
                " · ",
                f"done {status[Status.DONE]}",
            )
        )
        right = Text()
        for h in health:
            mark, colour = HEALTH_MARK[h.state]
            right.append("  ")
            right.append(f"{mark} {h.channel}", style=colour)
            if h.state not in (HealthState.OK, HealthState.UNKNOWN):
                right.append(f" {h.state}", style=colour)
        right.append(" ")
        self._left, self._right = left, right
        self.refresh()

    def render(self) -> Text:
        width = self.size.width or 80
        right = Text.assemble(self._online, self._right) if self._online else self._right.copy()
        right.truncate(max(0, width - 12), overflow="ellipsis")  # " cminbox " and a little more stay
        left = self._left.copy()
        room = width - right.cell_len
        if left.cell_len > room:
            left.truncate(max(0, room - 1), overflow="ellipsis")
        left.pad_right(max(0, room - left.cell_len))
        return Text.assemble(left, right)


class Preview(Static):
    """A fixed-size pane: its size never depends on its content, so updating it on every
    cursor move repaints only this pane, never the layout of the whole screen (small frames
    over SSH). Long threads are read in full in the thread view (enter)."""

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self._shown: tuple[Row, list[Message], list[Message] | None, Card | None] | None = None
        self._age = ""
        self.presence: dict[str, str] = {}  # item -> "bob is replying" (tui/presence_sync.py)
        # What an empty list says: the inbox screen names its view or filter (empty_text()).
        self.empty = "Nothing here. New mentions appear as they arrive."

    def set_presence(self, lines: dict[str, str]) -> None:
        """Teammates on each item; re-renders when the shown item's line changed."""
        old, self.presence = self.presence, lines
        if self._shown is not None:
            mid = self._shown[0].message.id
            if old.get(mid) != lines.get(mid):
                self.show(*self._shown)

    def refresh_age(self) -> None:
        """Re-render when the shown item's age text changed ("12s" → "13s")."""
        if self._shown is not None and ago(self._shown[0].message.created_at, self.clock()) != self._age:
            self.show(*self._shown)

    def show(
        self, row: Row | None, thread: list[Message], others: list[Message] | None = None, card: Card | None = None
    ) -> None:
        """``card``: the author's person (tui/author_card.py), read with the thread; its tags
        go on the name line (seen even in a short pane), the rest below the message."""
        self._shown = (row, thread, others, card) if row is not None else None
        if row is None:
            self.update(Text(self.empty, style="dim italic"))
            return
        msg, st = row.message, row.state
        now = self.clock()
        out = Text()
        name = sanitize(msg.author.display_name or msg.author.handle, single_line=True)
        handle = sanitize(msg.author.handle, single_line=True)  # a store from before the ingest check
        out.append(name, style="bold")
        out.append(f"  {handle}" if handle != name else "", style="dim")
        if card is not None and card.tags:
            out.append(f"  {tag_words(card.tags)}", style="bold")
        out.append("\n")
        self._age = ago(msg.created_at, now)
        when = f"{msg.created_at:%Y-%m-%d %H:%M} UTC ({self._age})"
        out.append(f"{msg.kind} on {msg.channel} · {when}", style="dim")
        if msg.visibility and msg.visibility != "public":
            out.append(f" · {msg.visibility}", style="bold yellow")
        out.append("\n")
        out.append(_triage_line(st, now) + "\n", style="italic")
        if st.answered is not None:
            keys = (bound_key(self.app, "confirm_answer"), bound_key(self.app, "correct_answer"))
            out.append_text(answer_text(st.answered, now, keys))
        if msg.id in self.presence:
            out.append(sanitize(self.presence[msg.id], single_line=True) + "\n", style="bold")
        out.append("\n")
        out.append(sanitize(bound_text(msg.text)) or "(empty message)")  # bounded: stores from before the cap
        out.append("\n")
        if msg.url:
            out.append(f"\n{sanitize(msg.url, single_line=True)}\n", style="dim underline")
        if card is not None:
            out.append(f"\n── person: {card_title(card)} ──\n", style="dim")
            out.append_text(card_text(card, now))
        if any(m.id != msg.id for m in thread):
            out.append("\n── thread ──\n", style="dim")
            for m in thread:
                mark = "▶ " if m.id == msg.id else "  "
                style = "bold" if m.id == msg.id else "dim"
                out.append(f"{mark}{m.author.handle} · {age(m.created_at, now)}\n", style=style)
                out.append("   " + sanitize(bound_text(m.text)).replace("\n", "\n   ") + "\n")
        if others:
            out.append("\n── also from this person ──\n", style="dim")
            for m in others:
                out.append(f"{m.channel} · {ago(m.created_at, now)}: ", style="dim")
                out.append(sanitize(m.text[:400], single_line=True)[:160] + "\n")
        if st.notes:
            out.append("\n── notes ──\n", style="dim")
            for n in st.notes:
                out.append(f"{n.author}: {sanitize(n.text)}\n")
        if st.history:
            out.append("\n── history ──\n", style="dim")
            for h in st.history[-6:]:
                # A rule's line already names it ("rule outage: tag outage"): not twice.
                said = h.action if h.action.startswith(f"{h.actor}: ") else f"{h.actor}: {h.action}"
                out.append(f"{h.at:%m-%d %H:%M} {said}\n", style="dim")
        self.update(out, layout=False)  # fixed size: no layout pass, only this pane repaints


def _triage_line(st: TriageState, now: datetime) -> str:
    parts = [f"{st.status}", f"priority {st.priority}"]
    if st.first_response_at is not None:
        parts.append(f"↩ replied {ago(st.first_response_at, now)}")
    if st.assignee:
        parts.append(f"assigned to {st.assignee}")
    if st.tags:
        parts.append(" ".join(f"#{t}" for t in st.tags))
    if st.escalation:
        parts.append(f"escalated to {st.escalation.target}")
    if st.is_snoozed(now) and st.snoozed_until is not None:
        parts.append(f"z snoozed until {st.snoozed_until:%m-%d %H:%M}")
    elif st.snoozed_until:
        parts.append(f"snooze ended {st.snoozed_until:%m-%d %H:%M}")
    return " · ".join(parts)


class StoreBanner(Widget):
    """One line under the header while the store cannot be written: why, and that actions are
    refused. It always fits its width: the reason is cut in its middle (its end names the
    cause: "(Read-only file system)"), and below 100 columns the wording is shorter."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.reason = ""

    def show(self, reason: str) -> None:
        self.reason = reason
        self.refresh()

    def render(self) -> Text:
        width = self.size.width or 80
        head, tail = "the store cannot be written: ", "; actions are refused until it can"
        if width < 100:
            head, tail = "store not writable: ", "; actions refused"
        room = width - cell_len(head) - cell_len(tail) - 1
        return Text(f" {head}{_middle_cut(self.reason, room)}{tail}", no_wrap=True, overflow="ellipsis")


def _middle_cut(text: str, room: int) -> str:
    if cell_len(text) <= room:
        return text
    if room < 3:
        return "…"[:room]
    keep = room - 1
    return text[: keep // 2] + "…" + text[len(text) - (keep - keep // 2) :]
