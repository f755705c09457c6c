"""A dialog closes once (review of 2026-12-02). Keys queued while the app is busy (typed
ahead, pasted, batched over a slow SSH link) can reach a dialog's box after the key that
closed it: a second Enter (or a second digit in the tag picker) ran the dialog's result again
(the tag applied twice) and popped the screen under it, the inbox: a blank screen before the
inbox became the app's first screen, a crash ("ScreenStackError") after."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot

from cminbox.core.clock import FrozenClock
from cminbox.tui.dialogs import TagPicker
from cminbox.tui.inbox_screen import InboxScreen
from tests.pilot_helpers import settle
from tests.tui_fixtures import make_services, opened


def queue_keys(pilot: Pilot[None], *keys: tuple[str, str | None]) -> None:
    """Keys handed to the app at once, as a terminal delivers a burst: all are in the app's
    queue before the first is handled."""
    app = pilot.app
    for key, character in keys:
        event = events.Key(key, character)
        event.set_sender(app)
        app.post_message(event)


@pytest.mark.parametrize(
    "burst",
    [
        (("enter", "\r"), ("enter", "\r")),  # Enter twice in the search box
        (("1", "1"), ("1", "1")),  # the first offered tag's digit twice
    ],
)
async def test_a_key_burst_closes_a_dialog_once_and_applies_it_once(
    tmp_path: Path, clock: FrozenClock, burst: tuple[tuple[str, str | None], ...]
) -> None:
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    async with opened(services) as (pilot, screen):
        await pilot.press("t", "a", "b", "enter")  # a tag the picker offers first from now on
        await settle(pilot)
        await pilot.press("j", "t", "a", "b")
        await pilot.pause()
        assert isinstance(pilot.app.screen, TagPicker)
        if burst[0][0] != "enter":
            await pilot.press("backspace", "backspace")  # (an empty box: digits pick)
        queue_keys(pilot, *burst)
        await pilot.pause(0.3)
        assert pilot.app.is_running  # (before waiting for the writes: a stopped app never settles)
        await settle(pilot)
        assert pilot.app.screen_stack == [screen] and isinstance(screen, InboxScreen)
        assert len(screen.undo_stack) == 2, screen.undo_stack  # the first tagging, then this one once
        current = screen.inbox_list.current
        assert current is not None and tuple(current.fields.tags) == ("ab",)
    assert pilot.app.return_code in (None, 0)


async def test_the_tag_pickers_say_how_many_items_they_act_on(tmp_path: Path, clock: FrozenClock) -> None:
    """Regression (new-user trial of 2026-12-02): with three items selected the picker's title
    was "Tag", where the escalate dialog says "Escalate 3 items"."""
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    async with opened(services) as (pilot, _screen):
        await pilot.press("t")
        await pilot.pause()
        assert "Tag 1 item" in str(pilot.app.screen.query_one(".dialog-title").render())
        await pilot.press("escape", "x", "j", "x", "j", "x", "t")
        await pilot.pause()
        assert "Tag 3 items" in str(pilot.app.screen.query_one(".dialog-title").render())
