"""A deterministic inbox for TUI tests: frozen clock, seeded messages, no network."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cminbox.core import config as config_mod
from cminbox.core.clock import FrozenClock
from cminbox.core.health import ChannelHealth, HealthState
from cminbox.core.models import Author, Kind, Message
from cminbox.core.secrets import Secrets
from cminbox.core.wiring import wire
from cminbox.tui.app import CminboxApp
from cminbox.tui.services import Services
from tests.conftest import T0

CONFIG = """
[user]
name = "ana"
[ui]
theme = "cminbox-dark"
[[channels]]
name = "masto"
type = "mastodon"
url = "https://masto.example"
token_command = "printf never-called"
[[escalation.targets]]
name = "oncall"
url = "https://hooks.example/cm"
[[saved_replies]]
name = "thanks"
text = "Thanks for reaching out!"
"""

TEXTS = [
    ("Priya Raman", "priya", "how do I export all notes to markdown? I looked in settings but could not find it."),
    ("Noah Becker", "noah", "found a bug: search freezes with more than 2000 lines. Version 4.2.0 on Fedora 43."),
    ("Aiko Tanaka", "aiko", "just wanted to say the new themes are lovely 💜 thank you!"),
    ("angry bird", "angrybird404", "your devs are clowns and sync is garbage"),
    ("Mallory", "mallory", "[bold]not bold[/bold] [link=https://evil.example]click[/link] \x1b[31mred\x1b[0m"),
    ("Yael Cohen", "yael", "שלום, יש בעיה עם הסנכרון בגרסה 4.2.1"),
    ("Omar Haddad", "omar", "مرحبا! هل يمكنني استخدام البحث باللغة العربية؟"),
    ("Long Word", "longword", "Supercalifragilisticexpialidociousnotetakingappthatneverwrapsanywhereatall" * 2),
    ("Empty Body", "empty", ""),
    ("Kai Andersen", "kai", "is sync down? nothing has synced for 10 minutes"),
    ("Grace Mensah", "grace", "sync broken for anyone else?? I have a deadline in an hour"),
    ("Sam Kowalski", "sam_k", "hi, sorry to DM: I think my account was charged twice this month."),
]


def seed_messages() -> list[Message]:
    msgs = []
    for i, (name, user, text) in enumerate(TEXTS):
        kind = Kind.DIRECT if user == "sam_k" else Kind.MENTION
        msgs.append(
            Message(
                id=f"masto:{100 + i}",
                channel="masto",
                channel_type="mastodon",
                native_id=str(100 + i),
                kind=kind,
                author=Author(
                    id=str(i),
                    handle=f"@{user}@example.social",
                    display_name=name,
                    url=f"https://example.social/@{user}",
                ),
                text=text,
                created_at=T0 - timedelta(minutes=7 * i + 3),
                url=f"https://example.social/@{user}/{100 + i}",
                thread_id=f"masto:{100 + i}",
                visibility="direct" if kind == Kind.DIRECT else "public",
                extra={"account_id": str(i), "acct": f"{user}@example.social"},
            )
        )
    # A reply in the first conversation, so the thread view has context.
    msgs.append(
        Message(
            id="masto:200",
            channel="masto",
            channel_type="mastodon",
            native_id="200",
            kind=Kind.MENTION,
            author=Author(id="50", handle="@mira@example.social", display_name="Mira Okafor"),
            text="@priya Settings → Export → Markdown. Works on 4.2!",
            created_at=T0 - timedelta(minutes=1),
            thread_id="masto:100",
            parent_id="masto:100",
            visibility="public",
        )
    )
    return msgs


def make_services(tmp_path: Path, clock: FrozenClock, *, config_text: str = CONFIG, degraded: bool = False) -> Services:
    cfg = config_mod.parse(config_text, tmp_path / "config.toml")
    wired = wire(cfg, tmp_path / "data", clock=clock, secrets=Secrets({"masto": "never-used"}))
    store = wired.store
    store.upsert_messages(seed_messages())
    health = ChannelHealth(channel="masto", state=HealthState.OK, last_success=clock())
    if degraded:
        health = ChannelHealth(
            channel="masto",
            state=HealthState.DEGRADED,
            reason="notifications: expected JSON, got an HTML page",
            failures=2,
        )
    store.set_health("masto", health.to_doc())
    return Services(cfg, wired.inbox, wired.engine(), clock)


def make_app(services: Services, theme: str | None = None) -> CminboxApp:
    return CminboxApp(services, run_engine=False, theme=theme, blink=False)
