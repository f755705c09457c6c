"""Teammates' changes reach the inbox through two readers that may finish out of order: the
change check and the author card's catch-up (tui/store_sync.py) each read the event log, then
the changed items' states, and post what they read. A state read before a teammate's change
could land after the one read after it and take the change back, with nothing left in the log
to bring it again (the team demo's test saw a "done" by the second teammate turn back into
"new"). Each store write raises ``rev``: the inbox keeps the newer revision."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec

from cminbox.core.clock import FrozenClock
from cminbox.core.models import Message, Priority, Status, TriageState
from cminbox.core.views import Sort
from cminbox.tui.store_sync import StoreChanged
from cminbox.tui.store_worker import Changes
from tests.conftest import T0
from tests.tui_fixtures import make_services, opened, settle


async def test_a_state_read_before_a_teammates_change_does_not_take_it_back(tmp_path: Path) -> None:
    services = make_services(tmp_path, FrozenClock(T0))
    async with opened(services) as (pilot, screen):
        rows = screen.inbox_list
        row = rows.rows[0]
        mid, base = row.message.id, row.state
        done = msgspec.structs.replace(base, status=Status.DONE, rev=base.rev + 2)  # the teammate's
        before = msgspec.structs.replace(base, rev=base.rev + 1)  # read before it, delivered after it
        for state in (done, before):
            screen.post_message(StoreChanged(Changes({mid}, False, {mid: state}, {mid: row.message})))
            await pilot.pause()
        assert rows.rows[rows.index[mid]].state == done
        assert screen.counts.status[Status.DONE] == 1
        # In order, each newer state is taken as it comes.
        reopened = msgspec.structs.replace(done, status=Status.OPEN, rev=done.rev + 1)
        screen.post_message(StoreChanged(Changes({mid}, False, {mid: reopened}, {mid: row.message})))
        await pilot.pause()
        assert rows.rows[rows.index[mid]].state == reopened


async def test_a_teammates_change_outside_the_view_is_counted_and_brings_the_row_into_it(tmp_path: Path) -> None:
    """A change to an item the current view does not list reached neither the rows nor the
    header: the change check handed it to the merge of new items, which skips a known one. So a
    teammate's "done" on an item of another view left "new" counted, and an item a teammate
    escalated did not appear in the "escalated" view until something reloaded it."""
    services = make_services(tmp_path, FrozenClock(T0))
    async with opened(services) as (pilot, screen):
        await settle(pilot)
        rows = screen.inbox_list
        first, second = rows.rows[0], rows.rows[1]
        await pilot.press("2")  # "escalated": neither item is listed
        await settle(pilot)
        assert first.message.id not in rows.index and second.message.id not in rows.index
        done_before, new_before = screen.counts.status[Status.DONE], screen.counts.status[Status.NEW]
        done = msgspec.structs.replace(first.state, status=Status.DONE, rev=first.state.rev + 1)
        escalated = msgspec.structs.replace(second.state, status=Status.ESCALATED, rev=second.state.rev + 1)
        for state, row in ((done, first), (escalated, second)):
            mid = row.message.id
            screen.post_message(StoreChanged(Changes({mid}, False, {mid: state}, {mid: row.message})))
            await pilot.pause()
        assert screen.counts.status[Status.DONE] == done_before + 1
        assert screen.counts.status[Status.NEW] == new_before - 2

        def state_of(mid: str) -> object:  # (a view change re-reads the rows: new Row objects)
            return next(r.state for r in screen.all_rows if r.message.id == mid)

        assert state_of(first.message.id) == done
        assert [r.message.id for r in rows.rows] == [second.message.id]  # now escalated: listed
        # An older state of the same item, landing late, takes nothing back (as for a listed row).
        stale = msgspec.structs.replace(done, status=Status.NEW, rev=done.rev - 1)
        screen._reread_arrived([stale])
        await pilot.pause()
        assert state_of(first.message.id) == done and screen.counts.status[Status.DONE] == done_before + 1


async def test_a_late_reread_does_not_take_a_listed_change_back(tmp_path: Path) -> None:
    """The re-read after a reply is delivered (tui/store_sync.reread_states) lands on the UI
    thread when it lands: a state it read before a teammate's change must not replace it."""
    services = make_services(tmp_path, FrozenClock(T0))
    async with opened(services) as (pilot, screen):
        await settle(pilot)
        rows = screen.inbox_list
        row = rows.rows[0]
        mid, base = row.message.id, row.state
        done = msgspec.structs.replace(base, status=Status.DONE, rev=base.rev + 2)
        screen.post_message(StoreChanged(Changes({mid}, False, {mid: done}, {mid: row.message})))
        await pilot.pause()
        screen._reread_arrived([msgspec.structs.replace(base, rev=base.rev + 1)])
        await pilot.pause()
        assert rows.rows[rows.index[mid]].state == done


