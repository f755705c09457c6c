"""The triage keys of the inbox: status, priority, undo, tag, untag, assign, snooze, escalate.

A mixin of :class:`~cminbox.tui.inbox_screen.InboxScreen` (kept apart so each file stays
small). Every handler goes through :meth:`write`: the rows show the action at once, the
core's triage verb runs on the store worker (tui/store_worker.py), and a refusal (a broken
store file, a full disk) takes the rows back with a notification, never a crash. The dialogs
are imported where they are opened, not with the inbox: their screen classes were ~5 ms of its
first frame (issue #14).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from cminbox.core import rules_undo, triage
from cminbox.core.bulk import plan_status_change
from cminbox.core.config import Config
from cminbox.core.errors import CminboxError
from cminbox.core.macros import Macro
from cminbox.core.models import Escalation, Message, Priority, Status, TriageState
from cminbox.core.outbox_types import OutboxItem
from cminbox.core.presence import Presence
from cminbox.core.store_api import ActResult, UndoResult
from cminbox.core.text import one_line, sanitize
from cminbox.core.triage import (
    Action,
    AddTags,
    Assign,
    RemoveTags,
    SetEscalation,
    SetPriority,
    SetStatus,
    Snooze,
    normalise_tag,
)
from cminbox.tui.drafts import Drafts
from cminbox.tui.inbox_list import InboxList, Row
from cminbox.tui.store_worker import Write, Writes, optimistic
from cminbox.tui.texts import bound_key, items

if TYPE_CHECKING:
    from cminbox.tui.bulk_confirm import BulkChoice
    from cminbox.tui.dialogs import EscalationRequest
    from cminbox.tui.moderation import ModerationRequest, Preview
    from cminbox.tui.replying import ReplyingScreen as _Base
else:
    _Base = object

R = TypeVar("R")


class UndoRecord:
    """One action of this session as `u` takes it back: each item's inverse (shown at once),
    and the store's action group the write made, noted on the store worker when it lands
    (None before, or when unknown: then the store undoes the actor's latest group). The group
    makes `u` take back this action, not a CLI call of the same actor made since (new-user
    trial)."""

    __slots__ = ("group", "inverses")

    def __init__(self, inverses: dict[str, Action]) -> None:
        self.inverses = inverses
        self.group: str | None = None


def named_tags(config: Config, macros: Sequence[Macro]) -> list[str]:
    """The tags the config's rules and ``macros`` (as compiled) add, in order, once each."""
    named = [normalise_tag(t) for rule in config.rules for t in rule.tag]
    named += [t for macro in macros for step in macro.steps if step.kind == "tag" for t in step.tags]
    return [t for t in dict.fromkeys(named) if t]


class TriageKeys(_Base):
    _drafts_checking = False  # a bulk status change waits for which items have a draft
    # The item whose rule effect the last `u` offered to take back: a second `u` there does.
    _rule_undo_offered: str | None = None

    if TYPE_CHECKING:  # provided by InboxScreen
        inbox_list: InboxList
        all_rows: list[Row]
        presence_seen: list[Presence]  # tui/presence_sync.py
        writes: Writes
        drafts: Drafts
        undo_stack: list[UndoRecord]

        @property
        def macros(self) -> list[Macro]: ...  # tui/macro_keys.py, compiled from the config

        def refused(self) -> CminboxError | None: ...

        def write_failed(self, exc: CminboxError, title: str) -> None: ...

        def apply_states(
            self, states: Iterable[TriageState], messages: Mapping[str, Message] | None = None
        ) -> set[str]: ...

        def reload(self) -> None: ...

        def refresh_chrome(self) -> None: ...

        # tui/guideline_keys.py
        def guideline_names(self) -> tuple[str, ...]: ...

        def guideline_preview(self, ids: list[str], *, after_action: bool) -> Preview | None: ...

        def moderate_with_guideline(self, ids: list[str], channel: str, req: ModerationRequest) -> None: ...

    @property
    def undo_key(self) -> str:
        """The undo key as bound now (a remap included), for the notices' hints."""
        return bound_key(self.app, "undo")

    def shown(self, mid: str) -> TriageState | None:
        """What the row shows now: the store's state with the pending writes applied."""
        return self.shown_many([mid]).get(mid)

    def shown_many(self, ids: Collection[str]) -> dict[str, TriageState]:
        """:meth:`shown` for many items, found in one pass (a search each would scan the list
        once per item: a selection of 100k items, 100k scans of 100k ids)."""
        rows = self.inbox_list.rows
        return {mid: rows[i].state for mid, i in self.inbox_list.index.positions(ids).items()}

    def write(
        self,
        ids: list[str],
        action: Action | Callable[[TriageState], Action | None] | None,
        call: Callable[[], R],
        what: str,
        then: Callable[[R], None] | None = None,
    ) -> None:
        """Show the action at once, write it on the store worker (in order with the other
        keys), and say what the store did when it is done; a failure takes the rows back."""
        if (why := self.refused()) is not None:
            self.notify(str(why), title="Not done", severity="error", timeout=8, markup=False)
            return
        undo: dict[str, Action] = {}
        if action is not None:
            shown = self.shown_many(ids)
            for mid in ids:
                before = shown.get(mid)
                chosen = action(before) if callable(action) and before is not None else action
                if before is None or chosen is None or callable(chosen):
                    continue
                if triage.changed_fields(before, triage.apply(before, chosen))[1]:
                    undo[mid] = triage.inverse(before, chosen)
        record = UndoRecord(undo) if undo else None
        if record is not None:
            self.undo_stack.append(record)
            call = self._noting_group(record, call)

        def done(result: R, _states: dict[str, TriageState]) -> None:
            if then is not None:
                then(result)
            if isinstance(result, ActResult):
                n = len(result.changed)
                message = f"{what} · {items(n)} · {self.undo_key} undoes" if n else f"{what}: nothing changed"
                self.notify(message, timeout=3)
            self.refresh_chrome()

        advanced: list[tuple[str, str]] = []  # (from, to) when auto-advance moved the cursor

        def failed(exc: CminboxError) -> None:
            self.undo_stack[:] = [u for u in self.undo_stack if u is not record]
            self.write_failed(exc, "Not done")
            # Back to the item that was not changed, unless the user has moved on since (the
            # cursor stayed on the next one after a refused `d`: fault trial of 2026-12-01).
            now_on = self.inbox_list.current
            if advanced and now_on is not None and now_on.message.id == advanced[0][1]:
                back = self.inbox_list.index.get(advanced[0][0])
                if back is not None:
                    self.inbox_list.cursor = back

        expect = {mid: optimistic(action) for mid in ids} if action is not None else {}
        self.writes.submit(Write(call, expect, done, failed))
        if action is None:
            return  # not a triage change (a moderation queued): the selection and cursor stay
        if self.inbox_list.selected:
            self.inbox_list.selected.clear()
            self.inbox_list.refresh()
        elif self.s.config.ui.auto_advance:
            was_on = self.inbox_list.current
            self.advance()
            moved_to = self.inbox_list.current
            if was_on is not None and moved_to is not None and moved_to is not was_on:
                advanced.append((was_on.message.id, moved_to.message.id))
        self.refresh_chrome()

    @staticmethod
    def _noting_group(record: UndoRecord, call: Callable[[], R]) -> Callable[[], R]:
        """``call``, noting in ``record`` the action group it made."""

        def noted() -> R:  # on the store worker, in order with the undo that may follow
            result = call()
            found = result[0] if isinstance(result, tuple) and result else result
            if isinstance(found, ActResult) and found.changed:
                record.group = found.group
            return result

        return noted

    def advance(self) -> None:
        """Move to the next item that still needs attention (the incident flow: one key per item),
        skipping rows that no longer belong in the view (answered meanwhile, say: dimmed until
        the next reload; the new-user trial's cursor landed on one)."""
        rows, now = self.inbox_list.rows, self.s.clock()
        for i in range(self.inbox_list.cursor + 1, len(rows)):
            if not rows[i].stale and rows[i].fields.needs_attention(now):
                self.inbox_list.cursor = i
                return

    def targets(self) -> list[str]:
        ids = self.inbox_list.target_ids()
        if not ids:
            self.notify("Nothing selected", severity="warning", timeout=2)
        return ids

    def action_set_status(self, status: str) -> None:
        """On several items, those it would take work from (escalated, someone else's, an unsent
        draft) are not changed silently: one question, or nothing to ask. Which have a draft
        is read on the store worker, after the draft saves queued before."""
        if not (ids := self.targets()):
            return
        if len(ids) == 1:
            self._set_status(ids, Status(status), set())
            return
        if (why := self.refused()) is not None:
            self.notify(str(why), title="Not done", severity="error", timeout=8, markup=False)
            return
        if self._drafts_checking:
            return  # the same key pressed again before the check landed: one question, not two

        def checked(drafted: set[str]) -> None:
            self._drafts_checking = False
            self._set_status(ids, Status(status), drafted)

        def failed(exc: CminboxError) -> None:
            self._drafts_checking = False
            self.write_failed(exc, "Not done")

        self._drafts_checking = True
        self.drafts.among(ids, checked, failed)

    def _set_status(self, ids: list[str], want: Status, drafted: set[str]) -> None:
        label = want.value.capitalize()
        shown = self.shown_many(ids)
        states = [shown[mid] for mid in ids if mid in shown]
        plan = plan_status_change(states, want, actor=self.s.config.actor, drafted=drafted)
        action = SetStatus(want)

        def set_status(ids: tuple[str, ...] | list[str], what: str) -> None:
            self.write(list(ids), action, lambda: self.s.inbox.set_status(ids, want), what)

        if not plan.held:
            set_status(ids, label)
            return

        def answered(choice: BulkChoice | None) -> None:
            if choice is None:
                self.notify("Nothing changed", timeout=2)
            elif choice == "all":
                set_status(plan.all_ids, label)
            else:
                set_status(plan.clear, f"{label} (skipped {len(plan.held)}: {plan.summary()})")

        from cminbox.tui.bulk_confirm import BulkConfirm

        self.app.push_screen(BulkConfirm(plan), answered)

    def action_cycle_priority(self) -> None:
        if ids := self.targets():
            step = lambda st: SetPriority(st.priority.next())  # noqa: E731  (as the core's verb)
            self.write(ids, step, lambda: self.s.inbox.cycle_priority(ids), "Priority")

    def action_undo(self) -> None:
        """The last action of this session is taken back on screen at once (its exact inverse);
        the store's undo (which may reach further back, to an earlier session) confirms it."""
        if (why := self.refused()) is not None:
            self.notify(str(why), title="Not undone", severity="error", timeout=8, markup=False)
            return
        popped = self.undo_stack.pop() if self.undo_stack else None
        record = popped.inverses if popped is not None else {}
        # The group is read when the undo runs: the action's write, queued before it on the
        # same worker, has noted it by then (None: unknown, the actor's latest group).
        call: Callable[[], UndoResult | None] = lambda: self.s.inbox.undo(group=popped.group if popped else None)  # noqa: E731
        row = self.inbox_list.current
        offered, self._rule_undo_offered = self._rule_undo_offered, None
        if not record and row is not None:
            # Nothing of this session to take back: a rule's effect on the item under the cursor
            # is (rules_undo.py), shown at once like any undo; else the store's own last group.
            mid = row.message.id
            call = functools.partial(self.s.inbox.undo, mid)
            if (entry := rules_undo.undoable(row.state)) is not None:
                if offered != mid:
                    # Asked first: one `u` too many after undoing your own actions took back
                    # what a rule did, which you never did (new-user trial of 2026-12-01).
                    self._rule_undo_offered = mid
                    said = one_line(entry.action)
                    self.notify(f"Nothing of yours to undo here. {self.undo_key} again takes back {said}", timeout=5)
                    return
                record = {mid: triage.reverting(row.state, entry.before, entry.after)}
        back = list(self.inbox_list.index.positions(record).values())

        def done(result: UndoResult | None, _states: dict[str, TriageState]) -> None:
            if result is None:
                self.notify("Nothing to undo", timeout=2)
                return
            at = self.inbox_list.index.positions(result.changed)
            if len(at) < len(set(result.changed)):
                self.reload()  # the restored items left the view earlier (a reload since): bring them back
                at = self.inbox_list.index.positions(result.changed)  # the list the reload made
            restored = list(at.values())
            if restored and not back:
                self.inbox_list.cursor = min(restored)  # show what was restored
            self.refresh_chrome()
            self.notify(f"Undone: {result.label} ({len(result.changed)})", timeout=3)

        def failed(exc: CminboxError) -> None:
            if popped is not None:
                self.undo_stack.append(popped)
            self.write_failed(exc, "Not undone")

        expect = {mid: optimistic(inv) for mid, inv in record.items()}

        def reread(r: UndoResult | None) -> list[str]:
            return r.changed if r is not None else []

        self.writes.submit(Write(call, expect, done, failed, reread))
        if back:
            self.inbox_list.cursor = min(back)  # show what was restored
        self.refresh_chrome()

    def action_tag(self) -> None:
        if not (ids := self.targets()):
            return
        usage = Counter(t for r in self.all_rows if r.triage is not None for t in r.triage.tags)
        # The tags in use, most used first, then those the config's rules and macros add and no
        # item has yet: before the burst, #outage was not offered though the `O` macro and a
        # rule add it (new-user trial of 2026-12-02).
        tags = [t for t, _ in usage.most_common()]
        tags += [t for t in named_tags(self.s.config, self.macros) if t not in usage]

        def done(tag: str | None) -> None:
            if tag:
                action = AddTags((normalise_tag(tag),))
                self.write(ids, action, lambda: self.s.inbox.tag(ids, [tag]), f"Tagged #{tag}")

        from cminbox.tui.dialogs import TagPicker

        self.app.push_screen(TagPicker(f"Tag {items(len(ids))}", tags), done)

    def action_untag(self) -> None:
        if not (ids := self.targets()):
            return
        present = sorted({t for st in self.shown_many(ids).values() for t in st.tags})
        if not present:
            self.notify("No tags to remove", timeout=2)
            return

        def done(tag: str | None) -> None:
            if tag:
                action = RemoveTags((normalise_tag(tag),))
                self.write(ids, action, lambda: self.s.inbox.untag(ids, [tag]), f"Removed #{tag}")

        from cminbox.tui.dialogs import TagPicker

        self.app.push_screen(TagPicker(f"Remove a tag from {items(len(ids))}", present, allow_new=False), done)

    def action_assign(self) -> None:
        if not (ids := self.targets()):
            return
        # Teammates: [team] members when configured (the only names accepted then); else whoever
        # items are assigned to, whoever is in the inbox now (presence), and you.
        online = {p.person for p in self.presence_seen}
        members = self.s.config.team.members
        assigned = {a for r in self.all_rows if r.triage is not None and (a := r.triage.assignee)}
        people = list(members) or sorted(assigned | online | {self.s.config.actor})
        first = self.shown(ids[0])
        current = first.assignee if first is not None else None

        def done(who: str | None) -> None:
            if who is not None:
                try:
                    clean = self.s.inbox.member(who) or None  # in memory: a typo is refused before the write
                except CminboxError as exc:
                    self.notify(str(exc), title="Not assigned", severity="error")
                    return
                what = f"Assigned to {clean}" if clean else "Unassigned"
                self.write(ids, Assign(clean), lambda: self.s.inbox.assign(ids, clean), what)

        from cminbox.tui.dialogs import AssignDialog

        self.app.push_screen(AssignDialog(people, current), done)

    def action_snooze(self) -> None:
        if not (ids := self.targets()):
            return

        def done(until: Any) -> None:
            if until is not None:
                what = f"Snoozed until {until:%a %d %b %H:%M}"
                self.write(ids, Snooze(until), lambda: self.s.inbox.snooze(ids, until), what)

        from cminbox.tui.dialogs import SnoozeDialog

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
                esc = Escalation(
                    target=req.target,
                    priority=req.priority,
                    note=sanitize(req.note).strip(),
                    at=self.s.clock(),
                    by=self.s.config.actor,
                )
                action = SetEscalation(esc, Status.ESCALATED, req.priority)

                def escalated(out: tuple[ActResult, list[OutboxItem]]) -> None:
                    self.deliver_soon()
                    n = len(out[0].changed)
                    self.notify(f"Escalated to {req.target} · {items(n)} · {self.undo_key} undoes", timeout=3)

                call = lambda: self.s.inbox.escalate(ids, req.target, req.priority, req.note)  # noqa: E731
                self.write(ids, action, call, "", then=escalated)

        shown = list(self.shown_many(ids).values())
        offered = max([Priority.HIGH, *(st.priority for st in shown)], key=lambda p: p.rank)
        from cminbox.tui.dialogs import EscalateDialog

        self.app.push_screen(EscalateDialog(targets, len(ids), offered), done)

    def action_moderate(self) -> None:
        if not (ids := self.targets()):
            return
        rows, at = self.inbox_list.rows, self.inbox_list.index.positions(ids)
        messages = [rows[at[mid]].message for mid in ids if mid in at]
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
            if req is not None and req.guideline:
                self.moderate_with_guideline(ids, channel, req)  # tui/guideline_keys.py
            elif req is not None:

                def queued(items: list[OutboxItem]) -> None:
                    self.notify(f"{req.action.capitalize()} queued for {len(items)} item(s) on {channel}", timeout=3)
                    self.deliver_soon()

                call = lambda: self.s.inbox.moderate(ids, req.action, req.reason)  # noqa: E731
                self.write(ids, None, call, "", then=queued)

        guidelines, preview = self.guideline_names(), self.guideline_preview(ids, after_action=True)
        from cminbox.tui.moderation import ModerateDialog

        dialog = ModerateDialog(channel, actions, len(ids), caps.moderation_reasons, guidelines, preview)
        self.app.push_screen(dialog, done)
