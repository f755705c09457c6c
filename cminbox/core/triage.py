"""Triage actions: pure functions from one state to the next, each with an exact inverse.

``apply(state, action)`` never mutates; ``inverse(state, action)`` is computed from the
state *before* the action and, applied to the result, gives back that state's fields.
Inverses are semantic (removing the tags that were added) rather than "restore the old
tag list", so undoing my tag never wipes a tag a teammate added in the meantime.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeAlias, assert_never

import msgspec

from cminbox.core.models import Answered, Escalation, Note, Priority, Status, TriageState
from cminbox.core.text import sanitize


class SetStatus(msgspec.Struct, frozen=True, tag="status"):
    status: Status


class AddTags(msgspec.Struct, frozen=True, tag="tag"):
    tags: tuple[str, ...]


class RemoveTags(msgspec.Struct, frozen=True, tag="untag"):
    tags: tuple[str, ...]


class Assign(msgspec.Struct, frozen=True, tag="assign"):
    assignee: str | None


class SetPriority(msgspec.Struct, frozen=True, tag="priority"):
    priority: Priority


class Snooze(msgspec.Struct, frozen=True, tag="snooze"):
    until: datetime | None


class AddNote(msgspec.Struct, frozen=True, tag="note"):
    note: Note


class RemoveNote(msgspec.Struct, frozen=True, tag="unnote"):
    note_id: str


class SetEscalation(msgspec.Struct, frozen=True, tag="escalate"):
    """Escalating sets status, priority and the escalation record together."""

    escalation: Escalation | None
    status: Status
    priority: Priority


class SetFirstResponse(msgspec.Struct, frozen=True, tag="responded"):
    at: datetime | None


class SetAnswer(msgspec.Struct, frozen=True, tag="answer"):
    """Who answered the item first in its thread (core/community.py). ``detected``: set by
    ingest, which never replaces an answer a teammate confirmed."""

    answered: Answered | None
    detected: bool = False


class IfStill(msgspec.Struct, frozen=True, tag="if_still"):
    """``then``, only while the item's ``fields`` still hold these values (JSON-ready, as
    :func:`changed_fields` records them): an undo's inverse of a field it set. A teammate who
    changed the field since keeps their change: undoing "done" after a teammate set "waiting"
    put it back to "new" (fault trial of 2026-12-01), where tags and notes were already kept."""

    fields: dict[str, Any]
    then: Action


class Several(msgspec.Struct, frozen=True, tag="several"):
    """Actions applied in order as one: a rule's effects on an item (tag, priority, a note...)
    are one line of its history and one step to undo."""

    actions: tuple[Action, ...]


Action: TypeAlias = (
    SetStatus
    | AddTags
    | RemoveTags
    | Assign
    | SetPriority
    | Snooze
    | AddNote
    | RemoveNote
    | SetEscalation
    | SetFirstResponse
    | Several
    | SetAnswer
    | IfStill
)


def normalise_tag(tag: str) -> str:
    """Tags are lower-case words; spaces become dashes so they survive the query language, and
    so do commas: the lists that show tags are comma-separated, and `tag,with,commas` read as
    three tags there (new-user trial of 2026-12-02). Nothing a terminal acts on stays in one
    (`cminbox tag ID $'x\\e]52;...'` was stored with its escape, and shown so to every
    teammate: hostile-data trial of 2026-12-01)."""
    cleaned = "-".join(sanitize(tag, single_line=True).replace(",", " ").strip().lower().split())
    return cleaned.lstrip("#")


def apply(state: TriageState, action: Action) -> TriageState:
    match action:
        case SetStatus(status=status):
            return msgspec.structs.replace(state, status=status)
        case AddTags(tags=tags):
            merged = state.tags + tuple(t for t in dict.fromkeys(tags) if t not in state.tags)
            return msgspec.structs.replace(state, tags=merged)
        case RemoveTags(tags=tags):
            return msgspec.structs.replace(state, tags=tuple(t for t in state.tags if t not in tags))
        case Assign(assignee=assignee):
            return msgspec.structs.replace(state, assignee=assignee)
        case SetPriority(priority=priority):
            return msgspec.structs.replace(state, priority=priority)
        case Snooze(until=until):
            return msgspec.structs.replace(state, snoozed_until=until)
        case AddNote(note=note):
            if any(n.id == note.id for n in state.notes):
                return state
            return msgspec.structs.replace(state, notes=(*state.notes, note))
        case RemoveNote(note_id=note_id):
            return msgspec.structs.replace(state, notes=tuple(n for n in state.notes if n.id != note_id))
        case SetEscalation(escalation=esc, status=status, priority=priority):
            return msgspec.structs.replace(state, escalation=esc, status=status, priority=priority)
        case SetFirstResponse(at=at):
            return msgspec.structs.replace(state, first_response_at=at)
        case Several(actions=actions):
            for step in actions:
                state = apply(state, step)
            return state
        case IfStill(fields=fields, then=then):
            return apply(state, then) if still(state, fields) else state
        case SetAnswer(answered=answered, detected=detected):
            if detected and state.answered is not None and state.answered.confirmed_at is not None:
                return state
            return msgspec.structs.replace(state, answered=answered)
        case _:  # mypy proves every Action is handled above
            assert_never(action)


def inverse(state: TriageState, action: Action) -> Action:
    """The action that undoes ``action`` when it is applied to ``state``. A field the action
    set is put back only while it still holds what the action set (:class:`IfStill`)."""
    match action:
        case SetStatus():
            return _while(action, state, SetStatus(state.status))
        case AddTags(tags=tags):
            return RemoveTags(tuple(t for t in dict.fromkeys(tags) if t not in state.tags))
        case RemoveTags(tags=tags):
            return AddTags(tuple(t for t in state.tags if t in tags))
        case Assign():
            return _while(action, state, Assign(state.assignee))
        case SetPriority():
            return _while(action, state, SetPriority(state.priority))
        case Snooze():
            return _while(action, state, Snooze(state.snoozed_until))
        case AddNote(note=note):
            existing = next((n for n in state.notes if n.id == note.id), None)
            return AddNote(existing) if existing is not None else RemoveNote(note.id)
        case RemoveNote(note_id=note_id):
            old = next((n for n in state.notes if n.id == note_id), None)
            return AddNote(old) if old is not None else RemoveNote(note_id)
        case SetEscalation():
            return _while(action, state, SetEscalation(state.escalation, state.status, state.priority))
        case SetFirstResponse():
            return _while(action, state, SetFirstResponse(state.first_response_at))
        case Several(actions=actions):
            # Each step's inverse is taken from the state that step met, and they run backwards.
            undo: list[Action] = []
            for step in actions:
                undo.append(inverse(state, step))
                state = apply(state, step)
            return Several(tuple(reversed(undo)))
        case SetAnswer():
            return _while(action, state, SetAnswer(state.answered))
        case IfStill(fields=fields, then=then):
            return inverse(state, then) if still(state, fields) else Several(())
        case _:  # mypy proves every Action is handled above
            assert_never(action)


def still(state: TriageState, fields: Mapping[str, Any]) -> bool:
    """Whether ``state`` holds these field values (JSON-ready, as history records them)."""
    return all(msgspec.to_builtins(getattr(state, name)) == value for name, value in fields.items())


def _while(action: Action, state: TriageState, back: Action) -> Action:
    """``back``, guarded by the values ``action`` leaves in the fields it changes."""
    _, after = changed_fields(state, apply(state, action))
    return IfStill(after, back) if after else Several(())  # it changed nothing: nothing to undo


_FIELDS = (
    "status",
    "tags",
    "assignee",
    "priority",
    "snoozed_until",
    "notes",
    "first_response_at",
    "escalation",
    "answered",
)


def changed_fields(before: TriageState, after: TriageState) -> tuple[dict[str, Any], dict[str, Any]]:
    """The before/after values of the fields an action changed, as JSON-ready data (for history)."""
    b: dict[str, Any] = {}
    a: dict[str, Any] = {}
    for name in _FIELDS:
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            b[name] = msgspec.to_builtins(old)
            a[name] = msgspec.to_builtins(new)
    return b, a


def describe(action: Action) -> str:
    """A short human label, used in history and undo messages."""
    match action:
        case SetStatus(status=s):
            return f"status → {s}"
        case AddTags(tags=t):
            return "tag " + " ".join(t)
        case RemoveTags(tags=t):
            return "untag " + " ".join(t)
        case Assign(assignee=a):
            return f"assign → {a or 'nobody'}"
        case SetPriority(priority=p):
            return f"priority → {p}"
        case Snooze(until=u):
            # As the inbox says it ("Snoozed until Wed 02 Dec 09:00"), with its year and zone:
            # the undo notice read "snooze until 2026-12-02T09:00+00:00" (new-user trial).
            return f"snooze until {u.astimezone(UTC):%a %d %b %Y %H:%M} UTC" if u else "unsnooze"
        case AddNote():
            return "note"
        case RemoveNote():
            return "remove note"
        case SetEscalation(escalation=e):
            return f"escalate → {e.target}" if e else "de-escalate"
        case SetFirstResponse():
            return "responded"
        case Several(actions=actions):
            return "; ".join(describe(step) for step in actions)
        case IfStill(then=then):
            return describe(then)
        case SetAnswer(answered=a):
            if a is None:
                return "no answer"
            return f"{'confirmed ' if a.confirmed_at else ''}answered by {a.handle} ({a.kind})"
        case _:  # mypy proves every Action is handled above
            assert_never(action)


def reverting(state: TriageState, before: Mapping[str, Any], after: Mapping[str, Any]) -> Action:
    """The action that takes back a recorded change from ``state`` (the item now), given its
    history line's fields before and after (JSON-ready values, as :func:`changed_fields` made
    them): what :func:`inverse` would have said, without the action itself. Semantic where it
    matters, as ``inverse`` is: the tags and notes the change added are removed, those it removed
    are put back, and a teammate's since stay."""
    steps: list[Action] = []

    def guarded(names: tuple[str, ...], step: Action) -> Action:
        # Put back only while the fields still hold what the change left (a teammate's since stay).
        return IfStill({name: after[name] for name in names if name in after}, step)

    if "escalation" in before:  # restores status and priority with it: they changed together
        esc = before["escalation"]
        steps.append(
            guarded(
                ("escalation", "status", "priority"),
                SetEscalation(
                    None if esc is None else msgspec.convert(esc, Escalation, strict=False),
                    Status(before.get("status", state.status)),
                    Priority(before.get("priority", state.priority)),
                ),
            )
        )
    if "status" in before and "escalation" not in before:
        steps.append(guarded(("status",), SetStatus(Status(before["status"]))))
    if "tags" in before:
        old, new = list(before["tags"]), list(after.get("tags", []))
        if added := tuple(t for t in new if t not in old):
            steps.append(RemoveTags(added))
        if gone := tuple(t for t in old if t not in new):
            steps.append(AddTags(gone))
    if "assignee" in before:
        steps.append(guarded(("assignee",), Assign(before["assignee"])))
    if "priority" in before and "escalation" not in before:
        steps.append(guarded(("priority",), SetPriority(Priority(before["priority"]))))
    if "snoozed_until" in before:
        until = msgspec.convert(before["snoozed_until"], datetime | None, strict=False)
        steps.append(guarded(("snoozed_until",), Snooze(until)))
    if "notes" in before:
        old_notes = {n["id"]: n for n in before["notes"]}
        new_ids = [n["id"] for n in after.get("notes", [])]
        steps += [RemoveNote(nid) for nid in new_ids if nid not in old_notes]
        steps += [AddNote(msgspec.convert(n, Note, strict=False)) for nid, n in old_notes.items() if nid not in new_ids]
    if "first_response_at" in before:
        at = msgspec.convert(before["first_response_at"], datetime | None, strict=False)
        steps.append(guarded(("first_response_at",), SetFirstResponse(at)))
    if "answered" in before:
        answered = msgspec.convert(before["answered"], Answered | None, strict=False)
        steps.append(guarded(("answered",), SetAnswer(answered)))
    return steps[0] if len(steps) == 1 else Several(tuple(steps))


ACTION_DECODER = msgspec.json.Decoder(Action)
