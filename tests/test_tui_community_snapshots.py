"""Snapshots of community answers (SVGs under snapshots/): the row's marker and the preview's
"answered by" line, and the "Who helps most" screen (H) at two sizes. Deterministic like
tests/test_tui_people_snapshots.py: frozen clock, seeded data (tests/tui_community_fixtures.py),
what the workers read landed before the picture.
Regenerate with `pytest --snapshot-update tests/test_tui_community_snapshots.py`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from cminbox.core.clock import FrozenClock
from cminbox.tui.helpers_screen import HelpersScreen
from cminbox.tui.inbox_screen import InboxScreen
from tests.test_tui_presence import until
from tests.tui_community_fixtures import NOAH, community_services
from tests.tui_fixtures import make_app, settle

pytestmark = pytest.mark.snapshot


async def on_noah(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("5")  # "all": Kai's item, answered by staff on the channel, is not in "needs reply"
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, InboxScreen)
    screen.inbox_list.cursor = screen.inbox_list.index[NOAH]
    await pilot.pause()
    screen.show_preview()
    await settle(pilot)


async def helpers(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("H")
    screen = pilot.app.screen
    assert isinstance(screen, HelpersScreen)
    await until(pilot, lambda: screen.helpers is not None, "the ranking read")
    await pilot.pause()


def test_inbox_with_a_community_answer(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    """↪ on Noah's and Aiko's rows (Mira answered first), ↩ on Kai's (staff replied first, on the
    channel: the item is open and replied); the preview names Mira, when, the keys, and links her answer."""
    app = make_app(community_services(tmp_path, clock))
    assert snap_compare(app, run_before=on_noah, terminal_size=(120, 40))


def test_who_helps_most(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(community_services(tmp_path, clock))
    assert snap_compare(app, run_before=helpers, terminal_size=(120, 40))


def test_who_helps_most_80x24(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(community_services(tmp_path, clock))
    assert snap_compare(app, run_before=helpers, terminal_size=(80, 24))
