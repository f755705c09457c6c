"""Driving the TUI with Textual's Pilot: every action and its undo, auto-advance, bulk actions,
filters, live updates arriving while typing, keymaps, and changes from another instance."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cminbox.core.clock import FrozenClock
from cminbox.core.health import ChannelHealth, HealthState
from cminbox.core.models import Priority, Status
from cminbox.core.poller import PollReport
from cminbox.core.store import Store
from cminbox.tui.composer import Composer
from cminbox.tui.inbox_list import InboxList
from tests.factories import make_message
from tests.pilot_helpers import SIZE, check_now, current_id, help_table_text, press, screen_of, settle
from tests.tui_fixtures import CONFIG, make_app, make_services


async def test_status_actions_advance_and_undo(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        first = current_id(app)
        for key, status in (("d", Status.DONE), ("w", Status.WAITING), ("o", Status.OPEN)):
            target = current_id(app)
            await press(pilot, key)
            assert services.store.triage(target).status == status
            assert current_id(app) != target  # auto-advanced
        for _ in range(3):
            await press(pilot, "u")
        assert services.store.triage(first).status == Status.NEW
        assert current_id(app) == first  # undo shows what it restored


async def test_dialog_actions_and_their_undo(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        mid = current_id(app)
        await press(pilot, "t", *"outage", "enter")
        assert services.store.triage(mid).tags == ("outage",)
        await press(pilot, "t", "1")  # the first existing tag, by number
        await press(pilot, "T", "enter")
        assert services.store.triage(mid).tags == ()
        await press(pilot, "a", *"bo", "enter")
        assert services.store.triage(mid).assignee == "bo"
        await press(pilot, "p")
        assert services.store.triage(mid).priority == Priority.HIGH
        await press(pilot, "s", "enter")  # the first preset: 1 hour
        assert services.store.triage(mid).snoozed_until is not None
        await press(pilot, "e", *"customer is furious", "enter")
        state = services.store.triage(mid)
        assert state.status == Status.ESCALATED and state.escalation is not None
        assert state.escalation.note == "customer is furious"
        assert [i.destination for i in services.inbox.outbox.items()] == ["oncall"]
        for _ in range(7):
            await press(pilot, "u")
        state = services.store.triage(mid)
        assert (state.tags, state.assignee, state.priority, state.snoozed_until, state.status) == (
            (),
            None,
            Priority.NORMAL,
            None,
            Status.NEW,
        )


async def test_bulk_actions_on_a_selection(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "x", "x")
        picked = sorted(screen_of(app).inbox_list.selected)
        assert len(picked) == 2
        await press(pilot, "d")
        assert all(services.store.triage(m).status == Status.DONE for m in picked)
        assert not screen_of(app).inbox_list.selected
        await press(pilot, "u")
        assert all(services.store.triage(m).status == Status.NEW for m in picked)
        await press(pilot, "V", "t", *"triaged", "enter")
        assert all("triaged" in services.store.triage(r.message.id).tags for r in screen_of(app).inbox_list.rows)


async def test_incident_burst_in_two_keystrokes_per_item_or_less(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        keys = ["slash", *"sync", "enter", "V", "d"]
        await press(pilot, *keys)
        closed = [r for r in services.store.query() if r[1].status == Status.DONE]
        assert len(closed) == 3  # every "sync" mention
        assert all("sync" in m.text for m, _ in closed)
        # With a longer burst, the same keys close any number of items: far below two per item.


async def test_filters_valid_and_invalid(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "slash", *"from:@kai", "enter")
        assert [r.message.author.handle for r in screen_of(app).inbox_list.rows] == ["@kai@example.social"]
        await press(pilot, "slash")
        await press(pilot, *" age:1x", "enter")
        error = app.screen.query_one("#filter-error")
        assert error.display and "age:1x" in str(error.render())
        assert len(screen_of(app).inbox_list.rows) == 1  # the old filter stays until a valid one
        await press(pilot, "escape", "escape")
        assert len(screen_of(app).inbox_list.rows) == 13


async def test_views_sort_and_next_match(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    services.inbox.escalate(["masto:104"], "oncall")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "2")
        assert [r.message.id for r in screen_of(app).inbox_list.rows] == ["masto:104"]
        await press(pilot, "5", "S")
        rows = screen_of(app).inbox_list.rows
        assert rows[0].message.created_at < rows[-1].message.created_at  # oldest first
        await press(pilot, "slash", *"sync", "enter", "n")
        assert "sync" in screen_of(app).inbox_list.current.message.text  # type: ignore[union-attr]


async def test_poll_update_while_typing_keeps_draft_and_cursor(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "j", "r", *"Hello the")
        reading = current_id(app)
        area = app.screen.query_one("#composer-text")
        cursor_before = area.cursor_location  # type: ignore[attr-defined]
        new = [make_message(900 + i, channel="masto", at=clock.now) for i in range(5)]
        ids = services.store.upsert_messages(new)
        screen_of(app).polled_once.add("masto")
        report = PollReport(channel="masto", health=ChannelHealth(channel="masto", state=HealthState.OK), new_ids=ids)
        screen_of(app).apply_poll(report, False)
        await press(pilot, *"re")
        composer = app.screen.query_one(Composer)
        assert composer.text == "Hello there"
        assert area.has_focus and area.cursor_location == (0, cursor_before[1] + 2)  # type: ignore[attr-defined]
        assert current_id(app) == reading  # the list grew above; the cursor stayed on the item
        assert all(screen_of(app).inbox_list.rows[screen_of(app).inbox_list.index[i]].fresh for i in ids)


async def test_draft_survives_closing_and_a_restart(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        mid = current_id(app)
        await press(pilot, "r", *"half a thought", "escape")
        assert not app.screen.query_one(Composer).display
    assert Store(services.store.dir).get_draft(mid) == "half a thought"
    app2 = make_app(make_services(tmp_path / "again", clock))
    app2.services.inbox.store.set_draft(mid, "x")  # type: ignore[union-attr]
    async with make_app(services).run_test(size=SIZE) as pilot:
        await press(pilot, "r")
        assert pilot.app.screen.query_one(Composer).text == "half a thought"


async def test_a_draft_is_saved_when_typing_pauses_not_only_on_close(
    tmp_path: Path, clock: FrozenClock, monkeypatch: Any
) -> None:
    """Regression (review of 2026-12-01): a draft was saved when the composer closed, so a kill
    -9 or a dropped SSH session while typing lost the text."""
    from cminbox.tui import composer as composer_module

    monkeypatch.setattr(composer_module, "AUTOSAVE_AFTER", 0.05)
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        mid = current_id(app)
        await press(pilot, "r", *"half a thought")
        for _ in range(100):  # the pause's timer, then the save on the store worker
            await pilot.pause(0.02)
            await settle(pilot)
            if Store(services.store.dir).get_draft(mid) == "half a thought":
                break
        assert Store(services.store.dir).get_draft(mid) == "half a thought"
        assert app.screen.query_one(Composer).display  # still open: saved while typing


async def test_sending_a_public_reply_asks_first_then_queues(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        mid = current_id(app)
        await press(pilot, "r", *"Thanks!", "ctrl+s")
        assert services.inbox.outbox.items() == []  # waiting for the confirmation
        await press(pilot, "y")
        [item] = services.inbox.outbox.items()
        assert (item.message_id, item.payload["text"]) == (mid, "Thanks!")
        assert services.store.get_draft(mid) == ""


async def test_remapped_keys_work_and_show_in_help(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock, config_text=CONFIG + '\n[keys]\ndone = "D"\n')
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        mid = current_id(app)
        await press(pilot, "d")
        assert services.store.triage(mid).status == Status.NEW  # d no longer means done
        await press(pilot, "D")
        assert services.store.triage(mid).status == Status.DONE
        await press(pilot, "question_mark")
        help_text = help_table_text(app)
        assert re.search(r"^D +Done \(remapped\) +done", help_text, re.MULTILINE), help_text


async def test_another_instance_changes_show_up(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        other = Store(services.store.dir, clock=clock)
        other.act(["masto:105"], __import__("cminbox.core.triage").core.triage.AddTags(("from-bob",)), actor="bob")
        other.upsert_messages([make_message(950, channel="masto", at=clock.now)])
        await check_now(pilot, screen_of(app))  # runs every second on its own; called here to stay deterministic
        lst = screen_of(app).inbox_list
        assert lst.rows[lst.index["masto:105"]].state.tags == ("from-bob",)
        assert "masto:950" in lst.index


async def test_every_line_is_exactly_the_widget_width(tmp_path: Path, clock: FrozenClock) -> None:
    """Emoji, RTL text, very long words and empty bodies never break the layout."""
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=SIZE):
        lst = app.screen.query_one(InboxList)
        width = lst.scrollable_content_region.width
        for y in range(len(lst.rows)):
            assert lst.render_line(y).cell_length == width


async def test_ctrl_e_opens_the_editor_with_the_draft(tmp_path: Path, clock: FrozenClock, monkeypatch: object) -> None:
    import cminbox.tui.replying as screen_module

    seen: list[str] = []

    def fake_editor(app: object, draft: str, message: object) -> str:
        seen.append(draft)
        return draft + " (edited)"

    monkeypatch.setattr(screen_module, "edit_in_editor", fake_editor)  # type: ignore[attr-defined]
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "r", *"Hi", "ctrl+e")
        assert seen == ["Hi"]
        assert app.screen.query_one(Composer).text == "Hi (edited)"


async def test_every_action_in_the_table_resolves(tmp_path: Path, clock: FrozenClock) -> None:
    """Each binding's action exists where it is dispatched (q must quit, : must open the palette)."""
    from cminbox.tui.actions import ACTIONS

    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=SIZE):
        screen = screen_of(app)
        for spec in ACTIONS:
            name = spec.action.split("(")[0]
            target = app if name.startswith("app.") else screen
            assert hasattr(target, f"action_{name.removeprefix('app.')}"), spec.id


