"""A seeded inbox with community answers in it: Mira (an advocate) answered Noah's bug report
and Aiko's praise before anyone from the team; the team (staff) answered Kai first."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cminbox.core.clock import FrozenClock
from cminbox.core.community import Answering
from cminbox.core.enrich import enrich
from cminbox.core.models import Author, Kind, Message
from cminbox.core.people import identity
from cminbox.tui.services import Services
from tests.conftest import T0
from tests.tui_fixtures import CONFIG, make_services

NOAH, AIKO, KAI = "masto:101", "masto:102", "masto:109"
MIRA = "@mira@example.social"
TEAM = "@team@example.social"
COMMUNITY_CONFIG = CONFIG.replace('name = "masto"\n', f'name = "masto"\nstaff = ["{TEAM}"]\n', 1) + (
    '[community]\nthank_you = "thanks"\n'
)
ANSWERING = Answering(staff=frozenset({identity("masto", TEAM)}))


def reply(n: int, to: str, who: str, name: str, minutes: int, text: str) -> Message:
    return Message(
        id=f"masto:{n}",
        channel="masto",
        channel_type="mastodon",
        native_id=str(n),
        kind=Kind.MENTION,
        author=Author(id=who, handle=who, display_name=name),
        text=text,
        created_at=T0 - timedelta(minutes=minutes),
        url=f"https://example.social/{n}",
        thread_id=to,
        parent_id=to,
        visibility="public",
    )


ANSWERS = [
    reply(301, NOAH, MIRA, "Mira Okafor", 2, "Same here on 4.2.0; splitting the note in two works around it."),
    reply(302, AIKO, MIRA, "Mira Okafor", 4, "Agreed, the new themes are great!"),
    reply(303, KAI, TEAM, "Lumen team", 60, "We are on it: sync is degraded, updates on the status page."),
]


def community_services(tmp_path: Path, clock: FrozenClock) -> Services:
    services = make_services(tmp_path, clock, config_text=COMMUNITY_CONFIG)
    services.store.upsert_messages(enrich(ANSWERS), answers=ANSWERING)
    return services
