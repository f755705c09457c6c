"""Escalation targets: what an escalated item's delivery carries, and the protocol a target
type implements (the generic webhook is in core/webhook.py: only what sends imports httpx)."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from cminbox.core.models import Escalation, Message, TriageState


class Target(Protocol):
    type_name: ClassVar[str]

    async def deliver(self, payload: dict[str, Any], delivery_id: str) -> dict[str, str]: ...

    async def aclose(self) -> None: ...


def escalation_payload(message: Message, state: TriageState, escalation: Escalation) -> dict[str, Any]:
    return {
        "event": "cminbox.escalation",
        "target": escalation.target,
        "priority": str(escalation.priority),
        "note": escalation.note,
        "escalated_by": escalation.by,
        "escalated_at": escalation.at.isoformat(),
        "message": {
            "id": message.id,
            "channel": message.channel,
            "kind": str(message.kind),
            "url": message.url,
            "text": message.text,
            "created_at": message.created_at.isoformat(),
            "author": {"handle": message.author.handle, "name": message.author.display_name, "url": message.author.url},
        },
        "tags": list(state.tags),
    }
