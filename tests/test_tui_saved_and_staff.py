"""In the composer: a saved reply goes in with its variables filled for the item, and one that
the variables push past the channel's limit is refused at send, before anything is queued; a
reply the team wrote on the channel itself (a `staff` account) makes sending ask first."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from cminbox.core.clock import FrozenClock
from cminbox.core.models import Author, Kind, Message
from cminbox.core.outbox_types import OutboxKind
from cminbox.tui.app import CminboxApp
from cminbox.tui.composer import Composer
from cminbox.tui.dialogs import CollisionDialog, ConfirmDialog, SavedReplyPicker
from tests.conftest import T0
from tests.test_tui_replying import SAM, SIZE, at, notes
from tests.tui_fixtures import CONFIG, make_app, make_services, settle

STAFFED = CONFIG.replace('name = "masto"\n', 'name = "masto"\nstaff = ["@Team@example.social"]\n', 1)
SAVED = (
    '\n[[saved_replies]]\nname = "hello"\ntext = "Hi {author.first_name}, {me} here from {channel}."\n'
    '\n[[saved_replies]]\nname = "huge"\ntext = "' + "{author.name} " * 45 + '"\n'
)


async def pick_saved(pilot: Pilot[None], app: CminboxApp, name: str) -> None:
    await pilot.press("ctrl+r")
    await settle(pilot)
    assert isinstance(app.screen, SavedReplyPicker)
    # Listed by name, not as a #tag (they read as hashtags: new-user trial of 2026-12-02).
    listed = [str(o.prompt) for o in app.screen.query_one(OptionList).options]
    assert any(line.endswith(f" {name}") for line in listed) and not any("#" in line for line in listed), listed
    app.screen.dismiss(name)
    await settle(pilot)


async def test_saved_reply_variables_are_filled_and_past_the_limit_refused(tmp_path: Path) -> None:
    services = make_services(tmp_path, FrozenClock(T0), config_text=CONFIG + SAVED)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = await at(pilot, SAM)  # Sam Kowalski, a direct message: no "post publicly?" question
        await pilot.press("r")
        await settle(pilot)
        composer = inbox.query_one(Composer)
        await pick_saved(pilot, app, "hello")
        assert composer.text == "Hi Sam, ana here from masto."
        composer.set_text("")
        await pick_saved(pilot, app, "huge")  # 45 times "Sam Kowalski ": past Mastodon's 500
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert composer.target is not None and composer.text.startswith("Sam Kowalski Sam Kowalski")
        assert any("500" in n for n in notes(app))
    assert [i for i in services.inbox.outbox.items() if i.kind == OutboxKind.REPLY] == []


async def test_a_staff_reply_seen_on_the_channel_makes_sending_ask_first(tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    services = make_services(tmp_path, clock, config_text=STAFFED)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = await at(pilot, SAM)
        await pilot.press("r")
        await settle(pilot)
        item = services.store.get_message(SAM)
        assert item is not None
        # A teammate answers on Mastodon's own site; the next poll brings it in.
        services.store.upsert_messages(
            [
                Message(
                    id="masto:900",
                    channel="masto",
                    channel_type="mastodon",
                    native_id="900",
                    kind=Kind.DIRECT,
                    author=Author(id="t", handle="@team@example.social", display_name="Lumen team"),
                    text="Refunded the second charge, sorry about that!",
                    created_at=T0 - timedelta(seconds=20),
                    thread_id=item.thread_id or item.id,
                    parent_id=item.id,
                )
            ]
        )
        inbox.query_one(Composer).set_text("Looking into it!")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CollisionDialog)
        shown = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert '@team@example.social replied on masto just now: "Refunded the second charge' in shown
        await pilot.press("n")
        await settle(pilot)
        assert inbox.query_one(Composer).text == "Looking into it!"
        assert not isinstance(app.screen_stack[-1], (CollisionDialog, ConfirmDialog))
    assert [i for i in services.inbox.outbox.items() if i.kind == OutboxKind.REPLY] == []
