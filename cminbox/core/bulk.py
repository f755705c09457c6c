"""Which items of a bulk status change would lose someone's work, shared by the CLI and the TUI.

Closing fifty items at once is the incident flow, but an item a teammate took, one being
escalated, or one with an unsent reply is work in progress: a bulk change holds those back
and the face asks (the TUI) or skips them unless forced (the CLI). An action on one item
is the user's explicit choice and is never held.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from enum import StrEnum

import msgspec

from cminbox.core.models import Status, TriageState


class Hold(StrEnum):
    ESCALATED = "escalated"
    ASSIGNED = "assigned to someone else"
    DRAFT = "with an unsent reply draft"


class BulkPlan(msgspec.Struct, frozen=True):
    status: Status
    clear: tuple[str, ...]  # safe to change
    held: tuple[tuple[str, Hold], ...]  # (id, the first reason it is held)
    # Of ``clear``, those already at the status: nothing changes for them, so the dialog's
    # counts leave them out (it said "close the other 43" and 42 closed: new-user trial).
    same: tuple[str, ...] = ()

    @property
    def held_ids(self) -> tuple[str, ...]:
        return tuple(mid for mid, _ in self.held)

    @property
    def all_ids(self) -> tuple[str, ...]:
        return self.clear + self.held_ids

    def counts(self) -> dict[Hold, int]:
        found = Counter(reason for _, reason in self.held)
        return {reason: found[reason] for reason in Hold if found[reason]}

    def summary(self) -> str:
        """``2 escalated, 1 assigned to someone else``: for dialogs and messages."""
        return ", ".join(f"{n} {reason.value}" for reason, n in self.counts().items())


def hold_reason(state: TriageState, status: Status, actor: str, drafted: Collection[str]) -> Hold | None:
    """Why setting ``status`` on this item would discard work, or None."""
    if state.status == status:
        return None  # nothing changes
    if state.status == Status.ESCALATED:
        return Hold.ESCALATED  # any other status ends the escalation's status
    if status != Status.DONE:
        return None  # reopening or waiting keeps the assignee and the draft
    if state.assignee is not None and state.assignee != actor:
        return Hold.ASSIGNED
    if state.id in drafted:
        return Hold.DRAFT
    return None


def plan_status_change(
    states: Iterable[TriageState], status: Status, *, actor: str, drafted: Collection[str]
) -> BulkPlan:
    """Split the targets of a status change into those it may change and those it would take
    work away from. ``drafted`` holds the ids with a non-empty reply draft."""
    states = list(states)
    if len(states) <= 1:
        return BulkPlan(status, tuple(s.id for s in states), ())
    clear: list[str] = []
    held: list[tuple[str, Hold]] = []
    for state in states:
        reason = hold_reason(state, status, actor, drafted)
        if reason is None:
            clear.append(state.id)
        else:
            held.append((state.id, reason))
    same = tuple(s.id for s in states if s.status == status)
    return BulkPlan(status, tuple(clear), tuple(held), same)
