"""The inline reply composer: the channel's limit live, $EDITOR, saved replies, drafts.

The counter measures the reply as the channel will send it (Mastodon's @mention included,
Bluesky's graphemes), through the same core call that refuses an over-long reply."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message as TextualMessage
from textual.widgets import Label, TextArea

from cminbox.core.channel import OutgoingReply
from cminbox.core.models import Message


class Composer(Vertical):
    """Docked under the list. Closing keeps the draft; only sending clears it."""

    # Priority: the focused TextArea binds ctrl+e (end of line) itself and would win otherwise.
    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="composer_send", priority=True),
        Binding("ctrl+e", "editor", "$EDITOR", id="composer_editor", priority=True),
        Binding("ctrl+r", "saved_reply", "Saved reply", id="composer_saved", priority=True),
        Binding("escape", "close", "Close (keeps draft)", id="composer_close"),
    ]

    class Send(TextualMessage):
        def __init__(self, message: Message, text: str) -> None:
            super().__init__()
            self.message = message
            self.text = text

    class Closed(TextualMessage):
        def __init__(self, message: Message, draft: str) -> None:
            super().__init__()
            self.message = message
            self.draft = draft

    class EditorRequested(TextualMessage):
        def __init__(self, message: Message, draft: str) -> None:
            super().__init__()
            self.message = message
            self.draft = draft

    class SavedReplyRequested(TextualMessage):
        pass

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.target: Message | None = None
        self.measure: Callable[[str], OutgoingReply] | None = None

    def compose(self) -> ComposeResult:
        yield Label("", id="composer-title")
        yield TextArea(id="composer-text", soft_wrap=True, show_line_numbers=False)
        yield Label("", id="composer-status")

    def open(self, message: Message, draft: str, measure: Callable[[str], OutgoingReply]) -> None:
        """Only for channels that can reply: the inbox screen says so for read-only ones.
        ``measure`` gives the reply as the channel will send it."""
        self.target = message
        self.measure = measure
        title = Text.assemble(("Reply to ", "bold"), (message.author.handle, "bold"), f" on {message.channel}")
        if message.visibility and message.visibility != "public":
            title.append(f" ({message.visibility})", style="bold yellow")
        self.query_one("#composer-title", Label).update(title)
        area = self.query_one(TextArea)
        area.load_text(draft)
        area.move_cursor(area.document.end)
        self.display = True
        area.focus()
        self._update_status()

    @on(TextArea.Changed)
    def _update_status(self) -> None:
        status = self.query_one("#composer-status", Label)
        if self.measure is None:
            return
        out = self.measure(self.query_one(TextArea).text)
        left = out.left
        if left is None:
            status.update(
                Text(f"{out.length} {out.unit} · ctrl+s send · ctrl+e $EDITOR · ctrl+r saved replies · esc close")
            )
            return
        style = "bold red" if left < 0 else "bold yellow" if left < 20 else "dim"
        status.update(
            Text.assemble(
                (f"{left} left", style),
                " · ctrl+s send · ctrl+e $EDITOR · ctrl+r saved replies · esc close (keeps draft)",
            )
        )

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    def set_text(self, text: str) -> None:
        area = self.query_one(TextArea)
        area.load_text(text)
        area.move_cursor(area.document.end)

    def insert(self, text: str) -> None:
        self.query_one(TextArea).insert(text)

    def action_send(self) -> None:
        if self.target is not None and self.text.strip():
            self.post_message(self.Send(self.target, self.text.strip()))

    def action_close(self) -> None:
        if self.target is not None:
            self.post_message(self.Closed(self.target, self.text))
        self.display = False
        self.target = None

    def action_editor(self) -> None:
        if self.target is not None:
            self.post_message(self.EditorRequested(self.target, self.text))

    def action_saved_reply(self) -> None:
        self.post_message(self.SavedReplyRequested())
