"""Driving the TUI with Textual's Pilot, part two: counters, broken and archived items, moderation,
read-only items, refused writes, the arrow keys, snooze, small windows, the palette and help."""

from __future__ import annotations

import re
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cminbox.core.clock import FrozenClock
from cminbox.core.health import ChannelHealth, HealthState
from cminbox.core.models import Priority, Status
from cminbox.core.poller import PollReport
from cminbox.core.store import Store
from cminbox.tui.composer import Composer
from cminbox.tui.inbox_list import InboxList
from cminbox.tui.inbox_screen import InboxScreen
from tests.factories import make_message
from tests.pilot_helpers import SIZE, check_now, current_id, help_table_text, press, screen_of, settle
from tests.tui_fixtures import CONFIG, make_app, make_services


async def test_header_counts_stay_equal_to_a_full_recount(tmp_path: Path, clock: FrozenClock) -> None:
    from cminbox.tui.panes import HeaderCounts

    clock.advance(hours=5)  # some items are overdue now
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)

        def assert_counts() -> None:
            fresh = HeaderCounts()
            fresh.recount(screen.all_rows, clock())
            assert (+screen.counts.status, screen.counts.overdue) == (+fresh.status, fresh.overdue)

        assert screen.counts.overdue > 0
        for keys in (("d",), ("w",), ("x", "x", "d"), ("u",), ("e", "enter")):
            await press(pilot, *keys)
            assert_counts()
        ids = services.store.upsert_messages([make_message(3000 + i, channel="masto", at=clock.now) for i in range(3)])
        report = PollReport(channel="masto", health=ChannelHealth(channel="masto", state=HealthState.OK), new_ids=ids)
        screen.apply_poll(report, False)
        await settle(pilot)  # the new items are read on a worker, then merged
        assert_counts()
        before = screen.counts.overdue
        clock.advance(hours=4, minutes=1)  # the new ones cross the line: the tick alone notices
        screen.tick()
        assert screen.counts.overdue == before + 3
        assert_counts()


async def test_a_broken_store_file_is_reported_and_actions_on_it_are_refused(
    tmp_path: Path, clock: FrozenClock
) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        target = current_id(app)
        await press(pilot, "p")  # gives the item a triage record
        shard = services.store.dir / "triage" / f"shard-{zlib.crc32(target.encode()) % 16:02d}.json"
        shard.write_text('{"triage": {"1": {"id": "x", "tags": "oops"}}}')  # hand-edited, badly
        inbox = app.screen
        assert isinstance(inbox, InboxScreen)
        await check_now(pilot, inbox)  # what the 1 s timer does
        notes = [str(n.message) for n in app._notifications]
        assert any(str(shard) in n and "does not fit" in n for n in notes)
        inbox.inbox_list.cursor = inbox.inbox_list.index[target]
        await press(pilot, "d")  # refused with a message, no crash, the file untouched
        await pilot.pause()
        assert app.is_running and shard.read_text().endswith('"oops"}}}')
        assert any("Not done" in str(n.title) for n in app._notifications)


