"""What undoing a macro says about its replies.

The store's undo takes back a macro's triage steps on every item at once (one action group).
Its replies went through the outbox, which has no way to withdraw an item (a pending reply may
already be claimed by the sending instance, mid-request): a reply the macro queued is sent, and
a sent one cannot be unsent. So the undo message says how many of them there are, sent or still
queued, rather than letting "Undone" suggest they were taken back.
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
    """The undo's result with its label saying what happens to the undone macro's replies."""
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
    ]
    if not replies:
        return result
    sent = sum(item.status == OutboxStatus.SENT for item in replies)
    n, waiting = len(replies), len(replies) - sent
    plural = "replies" if n != 1 else "reply"
    if not waiting:
        note = f"; its {n} {plural} stay: sent, and a reply cannot be unsent"
    else:
        queued = f"{waiting} still queued and sent anyway (the outbox cannot withdraw one)"
        note = f"; its {n} {plural} stay: {sent} sent, {queued}"
    return UndoResult(result.label + note, result.changed)
