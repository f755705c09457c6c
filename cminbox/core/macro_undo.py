"""Undoing a macro: its replies not sent yet are withdrawn with it, and the message says so.

The store's undo takes back a macro's triage steps on every item at once (one action group).
Its replies went through the outbox: those no sender has tried yet are withdrawn in one
atomic step (``OutboxStore.withdraw``: withdrawn or claimed, never both); one already sent
cannot be unsent, and one a sender tried (it may have reached the server, its answer lost) is
left to be sent exactly once. The undo message counts each, rather than letting "Undone"
suggest every reply was taken back.
"""

from __future__ import annotations

from cminbox.core.macros import LABEL_PREFIX
from cminbox.core.outbox_types import OutboxKind, OutboxStatus
from cminbox.core.sending_api import OutboxStore
from cminbox.core.store_api import UndoResult


def macro_name(label: str) -> str | None:
    """The macro an action group's label names (``macro outage: ...``), else None."""
    if not label.startswith(LABEL_PREFIX) or ": " not in label:
        return None
    return label.removeprefix(LABEL_PREFIX).partition(": ")[0]


def explained(result: UndoResult | None, outbox: OutboxStore, actor: str) -> UndoResult | None:
    """The undo's result, the undone macro's unsent replies withdrawn and its label saying what
    became of its replies (unchanged for anything but a macro that replies)."""
    name = macro_name(result.label) if result is not None else None
    if result is None or name is None or ("; reply “" not in result.label and ": reply “" not in result.label):
        return result
    changed = set(result.changed)
    replies = [
        item
        for item in outbox.items()
        if item.kind == OutboxKind.REPLY
        and item.payload.get("macro") == name
        and item.actor == actor
        and item.message_id in changed
        and item.status != OutboxStatus.WITHDRAWN
    ]
    if not replies:
        return result
    withdrawn = set(outbox.withdraw([item.id for item in replies], f"withdrawn: {actor} undid macro {name}"))
    sent = sum(item.status == OutboxStatus.SENT and item.id not in withdrawn for item in replies)
    left = len(replies) - len(withdrawn) - sent
    parts = [f"{len(withdrawn)} unsent repl{'ies' if len(withdrawn) != 1 else 'y'} withdrawn"] if withdrawn else []
    if sent:
        parts.append(f"{sent} already sent (a reply cannot be unsent)")
    if left:
        parts.append(f"{left} being sent, left to finish")
    return UndoResult(f"{result.label}; {', '.join(parts)}", result.changed)