async def test_archived_items_leave_the_list(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = app.screen
        assert isinstance(inbox, InboxScreen)
        await press(pilot, "5")  # the "all" view, done items included
        target = current_id(app)
        await press(pilot, "d")
        later = Store(services.store.dir, clock=lambda: clock() + timedelta(days=100))
        assert later.archive(timedelta(days=90)) == [target]  # another instance archives it
        await check_now(pilot, inbox)
        assert target not in inbox.inbox_list.index
        assert all(r.message.id != target for r in inbox.all_rows)


async def test_undo_after_the_item_left_the_view_restores_it_and_the_counters(
    tmp_path: Path, clock: FrozenClock
) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = app.screen
        assert isinstance(inbox, InboxScreen)
        target = current_id(app)
        done_before = inbox.counts.status[Status.DONE]
        await press(pilot, "d")
        inbox.reload()  # e.g. a filter change: the done item leaves the "needs reply" view
        assert target not in inbox.inbox_list.index
        await press(pilot, "u")
        assert target in inbox.inbox_list.index and current_id(app) == target
        assert inbox.counts.status[Status.DONE] == done_before


async def test_moderate_queues_the_channels_action_with_a_reason(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        mid = current_id(app)
        await press(pilot, "M", "down", *"spam wave", "enter")  # mastodon offers report, mute, block
        [item] = services.inbox.outbox.items()
        assert (item.kind, item.message_id, item.payload) == ("action", mid, {"action": "mute", "reason": "spam wave"})
        await press(pilot, "M", "escape")
        assert len(services.inbox.outbox.items()) == 1


async def test_r_on_a_read_only_feed_item_says_so_and_opens_no_composer(tmp_path: Path, clock: FrozenClock) -> None:
    from cminbox.core.models import Author, Kind, Message

    feed = CONFIG + '\n[[channels]]\nname = "status"\ntype = "feed"\nurl = "https://status.example/feed.xml"\n'
    services = make_services(tmp_path, clock, config_text=feed)
    entry = Message(
        id="status:e1",
        channel="status",
        channel_type="feed",
        native_id="e1",
        kind=Kind.POST,
        author=Author(id="Status", handle="Status"),
        text="Degraded sync in EU",
        created_at=clock() + timedelta(minutes=1),  # newest: first in the list
    )
    services.store.upsert_messages([entry])
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        assert current_id(app) == "status:e1"
        await press(pilot, "r")
        await pilot.pause()
        assert not app.screen.query_one(Composer).display
        assert any("read-only" in str(n.message) for n in app._notifications)


async def test_a_write_the_store_could_not_take_goes_back_at_once(
    tmp_path: Path, clock: FrozenClock, monkeypatch: Any
) -> None:
    """Regression (review of 2026-12-01): with PostgreSQL down, a refused tag showed as applied
    for ~20 s: the rows went back only after re-reading the items, which waited out the outage
    once more. Nothing was changed, so nothing is read: the row goes back with the refusal."""
    from cminbox.core.errors import StoreUnavailable

    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        mid = current_id(app)

        def down(*_args: object, **_kwargs: object) -> object:
            raise StoreUnavailable("the store cannot be reached")

        reads: list[str] = []
        triage_of = services.store.triage
        monkeypatch.setattr(services.inbox, "tag", down)
        monkeypatch.setattr(services.store, "triage", lambda m: reads.append(m) or triage_of(m))
        await press(pilot, "t", *"ghosttag", "enter")
        assert "ghosttag" not in screen_of(app).inbox_list.current.state.tags  # type: ignore[union-attr]
        assert mid not in reads


@pytest.mark.parametrize(
    ("keys", "moved"),
    [(("down", "down", "down"), 3), (("down", "down", "up"), 1), (("end",), -1), (("end", "home"), 0)],
    ids=["down", "up", "end", "home"],
)
async def test_the_arrow_home_and_end_keys_move_the_cursor(
    tmp_path: Path, clock: FrozenClock, keys: tuple[str, ...], moved: int
) -> None:
    """Regression (review of 2026-12-01): the list's own ScrollView bindings took these keys and
    scrolled the view, leaving the cursor where it was (off screen)."""
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, *keys)
        listed = screen_of(app).inbox_list
        assert listed.cursor == (len(listed.rows) - 1 if moved == -1 else moved)
        assert listed.scroll_offset.y <= listed.cursor


def test_the_focused_list_has_no_key_of_its_own_that_shadows_the_action_table() -> None:
    """The cause of the above, in a real terminal (Pilot's key path reaches the screen's bindings
    first, so the test above passed before the fix too): a key the focused list binds itself wins
    over the same key in the action table, remaps included."""
    from cminbox.core.keymap import ACTIONS
    from cminbox.tui.inbox_list import InboxList

    table_keys = {key for spec in ACTIONS for key in spec.keys.split(",")}
    own = set(InboxList._merged_bindings.key_to_bindings) if InboxList._merged_bindings else set()
    assert not own & table_keys, sorted(own & table_keys)


@pytest.mark.parametrize(
    ("keys", "after"),
    [(("3", "0", "m"), timedelta(minutes=30)), ((), timedelta(hours=1)), (("down",), None)],
    ids=["typed", "first-preset", "second-preset"],
)
async def test_the_snooze_box_takes_a_typed_time_or_a_preset(
    tmp_path: Path, clock: FrozenClock, keys: tuple[str, ...], after: timedelta | None
) -> None:
    """Regression (review of 2026-12-01): the presets had the focus, so "30m" typed went nowhere
    and enter snoozed for an hour (the first preset)."""
    from cminbox.core.when import parse_when
    from cminbox.tui.dialogs import SNOOZE_PRESETS, SnoozeDialog

    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        mid = current_id(app)
        await press(pilot, "s")
        assert isinstance(app.screen, SnoozeDialog)
        await press(pilot, *keys, "enter")
        until = services.store.triage(mid).snoozed_until
        want = clock() + after if after is not None else parse_when(SNOOZE_PRESETS[1][0], clock())
        assert until == want


async def test_a_smaller_window_keeps_the_cursor_row_in_view(tmp_path: Path, clock: FrozenClock) -> None:
    """Regression (review of 2026-12-01): at 80x24 on the last item, a resize to 50x12 left no
    row highlighted (the cursor's row below the new bottom) and a preview of an unlisted item."""
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "G")
        await pilot.resize_terminal(50, 12)
        await settle(pilot)
        await pilot.pause()
        listed = screen_of(app).inbox_list
        top, height = int(listed.scroll_offset.y), listed.scrollable_content_region.height
        assert top <= listed.cursor < top + height


async def test_one_item_is_one_item(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "slash", *"from:@kai", "enter")
        line = str(app.screen.query_one("#view-line").render())
        assert "  1 item " in line + " " and "1 items" not in line


async def test_escalating_an_urgent_item_keeps_it_urgent(tmp_path: Path, clock: FrozenClock) -> None:
    """Regression (review of 2026-12-01): the dialog offered "high" whatever the item had, so
    escalating an urgent item with the defaults downgraded it, and nothing said so."""
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        mid = current_id(app)
        for _ in range(4):
            if services.store.triage(mid).priority == Priority.URGENT:
                break
            await press(pilot, "p")
        assert services.store.triage(mid).priority == Priority.URGENT
        await press(pilot, "e", "enter")
        state = services.store.triage(mid)
        assert state.status == Status.ESCALATED and state.priority == Priority.URGENT


