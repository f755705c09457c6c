"""Community answers on screen: the preview's "answered by" line, and "Who helps most" (H).

The ranking is read on a worker (core/community_ops.CommunityOps.top: a query over the store)
and shown when it lands; names come from servers, so every piece is a ``rich.text.Text``
built from sanitised strings, never markup.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from cminbox.core.community_ops import Helper
from cminbox.core.errors import CminboxError
from cminbox.core.text import cell_safe, fit_cells, one_line, sanitize
from cminbox.tui.key_footer import KeyFooter
from cminbox.tui.plain import Static
from cminbox.tui.ui_thread import from_worker

WINDOWS = ("30d", "7d", "90d")  # `s` cycles them
Rank = Callable[[timedelta], list[Helper]]  # the store read, run on a worker


def ranking_text(helpers: list[Helper], since: str, width: int) -> Text:
    """The ranking as a table of fixed columns (names cut to fit, cells measured)."""
    out = Text()
    if not helpers:
        out.append(f"Nobody answered or replied to others in the last {since}.", style="dim italic")
        return out
    name_w = max(12, min(40, width - 46))
    out.append(
        f"{'#':>3}  {'who':<{name_w}}  {'confirmed':>9}  {'answers':>7}  {'replies':>7}  channels\n", style="dim"
    )
    for i, h in enumerate(helpers, start=1):
        label = cell_safe(one_line(sanitize(f"{h.name} ({h.handle})" if h.handle else h.name, single_line=True), 80))
        per = " ".join(f"{cell_safe(ch)} {n}" for ch, n in sorted(h.channels.items()))
        out.append(f"{i:>3}  ")
        out.append(fit_cells(label, name_w), style="bold" if i == 1 else "")
        out.append(f"  {h.confirmed:>9}  {h.answers:>7}  {h.replies:>7}  ")
        out.append(per + "\n", style="dim")
    return out


class HelpersScreen(Screen[None]):
    """Who helps most: confirmed answers, then community answers, then replies to others."""

    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="helpers_back"),
        Binding("s", "cycle_since", "Since", id="helpers_since"),
        Binding("R", "reread", "Read again", id="helpers_reread"),
    ]

    def __init__(self, rank: Rank, parse_since: Callable[[str], timedelta]) -> None:
        super().__init__()
        self.rank = rank
        self.parse_since = parse_since
        self.since = WINDOWS[0]
        self.helpers: list[Helper] | None = None
        self._reads = 0

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="helpers-title")
        yield Static(Text("reading…", style="dim italic"), id="helpers-table")
        yield KeyFooter()

    def _title(self) -> Text:
        return Text.assemble((" Who helps most ", "reverse bold"), f"  last {self.since} · s: since · q: back")

    def on_mount(self) -> None:
        self.read()

    def read(self) -> None:
        self._reads += 1
        self._read(self._reads, self.parse_since(self.since))

    @work(thread=True, group="helpers-read")
    def _read(self, number: int, since: timedelta) -> None:
        try:
            found = self.rank(since)
        except CminboxError as exc:
            from_worker(self, self._unreadable, number, str(exc))
            return
        from_worker(self, self.show, number, found)

    def _unreadable(self, number: int, problem: str) -> None:
        if number == self._reads:
            self.query_one("#helpers-table", Static).update(Text(f"cannot be read: {problem}", style="bold"))

    def show(self, number: int, helpers: list[Helper]) -> None:
        if number != self._reads:
            return  # a newer read is on its way
        self.helpers = helpers
        self.query_one("#helpers-title", Static).update(self._title())
        self.query_one("#helpers-table", Static).update(ranking_text(helpers, self.since, self.size.width))

    def action_cycle_since(self) -> None:
        self.since = WINDOWS[(WINDOWS.index(self.since) + 1) % len(WINDOWS)]
        self.read()

    def action_reread(self) -> None:
        self.read()
