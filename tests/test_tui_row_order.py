"""The inbox's order by time holds without sorting the rows again (tui/row_loading.py): the
store's read is already newest first by time then id, so the newest and oldest sorts keep it,
ties included; a merge or an edit that moves an item in time makes the next arrangement sort."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import msgspec
from textual.pilot import Pilot

from cminbox.core.clock import FrozenClock
from cminbox.core.health import ChannelHealth, HealthState
from cminbox.core.models import Message, Status
from cminbox.core.poller import PollReport
from cminbox.core.query import parse
from cminbox.core.store import Store
from cminbox.core.views import arrange_by
from cminbox.tui.inbox_screen import InboxScreen
from cminbox.tui.row_loading import ROW_FIELDS, ROW_MESSAGE
from tests.factories import make_message
from tests.tui_fixtures import make_app, make_services, settle

SIZE = (120, 40)


def _screen(app: object) -> InboxScreen:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, InboxScreen)
    return screen


def _listed(app: object) -> list[str]:
    return [r.message.id for r in _screen(app).inbox_list.rows]


def _arranged(app: object) -> list[str]:
    """What sorting the rows in view would give (the order before rows kept the store's)."""
    screen = _screen(app)
    now, me, view = screen.s.clock(), screen.s.config.actor, screen.view_query()
    kept = [r for r in screen.all_rows if screen.in_view(r, view, now, me)]
    return [r.message.id for r in arrange_by(kept, screen.sort, screen.group, message=ROW_MESSAGE, state=ROW_FIELDS)]


async def _every_item(pilot: Pilot[None], app: object) -> InboxScreen:
    """The inbox in its "all" view (5), settled."""
    await pilot.press("5")
    await settle(pilot)
    return _screen(app)


def _in_store_order(screen: InboxScreen) -> bool:
    return screen.rows_in_store_order


def _tied(clock: FrozenClock, numbers: range) -> list[Message]:
    """Messages at the same instant: only their ids order them."""
    at = clock.now - timedelta(minutes=30)
    return [make_message(n, channel="masto", at=at) for n in numbers]


async def test_ties_in_time_are_listed_as_a_sort_would_list_them(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    services.store.upsert_messages(_tied(clock, range(300, 306)) + _tied(clock, range(41, 45)))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _every_item(pilot, app)
        assert screen.rows_in_store_order and len(_listed(app)) == 23
        assert _listed(app) == _arranged(app)
        await pilot.press("S")  # oldest first: the store's order backwards
        await settle(pilot)
        assert screen.sort == "oldest" and _listed(app) == _arranged(app)
        await pilot.press("S", "S", "S")  # priority, sentiment, back to newest: sorted, then kept
        await settle(pilot)
        assert screen.sort == "newest" and _listed(app) == _arranged(app)


async def test_a_merge_or_an_edit_in_time_makes_the_next_arrangement_sort(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _every_item(pilot, app)
        # A poll brings items older than some listed: merged in place, appended to the rows.
        ids = services.store.upsert_messages(_tied(clock, range(500, 504)))
        screen.polled_once.add("masto")
        report = PollReport(channel="masto", health=ChannelHealth(channel="masto", state=HealthState.OK), new_ids=ids)
        screen.apply_poll(report, False)
        await settle(pilot)
        assert not _in_store_order(screen)
        screen.arrange_rows(new_view=True)  # what a change of view does first, from the rows in memory
        assert set(ids) <= set(_listed(app)) and _listed(app) == _arranged(app)
        # An edit that moves an item in time (a feed entry's date corrected).
        screen.reload_from_store()
        await settle(pilot)
        assert _in_store_order(screen)  # a read from the store: in its order again
        oldest = screen.inbox_list.rows[-1].message
        moved = msgspec.structs.replace(oldest, created_at=clock.now - timedelta(seconds=5), text="corrected")
        other = Store(tmp_path / "data", clock=clock)  # another instance's poll brings the edit
        other.upsert_messages([moved])
        other.close()
        screen.check_store()
        await settle(pilot)
        assert not _in_store_order(screen)
        screen.arrange_rows(new_view=True)
        assert _listed(app)[0] == moved.id and _listed(app) == _arranged(app)


async def test_a_read_never_takes_back_a_newer_state_a_row_shows(tmp_path: Path, clock: FrozenClock) -> None:
    """A store read that began before a change the row already shows (its change check landed
    first) keeps the row's state; a read with a newer state brings it (each write raises rev)."""
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _every_item(pilot, app)
        read = services.store.query()
        (m0, s0), (m1, s1) = read[0], read[1]
        newer = msgspec.structs.replace(s0, tags=("shown",), rev=s0.rev + 5)
        screen.inbox_list.rows[screen.inbox_list.index[m0.id]].state = newer  # what the row shows now
        brought = msgspec.structs.replace(s1, tags=("read",), rev=s1.rev + 1)
        screen._reloaded(screen._reload_wanted, [(m0, s0), (m1, brought), *read[2:]])
        states = {r.message.id: r.state for r in screen.all_rows}
        assert states[m0.id] is newer and states[m1.id] is brought
        assert [r.message.id for r in screen.all_rows] == [m.id for m, _ in read]


async def test_every_view_and_filter_lists_what_a_test_per_row_lists(tmp_path: Path, clock: FrozenClock) -> None:
    """A view or filter that reads the triage state alone is asked once for all the rows of
    untriaged items (row_loading.arrange_rows); the rows listed are the ones a test of each row
    keeps, in every view, with and without a filter, state-only or not."""
    services = make_services(tmp_path, clock)
    services.inbox.set_status(["masto:101", "masto:103"], Status.DONE)
    services.inbox.tag(["masto:102"], ["bug"])
    services.inbox.snooze(["masto:104"], clock() + timedelta(hours=2))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        await settle(pilot)
        for key in "12345":
            await pilot.press(key)
            await settle(pilot)
            assert _listed(app) == _arranged(app), key
            for text in ("status:new", "-tag:bug", "channel:masto", "sync"):
                screen.filter = parse(text)
                screen.arrange_rows()
                kept = [
                    r.message.id
                    for r in screen.all_rows
                    if screen.in_view(r, screen.view_query(), screen.s.clock(), screen.s.config.actor)
                ]
                assert _listed(app) == kept, (key, text)
            screen.filter = None
            screen.arrange_rows()
