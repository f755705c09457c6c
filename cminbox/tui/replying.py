"""Replying from the inbox: the composer's events, the public-reply confirmation, $EDITOR,
saved replies, and sending through the outbox. The base of the inbox screen.

The store is never called on the UI thread here: the saved draft is read and saved on the store
worker (tui/drafts.py), the collision check reads the outbox on a thread, and the reply is
queued on the store worker. The composer closes only once the store has the reply; when it is
refused (the store unreachable, say) the composer stays open with its text and a notification
says why: nothing is lost and nothing is half done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import datetime

from textual import on, work

from cminbox.core import collision, saved_replies
from cminbox.core.errors import CminboxError
from cminbox.core.models import Message, TriageState
from cminbox.core.outbox import MARK_READ, OutboxItem
from cminbox.core.presence import Activity
from cminbox.tui.composer import Composer
from cminbox.tui.cursor import StillCursorScreen
from cminbox.tui.drafts import Drafts
from cminbox.tui.editor import edit_in_editor
from cminbox.tui.inbox_list import InboxList
from cminbox.tui.services import Services
from cminbox.tui.store_worker import Lookups, PreviewData, Write, Writes
from cminbox.tui.ui_thread import from_worker, is_alive


class ReplyingScreen(StillCursorScreen):
    s: Services
    writes: Writes
    drafts: Drafts

    reply_marks: dict[str, collision.ReplyMark]  # per item: the replies known when its composer opened
    reply_opened: datetime  # when the composer last opened
    thread_open: str | None  # the item whose thread view is open (presence says "viewing" it)
    lookups: Lookups[PreviewData]  # the preview's reads (the thread view starts from its copy)

    # Provided by the inbox screen's other parts (tui/store_sync.py, tui/presence_sync.py).
    def apply_states(self, states: Iterable[TriageState], messages: Mapping[str, Message] | None = None) -> set[str]:
        raise NotImplementedError

    def want_presence(self, message_id: str | None, activity: Activity = Activity.VIEWING) -> None:
        raise NotImplementedError

    def refused(self) -> CminboxError | None:
        raise NotImplementedError

    def notice_unreachable(self, exc: CminboxError) -> None:
        raise NotImplementedError

    def reread_states(self, ids: list[str]) -> None:
        raise NotImplementedError

    def known_thread(self, message: Message) -> list[Message] | None:
        """The item's conversation as the preview read it (None: not read yet; asks for it)."""
        raise NotImplementedError

    @property
    def composing(self) -> bool:
        return self.query_one(Composer).target is not None

    @work(thread=True, group="reply-mark")
    def _mark_replies(self, message_id: str) -> None:
        """What was replied to the item when its composer opened (the collision check's base)."""
        try:
            found = collision.mark(self.s.store.outbox, message_id, official=self._official(message_id))
        except CminboxError:
            return  # unreadable now: the check at send falls back to the opening time
        from_worker(self, self.reply_marks.__setitem__, message_id, found)

    def open_thread_of(self, message: Message) -> None:
        """The thread view of an item (of the list, or of the person screen's)."""
        # Live context needs the network: not when the app runs offline (tests, snapshots).
        live = self.s.engine is not None and getattr(self.app, "run_engine", True)
        channel = self.s.engine.channels.get(message.channel) if live and self.s.engine else None
        cached = self.lookups.cache.get(message.id)  # the preview read it already
        from cminbox.tui.thread_screen import ThreadScreen  # imported when first opened, not by the first frame

        self.app.push_screen(
            ThreadScreen(
                message,
                cached.thread if cached is not None else None,
                channel,
                self.s.clock,
                read_stored=lambda: self.s.store.thread_of(message),
                viewing=self.thread_viewing,
            )
        )

    def thread_viewing(self, message_id: str | None) -> None:
        """The thread view of an item opened (its id) or closed (None): while it is open, this
        instance's presence is "viewing" that item, whatever the cursor does meanwhile."""
        if not is_alive(self):
            return  # quitting: the presence record is removed, not rewritten
        self.thread_open = message_id
        self.restore_presence()

    def restore_presence(self) -> None:
        """What this instance shows now: the composer's item (replying), the open thread view's,
        or the item under the cursor (viewing)."""
        composer = self.query_one(Composer)
        if composer.target is not None:
            self.want_presence(composer.target.id, Activity.REPLYING)
        elif self.thread_open is not None:
            self.want_presence(self.thread_open)
        else:
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
            message,
            None,
            lambda text: self.s.inbox.outgoing_reply(message, text),
            lambda text: self.s.inbox.send_check(message, text, self.known_thread(message) or []).warnings,
        )
        session = composer.session
        self.drafts.load(message.id, lambda saved: self._draft_arrived(session, saved))
        self.want_presence(message.id, Activity.REPLYING)

    def _draft_arrived(self, session: int, saved: str | CminboxError) -> None:
        composer = self.query_one(Composer)
        if composer.session != session or composer.target is None:
            return  # closed since: its text was saved on top of the stored draft
        if isinstance(saved, CminboxError):
            self.notice_unreachable(saved)
            self.notify(
                f"The saved draft could not be read: {saved}. What you type is kept and saved below it.",
                severity="warning",
                timeout=10,
                markup=False,
            )
        elif composer.sending:  # too late to show: the stored draft stays, for next time
            if saved.strip():
                self.notify("A saved draft for this item arrived after you sent: it is kept.", timeout=6)
        elif composer.fill_draft(saved):
            self.notify("Your saved draft is above what you typed.", timeout=5)

    @on(Composer.Paused)
    def _composer_paused(self, event: Composer.Paused) -> None:
        self.drafts.save(event.message.id, event.draft)  # on the store worker, in order with the rest

    @on(Composer.Closed)
    def _composer_closed(self, event: Composer.Closed) -> None:
        self.drafts.save(event.message.id, event.draft, on_top=not event.draft_known)
        self.inbox_list.focus()
        self.restore_presence()

    def _open_for(self, event: Composer.Send) -> Composer | None:
        """The composer, if it still shows the opening that asked to send."""
        composer = self.query_one(Composer)
        same = composer.target is not None and composer.session == event.session
        return composer if same else None

    def _not_sent(self, event: Composer.Send, why: str) -> None:
        """The composer stays open with the text, editable again; the draft is saved too."""
        composer = self._open_for(event)
        if composer is not None:
            composer.set_sending(False)
            self.drafts.save(event.message.id, composer.text, on_top=not composer.draft_known)
        self.notify(f"Not sent: {why}", severity="error", timeout=10, markup=False)

    def _send_dropped(self, event: Composer.Send) -> None:
        """Not sent after all (a question answered no): the composer is as it was."""
        composer = self._open_for(event)
        if composer is not None:
            composer.set_sending(False)

    @on(Composer.Send)
    async def _composer_send(self, event: Composer.Send) -> None:
        """Ask first when someone replied to the item since its composer opened, showing that
        reply; then (for public channels) confirm posting; then queue it."""
        if (why := self.refused()) is not None:
            self._not_sent(event, str(why))
            return
        mid = event.message.id
        since = self.reply_marks.get(mid)
        try:
            others = await asyncio.to_thread(self._replies_since, mid, since)
        except CminboxError as exc:
            self.notice_unreachable(exc)
            self._not_sent(event, str(exc))
            return
        if self._open_for(event) is None:
            self.notify("Not sent: the composer was closed. The reply is kept as the draft.", timeout=6)
            return
        if others:
            said = [collision.describe_answer(answer, self.s.clock(), width=400) for answer in others[:3]]

            def answered(ok: bool | None) -> None:
                if ok:
                    self._send_checked(event)
                else:
                    self._send_dropped(event)

            from cminbox.tui.dialogs import CollisionDialog

            self.app.push_screen(CollisionDialog(said), answered)
            return
        self._send_checked(event)

    def _official(self, mid: str) -> list[Message]:
        """The team's own accounts' replies in the item's conversation (worker thread): a reply
        written on the channel's site counts once a poll brought it in."""
        staff = collision.staff_handles(self.s.config.channels)
        message = self.s.store.get_message(mid) if staff else None
        return collision.official_replies(self.s.store.thread_of(message), message, staff) if message else []

    def _replies_since(self, mid: str, since: collision.ReplyMark | None) -> list[collision.Answer]:
        outbox = self.s.store.outbox
        official = self._official(mid)
        if since is None:  # the composer's mark was not read yet: replies from after it opened
            since = collision.mark(outbox, mid, before=self.reply_opened, official=official)
        return collision.answers_since(outbox, since, official=official)

    def _send_checked(self, event: Composer.Send) -> None:
        caps = self.s.capabilities(event.message.channel)
        try:
            out = self.s.inbox.outgoing_reply(event.message, event.text)
        except Exception as exc:  # ConfigError (the channel left the config): say it, keep the draft
            self._not_sent(event, str(exc))
            return
        if out.too_long:  # before asking to post: the question would be moot
            self._not_sent(event, out.refusal(event.message.channel_type))
            return
        thread = self.known_thread(event.message)
        check = self.s.inbox.send_check(event.message, event.text, thread if thread is not None else [])

        def send(ok: bool | None) -> None:
            if ok:
                self._enqueue(event)
            else:
                self._send_dropped(event)

        # Mentions outside the thread (core/send_lint.py) join the question; a private reply
        # that would let them read it always asks, even where replies are not public.
        said = "".join(f"\n⚠ {w}." for w in check.warnings)
        from cminbox.tui.dialogs import ConfirmDialog

        if caps.reply_is_public and event.message.visibility in ("public", "unlisted", ""):
            self.app.push_screen(
                ConfirmDialog(f"Post this reply publicly to {event.message.author.handle}?{said}"), send
            )
        elif check.holds:
            self.app.push_screen(ConfirmDialog(f"Send this private reply anyway?{said}"), send)
        else:
            send(True)

    def _enqueue(self, event: Composer.Send) -> None:
        """Queue the reply on the store worker; the composer closes once the store has it."""
        mid = event.message.id

        def queued(_item: OutboxItem, _states: dict[str, TriageState]) -> None:
            if event.draft_known:  # else a draft read after sending is still in the store: kept
                self.drafts.save(mid, "")
            composer = self._open_for(event)
            if composer is not None:
                composer.display = False
                composer.target = None
                composer.set_sending(False)
                self.inbox_list.focus()
                self.restore_presence()
            self.notify(f"Reply to {event.message.author.handle} queued; sending…", timeout=3)
            self.deliver_soon()

        def failed(exc: CminboxError) -> None:
            self.notice_unreachable(exc)  # the banner, when the store cannot be reached at all
            self._not_sent(event, str(exc))

        composer = self._open_for(event)
        if composer is not None:
            composer.set_sending(True, "queueing the reply…")
        self.writes.submit(Write(lambda: self.s.inbox.reply(mid, event.text), {}, queued, failed))

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

        composer = self.query_one(Composer)
        target = composer.target

        def done(name: str | None) -> None:
            if not name or target is None:
                return
            try:  # in memory: the variables come from the item already shown
                text = saved_replies.expand(replies[name], saved_replies.Context(target, self.s.config.actor))
            except CminboxError as exc:
                self.notify(str(exc), title=f"Saved reply {name!r} not inserted", severity="error", timeout=8)
                return
            composer.insert(text)

        from cminbox.tui.dialogs import SavedReplyPicker

        self.app.push_screen(SavedReplyPicker(list(replies)), done)

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
            self.reread_states([delivery.item.message_id])
