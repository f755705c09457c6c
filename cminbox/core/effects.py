"""Triage actions taken on behalf of something other than the person at the keyboard (a rule:
cminbox.core.rules), and the plan a store runs inside one of its own steps to decide them.

A store runs a :data:`Plan` inside the step that stores new messages (``upsert_messages``) or
inside a step of its own over live items (``apply_plan``), with the committed state of each
item, and writes what it returns in that same atomic step: so no instance ever sees a new item
without its rules' effects, and an effect decided from a state is applied to that state.

Each :class:`Effect` becomes an ``action`` event (``undo`` for an undo) and a line in its
item's history, by the effect's own actor ("rule outage") and label ("rule outage: tag
outage"), sharing the step's group. Effects leave no undo record (the undo log is per person,
and rules would fill it): they are taken back from their history lines
(cminbox.core.rules_undo), which hold exactly what each changed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import msgspec

from cminbox.core.models import Message, TriageState
from cminbox.core.outbox_types import OutboxItem
from cminbox.core.triage import Action


class Effect(msgspec.Struct, frozen=True):
    message_id: str
    action: Action
    actor: str  # who the history names: "rule outage"
    label: str  # the history line: "rule outage: tag outage; priority → high"
    undo: bool = False  # taking back an earlier effect (an ``undo`` event)


class Planned(msgspec.Struct, frozen=True):
    """What a plan decided: effects in order (several on one item apply one after the other),
    and outbox items to store, each only if no item with its id is stored yet (a rule's
    auto-reply has an id made from the rule, the author and the day: at most one a day)."""

    effects: list[Effect] = msgspec.field(default_factory=list)
    outbox: list[OutboxItem] = msgspec.field(default_factory=list)


#: Which of these outbox item ids are stored (asked inside the step, so the answer holds for it).
OutboxLookup = Callable[[Collection[str]], set[str]]
#: Called inside a store step with the items and their committed triage state; must not call the store.
Plan = Callable[[list[tuple[Message, TriageState]], OutboxLookup], Planned]
