"""Taking back what rules did: one item's newest effect (the TUI's ``u``, ``cminbox undo ID``),
or everything one rule did since a time (``cminbox rules undo NAME --since 1h``).

A rule's effect leaves no undo record: the undo log is per person (``u`` goes back through your
own actions), and a rule acting on every new item would fill it and make every action rewrite a
larger file. The effect's history line is its record instead: it holds the fields the effect
changed, before and after, and :func:`cminbox.core.triage.reverting` turns them into the action
that takes it back (semantic, as an undo is: a tag added by a teammate since stays).

An undo is a line of its own, ``undo: rule NAME: ...`` by the person who undid it; a history
line taken back pairs with the newest earlier effect of the same words not taken back yet
(:func:`open_effects`), so applying, undoing and applying again reads right.
"""

from __future__ import annotations

from datetime import datetime

from cminbox.core import triage
from cminbox.core.effects import Effect, OutboxLookup, Planned
from cminbox.core.events import EventKind
from cminbox.core.models import HistoryEntry, Message, TriageState
from cminbox.core.rule_lines import UNDO, actor_of, open_effects
from cminbox.core.store_api import StoreApi, UndoResult

CHUNK = 500


def undoable(state: TriageState) -> HistoryEntry | None:
    """The rule effect ``u`` on this item would take back (None: none), from its history."""
    found = open_effects(state.history)
    return found[-1] if found else None


def _reverts(state: TriageState, entries: list[HistoryEntry], actor: str, *, first_only: bool) -> list[Effect]:
    """Undo effects for ``entries`` (oldest first), newest first, each from the state the one
    after it left; an entry whose revert would change nothing (someone did it by hand) is skipped."""
    out: list[Effect] = []
    for entry in reversed(entries):
        action = triage.reverting(state, entry.before, entry.after)
        after = triage.apply(state, action)
        if not triage.changed_fields(state, after)[1]:
            continue
        out.append(Effect(state.id, action, actor, UNDO + entry.action, undo=True))
        state = after
        if first_only:
            break
    return out


def undo_item(store: StoreApi, message_id: str, *, actor: str, rule: str | None = None) -> UndoResult | None:
    """Take back the newest effect of a rule (``rule``: of that one) on one item; None when it
    has none left."""
    taken: list[str] = []

    def decide(items: list[tuple[Message, TriageState]], known: OutboxLookup) -> Planned:
        effects = [
            e for _, state in items for e in _reverts(state, open_effects(state.history, rule), actor, first_only=True)
        ]
        taken[:] = [e.label.removeprefix(UNDO) for e in effects]
        return Planned(effects)

    done = store.apply_plan([message_id], decide, history=True)
    if not done.effects:
        return None
    return UndoResult(label=taken[0], changed=[message_id])


def undo_rule(store: StoreApi, rule: str, since: datetime, *, actor: str) -> UndoResult:
    """Take back everything rule ``rule`` did since ``since`` that was not taken back yet, on
    every live item (CHUNK items per store step, each step atomic)."""
    who = actor_of(rule)
    ids = sorted({e.message_id for e in store.events(after=since) if e.kind == EventKind.ACTION and e.actor == who})

    def decide(items: list[tuple[Message, TriageState]], known: OutboxLookup) -> Planned:
        effects: list[Effect] = []
        for _, state in items:
            mine = [e for e in open_effects(state.history, rule) if e.at >= since]
            effects += _reverts(state, mine, actor, first_only=False)
        return Planned(effects)

    changed: list[str] = []
    for start in range(0, len(ids), CHUNK):
        done = store.apply_plan(ids[start : start + CHUNK], decide, history=True)
        changed += list(dict.fromkeys(e.message_id for e in done.effects))
    return UndoResult(label=who, changed=changed)