async def test_q_quits(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "q")
        await pilot.pause()
        assert not app.is_running


async def test_cursor_line_is_repainted_when_scrolled(tmp_path: Path, clock: FrozenClock) -> None:
    """Moving inside a scrolled list repaints exactly the old and the new cursor lines."""
    services = make_services(tmp_path, clock)
    services.store.upsert_messages([make_message(2000 + i, channel="masto", at=clock.now) for i in range(80)])
    app = make_app(services)
    async with app.run_test(size=(120, 20)) as pilot:
        lst = screen_of(app).inbox_list
        await press(pilot, *["j"] * 40)
        assert lst.scroll_offset.y > 0
        refreshed: list[int] = []
        original = lst.refresh_line
        lst.refresh_line = lambda y: (refreshed.append(y), original(y))  # type: ignore[method-assign]
        await press(pilot, "k")
        assert sorted(refreshed) == [39, 40]


async def test_theme_picker_and_palette_open(tmp_path: Path, clock: FrozenClock) -> None:
    from textual.command import CommandPalette

    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "ctrl+t")
        assert isinstance(app.screen, CommandPalette)
        await press(pilot, "escape", "colon", *"escalate")
        assert isinstance(app.screen, CommandPalette)
        await pilot.pause(0.3)
        await press(pilot, "enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "EscalateDialog"


async def test_the_palette_offers_one_theme_command_and_one_keys_command(tmp_path: Path, clock: FrozenClock) -> None:
    """Textual's "Theme" and the action table's "Change theme" both listed (new-user trial of
    2026-12-01), and Textual's "Keys" (its own key panel) beside the table's "Keys (this
    screen)" (trial of 2026-12-02): the table's stay, with their keys."""
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=SIZE):
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Theme" not in titles and "Keys" not in titles and "Quit" in titles


