"""The inbox's rows at a full load (issue #14): an item nobody triaged holds no state of its
own, yet reads as its own default state, and a key acting on a large selection finds its rows
in one pass over the list (a search per item scanned the list once per item)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cminbox.core.clock import FrozenClock
from cminbox.core.models import Status
from cminbox.core.triage import AddTags
from cminbox.tui.row_index import RowIndex
from tests.factories import make_message
from tests.pilot_helpers import SIZE, press, screen_of, settle
from tests.tui_fixtures import make_app, make_services


async def test_untriaged_rows_hold_no_state_and_read_as_their_own(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        rows = screen.all_rows
        untouched = [r for r in rows if services.store.triage(r.message.id).rev == 0]
        assert untouched and all(r.triage is None for r in untouched)
        assert all(r.state.id == r.message.id and r.state.status == Status.NEW for r in untouched)
        target = screen.inbox_list.current
        assert target is not None and target.triage is None
        await press(pilot, "d")
        assert target.triage is not None and target.triage.status == Status.DONE
        assert services.store.triage(target.message.id).status == Status.DONE


async def test_a_key_on_a_large_selection_finds_its_rows_in_one_pass(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    services.store.upsert_messages([make_message(n, at=clock.now - timedelta(minutes=n)) for n in range(1000, 1400)])
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        lst = screen.inbox_list
        assert len(lst.rows) > 400
        chosen = {r.message.id for r in lst.rows}
        lst.selected = set(chosen)
        searches = [0]
        real_get = RowIndex.get

        def counted(index: RowIndex, mid: str) -> Any:
            searches[0] += 1
            return real_get(index, mid)

        monkeypatch.setattr(RowIndex, "get", counted)
        await press(pilot, "d")
        assert all(
            services.store.triage(mid).status == Status.DONE for mid in lst.selected or [r.message.id for r in lst.rows]
        )
        assert searches[0] <= 10, f"{searches[0]} searches of the list for one key on {len(lst.rows)} rows"


async def test_auto_advance_skips_rows_that_left_the_view(tmp_path: Path, clock: FrozenClock) -> None:
    """New-user trial: after `d`, the cursor landed on an item answered meanwhile (dimmed, no
    longer in the view) instead of the next one that needs a reply."""
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = True
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        lst = screen.inbox_list
        lst.cursor = 0
        lst.rows[1].stale = True  # answered elsewhere: it stays, dimmed, until the next reload
        skipped, wanted = lst.rows[1].message.id, lst.rows[2].message.id
        await press(pilot, "d")
        current = lst.current
        assert current is not None and current.message.id == wanted != skipped


async def test_the_unread_marker_stays_until_the_cursor_has_been_on_the_item(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """New-user trial: a change made elsewhere (a CLI tag) took the `*` off a row, and the next
    reload put it back. It stays until the item has been under the cursor."""
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        lst = screen.inbox_list
        unread = lst.rows[3]
        screen.fresh.add(unread.message.id)
        unread.fresh = True
        services.store.act([unread.message.id], AddTags(("cli",)), actor="someone-else")
        screen.reread_states([unread.message.id])
        await settle(pilot)
        row = lst.rows[lst.index[unread.message.id]]
        assert "cli" in row.state.tags and row.fresh
        screen.reload()
        await settle(pilot)
        assert lst.rows[lst.index[unread.message.id]].fresh
        lst.cursor = lst.index[unread.message.id]
        await settle(pilot)
        await pilot.pause(0.3)  # the preview's debounce
        assert not lst.rows[lst.index[unread.message.id]].fresh and unread.message.id not in screen.fresh


async def test_undo_takes_back_what_the_screen_did_even_after_a_cli_call(tmp_path: Path, clock: FrozenClock) -> None:
    """New-user trial: `d` in the TUI, then `cminbox tag` in another shell (the same actor),
    then `u` in the TUI: the store undid the CLI tag while the screen showed the done taken
    back. The TUI's undo now names the group it did."""
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        lst = screen.inbox_list
        closed, tagged = lst.rows[0].message.id, lst.rows[1].message.id
        await press(pilot, "d")
        assert services.store.triage(closed).status == Status.DONE
        services.inbox.tag([tagged], ["from-cli"])  # another shell, the same actor
        await press(pilot, "u")
        assert services.store.triage(closed).status == Status.NEW
        assert services.store.triage(tagged).tags == ("from-cli",)
        assert lst.rows[lst.index[closed]].state.status == Status.NEW
