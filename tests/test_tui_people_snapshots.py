"""Snapshots of people in the inbox (SVGs under snapshots/): the rows' profile and sentiment
markers, the author card in the preview, the person screen, and the tag-authors picker.
Deterministic like tests/test_tui_snapshots.py: frozen clock, seeded data and people
(tests/tui_people_fixtures.py), what the workers read landed before the picture.
Regenerate with `pytest --snapshot-update tests/test_tui_people_snapshots.py`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from cminbox.core.clock import FrozenClock
from cminbox.tui.inbox_screen import InboxScreen
from tests.tui_fixtures import make_app, pressing, settle
from tests.tui_people_fixtures import KAI, NOAH, PRIYA, PRIYA_FEDI, PRIYA_KEY, people_ops, people_services

pytestmark = pytest.mark.snapshot


def at(mid: str, *keys: str) -> Any:
    """The cursor on ``mid`` (its preview read), then ``keys``."""

    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, InboxScreen)
        screen.inbox_list.cursor = screen.inbox_list.index[mid]
        await pilot.pause()  # the cursor's move is handled (its preview timer set)
        screen.show_preview()  # what that 60 ms debounce does once the cursor rests
        await settle(pilot)  # the preview's lookups and the author card landed
        await pilot.press(*keys)
        await settle(pilot)

    return run


def test_inbox_with_markers(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    """◆ staff (from the config), ★ vip, ♥ advocate, ⚠ troll; minus negative, + positive, ? not scored."""
    app = make_app(people_services(tmp_path, clock))
    assert snap_compare(app, run_before=pressing(), terminal_size=(120, 40))


def test_inbox_with_markers_80x24(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(people_services(tmp_path, clock))
    assert snap_compare(app, run_before=pressing(), terminal_size=(80, 24))


def test_author_card_in_the_preview(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    """Priya: tags by her name, her identity and counts, the team's last reply, the trend, the
    note, and her account on the other channel suggested, not linked."""
    app = make_app(people_services(tmp_path, clock))
    assert snap_compare(app, run_before=at(PRIYA), terminal_size=(120, 40))


def test_person_screen(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    """Priya linked across both channels: every item of hers, newest first."""
    services = people_services(tmp_path, clock)
    people_ops(services).link(PRIYA_KEY, PRIYA_FEDI)
    app = make_app(services)
    assert snap_compare(app, run_before=at(PRIYA, "P"), terminal_size=(120, 40))


def test_person_screen_80x24(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    services = people_services(tmp_path, clock)
    people_ops(services).link(PRIYA_KEY, PRIYA_FEDI)
    app = make_app(services)
    assert snap_compare(app, run_before=at(PRIYA, "P"), terminal_size=(80, 24))


def test_tag_authors_picker(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    services = people_services(tmp_path, clock)
    services.config.ui.auto_advance = False

    async def select_three(pilot: Pilot[None]) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, InboxScreen)
        for mid in (NOAH, KAI, "fedi:700"):
            screen.inbox_list.cursor = screen.inbox_list.index[mid]
            await pilot.press("x")
        await pilot.press("A", "v")
        await settle(pilot)

    assert snap_compare(make_app(services), run_before=select_three, terminal_size=(120, 40))
