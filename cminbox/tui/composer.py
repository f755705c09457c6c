"""The inline reply composer: the channel's limit live, $EDITOR, saved replies, drafts.

The counter measures the reply as the channel will send it (Mastodon's @mention included,
Bluesky's graphemes), through the same core call that refuses an over-long reply.

It opens at once; the saved draft is read on a worker and filled in when it lands
(tui/drafts.py). From ctrl+s until the reply is queued (or refused) the text is read-only and a
second ctrl+s does nothing: what is queued is exactly what is shown, and only once."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message as TextualMessage
from textual.timer import Timer

from cminbox.core.channel import OutgoingReply
from cminbox.core.models import Message
from cminbox.tui.cursor import still_cursor
from cminbox.tui.drafts import joined
from cminbox.tui.plain import Label

if TYPE_CHECKING:  # made at the first opening (Composer.area), not with the screen
    from cminbox.tui.typed_area import TextArea


AUTOSAVE_AFTER = 2.0  # seconds without a keystroke before the draft is saved


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
        def __init__(self, message: Message, text: str, session: int, draft_known: bool) -> None:
            super().__init__()
            self.message = message
            self.text = text
            self.session = session  # which opening of the composer asked
            self.draft_known = draft_known  # the saved draft was read into the text before sending

    class Closed(TextualMessage):
        def __init__(self, message: Message, draft: str, draft_known: bool) -> None:
            super().__init__()
            self.message = message
            self.draft = draft
            self.draft_known = draft_known  # else the text goes on top of the stored draft

    class Opened(TextualMessage):
        """The composer is open on an item (the demos' notice steps aside: tui/launch.py)."""

    class Paused(TextualMessage):
        """The text has not changed for :data:`AUTOSAVE_AFTER` seconds: worth saving as the draft."""

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
        # Who the text mentions outside the thread (core/send_lint.py), as short warnings.
        self.lint: Callable[[str], list[str]] | None = None
        self.session = 0  # counts openings: a draft read for an earlier one is dropped
        self.draft_known = False  # the saved draft is in the text (read, or known to be empty)
        self.sending = False  # from ctrl+s until the reply is queued or refused
        self.note = ""  # said on the status line instead of the counter ("queueing the reply…")
        self._pause: Timer | None = None  # the autosave's wait for a pause in typing

    def compose(self) -> ComposeResult:
        yield Label("", id="composer-title")
        yield Label("", id="composer-status")

    @property
    def area(self) -> TextArea:
        """The text, made and mounted the first time it is needed: TextArea's import, styles
        and mount were ~7 ms of the inbox's first frame, for a composer most starts never open
        (issue #14)."""
        from cminbox.tui.typed_area import TextArea

        found = self.query(TextArea)
        if found:
            return found.first()
        area = still_cursor(self.app, TextArea(id="composer-text", soft_wrap=True, show_line_numbers=False))
        self.mount(area, before="#composer-status")
        return area

    def open(
        self,
        message: Message,
        draft: str | None,
        measure: Callable[[str], OutgoingReply],
        lint: Callable[[str], list[str]] | None = None,
    ) -> None:
        """Only for channels that can reply: the inbox screen says so for read-only ones.
        ``measure`` gives the reply as the channel will send it; ``draft`` None: not read yet
        (:meth:`fill_draft` puts it in when it is); ``lint`` the warnings on the text as sent."""
        self.session += 1
        self.target = message
        self.post_message(self.Opened())
        self.measure = measure
        self.lint = lint
        self.draft_known = draft is not None
        self.set_sending(False)
        title = Text.assemble(("Reply to ", "bold"), (message.author.handle, "bold"), f" on {message.channel}")
        if message.visibility and message.visibility != "public":
            title.append(f" ({message.visibility})", style="bold yellow")
        self.query_one("#composer-title", Label).update(title)
        area = self.area
        area.load_text(draft or "")
        area.move_cursor(area.document.end)
        self.display = True
        area.focus()
        self._update_status()

    def fill_draft(self, saved: str) -> bool:
        """The saved draft, read: in the text, above anything typed meanwhile (never over it).
        True when both are kept (worth saying)."""
        self.draft_known = True
        typed = self.text
        both = joined(saved, typed)
        if both != typed:
            self.set_text(both)
        return bool(saved.strip() and typed.strip() and both != typed)

    def set_sending(self, sending: bool, note: str = "") -> None:
        self.sending, self.note = sending, note
        self.area.read_only = sending
        self._update_status()

    def on_key(self, event: events.Key) -> None:
        """While sending, the text is read-only and a key typed then goes nowhere: it must not
        reach the inbox behind (enter would open the thread view, d would close the item)."""
        if self.sending and event.key != "escape":
            event.stop()

    def on_text_area_changed(self) -> None:
        self._update_status()
        # A draft was saved when the composer closed: a kill -9, a lost SSH session or a power cut
        # while typing lost it all (review of 2026-12-01). Saved once typing pauses too, when the
        # stored draft is already in the text (else the close joins the two, as before).
        if self.target is not None and self.draft_known and not self.sending:
            if self._pause is not None:
                self._pause.stop()
            self._pause = self.set_timer(AUTOSAVE_AFTER, functools.partial(self._paused, self.session))

    def _paused(self, session: int) -> None:
        self._pause = None
        if self.target is not None and self.session == session and self.draft_known and not self.sending:
            self.post_message(self.Paused(self.target, self.text))

    def _update_status(self) -> None:
        status = self.query_one("#composer-status", Label)
        if self.measure is None:
            return
        if self.note:
            status.update(Text(self.note, style="italic"))
            return
        text = self.area.text
        out = self.measure(text)
        left = out.left
        warned = Text()
        for warning in self.lint(text) if self.lint is not None else []:
            warned.append(f"⚠ {warning}\n", style="bold yellow")
        if left is None:
            warned.append(f"{out.length} {out.unit} · ctrl+s send · ctrl+e $EDITOR · ctrl+r saved replies · esc close")
            status.update(warned)
            return
        style = "bold red" if left < 0 else "bold yellow" if left < 20 else "dim"
        status.update(
            Text.assemble(
                warned,
                (f"{left} left", style),
                " · ctrl+s send · ctrl+e $EDITOR · ctrl+r saved replies · esc close (keeps draft)",
            )
        )

    @property
    def text(self) -> str:
        from cminbox.tui.typed_area import TextArea

        found = self.query(TextArea)  # never opened: no text, and no reason to make the area
        return found.first().text if found else ""

    def set_text(self, text: str) -> None:
        area = self.area
        area.load_text(text)
        area.move_cursor(area.document.end)

    def insert(self, text: str) -> None:
        self.area.insert(text)

    # ctrl+s, ctrl+e and ctrl+r are priority bindings: the App runs them as the key arrives,
    # before the text box has taken the keys typed just before (they wait in its queue). Over a
    # slow link a burst of typing and ctrl+s come in one read, and the reply went without its
    # last words (tmux, 2026-12-01). Each acts once the box has had every key before it.
    def action_send(self) -> None:
        self.area.call_later(self._send)

    def action_editor(self) -> None:
        self.area.call_later(self._editor)

    def action_saved_reply(self) -> None:
        self.area.call_later(self._saved_reply)

    def _send(self) -> None:
        """Once: the text is read-only until the inbox says the reply was queued or refused."""
        self._stop_pause()
        if self.target is not None and not self.sending and self.text.strip():
            self.set_sending(True)
            self.post_message(self.Send(self.target, self.text.strip(), self.session, self.draft_known))

    def _stop_pause(self) -> None:
        if self._pause is not None:
            self._pause.stop()
            self._pause = None

    def action_close(self) -> None:
        self._stop_pause()  # the close saves the text itself
        if self.target is not None:
            self.post_message(self.Closed(self.target, self.text, self.draft_known))
        self.display = False
        self.target = None
        self.sending, self.note = False, ""  # a send already asked for goes on; its text is kept as the draft too
        self.area.read_only = False

    def _editor(self) -> None:
        if self.target is not None and not self.sending:
            self.post_message(self.EditorRequested(self.target, self.text))

    def _saved_reply(self) -> None:
        if not self.sending:
            self.post_message(self.SavedReplyRequested())
