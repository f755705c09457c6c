"""Snapshots of presence and collision at 80x24 (SVGs under snapshots/): a teammate's marker in
the row and the preview's line, and the question before sending over a teammate's reply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cminbox.core.clock import FrozenClock
from cminbox.core.outbox_types import OutboxKind
from cminbox.core.presence import Activity
from cminbox.core.store import Store
from cminbox.tui.inbox_screen import InboxScreen
from tests.tui_fixtures import make_app, make_services, settle

pytestmark = pytest.mark.snapshot


async def until(pilot: Any, ok: Any) -> None:
    for _ in range(300):
        if ok():
            return
        await pilot.pause(0.02)
    raise AssertionError("the inbox never showed it")


def test_teammates_in_rows_and_preview_80x24(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    """✎ bob replies to the item under the cursor, ⊙ cy views the next one: glyph and name."""
    app = make_app(make_services(tmp_path, clock))
    bob, cy = Store(tmp_path / "data", clock=clock), Store(tmp_path / "data", clock=clock)

    async def teammates(pilot: Any) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, InboxScreen)
        rows = screen.inbox_list.rows
        bob.set_presence("bob", rows[0].message.id, Activity.REPLYING)
        cy.set_presence("cy", rows[1].message.id, Activity.VIEWING)
        await until(pilot, lambda: len(screen.presence_seen) == 2)
        await pilot.pause()

    try:
        assert snap_compare(app, run_before=teammates, terminal_size=(80, 24))
    finally:
        bob.close()
        cy.close()


def test_asked_before_replying_over_a_teammate_80x24(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    bob = Store(tmp_path / "data", clock=clock)

    async def collide(pilot: Any) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, InboxScreen)
        mid = screen.inbox_list.rows[0].message.id
        await pilot.press("r")
        await until(pilot, lambda: mid in screen.reply_marks)  # the composer's base is read
        bob.outbox.enqueue(OutboxKind.REPLY, mid, "masto", {"text": "Fixed in 4.2.2, thanks for the report!"}, "bob")
        await pilot.press(*"On it!", "ctrl+s")
        await until(pilot, lambda: not isinstance(pilot.app.screen, InboxScreen))
        await pilot.pause()

    try:
        assert snap_compare(app, run_before=collide, terminal_size=(80, 24))
    finally:
        bob.close()
