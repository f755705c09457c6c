"""A seeded inbox with people in it, for the people tests and snapshots: two channels, profile
tags (a VIP with a free tag and a note, a troll, an advocate), a staff account from the config,
a sent reply from the team, and Priya on both channels, not linked (so her card suggests it)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from cminbox.core import people_ops as people_ops_module
from cminbox.core.clock import FrozenClock
from cminbox.core.enrich import enrich
from cminbox.core.health import ChannelHealth, HealthState
from cminbox.core.models import Author, Kind, Message
from cminbox.core.outbox_types import OutboxKind
from cminbox.core.people_ops import PeopleOps
from cminbox.tui.services import Services
from tests.conftest import T0
from tests.tui_fixtures import CONFIG, make_services

PRIYA = "masto:100"  # Priya Raman's item on masto (the second row)
PRIYA_KEY = "masto:priya@example.social"
PRIYA_FEDI = "fedi:priya@fedi.example"
NOAH, AIKO, KAI = "masto:101", "masto:102", "masto:109"

PEOPLE_CONFIG = CONFIG.replace('name = "masto"\n', 'name = "masto"\nstaff = ["@mira@example.social"]\n', 1) + (
    '[[channels]]\nname = "fedi"\ntype = "mastodon"\nurl = "https://fedi.example"\n'
    'token_command = "printf never-called"\n'
)

FEDI_TEXTS = [
    (20, "the markdown export is still broken and honestly this is getting ridiculous"),
    (300, "thanks, the export works great now!"),
]


def fedi_messages() -> list[Message]:
    """Priya's items on the second channel (a negative one, an older positive one)."""
    return [
        Message(
            id=f"fedi:{700 + i}",
            channel="fedi",
            channel_type="mastodon",
            native_id=str(700 + i),
            kind=Kind.MENTION,
            author=Author(id="p", handle="@priya@fedi.example", display_name="Priya R."),
            text=text,
            created_at=T0 - timedelta(minutes=minutes),
            url=f"https://fedi.example/@priya/{700 + i}",
            thread_id=f"fedi:{700 + i}",
            visibility="public",
        )
        for i, (minutes, text) in enumerate(FEDI_TEXTS)
    ]


def people_ops(services: Services, actor: str = "ana") -> PeopleOps:
    ops = PeopleOps.of(services.config, services.store, services.clock)
    ops.actor = actor
    return ops


def people_services(tmp_path: Path, clock: FrozenClock, *, store_config: str = "") -> Services:
    """``store_config``: a ``[store]`` section (PostgreSQL: the same people on the team store)."""
    services = make_services(tmp_path, clock, config_text=PEOPLE_CONFIG + store_config)
    store = services.store
    store.upsert_messages(enrich(fedi_messages()))
    store.set_health("fedi", ChannelHealth(channel="fedi", state=HealthState.OK, last_success=clock()).to_doc())
    now = clock.now
    clock.now = now - timedelta(minutes=40)  # the team's reply to Priya, sent 40 minutes ago
    reply = store.outbox.enqueue(OutboxKind.REPLY, PRIYA, "masto", {"text": "Settings → Export"}, "ana")
    [claimed] = store.outbox.claim_due()
    assert claimed.id == reply.id
    store.outbox.mark_sent(claimed, {"id": "9001"})
    clock.now = now - timedelta(minutes=30)  # the people were tagged half an hour ago
    with numbered_ids():
        ops = people_ops(services)
        ops.tag([PRIYA_KEY], ["vip", "beta"])
        ops.note(PRIYA_KEY, "prefers email; beta tester since 2.3")
        ops.tag(["masto:angrybird404@example.social"], ["troll"])
        ops.tag(["masto:aiko@example.social"], ["advocate"])
    clock.now = now
    return services


@contextmanager
def numbered_ids() -> Iterator[None]:
    """Person ids p-0000000001, p-0000000002... (random otherwise): snapshots show them."""
    numbers = itertools.count(1)
    names = vars(people_ops_module)  # PeopleOps calls the name it imported from core.people
    real = names["new_id"]
    names["new_id"] = lambda: f"p-{next(numbers):010d}"
    try:
        yield
    finally:
        names["new_id"] = real
