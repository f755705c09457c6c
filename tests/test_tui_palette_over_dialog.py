"""The command palette does not open over a dialog."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandPalette

from cminbox.core.clock import FrozenClock
from cminbox.tui.dialogs import SnoozeDialog
from tests.tui_fixtures import make_app, make_services, settle


async def test_ctrl_p_over_a_dialog_keeps_the_dialog(tmp_path: Path, clock: FrozenClock) -> None:
    """Regression (new-user trial of 2026-12-01): ctrl+p opened the palette on top of "Post this
    reply publicly…? y/n", whose commands act on the inbox behind the unanswered question."""
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, SnoozeDialog)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, SnoozeDialog)
        assert not any(isinstance(s, CommandPalette) for s in app.screen_stack)
        assert any("close this dialog first" in str(n.message) for n in app._notifications)
        await pilot.press("escape", "ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
