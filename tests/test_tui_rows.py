"""What a row and the panes around it show (issue #11): replied and snoozed markers, items that
no longer match the view, rows that stay aligned whatever emoji they hold, bounded previews,
ages that move on, and the header, footer, help and thread lines at 80 columns."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import msgspec
import respx
from rich.cells import cell_len
from wcwidth import wcswidth, wcwidth

from cminbox.core.channel import ChannelError
from cminbox.core.clock import FrozenClock
from cminbox.core.models import Author, Message, Status
from cminbox.tui.inbox_list import InboxList
from cminbox.tui.inbox_screen import InboxScreen
from cminbox.tui.panes import InboxHeader, Preview
from cminbox.tui.thread_screen import ThreadScreen
from tests.factories import WIDTH_TRAPS, make_message
from tests.mastodon_fixtures import status
from tests.tui_fixtures import make_app, make_services

SIZE = (120, 40)
REPLIED, SNOOZED = "↩", "z"  # the row's flag column


def inbox_of(app: object) -> InboxScreen:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, InboxScreen)
    return screen


def row_text(lst: InboxList, message_id: str) -> str:
    return lst.render_line(lst.index[message_id] - int(lst.scroll_offset.y)).text


async def test_a_sent_reply_marks_the_row_replied_and_open_and_out_of_needs_reply(
    tmp_path: Path, clock: FrozenClock
) -> None:
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = inbox_of(app)
        lst = inbox.inbox_list
        mid = lst.current.message.id  # type: ignore[union-attr]
        new_before = inbox.counts.status[Status.NEW]
        await pilot.press("r", *"On it!", "ctrl+s", "y")
        assert services.engine is not None
        with respx.mock(base_url="https://masto.example") as api:
            api.post("/api/v1/statuses").respond(json=status(5))
            # The engine's delivery loop sends it (the TUI is told through the dispatcher).
            [delivery] = await services.engine.dispatcher.deliver_due()
        assert delivery.ok
        await pilot.pause(0.2)  # the preview follows after a short stillness
        state = services.store.triage(mid)
        assert state.status == Status.OPEN and state.first_response_at is not None
        row = lst.rows[lst.index[mid]]
        assert row.state == state
        line = row_text(lst, mid)
        assert line[1:3] == "○" + REPLIED, line  # open, and the replied glyph
        assert inbox.counts.status[Status.NEW] == new_before - 1
        header = app.screen.query_one(InboxHeader)
        assert "new 12 " in header.render_lines(header.region.reset_offset)[0].text
        assert row.stale  # "needs reply" no longer matches: marked, and said on the view line
        assert "1 no longer in this view" in str(app.screen.query_one("#view-line").render())
        assert "↩ replied" in str(app.screen.query_one(Preview).render())
        await pilot.press("1")  # the view's key reloads it: the item leaves
        assert mid not in lst.index


async def test_a_snoozed_row_shows_the_snooze_marker_and_leaves_the_view(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = inbox_of(app)
        lst = inbox.inbox_list
        mid = lst.current.message.id  # type: ignore[union-attr]
        await pilot.press("s", "enter")  # the first preset: 1 hour
        assert services.store.triage(mid).snoozed_until is not None
        assert row_text(lst, mid)[1:3] == "●" + SNOOZED
        assert lst.rows[lst.index[mid]].stale
        assert "1 no longer in this view" in str(app.screen.query_one("#view-line").render())
        clock.advance(hours=2)  # the snooze is over: the marker goes
        assert row_text(lst, mid)[2] == " "


async def test_rows_with_emoji_sequences_are_exactly_the_widget_width_by_every_measure(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """tmux 3.3a measures per code point; Textual and wcwidth per grapheme: rows must agree."""
    services = make_services(tmp_path, clock)
    eight_s = clock.now - timedelta(seconds=8)
    traps = [make_message(700 + i, text=text, at=eight_s) for i, text in enumerate(WIDTH_TRAPS)]
    # Author names and tags are row text too.
    traps[1] = msgspec.structs.replace(traps[1], author=Author(id="x", handle="@dev", display_name="👩‍💻 Dev 🇩🇪"))
    services.store.upsert_messages(traps)
    services.inbox.tag(["masto:700"], ["🏳️‍🌈-pride", "👩‍💻"])
    app = make_app(services)
    async with app.run_test(size=SIZE):
        lst = inbox_of(app).inbox_list
        width = lst.scrollable_content_region.width
        for i in range(len(WIDTH_TRAPS)):
            text = row_text(lst, f"masto:{700 + i}")
            assert cell_len(text) == width, text
            assert wcswidth(text) == width, text
            assert sum(wcwidth(ch) for ch in text) == width, text  # per code point, as tmux draws it
            assert text.rstrip().endswith("8s"), text  # the age column where it belongs


async def test_a_5_mb_item_is_previewed_bounded(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    huge = "x" * 40 + " word" * (5 * 1024 * 1024 // 5)
    services.store.upsert_messages([make_message(900, text=huge, at=clock.now)])
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        lst = inbox_of(app).inbox_list
        lst.cursor = lst.index["masto:900"]
        await pilot.pause(0.2)
        shown = str(app.screen.query_one(Preview).render())
        assert shown.count("word") < 10_000
        assert "truncated: 5,120 KB in all; open it on the channel" in shown


async def test_ages_move_on_within_seconds_not_half_a_minute(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=SIZE) as pilot:
        lst = inbox_of(app).inbox_list
        refreshed: list[int] = []
        original = lst.refresh_line
        lst.refresh_line = lambda y: (refreshed.append(y), original(y))  # type: ignore[method-assign]
        await pilot.pause(0.2)
        assert "(1m ago)" in str(app.screen.query_one(Preview).render())
        clock.advance(seconds=60)
        await pilot.pause(1.3)  # the clock's own timer, no key pressed
        assert refreshed
        assert "(2m ago)" in str(app.screen.query_one(Preview).render())


async def test_the_header_keeps_the_channel_health_with_a_large_selection(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    services.store.upsert_messages([make_message(400 + i, at=clock.now) for i in range(40)])
    app = make_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("V")
        await pilot.pause()
        header = app.screen.query_one(InboxHeader)
        [line] = [strip.text for strip in header.render_lines(header.region.reset_offset)]
        assert cell_len(line) == 80
        assert "53 selected" in line and line.rstrip().endswith("● masto"), line


async def test_a_view_line_too_long_for_the_screen_ends_in_an_ellipsis(tmp_path: Path, clock: FrozenClock) -> None:
    """It stopped mid-word at 60 columns ("... no longer in this view; 1"): new-user trial of 2026-12-01."""
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=(60, 15)) as pilot:
        await pilot.press("slash", *"tag:outage or priority:high", "enter")
        await pilot.pause()
        view_line = app.screen.query_one("#view-line")
        [line] = [strip.text for strip in view_line.render_lines(view_line.region.reset_offset)]
        assert "filter: tag:outage" in line and line.rstrip().endswith("…"), line


async def test_the_footer_fits_80_columns(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        keys = list(app.screen.query("FooterKey"))
        palette = [k for k in keys if "-command-palette" in k.classes]
        others = [k for k in keys if k not in palette]
        assert palette and len(others) == 8  # r t e d u x / ?
        assert max(k.region.right for k in others) <= palette[0].region.x  # "? Keys" whole, left of "^p palette"


class OneMessageThread:
    def __init__(self, message: Message) -> None:
        self.message = message

    async def thread(self, message: Message) -> list[Message]:
        return [self.message]


class BrokenThread:
    async def thread(self, message: Message) -> list[Message]:
        raise ChannelError("boom")


async def test_a_live_thread_of_one_says_1_message(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    message = services.store.get_message("masto:101")
    assert message is not None
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ThreadScreen(message, [message], OneMessageThread(message), clock))  # type: ignore[arg-type]
        await pilot.pause(0.2)
        shown = str(app.screen.query_one("#thread-status").render())
        assert shown.endswith("· 1 message"), shown


async def test_composing_at_80x24_keeps_the_message_being_answered_in_view(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("j", "r", *"Hi")
        await pilot.pause(0.2)
        preview = app.screen.query_one(Preview)
        visible = "".join(s.text for s in preview.render_lines(preview.region.reset_offset))
        assert "how do I export all notes to markdown?" in visible  # masto:100, the item answered
        footer = " ".join(str(k.description) for k in app.screen.query("FooterKey"))
        assert "Send" in footer and "Reply" not in footer  # the inbox's keys type text now
