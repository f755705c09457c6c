"""The demos' notice (where the data is, how a second shell reaches it) steps aside when the
composer opens: as a toast over the composer's right half it hid what was typed there and the
composer's key hints for up to a minute (team-demo trial of 2026-12-02)."""

from __future__ import annotations

import time
from pathlib import Path

from cminbox.core.clock import FrozenClock
from cminbox.tui.composer import Composer
from cminbox.tui.launch import app_with_notice
from tests.conftest import T0
from tests.tui_fixtures import make_services, settle

NOTICE = "Data in /tmp/cminbox-demo-x (removed when you quit)."


async def test_the_notice_is_shown_then_steps_aside_for_the_composer(tmp_path: Path) -> None:
    app = app_with_notice(make_services(tmp_path, FrozenClock(T0)), "The Lumen demo", NOTICE, 60, None)
    started = time.time()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        notice = next(n for n in app._notifications if n.message == NOTICE)
        assert notice.raised_at >= started  # its minute runs from when the inbox is up, not before
        await pilot.press("r")
        await settle(pilot)
        assert app.screen.query_one(Composer).target is not None
        assert NOTICE not in [n.message for n in app._notifications]
        app.notify("a warning while composing")  # other notifications still show
        await pilot.pause()
        assert "a warning while composing" in [n.message for n in app._notifications]
