"""Replying while the store is slow or away: the composer opens at once and its saved draft fills
in when read, never over what was typed meanwhile; a reply is queued once however often send is
pressed; a store that cannot be reached keeps the composer open with its text, says why, and
loses no draft.

Deterministic: a slow store call waits on a gate the test opens (tests/tui_fixtures.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea

from cminbox.core.clock import FrozenClock
from cminbox.core.errors import StoreUnavailable
from cminbox.core.models import Status
from cminbox.core.outbox_types import OutboxKind
from cminbox.core.presence import Activity
from cminbox.core.store import Store
from cminbox.tui.app import CminboxApp
from cminbox.tui.composer import Composer
from cminbox.tui.dialogs import ConfirmDialog
from cminbox.tui.inbox_screen import InboxScreen
from cminbox.tui.services import Services
from cminbox.tui.thread_screen import ThreadScreen
from tests.tui_fixtures import blocked, make_app, make_services, settle

SIZE = (120, 40)
PRIYA = "masto:100"  # a public mention: sending asks to confirm posting publicly
SAM = "masto:111"  # a direct message: sent without that question
DOWN = StoreUnavailable("cannot reach the database at cm@db:5432/cminbox (connection refused); nothing was changed.")


def inbox_of(app: CminboxApp) -> InboxScreen:
    for screen in app.screen_stack:
        if isinstance(screen, InboxScreen):
            return screen
    raise AssertionError("no inbox screen")


async def at(pilot: Pilot[None], mid: str) -> InboxScreen:
    inbox = inbox_of(pilot.app)  # type: ignore[arg-type]
    inbox.inbox_list.cursor = inbox.inbox_list.index[mid]
    await settle(pilot)
    return inbox


def shows(composer: Composer) -> bool:  # a function: mypy would keep narrowing the attribute
    return bool(composer.display)


def thread_open(inbox: InboxScreen) -> str | None:
    return inbox.thread_open


def notes(app: CminboxApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def replies(services: Services) -> list[str]:
    return [i.payload["text"] for i in services.inbox.outbox.items() if i.kind == OutboxKind.REPLY]


async def test_the_composer_opens_at_once_and_the_saved_draft_goes_above_what_was_typed(
    tmp_path: Path, clock: FrozenClock
) -> None:
    services = make_services(tmp_path, clock)
    services.store.set_draft(PRIYA, "Saved earlier.")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = await at(pilot, PRIYA)
        composer = inbox.query_one(Composer)
        with blocked(services.store, "get_draft") as gate:
            await pilot.press("r")
            await gate.wait_entered()
            assert composer.display and composer.target is not None  # open while the draft is read
            await pilot.press(*"Typed meanwhile")
            assert composer.text == "Typed meanwhile"
            gate.release.set()
            await settle(pilot)
        assert composer.text == "Saved earlier.\n\nTyped meanwhile"  # both kept, the typing not overwritten
        assert composer.query_one(TextArea).cursor_location == (2, len("Typed meanwhile"))  # still typing there
        assert "Your saved draft is above what you typed." in notes(app)
        await pilot.press(*" too", "escape")
        await settle(pilot)
    assert Store(tmp_path / "data").get_draft(PRIYA) == "Saved earlier.\n\nTyped meanwhile too"


async def test_an_empty_composer_just_takes_the_saved_draft(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    services.store.set_draft(PRIYA, "Saved earlier.")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = await at(pilot, PRIYA)
        await pilot.press("r")
        await settle(pilot)
        assert inbox.query_one(Composer).text == "Saved earlier."
        assert "Your saved draft is above what you typed." not in notes(app)


async def test_closing_before_the_saved_draft_was_read_keeps_both(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    services.store.set_draft(PRIYA, "Saved earlier.")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = await at(pilot, PRIYA)
        with blocked(services.store, "get_draft") as gate:
            await pilot.press("r")
            await gate.wait_entered()
            await pilot.press(*"Quick note", "escape")  # closed before the draft landed
            gate.release.set()
            await settle(pilot)
        assert not inbox.composing
        assert services.store.get_draft(PRIYA) == "Saved earlier.\n\nQuick note"
        await pilot.press("r")
        await settle(pilot)
        assert inbox.query_one(Composer).text == "Saved earlier.\n\nQuick note"


async def test_the_last_draft_typed_is_the_one_saved(tmp_path: Path, clock: FrozenClock) -> None:
    """Draft saves are fire-and-forget but in order: a slow first save never wins over a later one."""
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = await at(pilot, PRIYA)
        with blocked(services.store, "set_draft") as gate:
            await pilot.press("r", *"first", "escape")
            await gate.wait_entered()
            await pilot.press("r")  # reopened while the first save waits: shows it at once
            assert inbox.query_one(Composer).text == "first"
            await pilot.press(*" then second", "escape")
            gate.release.set()
            await settle(pilot)
        assert services.store.get_draft(PRIYA) == "first then second"


async def test_pressing_send_again_while_the_reply_is_queued_sends_it_once(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = await at(pilot, PRIYA)
        composer = inbox.query_one(Composer)
        with blocked(services.inbox.outbox, "enqueue") as gate:
            await pilot.press("r", *"On it!", "ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)  # public: asked first
            await pilot.press("enter")  # yes
            await gate.wait_entered()
            await pilot.press("enter", "ctrl+s", "enter", "d", "ctrl+s")  # impatient: nothing more is queued
            assert isinstance(app.screen, InboxScreen)  # no second question, no thread view either
            assert services.store.triage(PRIYA).status == Status.NEW  # the keys did not reach the list behind
            assert inbox.writes.pending and not inbox.writes.pending[0].expect  # only the reply is queued
            assert shows(composer) and composer.text == "On it!"  # open, unchanged, until the store has it
            assert composer.query_one(TextArea).read_only
            gate.release.set()
            await settle(pilot)
        assert len(gate.threads) == 1
        assert replies(services) == ["On it!"]
        assert not shows(composer) and not inbox.composing
        assert services.store.get_draft(PRIYA) == ""
        assert any("queued; sending" in n for n in notes(app))


async def test_a_store_that_cannot_be_reached_keeps_the_reply_in_the_composer(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cminbox.tui.store_sync as store_sync

    services = make_services(tmp_path, clock)
    app = make_app(services)

    def down(*args: Any, **kwargs: Any) -> Any:
        raise DOWN

    async with app.run_test(size=SIZE) as pilot:
        inbox = await at(pilot, SAM)
        composer = inbox.query_one(Composer)
        monkeypatch.setattr(services.inbox.outbox, "enqueue", down)
        monkeypatch.setattr(store_sync, "probe", down)
        await pilot.press("r", *"Refund on its way", "ctrl+s")
        await settle(pilot)
        assert replies(services) == []  # nothing queued, nothing half done
        assert composer.display and composer.text == "Refund on its way"  # the text stays, editable again
        assert not composer.sending and not composer.query_one(TextArea).read_only
        assert any(n.startswith("Not sent: cannot reach the database") for n in notes(app))
        assert not inbox.store_ok  # the banner says the store is away
        assert services.store.get_draft(SAM) == "Refund on its way"  # kept as the draft as well

        await pilot.press(*"!", "ctrl+s")  # refused at once while the banner is up, the text still there
        await settle(pilot)
        assert composer.text == "Refund on its way!" and replies(services) == []
        assert any("actions are refused until it can" in n for n in notes(app))

        monkeypatch.undo()  # the store is back
        assert await inbox.probe_store()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert replies(services) == ["Refund on its way!"] and not composer.display


async def test_a_draft_the_store_refuses_is_kept_and_saved_once_it_can_be(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cminbox.tui.store_sync as store_sync

    services = make_services(tmp_path, clock)
    app = make_app(services)

    def down(*args: Any, **kwargs: Any) -> Any:
        raise DOWN

    async with app.run_test(size=SIZE) as pilot:
        inbox = await at(pilot, PRIYA)
        monkeypatch.setattr(services.store, "set_draft", down)
        monkeypatch.setattr(store_sync, "probe", down)
        await pilot.press("r", *"Half a thought", "escape")
        await settle(pilot)
        assert any(n.startswith("Draft not saved: cannot reach the database") for n in notes(app))
        assert not inbox.store_ok
        await pilot.press("r")  # reopened: what was typed is there, from memory
        await settle(pilot)
        assert inbox.query_one(Composer).text == "Half a thought"
        await pilot.press("escape")
        await settle(pilot)
        monkeypatch.undo()  # the store is back: the probe clears the banner and the draft is saved
        assert await inbox.probe_store()
        await settle(pilot)
        assert services.store.get_draft(PRIYA) == "Half a thought"
        assert inbox.drafts.unsaved == {}


async def test_the_thread_view_opens_at_once_and_says_viewing_while_open(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = await at(pilot, PRIYA)
        inbox.lookups.forget()  # not from the preview's cache: read for the thread view
        with blocked(services.store, "thread_of") as gate:
            await pilot.press("enter")
            await gate.wait_entered()
            await pilot.pause()
            thread = app.screen
            assert isinstance(thread, ThreadScreen)
            status = str(thread.query_one("#thread-status").render())
            body = str(thread.query_one("#thread-body").render())
            assert "loading the stored thread…" in status and "Priya Raman" in body  # the item itself
            assert "Mira Okafor" not in body
            gate.release.set()
            await settle(pilot)
        assert "stored copy" in str(thread.query_one("#thread-status").render())
        assert "Mira Okafor" in str(thread.query_one("#thread-body").render())  # the reply in the thread
        assert inbox._presence_wanted == (PRIYA, Activity.VIEWING) and inbox.thread_open == PRIYA
        inbox.inbox_list.cursor += 3  # the list moving underneath (a reload, say) does not change it
        inbox.show_preview()
        assert inbox._presence_wanted == (PRIYA, Activity.VIEWING)
        await pilot.press("escape")
        await settle(pilot)
        assert thread_open(inbox) is None
        current = inbox.inbox_list.current
        assert current is not None and inbox._presence_wanted == (current.message.id, Activity.VIEWING)
