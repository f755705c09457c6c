"""The TUI fixtures' inbox with macros and a 40-item incident burst (deterministic: the frozen
clock of tests/tui_fixtures.py, fixed authors and times)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cminbox.core.clock import FrozenClock
from cminbox.core.models import Author, Kind, Message
from cminbox.tui.services import Services
from tests.conftest import T0
from tests.tui_fixtures import CONFIG, make_services

MACRO_CONFIG = (
    CONFIG
    + """
[[saved_replies]]
name = "status page"
text = "Sync is down for everyone, {author.first_name}: status.example.com has updates."

[[macros]]
name = "outage"
key = "O"
description = "The incident answer: tag, reply, close"
steps = [{tag = ["outage"]}, {reply = "status page"}, {done = true}]

[[macros]]
name = "spam"
steps = [{tag = ["spam"]}, {note = "closed as spam"}, {done = true}]

[[macros]]
name = "page-oncall"
description = "Wake the on-call engineer"
steps = [{priority = "urgent"}, {escalate = {target = "oncall", note = "customer-facing"}}]
"""
)
BURST = 40


def burst() -> list[Message]:
    return [
        Message(
            id=f"masto:{500 + i}",
            channel="masto",
            channel_type="mastodon",
            native_id=str(500 + i),
            kind=Kind.MENTION,
            author=Author(id=f"b{i}", handle=f"@fan{i}@example.social", display_name=f"Fan {i}"),
            text=f"#LumenDown sync stuck again ({i})",
            created_at=T0 - timedelta(hours=3, minutes=i),
            url=f"https://example.social/@fan{i}/{500 + i}",
            thread_id=f"masto:{500 + i}",
            visibility="public",
        )
        for i in range(BURST)
    ]


def macro_services(tmp_path: Path, clock: FrozenClock) -> Services:
    services = make_services(tmp_path, clock, config_text=MACRO_CONFIG)
    services.store.upsert_messages(burst())
    return services
