"""Snapshots of every screen (SVGs under snapshots/). Deterministic: frozen clock, seeded data,
no blinking cursor, no network, and what the inbox reads on workers (the rows, a draft, a
thread) has landed before the picture: ``pressing`` and ``settle`` wait for it.
Regenerate with `pytest --snapshot-update tests/test_tui_snapshots.py`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cminbox.core.clock import FrozenClock
from tests.tui_fixtures import make_app, make_services, pressing, settle

pytestmark = pytest.mark.snapshot


def test_inbox(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    assert snap_compare(make_app(make_services(tmp_path, clock)), run_before=pressing(), terminal_size=(120, 40))


def test_inbox_80x24(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    assert snap_compare(make_app(make_services(tmp_path, clock)), run_before=pressing(), terminal_size=(80, 24))


def test_preview_below(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    assert snap_compare(make_app(make_services(tmp_path, clock)), run_before=pressing("v"), terminal_size=(80, 24))


def test_thread_view(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    assert snap_compare(
        make_app(make_services(tmp_path, clock)), run_before=pressing("j", "enter"), terminal_size=(120, 40)
    )


def test_reply_composer(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    press = ["j", "r", *"Thanks, we are on it!"]
    assert snap_compare(make_app(make_services(tmp_path, clock)), run_before=pressing(*press), terminal_size=(120, 40))


def test_escalate_dialog(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    press = ["j", "e", *"sync outage"]
    assert snap_compare(make_app(make_services(tmp_path, clock)), run_before=pressing(*press), terminal_size=(120, 40))


def test_tag_picker(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    services.inbox.tag(["masto:101"], ["bug", "search"])
    services.inbox.tag(["masto:109"], ["outage"])
    assert snap_compare(make_app(services), run_before=pressing("t", "o", "u"), terminal_size=(120, 40))


def test_filter_bar_with_query(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    press = ["slash", *"sync from:@kai"]
    assert snap_compare(make_app(make_services(tmp_path, clock)), run_before=pressing(*press), terminal_size=(120, 40))


def test_filter_applied_and_invalid(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    press = ["slash", *"sync", "enter", "slash", *" status:nope", "enter"]
    assert snap_compare(make_app(make_services(tmp_path, clock)), run_before=pressing(*press), terminal_size=(120, 40))


def test_help_screen(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    assert snap_compare(
        make_app(make_services(tmp_path, clock)), run_before=pressing("question_mark"), terminal_size=(120, 40)
    )


def test_degraded_channel(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    assert snap_compare(
        make_app(make_services(tmp_path, clock, degraded=True)), run_before=pressing(), terminal_size=(120, 40)
    )


@pytest.mark.parametrize("theme", ["cminbox-light", "high-contrast", "incident"])
def test_themes(snap_compare: Any, tmp_path: Path, clock: FrozenClock, theme: str) -> None:
    services = make_services(tmp_path, clock)
    services.inbox.set_priority(["masto:101"], __import__("cminbox.core.models").core.models.Priority.URGENT)
    services.inbox.escalate(["masto:103"], "oncall", note="abusive")
    assert snap_compare(make_app(services, theme=theme), run_before=pressing("x"), terminal_size=(120, 40))


def test_first_run(snap_compare: Any, tmp_path: Path) -> None:
    from cminbox.tui.app import CminboxApp
    from cminbox.tui.first_run import FirstRunScreen

    app = CminboxApp(
        None, blink=False, first_run=lambda: FirstRunScreen(tmp_path / "c.toml", lambda: None, lambda: None)
    )

    async def open_setup(pilot: Any) -> None:
        await pilot.press("tab", "enter")
        await pilot.pause(0.5)  # past the button's pressed effect (~0.2 s): deterministic

    assert snap_compare(app, run_before=open_setup, terminal_size=(100, 32))


def test_moderate_dialog(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    press = ["j", "M", *"Rule 2"]
    assert snap_compare(make_app(make_services(tmp_path, clock)), run_before=pressing(*press), terminal_size=(120, 40))


# 80x24, issue #11: nothing cut without an ellipsis, nothing pushed off, nothing covered.


def test_reply_composer_80x24(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    """The message being answered stays in view; the footer shows the composer's keys."""
    press = ["j", "r", *"Thanks, we are on it!"]
    assert snap_compare(make_app(make_services(tmp_path, clock)), run_before=pressing(*press), terminal_size=(80, 24))


def test_selection_header_80x24(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    """A large selection: the counters give way, the channel's health mark stays."""
    assert snap_compare(make_app(make_services(tmp_path, clock)), run_before=pressing("V"), terminal_size=(80, 24))


def test_help_screen_80x24(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    assert snap_compare(
        make_app(make_services(tmp_path, clock)), run_before=pressing("question_mark"), terminal_size=(80, 24)
    )


def test_thread_view_80x24(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    assert snap_compare(
        make_app(make_services(tmp_path, clock)), run_before=pressing("j", "enter"), terminal_size=(80, 24)
    )


def test_snooze_dialog_80x24(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    assert snap_compare(make_app(make_services(tmp_path, clock)), run_before=pressing("s"), terminal_size=(80, 24))


def test_notification_over_a_dialog_80x24(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    """The "Done" notification shows at the top while the escalate dialog's hint stays readable."""
    assert snap_compare(make_app(make_services(tmp_path, clock)), run_before=pressing("d", "e"), terminal_size=(80, 24))


def test_replied_snoozed_and_stale_rows_80x24(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    """↩ replied, z snoozed: markers, not colour alone; both no longer match "needs reply", so
    they are dimmed where they are and counted on the view line until the view is reloaded."""
    from cminbox.core.models import Status
    from cminbox.core.triage import SetFirstResponse, SetStatus

    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False

    async def reply_lands_and_snooze(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("j", "s", "enter")  # snooze the second row for an hour
        for action in (SetStatus(Status.OPEN), SetFirstResponse(clock.now)):  # what a sent reply records
            services.store.act(["masto:101"], action, actor="ana", undoable=False)
        pilot.app.screen.apply_states([services.store.triage("masto:101")])  # as the delivery message does
        pilot.app.screen.refresh_chrome()
        await settle(pilot)

    assert snap_compare(make_app(services), run_before=reply_lands_and_snooze, terminal_size=(80, 24))


def test_store_banner_80x24(
    snap_compare: Any, tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store cannot be written: one line under the header says so (and why)."""
    import cminbox.tui.inbox_screen as inbox_screen
    import cminbox.tui.store_sync as store_sync
    from cminbox.core.errors import FileAccessError

    unwritable = FileAccessError(
        Path("/data/cminbox/triage/shard-03.json"),
        "cannot write /data/cminbox/triage/shard-03.json (Read-only file system).",
        "Make the data folder writable by this user.",
        30,
    )

    def still_unwritable(_store: object) -> None:
        raise unwritable

    monkeypatch.setattr(store_sync, "probe", still_unwritable)  # the banner stays for the picture

    async def fail(pilot: Any) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, inbox_screen.InboxScreen)
        screen.notice_unreachable(unwritable)
        await pilot.pause()

    app = make_app(make_services(tmp_path, clock))
    assert snap_compare(app, run_before=fail, terminal_size=(80, 24))
