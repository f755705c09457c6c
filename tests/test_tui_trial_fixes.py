"""What a new-user trial of the demo found (2026-12-02), each fixed: auto-advance onto a row
that left the view, the unread marker taken off by a change made elsewhere, `u` undoing a CLI
call instead of what the screen did, an empty view's text."""

from __future__ import annotations

from pathlib import Path

from cminbox.core.clock import FrozenClock
from cminbox.core.models import Status
from cminbox.core.triage import AddTags
from cminbox.tui.panes import Preview
from tests.pilot_helpers import press, settle
from tests.tui_fixtures import make_services, opened


async def test_auto_advance_skips_rows_that_left_the_view(tmp_path: Path, clock: FrozenClock) -> None:
    """New-user trial: after `d`, the cursor landed on an item answered meanwhile (dimmed, no
    longer in the view) instead of the next one that needs a reply."""
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = True
    async with opened(services) as (pilot, screen):
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
    async with opened(services) as (pilot, screen):
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
    async with opened(services) as (pilot, screen):
        lst = screen.inbox_list
        closed, tagged = lst.rows[0].message.id, lst.rows[1].message.id
        await press(pilot, "d")
        assert services.store.triage(closed).status == Status.DONE
        services.inbox.tag([tagged], ["from-cli"])  # another shell, the same actor
        await press(pilot, "u")
        assert services.store.triage(closed).status == Status.NEW
        assert services.store.triage(tagged).tags == ("from-cli",)
        assert lst.rows[lst.index[closed]].state.status == Status.NEW


async def test_an_empty_view_says_which_view_is_empty(tmp_path: Path, clock: FrozenClock) -> None:
    """ "New mentions appear as they arrive" was said in the escalated, mine and snoozed views."""
    services = make_services(tmp_path, clock)
    async with opened(services) as (pilot, screen):
        await press(pilot, "2")
        assert not screen.inbox_list.rows
        text = str(screen.query_one(Preview).render())
        assert "Nothing in “escalated”." in text and "arrive" not in text
        await press(pilot, "1")
        assert screen.inbox_list.rows


async def test_the_cursor_comes_back_to_its_item_through_an_empty_view(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    async with opened(services) as (pilot, screen):
        lst = screen.inbox_list
        await press(pilot, "5")
        lst.cursor = 3
        reading = lst.rows[3].message.id
        await press(pilot, "2")  # empty
        assert not lst.rows
        await press(pilot, "5")
        current = lst.current
        assert current is not None and current.message.id == reading


async def test_select_all_leaves_out_rows_that_left_the_view(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    async with opened(services) as (pilot, screen):
        lst = screen.inbox_list
        gone = lst.rows[2]
        gone.stale = True  # answered elsewhere: dimmed until the next reload
        screen.stale.add(gone.message.id)
        await press(pilot, "V")
        assert lst.selected == {r.message.id for r in lst.rows} - {gone.message.id}
