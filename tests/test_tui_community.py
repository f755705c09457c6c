"""Community answers in the TUI: the row marker and the preview's line, confirm (c: done, the
helper credited, the thank-you queued once, one u takes it back), correct (C: the composer on
the question, the answer quoted) and who helps most (H), every store call on a worker."""

from __future__ import annotations

import threading
from pathlib import Path

from rich.cells import cell_len

from cminbox.core.clock import FrozenClock
from cminbox.core.community_ops import thank_you_id
from cminbox.core.models import Status
from cminbox.tui.app import CminboxApp
from cminbox.tui.composer import Composer
from cminbox.tui.helpers_screen import HelpersScreen
from cminbox.tui.inbox_list import COMMUNITY, InboxList
from cminbox.tui.inbox_screen import InboxScreen
from cminbox.tui.panes import Preview
from cminbox.tui.row_index import RowIndex
from tests.test_tui_off_ui_thread import ThreadProbe
from tests.test_tui_presence import until
from tests.tui_community_fixtures import AIKO, KAI, NOAH, community_services
from tests.tui_fixtures import make_app, settle

SIZE = (120, 40)


def inbox_of(app: CminboxApp) -> InboxScreen:
    return next(s for s in app.screen_stack if isinstance(s, InboxScreen))


def row_text(lst: InboxList, mid: str) -> str:
    return lst.render_line(lst.index[mid] - int(lst.scroll_offset.y)).text


async def on_item(app: CminboxApp, pilot: object, mid: str) -> InboxScreen:
    screen = inbox_of(app)
    if mid not in screen.inbox_list.index:  # Kai's: answered by staff on the channel, not in "needs reply"
        await pilot.press("5")  # type: ignore[attr-defined]
        await settle(pilot)  # type: ignore[arg-type]
    screen.inbox_list.cursor = screen.inbox_list.index[mid]
    screen.show_preview()
    await settle(pilot)  # type: ignore[arg-type]
    return screen


async def test_rows_mark_community_answers_in_one_cell_and_the_preview_names_the_helper(
    tmp_path: Path, clock: FrozenClock
) -> None:
    app = make_app(community_services(tmp_path, clock))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("5")  # "all": Kai's item (staff replied on the channel) is not in "needs reply"
        screen = await on_item(app, pilot, NOAH)
        lst = screen.inbox_list
        noah, kai = row_text(lst, NOAH), row_text(lst, KAI)
        # The flag column: staff first is no community answer; Kai is replied (staff, on the channel).
        assert noah[2] == COMMUNITY and kai[2] == "↩"
        assert cell_len(noah) == cell_len(kai) == lst.scrollable_content_region.width
        shown = str(screen.query_one(Preview).render())
        assert "↪ answered by Mira Okafor (@mira@example.social) 2m ago · c confirm · C correct" in shown
        assert "https://example.social/301" in shown
        screen = await on_item(app, pilot, KAI)
        assert "answered first by staff: Lumen team (@team@example.social)" in str(screen.query_one(Preview).render())
        screen = await on_item(app, pilot, "masto:301")  # Mira's answer: her card has the credit
        assert "↪ 2 community answers, 0 confirmed" in str(screen.query_one(Preview).render())


async def test_confirm_is_done_credited_thanked_once_and_one_undo_takes_it_back(
    tmp_path: Path, clock: FrozenClock
) -> None:
    services = community_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_item(app, pilot, NOAH)
        await pilot.press("c")
        await settle(pilot)
        state = services.store.triage(NOAH)
        assert state.status == Status.DONE and state.answered is not None and state.answered.confirmed_by == "ana"
        assert screen.inbox_list.rows[screen.inbox_list.index[NOAH]].state.status == Status.DONE
        [thanks] = services.store.outbox.items()
        assert (thanks.id, thanks.message_id, thanks.payload["text"]) == (
            thank_you_id("masto:301"),
            "masto:301",
            "Thanks for reaching out!",
        )
        await pilot.press("u")
        await settle(pilot)
        state = services.store.triage(NOAH)
        assert state.status == Status.NEW and state.answered is not None and state.answered.confirmed_at is None
        await pilot.press("c")  # confirmed again: thanked once all the same
        await settle(pilot)
        assert [i.id for i in services.store.outbox.items()] == [thanks.id]


async def test_confirm_refuses_an_item_without_a_community_answer(tmp_path: Path, clock: FrozenClock) -> None:
    services = community_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await on_item(app, pilot, KAI)
        await pilot.press("c")
        await settle(pilot)
        assert services.store.triage(KAI).status == Status.OPEN  # as the staff reply left it: not done
        assert any("answered by staff first" in str(n.message) for n in app._notifications)


async def test_correct_opens_the_composer_on_the_question_quoting_the_answer(
    tmp_path: Path, clock: FrozenClock
) -> None:
    app = make_app(community_services(tmp_path, clock))
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_item(app, pilot, AIKO)
        await pilot.press("C")
        await settle(pilot)
        composer = screen.query_one(Composer)
        assert composer.target is not None and composer.target.id == AIKO
        assert composer.text.startswith(
            "> Mira Okafor (@mira@example.social) wrote: Agreed, the new themes are great!\n\n"
        )


async def test_who_helps_most_ranks_mira_first(tmp_path: Path, clock: FrozenClock) -> None:
    services = community_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("H")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HelpersScreen)
        await until(pilot, lambda: screen.helpers is not None, "the ranking read")
        assert screen.helpers is not None and screen.helpers[0].handle == "@mira@example.social"
        assert screen.helpers[0].answers == 2


async def test_no_store_call_of_the_community_keys_runs_on_the_ui_thread(tmp_path: Path, clock: FrozenClock) -> None:
    services = community_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    probe = ThreadProbe()
    probe.wrap(services.store, "store")
    probe.wrap(services.store.outbox, "outbox")
    app = make_app(services)
    probe.ui = threading.get_ident()
    probe.watching = True
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_item(app, pilot, NOAH)
        screen.inbox_list.rows.pop(screen.inbox_list.index["masto:301"])  # the answer off screen: C reads it
        screen.inbox_list.index = RowIndex([r.message.id for r in screen.inbox_list.rows])
        screen = await on_item(app, pilot, NOAH)
        for key in ("c", "u", "C"):
            await pilot.press(key)
            await settle(pilot)
        composer = screen.query_one(Composer)
        await until(pilot, lambda: composer.text.startswith("> Mira Okafor"), "the quote read on a worker")
        await pilot.press("escape", "H")
        helpers = app.screen
        assert isinstance(helpers, HelpersScreen)
        await until(pilot, lambda: helpers.helpers is not None, "the ranking read")
        probe.watching = False
    assert probe.off_ui > 0
    assert probe.on_ui == [], [f"{c.method} from {c.where}" for c in probe.on_ui]


async def test_answered_in_the_filter_bar(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(community_services(tmp_path, clock))
    async with app.run_test(size=SIZE) as pilot:
        inbox = inbox_of(app)
        await pilot.press("5")  # "all": the filter over every item (Kai's is replied, not in "needs reply")
        await pilot.press("slash", *"answered:community", "enter")
        await settle(pilot)
        assert {r.message.id for r in inbox.inbox_list.rows} == {NOAH, AIKO}
        await pilot.press("slash", "ctrl+u", *"answered:staff", "enter")
        await settle(pilot)
        assert [r.message.id for r in inbox.inbox_list.rows] == [KAI]