async def test_an_item_another_instance_polled_is_marked_fresh(tmp_path: Path) -> None:
    """The `*` of an item that arrived while the inbox was open came only from this instance's
    own polls: on a teammate's instance that does not poll (one instance polls for the team),
    items arrived through the change check unmarked (team-demo trial of 2026-12-02)."""
    services = make_services(tmp_path, FrozenClock(T0))
    async with opened(services) as (pilot, screen):
        await settle(pilot)
        assert screen.rows_complete
        rows = screen.inbox_list
        top = rows.rows[0].message
        arrived = another(top, 9001)
        screen.post_message(
            StoreChanged(Changes({arrived.id}, False, {arrived.id: TriageState(id=arrived.id)}, {arrived.id: arrived}))
        )
        await settle(pilot)
        row = rows.rows[rows.index[arrived.id]]
        assert row.fresh and arrived.id in screen.fresh
        assert "*" in rows.render_line(rows.index[arrived.id] - int(rows.scroll_offset.y)).text[:6]


def another(message: Message, n: int, **changes: Any) -> Message:
    """A new item ``masto:n`` like ``message``, a conversation of its own."""
    mid = f"masto:{n}"
    return msgspec.structs.replace(message, id=mid, native_id=str(n), thread_id=mid, parent_id="", **changes)


def change(row_message: Message, state: TriageState) -> StoreChanged:
    return StoreChanged(Changes({state.id}, False, {state.id: state}, {state.id: row_message}))


async def test_an_old_item_another_instance_stored_is_not_marked_fresh(tmp_path: Path) -> None:
    """A channel's backlog, an import or a restore stores items written long before the inbox
    opened: they are not arrivals, and get no `*` (review of 2026-12-02)."""
    services = make_services(tmp_path, FrozenClock(T0))
    async with opened(services) as (pilot, screen):
        await settle(pilot)
        top = screen.inbox_list.rows[0].message
        old = another(top, 9002, created_at=T0 - timedelta(days=3))
        screen.post_message(change(old, TriageState(id=old.id)))
        await settle(pilot)
        assert old.id not in screen.fresh
        assert not next(r for r in screen.all_rows if r.message.id == old.id).fresh


async def test_a_row_a_change_brings_back_is_not_dimmed_and_shows_its_new_text(tmp_path: Path) -> None:
    """A row dropped from the list while dimmed (done here, then the list rearranged) kept its
    dimmed mark when a teammate's reopening listed it again, and a row not listed kept its old
    text when its author's edit arrived with the change (review of 2026-12-02)."""
    services = make_services(tmp_path, FrozenClock(T0))
    async with opened(services) as (pilot, screen):
        await settle(pilot)
        rows = screen.inbox_list
        mid = rows.rows[0].message.id
        await pilot.press("d")
        await settle(pilot)
        row = next(r for r in screen.all_rows if r.message.id == mid)
        assert row.stale and row.state.status == Status.DONE
        screen.arrange_rows()  # what a people read or a view change does: the done row leaves
        assert mid not in rows.index and row.stale
        edited = msgspec.structs.replace(row.message, text="edited on the channel")
        reopened = msgspec.structs.replace(row.state, status=Status.NEW, rev=row.state.rev + 1)
        screen.post_message(change(edited, reopened))
        await settle(pilot)
        listed = rows.rows[rows.index[mid]]
        assert not listed.stale and listed.message.text == "edited on the channel"


