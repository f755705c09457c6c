"""The community-answer keys of the inbox: confirm (c), correct (C), who helps most (H).

A mixin of :class:`~cminbox.tui.inbox_screen.InboxScreen`. Confirm goes through the triage
keys' :meth:`write` (the row shows it at once, the store worker writes it, one ``u`` takes
status and credit back); the thank-you, when ``[community] thank_you`` names a saved reply,
is queued in the same write (once per answer: core/community_ops.py). Correct opens the
reply composer on the question with the community answer quoted; the answer's text comes
from the rows when it is loaded there, else from a worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from cminbox.core.community import COMMUNITY, confirmed_by
from cminbox.core.community_ops import QUOTED, CommunityOps, Confirmed, parse_since
from cminbox.core.errors import CminboxError
from cminbox.core.models import Answered, Status, TriageState
from cminbox.core.text import one_line
from cminbox.core.triage import Action, SetAnswer, SetStatus, Several
from cminbox.tui.composer import Composer
from cminbox.tui.ui_thread import from_worker

if TYPE_CHECKING:
    from cminbox.tui.triage_keys import TriageKeys as _Base
else:
    _Base = object


class CommunityKeys(_Base):
    @property
    def community_ops(self) -> CommunityOps:
        return CommunityOps(self.s.config, self.s.store, self.s.clock)

    def _community_answer(self) -> tuple[str, Answered] | None:
        """The item under the cursor and its community answer, or a notice why there is none."""
        row = self.inbox_list.current
        if row is None:
            return None
        found = row.state.answered
        if found is None or found.kind != COMMUNITY:
            why = "was answered by staff first" if found is not None else "has no community answer"
            self.notify(f"This item {why}.", severity="warning", timeout=3)
            return None
        return row.message.id, found

    def action_confirm_answer(self) -> None:
        if (picked := self._community_answer()) is None:
            return
        mid, answered = picked
        ops, now, me = self.community_ops, self.s.clock(), self.s.config.actor
        thank = bool(self.s.config.community.thank_you)

        def confirming(state: TriageState) -> Action | None:
            a = state.answered
            if a is None or a.kind != COMMUNITY:
                return None
            return Several((SetStatus(Status.DONE), SetAnswer(a if a.confirmed_at else confirmed_by(a, now, me))))

        def said(result: Confirmed) -> None:
            thanks = " · thank-you queued" if result.thanked is not None else ""
            who = one_line(answered.handle, 60)
            self.notify(f"Answer by {who} confirmed{thanks} · {self.undo_key} undoes", timeout=4)

        self.write([mid], confirming, lambda: ops.confirm(mid, thank=thank), "Answer confirmed", said)

    def action_correct_answer(self) -> None:
        if (picked := self._community_answer()) is None:
            return
        mid, answered = picked
        self.action_reply()
        composer = self.query_one(Composer)
        if composer.target is None or composer.target.id != mid:
            return  # read-only channel: action_reply said so
        session = composer.session
        i = self.inbox_list.index.get(answered.message_id)
        if i is not None:  # the answer is on screen: no store read needed
            said = one_line(self.inbox_list.rows[i].message.text, QUOTED)
            self._quote_arrived(session, f"> {answered.name or answered.handle} ({answered.handle}) wrote: {said}\n\n")
        else:
            self._read_quote(session, mid)

    @work(thread=True, group="answer-quote")
    def _read_quote(self, session: int, mid: str) -> None:
        try:
            quote = self.community_ops.quote(mid)
        except CminboxError as exc:
            from_worker(self, self._quote_unread, str(exc))
            return
        from_worker(self, self._quote_arrived, session, quote)

    def _quote_unread(self, problem: str) -> None:
        self.notify(f"The answer could not be read to quote it: {problem}", severity="warning", timeout=6, markup=False)

    def _quote_arrived(self, session: int, quote: str) -> None:
        composer = self.query_one(Composer)
        if composer.session != session or composer.target is None:
            return  # closed since
        composer.set_text(quote + composer.text)

    def action_helpers(self) -> None:
        ops = self.community_ops
        from cminbox.tui.helpers_screen import HelpersScreen

        self.app.push_screen(HelpersScreen(ops.top, parse_since))
