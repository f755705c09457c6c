"""The triage keys of the inbox: status, priority, undo, tag, untag, assign, snooze, escalate.

A mixin of :class:`~cminbox.tui.inbox_screen.InboxScreen` (kept apart so each file stays
small). Every handler calls one of the core's triage verbs through :meth:`attempt`, so a
refusal (a broken store file, say) is a notification, never a crash.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from cminbox.core.errors import CminboxError
from cminbox.core.models import Status, TriageState
from cminbox.core.store_api import ActResult
from cminbox.tui.bulk_confirm import BulkChoice, BulkConfirm
from cminbox.tui.dialogs import AssignDialog, EscalateDialog, EscalationRequest, SnoozeDialog, TagPicker
from cminbox.tui.inbox_list import InboxList, Row
from cminbox.tui.moderation import ModerateDialog, ModerationRequest

if TYPE_CHECKING:
    from cminbox.tui.replying import ReplyingScreen as _Base
else:
    _Base = object

R = TypeVar("R")
STORE_ERRORS = (CminboxError,)  # every refusal the core explains (a broken or unwritable file, ...)


class TriageKeys(_Base):
    if TYPE_CHECKING:  # provided by InboxScreen
        inbox_list: InboxList
        all_rows: list[Row]

        def apply_states(self, states: Iterable[TriageState]) -> None: ...

        def reload(self) -> None: ...

        def refresh_chrome(self) -> None: ...

    def attempt(self, verb: Callable[[], R]) -> R | None:
        """Run a triage verb; a refusal (a broken store file, an unknown target) is a
        notification, never a crash, and the inbox stays as it was."""
        try:
            return verb()
        except STORE_ERRORS as exc:
            self.notify(str(exc), title="Not done", severity="error", timeout=15, markup=False)
            return None

    def after_action(self, result: ActResult | None, what: str) -> None:
        if result is None:
            return
        bulk = bool(self.inbox_list.selected)
        self.apply_states(self.s.store.triage(mid) for mid in result.changed)
        if bulk:
            self.inbox_list.selected.clear()
            self.inbox_list.refresh()
        elif self.s.config.ui.auto_advance:
            self.advance()
        self.refresh_chrome()
        n = len(result.changed)
        self.notify(
            f"{what} · {n} item{'s' if n != 1 else ''} · u undoes" if n else f"{what}: nothing changed", timeout=3
        )

    def advance(self) -> None:
        """Move to the next item that still needs attention (the incident flow: one key per item)."""
        rows, now = self.inbox_list.rows, self.s.clock()
        for i in range(self.inbox_list.cursor + 1, len(rows)):
            if rows[i].state.needs_attention(now):
                self.inbox_list.cursor = i
                return

    def targets(self) -> list[str]:
        ids = self.inbox_list.target_ids()
        if not ids:
            self.notify("Nothing selected", severity="warning", timeout=2)
        return ids

    def action_set_status(self, status: str) -> None:
        """On several items, those it would take work from (escalated, someone else's, an unsent
        draft) are not changed silently: one question, or nothing to ask."""
        if not (ids := self.targets()):
            return
        want = Status(status)
        label = want.value.capitalize()
        plan = self.attempt(lambda: self.s.inbox.plan_status(ids, want))
        if plan is None:
            return
        if not plan.held:
            self.after_action(self.attempt(lambda: self.s.inbox.set_status(ids, want)), label)
            return

        def answered(choice: BulkChoice | None) -> None:
            if choice is None:
                self.notify("Nothing changed", timeout=2)
            elif choice == "all":
                self.after_action(self.attempt(lambda: self.s.inbox.set_status(plan.all_ids, want)), label)
            else:
                result = self.attempt(lambda: self.s.inbox.set_status(plan.clear, want))
                self.after_action(result, f"{label} (skipped {len(plan.held)}: {plan.summary()})")

        self.app.push_screen(BulkConfirm(plan), answered)

    def action_cycle_priority(self) -> None:
        if ids := self.targets():
            self.after_action(self.attempt(lambda: self.s.inbox.cycle_priority(ids)), "Priority")

    def action_undo(self) -> None:
        try:
            result = self.s.inbox.undo()
        except STORE_ERRORS as exc:
            self.notify(str(exc), title="Not undone", severity="error", timeout=15, markup=False)
            return
        if result is None:
            self.notify("Nothing to undo", timeout=2)
            return
        self.apply_states(self.s.store.triage(mid) for mid in result.changed)
        if any(mid not in self.inbox_list.index for mid in result.changed):
            self.reload()  # the restored items left the view earlier (a reload since): bring them back
        back = [self.inbox_list.index[mid] for mid in result.changed if mid in self.inbox_list.index]
        if back:
            self.inbox_list.cursor = min(back)  # show what was restored
        self.refresh_chrome()
        self.notify(f"Undone: {result.label} ({len(result.changed)})", timeout=3)

    def action_tag(self) -> None:
        if not (ids := self.targets()):
            return
        usage = Counter(t for r in self.all_rows for t in r.state.tags)
        tags = [t for t, _ in usage.most_common()]

        def done(tag: str | None) -> None:
            if tag:
                self.after_action(self.attempt(lambda: self.s.inbox.tag(ids, [tag])), f"Tagged #{tag}")

        self.app.push_screen(TagPicker("Tag", tags), done)

    def action_untag(self) -> None:
        if not (ids := self.targets()):
            return
        present = sorted({t for mid in ids for t in self.s.store.triage(mid).tags})
        if not present:
            self.notify("No tags to remove", timeout=2)
            return

        def done(tag: str | None) -> None:
            if tag:
                self.after_action(self.attempt(lambda: self.s.inbox.untag(ids, [tag])), f"Removed #{tag}")

        self.app.push_screen(TagPicker("Remove tag", present, allow_new=False), done)

    def action_assign(self) -> None:
        if not (ids := self.targets()):
            return
        people = sorted({r.state.assignee for r in self.all_rows if r.state.assignee} | {self.s.config.actor})
        current = self.s.store.triage(ids[0]).assignee

        def done(who: str | None) -> None:
            if who is not None:
                self.after_action(
                    self.attempt(lambda: self.s.inbox.assign(ids, who or None)),
                    f"Assigned to {who}" if who else "Unassigned",
                )

        self.app.push_screen(AssignDialog(people, current), done)

    def action_snooze(self) -> None:
        if not (ids := self.targets()):
            return

        def done(until: Any) -> None:
            if until is not None:
                self.after_action(
                    self.attempt(lambda: self.s.inbox.snooze(ids, until)), f"Snoozed until {until:%a %d %b %H:%M}"
                )

        self.app.push_screen(SnoozeDialog(self.s.clock()), done)

    def action_escalate(self) -> None:
        if not (ids := self.targets()):
            return
        targets = [t.name for t in self.s.config.targets]
        if not targets:
            self.notify(
                "No escalation targets are configured: add [[escalation.targets]] to the config.",
                severity="error",
                timeout=6,
            )
            return

        def done(req: EscalationRequest | None) -> None:
            if req is not None:
                out = self.attempt(lambda: self.s.inbox.escalate(ids, req.target, req.priority, req.note))
                if out is not None:
                    self.after_action(out[0], f"Escalated to {req.target}")
                    self.deliver_soon()

        self.app.push_screen(EscalateDialog(targets, len(ids)), done)

    def action_moderate(self) -> None:
        if not (ids := self.targets()):
            return
        messages = [m for m in (self.s.store.get_message(mid) for mid in ids) if m is not None]
        channels = {m.channel for m in messages}
        if not channels:
            return
        if len(channels) > 1:
            self.notify("Moderate items of one channel at a time (the selection spans several).", timeout=5)
            return
        [channel] = channels
        caps = self.s.capabilities(channel)
        actions = caps.moderation
        if not actions:
            self.notify(f"{channel} has no moderation actions.", severity="warning", timeout=4)
            return

        def done(req: ModerationRequest | None) -> None:
            if req is not None:
                queued = self.attempt(lambda: self.s.inbox.moderate(ids, req.action, req.reason))
                if queued is not None:
                    self.notify(f"{req.action.capitalize()} queued for {len(queued)} item(s) on {channel}", timeout=3)
                    self.deliver_soon()

        self.app.push_screen(ModerateDialog(channel, actions, len(ids), caps.moderation_reasons), done)
