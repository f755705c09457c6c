"""How a rule's effects read in an item's history, and which of them still hold.

Kept apart from rules.py (which compiles queries) so the filter language can answer
``rule:NAME`` from a history without importing the rules that import it.

A rule's effect is a history line by ``rule NAME`` whose words start ``rule NAME: ``; taking
it back adds a line ``undo: rule NAME: ...`` by whoever undid it, which pairs with the newest
earlier effect of the same words not taken back yet.
"""

from __future__ import annotations

from collections.abc import Iterable

from cminbox.core.models import HistoryEntry

ACTOR_PREFIX = "rule "
UNDO = "undo: "


def actor_of(name: str) -> str:
    """Who a rule's effects are by, in the history and the event log: ``rule NAME``."""
    return ACTOR_PREFIX + name


def is_rule_line(actor: str, label: str) -> bool:
    """A history line that is a rule's effect ("rule bugs: tag bug"), not what followed from it
    (a rule's reply being sent is recorded as ``replied`` by the rule too)."""
    return actor.startswith(ACTOR_PREFIX) and label.startswith(actor + ": ")


def open_effects(history: Iterable[HistoryEntry], rule: str | None = None) -> list[HistoryEntry]:
    """The rules' effects in a history that were not taken back, oldest first (``rule``: that
    rule's only)."""
    kept: list[HistoryEntry] = []
    for entry in history:
        if is_rule_line(entry.actor, entry.action):
            kept.append(entry)
        elif entry.action.startswith(UNDO + ACTOR_PREFIX):
            undone = entry.action.removeprefix(UNDO)
            for i in range(len(kept) - 1, -1, -1):
                if kept[i].action == undone:
                    del kept[i]
                    break
    return [e for e in kept if rule is None or e.actor == actor_of(rule)]
