"""The whole conversation around one item: the stored copy, then live from the channel.

It opens at once with the item itself (or the thread the preview already read); the stored
thread is read on a worker thread and shown when it lands, unless the live one came first.
While it is open, this instance's presence says it is viewing the item (``viewing``, the inbox's).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen

from cminbox.core.channel import Channel, ChannelError
from cminbox.core.errors import CminboxError
from cminbox.core.models import Message
from cminbox.core.secretless import fit_to_show
from cminbox.core.text import bound_text, sanitize
from cminbox.core.when import age
from cminbox.tui.key_footer import KeyFooter
from cminbox.tui.plain import Static
from cminbox.tui.ui_thread import from_worker

log = logging.getLogger("cminbox.tui")


class ThreadScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="thread_back"),
        Binding("j,down", "scroll(1)", "Down", show=False, id="thread_down"),
        Binding("k,up", "scroll(-1)", "Up", show=False, id="thread_up"),
    ]

    def __init__(
        self,
        message: Message,
        stored: list[Message] | None,
        channel: Channel | None,
        clock: Callable[[], datetime],
        *,
        read_stored: Callable[[], list[Message]] | None = None,
        viewing: Callable[[str | None], None] | None = None,
    ) -> None:
        """``stored`` None: read with ``read_stored`` (on a worker thread); ``viewing`` is told
        the item when the screen opens and None when it closes."""
        super().__init__()
        self.message = message
        self.stored = stored
        self.read_stored = read_stored
        self.channel = channel
        self.clock = clock
        self.viewing = viewing
        self.live_shown = False
        self.stored_problem = ""  # why the stored thread could not be read
        self.live_note = "fetching the live thread…" if channel is not None else ""

    def compose(self) -> ComposeResult:
        yield Static(
            Text.assemble(
                (" Thread ", "reverse bold"),
                f"  {self.message.channel} · {sanitize(self.message.url, single_line=True)}",
            ),
            id="thread-title",
        )
        with VerticalScroll(id="thread"):
            yield Static(id="thread-body")
        yield Static("", id="thread-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.viewing is not None:
            self.viewing(self.message.id)
        self.show_stored()
        if self.stored is None and self.read_stored is not None:
            self._read_stored()
        if self.channel is not None:
            self.fetch()

    def on_unmount(self) -> None:
        if self.viewing is not None:
            self.viewing(None)

    def show_stored(self) -> None:
        if self.live_shown:
            return  # the live thread is newer than any stored copy
        if self.stored_problem:
            status = f"the stored thread cannot be read: {self.stored_problem}"
        else:
            status = "loading the stored thread…" if self.stored is None else "stored copy"
        self.show(self.stored or [], status + (f" · {self.live_note}" if self.live_note else ""))

    @work(thread=True, group="thread-stored")
    def _read_stored(self) -> None:
        assert self.read_stored is not None
        try:
            thread = self.read_stored()
        except CminboxError as exc:
            from_worker(self, self._stored_arrived, None, str(exc))
            return
        from_worker(self, self._stored_arrived, thread, "")

    def _stored_arrived(self, thread: list[Message] | None, problem: str) -> None:
        self.stored, self.stored_problem = thread, problem
        self.show_stored()

    def show(self, thread: list[Message], status: str) -> None:
        now = self.clock()
        out = Text()
        for m in thread or [self.message]:
            current = m.id == self.message.id
            out.append("▶ " if current else "  ", style="bold")
            out.append(sanitize(m.author.display_name or m.author.handle, single_line=True), style="bold")
            out.append(f"  {m.author.handle} · {age(m.created_at, now)} ago\n", style="dim")
            body = sanitize(bound_text(m.text)) or "(empty)"  # live threads are not stored: bound them here too
            out.append("  " + body.replace("\n", "\n  ") + "\n\n", style="" if current else "dim")
        self.query_one("#thread-body", Static).update(out)
        self.query_one("#thread-status", Static).update(Text(status, style="dim italic"))

    @work(exclusive=True)
    async def fetch(self) -> None:
        assert self.channel is not None
        try:
            # Not stored, so not made inert on the way in: made so here (a Matrix sender with
            # OSC 52 in it reached the screen: hostile-data trial of 2026-12-01).
            live = fit_to_show(await self.channel.thread(self.message))
        except ChannelError as exc:
            self.live_note = f"the live thread is unavailable: {exc.reason}"
            self.show_stored()
            return
        except Exception as exc:  # a bug in an adapter: the stored thread stays, the app stays up
            log.error("fetching the live thread of %s failed", self.message.id, exc_info=exc)
            self.live_note = f"the live thread is unavailable: internal error ({type(exc).__name__}); see the log"
            self.show_stored()
            return
        self.live_shown = True
        count = f"{len(live)} message{'s' if len(live) != 1 else ''}"
        self.show(live, f"live from {self.message.channel} · {count}")

    def action_scroll(self, lines: int) -> None:
        self.query_one("#thread", VerticalScroll).scroll_relative(y=lines * 3, animate=False)
