"""Macros in the inbox: a macro's own key over a 40-item selection is one key and one undo; `m`
picks one; held items are asked about; every macro is in the help screen and the palette."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

from cminbox.core.clock import FrozenClock
from cminbox.core.models import Status
from cminbox.core.outbox_types import OutboxKind
from cminbox.core.triage import Assign
from cminbox.tui.inbox_screen import InboxScreen
from cminbox.tui.macro_dialogs import MacroConfirm, MacroPicker
from tests.tui_fixtures import make_app, settle
from tests.tui_macro_fixtures import BURST, macro_services

SIZE = (120, 40)


async def press(pilot: Pilot[None], *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


def inbox(pilot: Pilot[None]) -> InboxScreen:
    screen = next(s for s in pilot.app.screen_stack if isinstance(s, InboxScreen))
    assert isinstance(screen, InboxScreen)
    return screen


async def test_a_macro_key_over_40_items_is_one_key_and_one_undo(tmp_path: Path, clock: FrozenClock) -> None:
    services = macro_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await press(pilot, "slash", *"lumendown", "enter", "V")
        picked = sorted(inbox(pilot).inbox_list.selected)
        assert len(picked) == BURST
        await press(pilot, "O")
        for mid in picked:
            state = services.store.triage(mid)
            assert state.status == Status.DONE and state.tags == ("outage",)
        replies = [i for i in services.inbox.outbox.items() if i.kind == OutboxKind.REPLY]
        assert sorted(i.message_id for i in replies) == picked
        assert "macro outage: 40 items, 40 replies queued · u undoes" in [n.message for n in app._notifications]
        assert not inbox(pilot).inbox_list.selected
        await press(pilot, "u")
        for mid in picked:
            state = services.store.triage(mid)
            assert state.status == Status.NEW and state.tags == ()
        undone = [n.message for n in app._notifications if n.message.startswith("Undone: macro outage")]
        assert undone and undone[0].endswith("; 40 unsent replies withdrawn (40)")


async def test_m_picks_a_macro_for_the_cursor_item(tmp_path: Path, clock: FrozenClock) -> None:
    services = macro_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        mid = inbox(pilot).inbox_list.current.message.id  # type: ignore[union-attr]
        await press(pilot, "m")
        assert isinstance(app.screen, MacroPicker)
        await press(pilot, "2")  # spam
        state = services.store.triage(mid)
        assert state.status == Status.DONE and state.tags == ("spam",) and state.notes[0].text == "closed as spam"
        assert state.history[-1].action == "macro spam: tag spam; note; done"
        assert services.inbox.outbox.items() == []


async def test_held_items_are_asked_about_and_skipped(tmp_path: Path, clock: FrozenClock) -> None:
    services = macro_services(tmp_path, clock)
    services.store.act(["masto:500"], Assign("bo"), actor="bo")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "slash", *"lumendown", "enter", "V", "O")
        assert isinstance(app.screen, MacroConfirm)
        await press(pilot, "s")
        assert services.store.triage("masto:500").status == Status.NEW
        assert services.store.triage("masto:501").status == Status.DONE
        assert len(services.inbox.outbox.items()) == BURST - 1


async def test_macros_are_in_the_help_screen_and_the_palette(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(macro_services(tmp_path, clock))
    async with app.run_test(size=SIZE) as pilot:
        screen = inbox(pilot)
        assert any(b.action == "run_macro('outage')" for b in screen._bindings.get_bindings_for_key("O"))
        from cminbox.tui.palette import ActionCommands

        provider = ActionCommands(screen)
        titles = [title for title, _, _ in provider._entries()]
        assert "Macro outage: tag outage, reply “status page”, done" in titles
        assert "Run a macro (playbook) on the item or the selection" in titles
        await press(pilot, "question_mark")
        console = Console(width=200, record=True, file=io.StringIO())
        for static in app.screen.query(Static):
            console.print(static.content)
        text = console.export_text()
        rows = [" ".join(line.split()) for line in text.splitlines()]
        assert "m Run a macro (playbook) on the item or the selection macro" in rows
        assert "O macro outage: tag outage, reply “status page”, done [[macros]] key" in rows
        assert "m … macro spam: tag spam, note, done [[macros]] key" in rows


async def test_a_macro_never_calls_the_store_on_the_ui_thread(tmp_path: Path, clock: FrozenClock) -> None:
    """The plan (replies, holds, answered items), the run, the undo: all on the store worker."""
    import threading
    from collections import Counter

    from tests.test_tui_off_ui_thread import ThreadProbe

    services = macro_services(tmp_path, clock)
    services.store.act(["masto:500"], Assign("bo"), actor="bo")
    probe = ThreadProbe()
    probe.wrap(services.store, "store")
    probe.wrap(services.store.outbox, "outbox")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        probe.ui = threading.get_ident()
        probe.watching = True
        await press(pilot, "slash", *"lumendown", "enter", "V", "O")
        assert isinstance(app.screen, MacroConfirm)
        await press(pilot, "a")
        with probe.paused():
            assert services.store.triage("masto:500").status == Status.DONE  # "a": all, the held one too
        await press(pilot, "u", "m", "2")
        probe.watching = False
    assert probe.off_ui > 0
    assert Counter(f"{c.method} from {c.where}" for c in probe.on_ui) == Counter()