async def test_in_a_priority_view_a_row_coming_in_keeps_the_dimmed_rows_and_the_cursor(tmp_path: Path) -> None:
    """Sorted by priority, a row a change brought into the view rebuilt the list from every row:
    the rows dimmed by this instance's own actions left at once and the cursor landed on another
    item (review of 2026-12-02). The listed rows stay; the new one takes its place among them."""
    services = make_services(tmp_path, FrozenClock(T0))
    async with opened(services) as (pilot, screen):
        await settle(pilot)
        rows = screen.inbox_list
        screen.sort = Sort.PRIORITY
        screen.arrange_rows()
        gone = rows.rows[-1]
        gone_state = msgspec.structs.replace(gone.state, status=Status.DONE, rev=gone.state.rev + 1)
        screen.post_message(change(gone.message, gone_state))  # a teammate closed it: dimmed here
        await settle(pilot)
        screen.arrange_rows()  # and it left the list
        assert gone.message.id not in rows.index
        mid = rows.rows[0].message.id
        await pilot.press("d")  # this instance's own: dimmed, listed until the next reload
        await settle(pilot)
        rows.cursor = rows.index[mid]
        back = next(r for r in screen.all_rows if r.message.id == gone.message.id)
        urgent = msgspec.structs.replace(
            back.state, status=Status.NEW, priority=Priority.URGENT, rev=back.state.rev + 1
        )
        screen.post_message(change(back.message, urgent))
        await settle(pilot)
        assert mid in rows.index and rows.rows[rows.index[mid]].stale
        assert rows.current is not None and rows.current.message.id == mid
        assert rows.rows[0].message.id == gone.message.id  # urgent first


async def test_an_item_merged_while_a_reload_reads_stays_listed(tmp_path: Path, monkeypatch: Any) -> None:
    """A reload reads every row on a worker (60 ms at 100k); an item a poll brought in while it
    read, merged meanwhile, was not in what it read, and the reload's rows replaced the list:
    the new item vanished until something reloaded again (an incident's mentions arriving
    while the manager switches views). Review of 2026-12-02."""
    from cminbox.tui import row_loading

    services = make_services(tmp_path, FrozenClock(T0))
    async with opened(services) as (pilot, screen):
        await settle(pilot)
        reading, release = threading.Event(), threading.Event()
        real = row_loading.read_rows

        def slow(*args: Any) -> Any:
            got = real(*args)  # read before the new item is stored
            reading.set()
            release.wait(10)
            return got

        monkeypatch.setattr(row_loading, "read_rows", slow)
        screen.reload_from_store()
        assert await asyncio.to_thread(reading.wait, 10)
        new = another(screen.inbox_list.rows[0].message, 9003)
        services.store.upsert_messages([new])
        screen.merge_new([new.id], {new.id: (new, TriageState(id=new.id))})
        assert new.id in screen.inbox_list.index
        release.set()
        await settle(pilot)
        assert new.id in screen.inbox_list.index
        assert any(r.message.id == new.id for r in screen.all_rows)


async def test_a_row_kept_beside_a_census_is_read_again_not_counted_twice(tmp_path: Path) -> None:
    """While older parts still load, a read's counts come with a census of the items not read,
    taken after the rows: an item merged during the read may be in it too. Kept beside such a
    read, it would be counted twice: the rows are read again instead (review of 2026-12-02)."""
    from cminbox.core.census import Counts

    services = make_services(tmp_path, FrozenClock(T0))
    async with opened(services) as (pilot, screen):
        await settle(pilot)
        everything = [(r.message, r.triage) for r in screen.all_rows]
        screen._merged_during_read = set()  # as a reload that has started reading
        new = another(screen.inbox_list.rows[0].message, 9004)
        services.store.upsert_messages([new])
        screen.merge_new([new.id], {new.id: (new, TriageState(id=new.id))})
        asked = screen._reload_wanted
        census = Counts()
        census.status[Status.NEW] += 1  # the census counted the new item as one not read
        screen._reloaded(screen._reload_wanted, everything, census, complete=False)
        assert any(r.message.id == new.id for r in screen.all_rows)
        assert screen._reload_wanted == asked + 1  # read again
        await settle(pilot)
        assert screen.counts.status[Status.NEW] == sum(
            1 for r in screen.all_rows if r.state.status == Status.NEW
        )  # once each, from the read that followed
