"""A deterministic inbox for TUI tests: frozen clock, seeded messages, no network."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.message import Message as TextualMessage
from textual.pilot import Pilot

from cminbox.core import config as config_mod
from cminbox.core.clock import FrozenClock
from cminbox.core.enrich import enrich
from cminbox.core.health import ChannelHealth, HealthState
from cminbox.core.models import Author, Kind, Message
from cminbox.core.secrets import Secrets
from cminbox.core.store_api import ProgressiveLoading
from cminbox.core.wiring import wire
from cminbox.tui import app as app_module
from cminbox.tui.app import CminboxApp
from cminbox.tui.first_read import FIRST_SCREEN
from cminbox.tui.inbox_screen import InboxScreen
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
    store.upsert_messages(enrich(seed_messages()))  # scored, as the poller stores them (rows show the mood)
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


class PilotApp(CminboxApp):
    """The app for Pilot tests: ``run_test`` hands over the first screen once its rows are
    read (the inbox reads them on a worker; a test must not race the read)."""

    CSS_PATH = str(Path(app_module.__file__).parent / "cminbox.tcss")  # a relative one would be read from tests/

    @asynccontextmanager
    async def run_test(
        self,
        *,
        headless: bool = True,
        size: tuple[int, int] | None = (80, 24),
        tooltips: bool = False,
        notifications: bool = False,
        message_hook: Callable[[TextualMessage], None] | None = None,
    ) -> AsyncGenerator[Pilot[None], None]:
        running = super().run_test(
            headless=headless, size=size, tooltips=tooltips, notifications=notifications, message_hook=message_hook
        )
        async with running as pilot:
            await settle(pilot)
            yield pilot


def make_app(services: Services, theme: str | None = None) -> CminboxApp:
    return PilotApp(services, run_engine=False, theme=theme, blink=False)


@asynccontextmanager
async def opened(
    services: Services, *, notifications: bool = False, size: tuple[int, int] = (120, 40)
) -> AsyncGenerator[tuple[Pilot[None], InboxScreen], None]:
    """The inbox of ``services`` running under a Pilot, and its screen: how most inbox tests
    begin (the services made and adjusted first)."""
    app = make_app(services)
    async with app.run_test(size=size, notifications=notifications) as pilot:
        screen = app.screen
        assert isinstance(screen, InboxScreen)
        yield pilot, screen


async def settle(pilot: Pilot[None]) -> None:
    """Until what the keys, the timers and the store started has landed: the inbox's writes,
    lookups and store reads run on workers (tests wait for them, never for a duration)."""
    for screen in pilot.app.screen_stack:
        if isinstance(screen, InboxScreen):
            await screen.settled()
    await pilot.pause()


def pressing(*keys: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    """A snapshot's ``run_before``: the first screen's rows read, then ``keys``, then what they
    started (the composer's draft, the thread view's stored thread) landed too."""

    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)

    return run


class Gate:
    """A store method that waits until the test releases it; ``threads`` gets the thread id
    of each call, ``entered`` is set when the first call is waiting."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.threads: list[int] = []

    async def wait_entered(self) -> None:
        await asyncio.to_thread(self.entered.wait)


@contextmanager
def blocked(obj: object, name: str) -> Iterator[Gate]:
    """``obj.name`` (a store's or an outbox's method) waits for the gate (deterministic: the
    test releases it, never a duration)."""
    real: Callable[..., Any] = getattr(obj, name)
    gate = Gate()

    def waiting(*args: Any, **kwargs: Any) -> Any:
        gate.threads.append(threading.get_ident())
        gate.entered.set()
        gate.release.wait()
        return real(*args, **kwargs)

    setattr(obj, name, waiting)
    try:
        yield gate
    finally:
        gate.release.set()  # never leave a worker thread waiting, even when the test fails
        setattr(obj, name, real)


def launched(
    cfg: config_mod.Config, data_dir: Path, clock: FrozenClock, messages: list[Message], *, engine: bool = True
) -> Services:
    """The launcher's services (tui/launch.services) on a store that already holds
    ``messages``: the launcher starts the first screen's read at once (tui/first_read.py), as
    the program does, so the store is filled before, not after."""
    from cminbox.tui import launch

    store = wire(cfg, data_dir, clock=clock, secrets=Secrets({})).store
    store.upsert_messages(messages)
    store.close()
    return launch.services(cfg, Secrets({"masto": "never-used"}), data_dir, clock, engine=engine)


def hold_older_parts(loader: ProgressiveLoading, release: threading.Event) -> None:
    """A lazily opened store's loader reads what the first screen needs (FIRST_SCREEN items);
    every later step waits for ``release`` (the test looks at the first screen meanwhile)."""
    real = loader.load_next_segment

    def held() -> str | None:
        if loader.loaded_items >= FIRST_SCREEN:
            release.wait(10)
        return real()

    loader.load_next_segment = held  # type: ignore[method-assign]