async def test_preview_shows_thread_and_the_authors_other_messages(tmp_path: Path, clock: FrozenClock) -> None:
    import msgspec

    services = make_services(tmp_path, clock)
    noah = services.store.get_message("masto:101")
    assert noah is not None
    elsewhere = msgspec.structs.replace(
        noah,
        id="forum:7",
        channel="forum",
        native_id="7",
        text="same bug on the forum",
        thread_id="forum:7",
        author=msgspec.structs.replace(noah.author, handle="@noah.forum.example"),
    )
    services.store.upsert_messages([elsewhere])
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        lst = screen_of(app).inbox_list
        lst.cursor = lst.index["masto:101"]
        await pilot.pause(0.2)
        text = str(app.screen.query_one("#preview").render())
        assert "also from this person" in text and "same bug on the forum" in text
        lst.cursor = lst.index["masto:100"]
        await pilot.pause(0.2)
        text = str(app.screen.query_one("#preview").render())
        assert "── thread ──" in text and "also from this person" not in text


async def test_ages_repaint_only_lines_that_changed(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=SIZE):
        lst = screen_of(app).inbox_list
        refreshed: list[int] = []
        original = lst.refresh_line
        lst.refresh_line = lambda y: (refreshed.append(y), original(y))  # type: ignore[method-assign]
        lst.refresh_ages()
        assert refreshed == []  # nothing changed yet
        clock.advance(minutes=1)
        lst.refresh_ages()
        assert refreshed and len(refreshed) < len(lst.rows)  # the "1m"/"3m"… rows, not the "1h" ones


async def test_the_tag_picker_offers_the_tags_rules_and_macros_add_after_those_in_use(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """Before the demo's burst its picker offered #bug and #muted but not #outage, which its
    `O` macro and a rule add (new-user trial of 2026-12-02): the config's tags follow those
    in use, once each."""
    config = (
        CONFIG
        + '[[rules]]\nname = "incident"\nwhen = "zzz-matches-nothing"\ntag = ["Incident", "bug"]\n'
        + '[[macros]]\nname = "triage"\nkey = "O"\nsteps = [{tag = ["triaged", "incident"]}, {done = true}]\n'
    )
    services = make_services(tmp_path, clock, config_text=config)
    services.inbox.tag(["masto:101"], ["bug"])
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "t")
        await pilot.pause()
        picker = app.screen
        assert type(picker).__name__ == "TagPicker"
        assert picker.tags == ["bug", "incident", "triaged"]  # type: ignore[attr-defined]
