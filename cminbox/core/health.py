"""Per-channel health: what the header dots, `cminbox channels` and `doctor` show."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import msgspec

from cminbox.core.redact import redactor


class HealthState(StrEnum):
    UNKNOWN = "unknown"
    OK = "ok"
    DEGRADED = "degraded"
    RATE_LIMITED = "rate-limited"
    AUTH_FAILED = "auth-failed"
    DISABLED = "disabled"


class ChannelHealth(msgspec.Struct, kw_only=True):
    channel: str
    state: HealthState = HealthState.UNKNOWN
    reason: str = ""
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    next_attempt: datetime | None = None
    failures: int = 0
    new_last_poll: int = 0
    skipped_last_poll: int = 0

    def to_doc(self) -> dict[str, object]:
        # The store boundary: a reason quoting a server passes the redaction once more here.
        doc: dict[str, object] = msgspec.to_builtins(self)
        doc["reason"] = redactor.redact(self.reason)
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, object] | None, channel: str) -> ChannelHealth:
        if not doc:
            return cls(channel=channel)
        clean = {k: v for k, v in doc.items() if k in cls.__struct_fields__}
        clean["channel"] = channel
        return msgspec.convert(clean, cls, strict=False)
