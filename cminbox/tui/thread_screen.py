"""The whole conversation around one item: stored at once, then live from the channel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from cminbox.core.channel import Channel, ChannelError
from cminbox.core.models import Message
from cminbox.core.text import bound_text, sanitize
from cminbox.core.when import age


class ThreadScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="thread_back"),
        Binding("j,down", "scroll(1)", "Down", show=False, id="thread_down"),
        Binding("k,up", "scroll(-1)", "Up", show=False, id="thread_up"),
    ]

    def __init__(
        self, message: Message, stored: list[Message], channel: Channel | None, clock: Callable[[], datetime]
    ) -> None:
        super().__init__()
        self.message = message
        self.stored = stored
        self.channel = channel
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield Static(
            Text.assemble((" Thread ", "reverse bold"), f"  {self.message.channel} · {self.message.url}"),
            id="thread-title",
        )
        with VerticalScroll(id="thread"):
            yield Static(id="thread-body")
        yield Static("", id="thread-status")
        yield Footer()

    def on_mount(self) -> None:
        self.show(self.stored, "stored copy" + (" · fetching the live thread…" if self.channel else ""))
        if self.channel is not None:
            self.fetch()

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
            live = await self.channel.thread(self.message)
        except ChannelError as exc:
            self.show(self.stored, f"stored copy · the live thread is unavailable: {exc.reason}")
            return
        count = f"{len(live)} message{'s' if len(live) != 1 else ''}"
        self.show(live, f"live from {self.message.channel} · {count}")

    def action_scroll(self, lines: int) -> None:
        self.query_one("#thread", VerticalScroll).scroll_relative(y=lines * 3, animate=False)
