"""A bulk status change never silently closes work in progress: escalated items, items a
teammate took, items with an unsent reply. The TUI asks once; the CLI skips them unless --force."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cminbox.core.bulk import Hold, plan_status_change
from cminbox.core.clock import FrozenClock
from cminbox.core.models import Escalation, Priority, Status, TriageState
from cminbox.core.store import Store
from cminbox.core.triage import Assign, SetEscalation, SetStatus
from cminbox.tui.bulk_confirm import BulkConfirm
from cminbox.tui.inbox_screen import InboxScreen
from cminbox.tui.plain import Label
from cminbox.tui.services import Services
from tests.conftest import T0, cli_env, run_cli
from tests.factories import make_message
from tests.tui_fixtures import make_app, make_services, pressing, settle

SIZE = (120, 40)
ESCALATED, THEIRS, DRAFTED = "masto:109", "masto:110", "masto:101"


def test_plan_holds_escalated_theirs_and_drafted_only_for_a_bulk_close() -> None:
    states = [
        TriageState(id="esc", status=Status.ESCALATED),
        TriageState(id="bob", assignee="bob"),
        TriageState(id="mine", assignee="ana"),
        TriageState(id="draft"),
        TriageState(id="plain"),
        TriageState(id="done", status=Status.DONE, assignee="bob"),  # unchanged by closing: not held
    ]
    plan = plan_status_change(states, Status.DONE, actor="ana", drafted={"draft"})
    assert plan.clear == ("mine", "plain", "done")
    assert plan.held == (("esc", Hold.ESCALATED), ("bob", Hold.ASSIGNED), ("draft", Hold.DRAFT))
    assert plan.summary() == "1 escalated, 1 assigned to someone else, 1 with an unsent reply draft"
    assert plan.same == ("done",)  # closed already: the dialog's counts leave it out
    # Reopening or waiting keeps assignee and draft, but would end the escalation's status.
    waiting = plan_status_change(states, Status.WAITING, actor="ana", drafted={"draft"})
    assert waiting.held == (("esc", Hold.ESCALATED),)
    # One item is the user's explicit choice.
    assert not plan_status_change(states[:1], Status.DONE, actor="ana", drafted=set()).held


def work_in_progress(store: Store, actor: str = "ana") -> None:
    esc = Escalation(target="oncall", priority=Priority.HIGH, note="", at=T0, by=actor)
    store.act([ESCALATED], SetEscalation(esc, Status.ESCALATED, Priority.HIGH), actor=actor)
    store.act([THEIRS], Assign("bob"), actor=actor)
    store.set_draft(DRAFTED, "half a reply")


def held_untouched(services: Services) -> bool:
    s = services.store
    return (
        s.triage(ESCALATED).status == Status.ESCALATED
        and s.triage(THEIRS).status == Status.NEW
        and s.triage(DRAFTED).status == Status.NEW
    )


async def test_select_all_and_done_asks_once_and_can_skip_the_held(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    work_in_progress(services.store)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("V", "d")
        await settle(pilot)  # which items have a draft is read on the store worker
        assert isinstance(app.screen, BulkConfirm)  # nothing changed before the answer
        assert all(s.status != Status.DONE for _, s in services.store.query())
        await pilot.press("s")
        await settle(pilot)
        assert held_untouched(services)
        others = [s for m, s in services.store.query() if m.id not in (ESCALATED, THEIRS, DRAFTED)]
        assert others and all(s.status == Status.DONE for s in others)
        assert any("skipped 3" in n.message for n in app._notifications)


async def test_select_all_and_done_can_close_all_or_cancel(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    work_in_progress(services.store)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("V", "d")
        await settle(pilot)  # which items have a draft is read on the store worker
        await pilot.press("escape")
        assert isinstance(app.screen, InboxScreen)
        assert all(s.status != Status.DONE for _, s in services.store.query())
        assert app.screen.inbox_list.selected  # the selection stays for another try
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert all(s.status == Status.DONE for _, s in services.store.query())


@pytest.mark.snapshot
def test_bulk_confirm_dialog_80x24(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    work_in_progress(services.store)
    assert snap_compare(make_app(services), run_before=pressing("V", "d"), terminal_size=(80, 24))


async def test_done_on_the_cursor_item_alone_does_not_ask(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        row = app.screen.inbox_list.current
        assert row is not None
        services.store.act([row.message.id], Assign("bob"), actor="ana")
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        assert services.store.triage(row.message.id).status == Status.DONE


def test_cli_bulk_status_skips_held_items_unless_forced(tmp_path: Path, clock: FrozenClock) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[user]\nname = "ana"\n[[channels]]\nname = "masto"\ntype = "mastodon"\n'
        'url = "https://masto.example"\ntoken_command = "printf x"\n'
    )
    store = Store(tmp_path / "data", clock=clock)
    store.upsert_messages([make_message(n, at=T0 - timedelta(minutes=n)) for n in (100, 101, 109, 110, 111)])
    work_in_progress(store)
    env = cli_env(CMINBOX_CONFIG=str(cfg), CMINBOX_DATA_DIR=str(tmp_path / "data"))
    ids = ",".join(f"masto:{n}" for n in (100, 101, 109, 110, 111))
    result = run_cli("status", ids, "done", env=env)
    assert result.returncode == 0, result.stderr
    assert "skipped 3 of 5 (1 escalated, 1 assigned to someone else, 1 with an unsent reply draft)" in result.stderr
    assert "--force" in result.stderr
    fresh = Store(tmp_path / "data", clock=clock)
    assert [fresh.triage(f"masto:{n}").status for n in (100, 101, 109, 110, 111)] == [
        Status.DONE,
        Status.NEW,
        Status.ESCALATED,
        Status.NEW,
        Status.DONE,
    ]
    forced = run_cli("status", ids, "done", "--force", env=env)
    assert forced.returncode == 0, forced.stderr
    fresh = Store(tmp_path / "data", clock=clock)
    assert all(fresh.triage(f"masto:{n}").status == Status.DONE for n in (100, 101, 109, 110, 111))


async def test_the_dialog_counts_only_the_items_it_changes(tmp_path: Path, clock: FrozenClock) -> None:
    """Regression (new-user trial of 2026-12-02): with one selected item closed already, the
    dialog said "close the other 43" and the notice then said 42."""
    services = make_services(tmp_path, clock)
    work_in_progress(services.store)
    services.store.act(["masto:100"], SetStatus(Status.DONE), actor="ana")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5", "V", "d")  # the "all" view: the closed item is selected too
        await settle(pilot)
        assert isinstance(app.screen, BulkConfirm)
        plan = app.screen.plan
        changing = len(plan.clear) - 1
        assert plan.same == ("masto:100",)
        said = " ".join(str(label.render()) for label in app.screen.query(Label))
        assert f"close the other {changing}" in said and "1 is already done" in said, said
        assert f"close all {len(plan.all_ids) - 1}" in said, said
