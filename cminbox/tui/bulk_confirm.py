"""Asked once before a bulk status change that would take work away from some items
(escalated, assigned to someone else, an unsent draft): change them all, skip them, or cancel."""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical

from cminbox.core.bulk import BulkPlan
from cminbox.core.models import Status
from cminbox.tui.dialogs import Dialog
from cminbox.tui.plain import Label
from cminbox.tui.texts import items

BulkChoice = Literal["all", "skip"]
VERBS = {Status.DONE: "Close", Status.OPEN: "Reopen", Status.WAITING: "Set waiting on", Status.NEW: "Mark new"}


class BulkConfirm(Dialog):
    """Dismisses with "all", "skip" or None (cancel: nothing changes, the selection stays)."""

    BINDINGS = [
        *Dialog.BINDINGS,
        Binding("s,enter", "choose('skip')", "Skip them", id="bulk_skip"),
        Binding("a", "choose('all')", "All", id="bulk_all"),
        Binding("n", "cancel", "Cancel", id="bulk_cancel"),
    ]

    def __init__(self, plan: BulkPlan) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        verb = VERBS.get(self.plan.status, f"Set {self.plan.status} on")
        held, total = len(self.plan.held), len(self.plan.all_ids)
        with Vertical(classes="dialog"):
            yield Label(Text(f"{verb} {items(total)}?"), classes="dialog-title")
            yield Label(Text(f"{held} of them {'is' if held == 1 else 'are'} work in progress:"))
            for reason, n in self.plan.counts().items():
                yield Label(Text(f"  {n} {reason.value}"))
            same = len(self.plan.same)
            if same:
                yield Label(Text(f"  ({same} {'is' if same == 1 else 'are'} already {self.plan.status}: unchanged)"))
            changed = len(self.plan.clear) - same
            yield Label(Text(f"s / enter: skip those {held}, {verb.lower()} the other {changed}"))
            yield Label(Text(f"a: {verb.lower()} all {total - same}"))
            yield Label("n / esc: cancel (nothing changes)", classes="dialog-hint")

    def action_choose(self, choice: BulkChoice) -> None:
        self.dismiss(choice)