async def test_a_notice_names_the_undo_key_as_remapped(tmp_path: Path, clock: FrozenClock) -> None:
    """Regression (review of 2026-12-01): with undo remapped to U, "Tagged #x · 1 item · u
    undoes" named a key that did nothing."""
    from textual.widgets._toast import Toast

    services = make_services(tmp_path, clock, config_text=CONFIG + '\n[keys]\nundo = "U,ctrl+z"\n')
    app = make_app(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await press(pilot, "t", *"outage", "enter")
        await pilot.pause()
        said = "\n".join(str(toast.render()) for toast in app.screen.query(Toast))
        assert "U undoes" in said and "u undoes" not in said


async def test_a_dialog_on_a_short_terminal_keeps_the_focused_box_on_screen(tmp_path: Path, clock: FrozenClock) -> None:
    """Regression (review of 2026-12-01): at 80x12 the escalate dialog was cut off below
    "Priority", and the note's box (focused) took typing unseen."""
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=(80, 12)) as pilot:
        await press(pilot, "e")
        focused = app.focused
        assert focused is not None and focused.id == "esc-note"
        assert focused.region.y >= 0 and focused.region.bottom <= 12


async def test_the_palette_key_reaches_the_edge_of_a_narrow_footer(tmp_path: Path, clock: FrozenClock) -> None:
    """Regression (review of 2026-12-01): below ~70 columns (a compact footer) the docked
    palette key kept a right margin, and that column showed a character of the key underneath
    ("^p palette?")."""
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=(58, 15)) as pilot:
        await settle(pilot)
        await pilot.pause()
        palette = app.screen.query("FooterKey.-command-palette").first()
        assert palette.region.right == 58


async def test_the_person_screen_moves_with_the_page_home_and_end_keys(tmp_path: Path, clock: FrozenClock) -> None:
    """The person screen's list lost ScrollView's keys with the inbox's (review of the fix):
    they move its cursor now, as in the inbox."""
    import msgspec

    from cminbox.tui.person_screen import PersonScreen

    services = make_services(tmp_path, clock)
    (newest, _), *_ = services.store.query(limit=1)
    more = [
        msgspec.structs.replace(make_message(900 + i, at=clock() - timedelta(hours=i + 1)), author=newest.author)
        for i in range(40)
    ]
    services.store.upsert_messages(more)  # one person with more items than a page holds
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "P")
        for _ in range(50):
            if isinstance(app.screen, PersonScreen) and app.screen.query(InboxList).first().rows:
                break
            await pilot.pause(0.02)
        assert isinstance(app.screen, PersonScreen)
        listed = app.screen.query_one(InboxList)
        assert len(listed.rows) > 1
        await press(pilot, "end")
        assert listed.cursor == len(listed.rows) - 1
        await press(pilot, "home")
        assert listed.cursor == 0
        await press(pilot, "pagedown")
        assert listed.cursor == min(len(listed.rows) - 1, max(1, listed.scrollable_content_region.height // 2))


async def test_help_names_each_view_key(tmp_path: Path, clock: FrozenClock) -> None:
    """Regression (new-user trial of 2026-12-01): `?` listed 1-9 as "Saved view N", so which
    key held "needs reply" or the config's "outage" was not said anywhere."""
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "question_mark")
        help_text = help_table_text(app)
    assert re.search(r"^1 +View: needs reply +view_1", help_text, re.MULTILINE), help_text
    assert re.search(r"^5 +View: all +view_5", help_text, re.MULTILINE), help_text
    assert re.search(r"^9 +Saved view 9 \(none; add one in \[\[views\]\]\)", help_text, re.MULTILINE), help_text


async def test_the_palette_names_the_views_and_leaves_out_unused_keys(tmp_path: Path, clock: FrozenClock) -> None:
    from cminbox.tui.palette import ActionCommands

    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=SIZE):
        titles = [title for title, _action, _help in ActionCommands(screen_of(app))._entries()]
    assert "View: needs reply" in titles and "View: all" in titles
    assert not any(t.startswith("Saved view") for t in titles), titles


async def test_the_list_s_movement_keys_move_through_the_help(tmp_path: Path, clock: FrozenClock) -> None:
    """Regression (new-user trial of 2026-12-02): G did nothing in the help; only the arrows,
    PageDown and End moved it."""
    from textual.containers import VerticalScroll

    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "question_mark")
        scroll = app.screen.query_one(VerticalScroll)
        assert scroll.max_scroll_y > 0
        await press(pilot, "G")
        assert scroll.scroll_y == scroll.max_scroll_y
        await press(pilot, "g")
        assert scroll.scroll_y == 0
        await press(pilot, "j")
        assert scroll.scroll_y == 1
        await press(pilot, "down")  # the scroll's own key still moves one line, not two
        assert scroll.scroll_y == 2
