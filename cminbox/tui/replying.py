"""Replying from the inbox: the composer's events, the public-reply confirmation, $EDITOR,
saved replies, and sending through the outbox. The base of the inbox screen."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime

from textual import on, work

from cminbox.core import collision
from cminbox.core.errors import CminboxError
from cminbox.core.models import TriageState
from cminbox.core.outbox import MARK_READ, OutboxItem
from cminbox.core.presence import Activity
from cminbox.tui.composer import Composer
from cminbox.tui.cursor import StillCursorScreen
from cminbox.tui.dialogs import CollisionDialog, ConfirmDialog, TagPicker
from cminbox.tui.editor import edit_in_editor
from cminbox.tui.inbox_list import InboxList
from cminbox.tui.services import Services
from cminbox.tui.ui_thread import from_worker


class ReplyingScreen(StillCursorScreen):
    s: Services

    reply_marks: dict[str, collision.ReplyMark]  # per item: the replies known when its composer opened
    reply_opened: datetime  # when the composer last opened

    def apply_states(self, states: Iterable[TriageState]) -> None:
        raise NotImplementedError  # the inbox screen keeps the header's counts

    def want_presence(self, message_id: str | None, activity: Activity = Activity.VIEWING) -> None:
        raise NotImplementedError  # tui/presence_sync.py

    @property
    def composing(self) -> bool:
        return self.query_one(Composer).target is not None

    @work(thread=True, group="reply-mark")
    def _mark_replies(self, message_id: str) -> None:
        """What was replied to the item when its composer opened (the collision check's base)."""
        try:
            found = collision.mark(self.s.store.outbox, message_id)
        except CminboxError:
            return  # unreadable now: the check at send falls back to the opening time
        from_worker(self, self.reply_marks.__setitem__, message_id, found)

    def _viewing_again(self) -> None:
        row = self.inbox_list.current
        self.want_presence(row.message.id if row is not None else None)

    @property
    def inbox_list(self) -> InboxList:
        return self.query_one(InboxList)

    def action_reply(self) -> None:
        row = self.inbox_list.current
        if row is None:
            return
        caps = self.s.capabilities(row.message.channel)
        if not caps.reply:
            self.notify(
                f"{row.message.channel} is read-only ({row.message.channel_type}): there is no replying here. "
                "Tag, assign, escalate or close it as usual.",
                severity="warning",
                timeout=5,
            )
            return
        composer = self.query_one(Composer)
        message = row.message
        self.reply_marks.pop(message.id, None)
        self.reply_opened = self.s.clock()
        self._mark_replies(message.id)
        composer.open(
            message, self.s.store.get_draft(message.id), lambda text: self.s.inbox.outgoing_reply(message, text)
        )
        self.want_presence(message.id, Activity.REPLYING)

    @on(Composer.Closed)
    def _composer_closed(self, event: Composer.Closed) -> None:
        self.s.store.set_draft(event.message.id, event.draft)
        self.inbox_list.focus()
        self._viewing_again()

    def _refuse(self, event: Composer.Send, why: str) -> None:
        """The composer stays open with the text; the draft is kept on disk too."""
        self.s.store.set_draft(event.message.id, event.text)
        self.notify(f"Not sent: {why}", severity="error", timeout=10, markup=False)

    @on(Composer.Send)
    async def _composer_send(self, event: Composer.Send) -> None:
        """Ask first when someone replied to the item since its composer opened, showing that
        reply; then (for public channels) confirm posting; then queue it."""
        mid = event.message.id
        since = self.reply_marks.get(mid)
        try:
            others = await asyncio.to_thread(self._replies_since, mid, since)
        except CminboxError as exc:
            self._refuse(event, str(exc))
            return
        if others:
            said = [collision.describe(item, self.s.clock(), width=400) for item in others[:3]]

            def answered(ok: bool | None) -> None:
                if ok:
                    self._send_checked(event)

            self.app.push_screen(CollisionDialog(said), answered)
            return
        self._send_checked(event)

    def _replies_since(self, mid: str, since: collision.ReplyMark | None) -> list[OutboxItem]:
        outbox = self.s.store.outbox
        if since is None:  # the composer's mark was not read yet: replies from after it opened
            since = collision.mark(outbox, mid, before=self.reply_opened)
        return collision.replies_since(outbox, since)

    def _send_checked(self, event: Composer.Send) -> None:
        caps = self.s.capabilities(event.message.channel)
        try:
            out = self.s.inbox.outgoing_reply(event.message, event.text)
        except Exception as exc:  # ConfigError (the channel left the config): say it, keep the draft
            self._refuse(event, str(exc))
            return
        if out.too_long:  # before asking to post: the question would be moot
            self._refuse(event, out.refusal(event.message.channel_type))
            return

        def send(ok: bool | None) -> None:
            if not ok:
                return
            try:
                self.s.inbox.reply(event.message.id, event.text)
            except Exception as exc:  # InboxError, ConfigError: say it, keep the draft
                self._refuse(event, str(exc))
                return
            self.s.store.set_draft(event.message.id, "")
            composer = self.query_one(Composer)
            composer.display = False
            composer.target = None
            self.inbox_list.focus()
            self._viewing_again()
            self.notify(f"Reply to {event.message.author.handle} queued; sending…", timeout=3)
            self.deliver_soon()

        if caps.reply_is_public and event.message.visibility in ("public", "unlisted", ""):
            self.app.push_screen(ConfirmDialog(f"Post this reply publicly to {event.message.author.handle}?"), send)
        else:
            send(True)

    @on(Composer.EditorRequested)
    def _composer_editor(self, event: Composer.EditorRequested) -> None:
        text = edit_in_editor(self.app, event.draft, event.message)
        if text is not None:
            self.query_one(Composer).set_text(text)

    @on(Composer.SavedReplyRequested)
    def _saved_reply(self) -> None:
        replies = {r.name: r.text for r in self.s.config.saved_replies}
        if not replies:
            self.notify("No saved replies: add [[saved_replies]] (name, text) to the config.", timeout=5)
            return

        def done(name: str | None) -> None:
            if name:
                self.query_one(Composer).insert(replies[name])

        self.app.push_screen(TagPicker("Insert saved reply", list(replies), allow_new=False), done)

    @work(exclusive=True, group="deliver")
    async def deliver_soon(self) -> None:
        engine = self.s.engine
        if engine is None or not engine.active:
            return  # the instance that holds the poller lock sends it
        for delivery in await engine.dispatcher.deliver_due():
            if delivery.ok:
                if delivery.item.payload.get("action") != MARK_READ:  # bookkeeping, not news
                    self.notify(f"Sent: {delivery.detail}", timeout=4)
            else:
                self.notify(f"Not sent yet: {delivery.detail}", severity="warning", timeout=6)
            self.apply_states([self.s.store.triage(delivery.item.message_id)])
