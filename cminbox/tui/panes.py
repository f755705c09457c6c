"""The header counters and the preview pane: plain Rich Text, never markup."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from cminbox.core.health import ChannelHealth, HealthState
from cminbox.core.models import Message, Status, TriageState
from cminbox.core.text import sanitize
from cminbox.tui.inbox_list import Row, age

OVERDUE_AFTER = 4 * 3600  # seconds without a first response before an item counts as overdue
HEALTH_MARK = {
    HealthState.OK: ("●", "green"),
    HealthState.DEGRADED: ("▲", "yellow"),
    HealthState.RATE_LIMITED: ("◐", "yellow"),
    HealthState.AUTH_FAILED: ("✗", "red"),
    HealthState.DISABLED: ("○", "grey50"),
    HealthState.UNKNOWN: ("?", "grey50"),
}


class HeaderCounts:
    """Status counts and overdue items, kept up to date one row at a time: recounting 100k
    rows on every keypress cost ~50 ms. With time, items only *become* overdue, so the clock
    tick looks at just the young items that may still cross the line."""

    def __init__(self) -> None:
        self.status: Counter[Status] = Counter()
        self.overdue_ids: set[str] = set()
        self._young: dict[str, Row] = {}  # unanswered new/open items not overdue yet

    @property
    def overdue(self) -> int:
        return len(self.overdue_ids)

    def _place(self, row: Row, now: datetime) -> None:
        mid, st = row.message.id, row.state
        if st.status in (Status.NEW, Status.OPEN) and st.first_response_at is None:
            if (now - row.message.created_at).total_seconds() > OVERDUE_AFTER:
                self.overdue_ids.add(mid)
                self._young.pop(mid, None)
            else:
                self._young[mid] = row
                self.overdue_ids.discard(mid)
        else:
            self.overdue_ids.discard(mid)
            self._young.pop(mid, None)

    def recount(self, rows: list[Row], now: datetime) -> None:
        self.status = Counter(r.state.status for r in rows)
        self.overdue_ids, self._young = set(), {}
        for row in rows:
            self._place(row, now)

    def add(self, row: Row, now: datetime) -> None:
        self.status[row.state.status] += 1
        self._place(row, now)

    def change(self, row: Row, old: TriageState, now: datetime) -> None:
        """``row`` already holds its new state; ``old`` is the one it replaced."""
        self.status[old.status] -= 1
        self.status[row.state.status] += 1
        self._place(row, now)

    def tick(self, now: datetime) -> None:
        for row in list(self._young.values()):
            self._place(row, now)


class InboxHeader(Static):
    """Counters and per-channel health; a problem is spelled out, never colour alone."""

    def show(self, counts: HeaderCounts, health: list[ChannelHealth], selected: int) -> None:
        status, overdue = counts.status, counts.overdue
        text = Text.assemble(
            (" cminbox ", "bold reverse"),
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
        if selected:
            text.append(f"   {selected} selected", style="bold reverse")
        text.append("   ")
        for h in health:
            mark, colour = HEALTH_MARK[h.state]
            text.append(f"{mark} {h.channel}", style=colour)
            if h.state not in (HealthState.OK, HealthState.UNKNOWN):
                text.append(f" {h.state}", style=colour)
            text.append("  ")
        self.update(text)


class Preview(Static):
    """A fixed-size pane: its size never depends on its content, so updating it on every
    cursor move repaints only this pane, never the layout of the whole screen (small frames
    over SSH). Long threads are read in full in the thread view (enter)."""

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock

    def show(self, row: Row | None, thread: list[Message], others: list[Message] | None = None) -> None:
        if row is None:
            self.update(Text("Nothing here. New mentions appear as they arrive.", style="dim italic"))
            return
        msg, st = row.message, row.state
        now = self.clock()
        out = Text()
        name = sanitize(msg.author.display_name or msg.author.handle, single_line=True)
        out.append(name, style="bold")
        out.append(f"  {msg.author.handle}\n" if msg.author.handle != name else "\n", style="dim")
        when = f"{msg.created_at:%Y-%m-%d %H:%M} UTC ({age(msg.created_at, now)} ago)"
        out.append(f"{msg.kind} on {msg.channel} · {when}", style="dim")
        if msg.visibility and msg.visibility != "public":
            out.append(f" · {msg.visibility}", style="bold yellow")
        out.append("\n")
        out.append(_triage_line(st) + "\n", style="italic")
        out.append("\n")
        out.append(sanitize(msg.text) or "(empty message)")
        out.append("\n")
        if msg.url:
            out.append(f"\n{msg.url}\n", style="dim underline")
        if any(m.id != msg.id for m in thread):
            out.append("\n── thread ──\n", style="dim")
            for m in thread:
                mark = "▶ " if m.id == msg.id else "  "
                style = "bold" if m.id == msg.id else "dim"
                out.append(f"{mark}{m.author.handle} · {age(m.created_at, now)}\n", style=style)
                out.append("   " + sanitize(m.text).replace("\n", "\n   ") + "\n")
        if others:
            out.append("\n── also from this person ──\n", style="dim")
            for m in others:
                out.append(f"{m.channel} · {age(m.created_at, now)} ago: ", style="dim")
                out.append(sanitize(m.text, single_line=True)[:160] + "\n")
        if st.notes:
            out.append("\n── notes ──\n", style="dim")
            for n in st.notes:
                out.append(f"{n.author}: {sanitize(n.text)}\n")
        if st.history:
            out.append("\n── history ──\n", style="dim")
            for h in st.history[-6:]:
                out.append(f"{h.at:%m-%d %H:%M} {h.actor}: {h.action}\n", style="dim")
        self.update(out, layout=False)  # fixed size: no layout pass, only this pane repaints


def _triage_line(st: TriageState) -> str:
    parts = [f"{st.status}", f"priority {st.priority}"]
    if st.assignee:
        parts.append(f"assigned to {st.assignee}")
    if st.tags:
        parts.append(" ".join(f"#{t}" for t in st.tags))
    if st.escalation:
        parts.append(f"escalated to {st.escalation.target}")
    if st.snoozed_until:
        parts.append(f"snoozed until {st.snoozed_until:%m-%d %H:%M}")
    return " · ".join(parts)
