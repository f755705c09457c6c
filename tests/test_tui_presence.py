"""Presence and collision between two inboxes on one store: one opens the composer, the other
shows "is replying" by itself and asks before sending its own reply, showing the first one.
On PostgreSQL (NOTIFY wakes the other instance) and on TinyDB (two instances, one data folder)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from cminbox.core.clock import FrozenClock
from cminbox.core.outbox_types import OutboxKind
from cminbox.core.presence import Activity
from cminbox.tui import presence_sync
from cminbox.tui.app import CminboxApp
from cminbox.tui.composer import Composer
from cminbox.tui.dialogs import AssignDialog, CollisionDialog, ConfirmDialog
from cminbox.tui.inbox_screen import InboxScreen
from cminbox.tui.panes import Preview
from tests.conftest import T0
from tests.tui_fixtures import CONFIG, make_app, make_services, opened

ITEM = "masto:101"


def config(me: str, store: str = "") -> str:
    return CONFIG + store + f'\n[team]\nme = "{me}"\n'


def screen_of(app: CminboxApp) -> InboxScreen:
    screen = app.get_screen("inbox") if not isinstance(app.screen, InboxScreen) else app.screen
    assert isinstance(screen, InboxScreen)
    return screen


def row_text(screen: InboxScreen, mid: str) -> str:
    rows = screen.inbox_list
    index = rows.index[mid]
    return rows._render_row(rows.rows[index], False, False, 100, screen.s.clock()).text


async def until(pilot: Pilot[None], ok: Callable[[], bool], what: str) -> float:
    """Bounded wait (no timing assert): how long it took, or the test fails saying what."""
    started = time.monotonic()
    for _ in range(300):
        if ok():
            return time.monotonic() - started
        await pilot.pause(0.02)
    raise AssertionError(f"never happened: {what}")


async def open_composer(pilot: Pilot[None], app: CminboxApp, mid: str) -> None:
    screen = screen_of(app)
    screen.inbox_list.cursor = screen.inbox_list.index[mid]
    await pilot.pause()
    await pilot.press("r")
    await pilot.pause()
    assert screen.query_one(Composer).target is not None


async def two_inboxes(
    tmp_path: Path, store_a: str, store_b: str, same_folder: bool, body: Callable[..., Awaitable[None]]
) -> None:
    clock = FrozenClock(T0)
    a = make_app(make_services(tmp_path / "a", clock, config_text=config("ana", store_a)))
    b = make_app(make_services(tmp_path / ("a" if same_folder else "b"), clock, config_text=config("bob", store_b)))
    async with a.run_test(size=(120, 40)) as pa, b.run_test(size=(120, 40)) as pb:
        await body(pa, a, pb, b)
    # Quitting removed both records at once (the clock stands still: nothing expired).
    assert a.services is not None and a.services.store.presence() == []


async def ana_replies_while_bob_composes(pa: Pilot[None], a: CminboxApp, pb: Pilot[None], b: CminboxApp) -> None:
    sa, sb = screen_of(a), screen_of(b)
    sb.inbox_list.cursor = sb.inbox_list.index[ITEM]
    await open_composer(pa, a, ITEM)
    took = await until(pb, lambda: "✎ ana" in row_text(sb, ITEM), "bob's row shows ana replying")
    print(f"bob saw ana replying after {took * 1000:.0f} ms")
    await until(pb, lambda: "ana is replying" in str(sb.query_one(Preview).render()), "bob's preview says so")
    # Both compose; ana sends first (and confirms posting publicly).
    await open_composer(pb, b, ITEM)
    await until(pa, lambda: "✎ bob" in row_text(sa, ITEM), "ana sees bob replying too")
    sa.query_one(Composer).set_text("Fixed in 4.2.2, thanks for the report!")
    await pa.press("ctrl+s")
    await pa.pause()
    assert isinstance(a.screen, ConfirmDialog)  # public reply: posted only once confirmed
    await pa.press("y")
    await sa.settled()
    assert [i.actor for i in sa.s.store.outbox.items() if i.kind == OutboxKind.REPLY] == ["ana"]
    # Bob's send asks first, showing ana's reply; "n" keeps his text in the composer, unsent.
    sb.query_one(Composer).set_text("Looking into it!")
    await pb.press("ctrl+s")
    await until(pb, lambda: isinstance(b.screen, CollisionDialog), "bob is asked before sending")
    shown = " ".join(str(w.render()) for w in b.screen.query(Static))
    assert 'ana queued a reply just now: "Fixed in 4.2.2, thanks for the report!"' in shown
    assert "Send yours anyway?" in shown
    await pb.press("n")
    await pb.pause()
    assert sb.query_one(Composer).target is not None and sb.query_one(Composer).text == "Looking into it!"
    assert [i.actor for i in sb.s.store.outbox.items() if i.kind == OutboxKind.REPLY] == ["ana"]
    # Asked again, bob sends his anyway (then the public-reply confirmation as usual).
    await pb.press("ctrl+s")
    await until(pb, lambda: isinstance(b.screen, CollisionDialog), "asked again")
    await pb.press("y")
    await until(pb, lambda: type(b.screen) is ConfirmDialog, "then the public-reply confirmation")
    await pb.press("y")
    await pb.pause()
    assert sorted(i.actor for i in sb.s.store.outbox.items() if i.kind == OutboxKind.REPLY) == ["ana", "bob"]
    # Ana's composer closed when she sent: bob's row shows her back to viewing the item.
    await until(pb, lambda: "⊙ ana" in row_text(sb, ITEM), "ana viewing again")


async def test_two_inboxes_on_postgresql_see_each_other_reply_and_ask_first(tmp_path: Path, pg_database: str) -> None:
    pg = f'\n[store]\nbackend = "postgresql"\ndsn = "{pg_database}"\nconnect_timeout = 5\n'
    await two_inboxes(tmp_path, pg, pg, False, ana_replies_while_bob_composes)


async def test_two_inboxes_on_one_tinydb_folder_see_each_other_reply_and_ask_first(tmp_path: Path) -> None:
    await two_inboxes(tmp_path, "", "", True, ana_replies_while_bob_composes)


async def assign_to_a_teammate_in_the_inbox(pa: Pilot[None], a: CminboxApp, pb: Pilot[None], b: CminboxApp) -> None:
    sa, sb = screen_of(a), screen_of(b)
    sa.inbox_list.cursor = sa.inbox_list.index[ITEM]
    await until(pb, lambda: any(p.person == "ana" for p in sb.presence_seen), "bob's inbox knows ana is in")
    await pb.press("a")
    await until(pb, lambda: isinstance(b.screen, AssignDialog), "the assign dialog")
    assert "ana" in b.screen.people  # a teammate nothing is assigned to yet: offered since she is in
    await pb.press("escape")
    # Ana assigns the item to bob; bob's "mine" view ([team] me = "bob") has it.
    await pa.press("a")
    await until(pa, lambda: isinstance(a.screen, AssignDialog), "ana's assign dialog")
    a.screen.query_one(Input).value = "bob"
    await pa.press("enter")
    await sa.settled()
    rows = sb.inbox_list
    await until(pb, lambda: rows.rows[rows.index[ITEM]].state.assignee == "bob", "bob's inbox has the assignment")
    await pb.press("3")
    await until(pb, lambda: [r.message.id for r in sb.inbox_list.rows] == [ITEM], "bob's mine view holds the item")


async def test_assigning_offers_teammates_in_the_inbox_and_mine_is_yours(tmp_path: Path) -> None:
    await two_inboxes(tmp_path, "", "", True, assign_to_a_teammate_in_the_inbox)


async def test_the_cursor_running_down_the_list_writes_a_few_records_not_one_per_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each move wrote a presence record at once: holding `j` wrote the store ~30 times a second
    (on PostgreSQL every write's NOTIFY made each teammate's inbox read presence again). A move
    is written VIEWING_SETTLE after the first one not written yet, with the moves made
    meanwhile (the last one included); opening the composer is written at once, without
    waiting for the moves' pending "viewing", and so is closing it."""
    monkeypatch.setattr(presence_sync, "VIEWING_SETTLE", 2.0)  # longer than the 12 presses take here
    monkeypatch.setattr(presence_sync, "HEARTBEAT", 600.0)  # no renewal writes the newest wish meanwhile
    services = make_services(tmp_path, FrozenClock(T0), config_text=config("ana"))
    store = services.store
    written: list[tuple[str | None, Activity]] = []
    real = store.set_presence

    def counted(person: str, message_id: str | None, activity: Activity = Activity.VIEWING) -> None:
        written.append((message_id, activity))
        real(person, message_id, activity)

    store.set_presence = counted  # type: ignore[method-assign]
    async with opened(services) as (pilot, screen):
        await until(pilot, lambda: len(written) >= 1, "the first heartbeat")
        start = len(written)
        for _ in range(12):
            await pilot.press("j")
        landed = screen.inbox_list.current
        assert landed is not None
        await until(pilot, lambda: written[-1] == (landed.message.id, Activity.VIEWING), "where the cursor rests")
        await screen.settled()
        assert len(written) - start <= 3, written[start:]  # 12 before
        # Three moves, then the composer: "replying" is written at once, though the moves'
        # "viewing" would wait a minute now (`until` gives up after 6 s).
        monkeypatch.setattr(presence_sync, "VIEWING_SETTLE", 60.0)
        before = len(written)
        for key in ("k", "k", "k", "r"):
            await pilot.press(key)
        target = screen.inbox_list.current
        assert target is not None and target.message.id != landed.message.id
        replying = (target.message.id, Activity.REPLYING)
        await until(pilot, lambda: replying in written[before:], "the composer's item, replying")
        assert Activity.VIEWING not in {activity for _, activity in written[before:]}
        # Closing the composer: "viewing" again, at once too.
        closed = len(written)
        await pilot.press("escape")
        await until(pilot, lambda: (target.message.id, Activity.VIEWING) in written[closed:], "viewing again")
