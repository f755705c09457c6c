"""The guideline follow-up in the inbox: the moderation dialog's guideline (M) and ``F``, which
tells the author of an item moderated earlier (or outside cminbox) which guideline applied.

A mixin of :class:`~cminbox.tui.inbox_screen.InboxScreen`. The preview is computed on the UI
thread from the config and the channel's declaration only (no store); queueing runs on the
store worker through ``write`` like every other key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from cminbox.core import guideline_ops
from cminbox.core.errors import CminboxError
from cminbox.core.guidelines import FollowUp, Via
from cminbox.core.models import Message
from cminbox.core.text import sanitize

if TYPE_CHECKING:
    from cminbox.tui.moderation import ModerationRequest, Preview
    from cminbox.tui.triage_keys import TriageKeys as _Base
else:
    _Base = object

_HOW = {Via.DM: "by direct message", Via.REPLY: "as a reply"}


def preview_text(fu: FollowUp, count: int, *, after_action: bool) -> Text:
    """The follow-up as it will be sent (server text made inert), how, and its length."""
    if not fu.ok or fu.outgoing is None:
        return Text.assemble(("No follow-up: ", "bold"), fu.problem)
    out = fu.outgoing
    when = f", once the {fu.action} succeeds" if after_action else ""
    text = Text()
    text.append(f"Follow-up {_HOW[fu.route.via]} on {fu.message.channel}{when}:\n", style="bold")
    text.append(sanitize(out.text) + "\n")
    size = f"{out.length}/{out.limit} {out.unit}" if out.limit is not None else f"{out.length} {out.unit}"
    more = f" · and {count - 1} more, each to its author" if count > 1 else ""
    text.append(f"{size}{more} · sent once", style="dim")
    return text


class GuidelineKeys(_Base):
    def guideline_names(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.s.config.guidelines)

    def _messages(self, ids: list[str]) -> list[Message]:
        rows, at = self.inbox_list.rows, self.inbox_list.index.positions(ids)
        return [rows[at[mid]].message for mid in ids if mid in at]

    def guideline_preview(self, ids: list[str], *, after_action: bool) -> Preview | None:
        messages = self._messages(ids)
        if not messages:
            return None
        first = messages[0]

        def show(guideline: str, action: str) -> Text:
            try:
                fu = guideline_ops.preview(self.s.inbox, first, guideline, action, after_action=after_action)
            except CminboxError as exc:
                return Text(str(exc), style="bold")
            return preview_text(fu, len(messages), after_action=after_action)

        return show

    def moderate_with_guideline(self, ids: list[str], channel: str, req: ModerationRequest) -> None:
        def queued(q: guideline_ops.Queued) -> None:
            told = f"; the author is told {_HOW[Via(q.follow_ups[0].payload['via'])]} once it succeeds"
            why = f"; no follow-up: {q.skipped[0][1]}" if q.skipped else ""
            self.notify(
                f"{req.action.capitalize()} queued for {len(q.actions)} item(s) on {channel} "
                f"({req.guideline}){told if q.follow_ups else why}",
                timeout=6,
                markup=False,
            )
            self.deliver_soon()

        call = lambda: guideline_ops.moderate(self.s.inbox, ids, req.action, req.reason, req.guideline)  # noqa: E731
        self.write(ids, None, call, "", then=queued)

    def action_follow_up(self) -> None:
        """F: tell the author of an item moderated earlier which guideline applied."""
        if not (ids := self.targets()):
            return
        names = self.guideline_names()
        if not names:
            self.notify("No guidelines: add [[guidelines]] (name, text, url) to the config.", severity="warning")
            return
        preview = self.guideline_preview(ids, after_action=False)

        def done(guideline: str | None) -> None:
            if not guideline:
                return

            def queued(q: guideline_ops.Queued) -> None:
                n = len(q.follow_ups)
                how = _HOW[Via(q.follow_ups[0].payload["via"])] if q.follow_ups else ""
                self.notify(f"Follow-up ({guideline}) queued {how} for {n} item(s)", timeout=5, markup=False)
                self.deliver_soon()

            call = lambda: guideline_ops.follow_up(self.s.inbox, ids, guideline)  # noqa: E731
            self.write(ids, None, call, "", then=queued)

        from cminbox.tui.moderation import FollowUpDialog

        self.app.push_screen(FollowUpDialog(names, len(ids), preview), done)
