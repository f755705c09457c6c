"""A new filter or view whose list no longer holds the item under the cursor starts the cursor
at the first row (seen in a tmux trial: it landed on the last row, and `r` answered the wrong
item); a refresh that drops the item keeps the cursor near where it was."""

from __future__ import annotations

from pathlib import Path

from cminbox.core.clock import FrozenClock
from tests.conftest import T0
from tests.test_tui_replying import SIZE, at
from tests.tui_fixtures import make_app, make_services, settle


async def test_a_filter_without_the_current_item_starts_at_the_top(tmp_path: Path) -> None:
    app = make_app(make_services(tmp_path, FrozenClock(T0)))
    async with app.run_test(size=SIZE) as pilot:
        inbox = await at(pilot, "masto:111")  # Sam, far down the list
        assert inbox.inbox_list.cursor > 5
        await pilot.press("slash", *"sync", "enter")
        await settle(pilot)
        rows = inbox.inbox_list
        assert len(rows.rows) >= 2 and all("sync" in r.message.text.lower() for r in rows.rows)
        assert rows.cursor == 0
        # Moving to the second match, then a filter that keeps it: the cursor stays on it.
        await pilot.press("j")
        kept = rows.rows[1].message.id
        await pilot.press("slash", "ctrl+u", *"sync -from:priya", "enter")
        await settle(pilot)
        assert rows.current is not None and rows.current.message.id == kept
