"""The guideline in the TUI: M's dialog offers the guidelines with a preview of the exact
follow-up and how it is delivered; enter queues the moderation and the follow-up that waits for
it (on the store worker); F tells the author of an item moderated earlier. Snapshots of the
dialog with a guideline chosen at 120x40 and 80x24. Regenerate with
`pytest --snapshot-update tests/test_tui_guidelines.py`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from cminbox.core.clock import FrozenClock
from cminbox.core.outbox_types import OutboxKind
from cminbox.tui.moderation import FollowUpDialog, ModerateDialog
from cminbox.tui.services import Services
from tests.tui_fixtures import CONFIG, make_app, make_services, pressing, settle

GUIDELINES = """
[[guidelines]]
name = "be-kind"
text = "Be kind: criticise ideas, not people."
url = "https://lumen.example/guidelines#be-kind"
[[guidelines]]
name = "no-spam"
text = "No advertising or referral links."
"""


def services(tmp_path: Path, clock: FrozenClock) -> Services:
    return make_services(tmp_path, clock, config_text=CONFIG + GUIDELINES)


def _preview(app: Any) -> str:
    return str(app.screen.query_one("#moderate-preview", Static).render())


async def test_moderating_with_a_guideline_queues_the_follow_up(tmp_path: Path, clock: FrozenClock) -> None:
    s = services(tmp_path, clock)
    app = make_app(s)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("M")
        await settle(pilot)
        assert isinstance(app.screen, ModerateDialog)
        assert "No guideline: the author is not told." in _preview(app)
        await pilot.press("tab", "down")  # the guidelines list: be-kind
        text = _preview(app)
        assert "Follow-up by direct message on masto, once the report succeeds:" in text
        assert 'your post was reported to the moderators under our community guideline "be-kind"' in text
        assert "/500 characters · sent once" in text
        await pilot.press("shift+tab")
        await pilot.press("down")  # mute: no follow-up after it
        assert "No follow-up: no follow-up after 'mute': mastodon offers one after report" in _preview(app)
        await pilot.press("up", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, ModerateDialog)
    items = s.inbox.outbox.items()
    assert [i.kind for i in items] == [OutboxKind.ACTION, OutboxKind.FOLLOW_UP]
    assert items[0].payload["guideline"] == "be-kind" and items[1].payload["after"] == items[0].id
    assert "follow-up queued by direct message" in s.store.triage(items[0].message_id).history[-1].action


async def test_f_tells_the_author_of_an_item_moderated_earlier(tmp_path: Path, clock: FrozenClock) -> None:
    s = services(tmp_path, clock)
    app = make_app(s)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("F")
        await settle(pilot)
        assert isinstance(app.screen, FollowUpDialog)
        await pilot.press("down")
        text = _preview(app)
        assert "Follow-up by direct message on masto:" in text and "your post was moderated under" in text
        await pilot.press("enter")
        await settle(pilot)
    [item] = s.inbox.outbox.items()
    assert item.kind == OutboxKind.FOLLOW_UP and item.payload["guideline"] == "no-spam"


async def test_without_guidelines_f_says_how_to_add_them(tmp_path: Path, clock: FrozenClock) -> None:
    s = make_services(tmp_path, clock)
    app = make_app(s)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.press("F")
        await settle(pilot)
        assert not isinstance(app.screen, FollowUpDialog)
        assert any("add [[guidelines]]" in str(n.message) for n in app._notifications)
        await pilot.press("M")
        await settle(pilot)
        assert isinstance(app.screen, ModerateDialog) and not app.screen.query("#moderate-guidelines")


@pytest.mark.snapshot
def test_moderate_dialog_with_a_guideline(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(services(tmp_path, clock))
    assert snap_compare(app, run_before=pressing("M", "tab", "down"), terminal_size=(120, 40))


@pytest.mark.snapshot
def test_moderate_dialog_with_a_guideline_80x24(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(services(tmp_path, clock))
    assert snap_compare(app, run_before=pressing("M", "tab", "down"), terminal_size=(80, 24))
