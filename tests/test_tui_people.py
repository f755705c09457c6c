"""People in the inbox (issue #13, items 4 and 5): the author card in the preview, profile-tag
and sentiment markers in the rows, sort by sentiment, the person screen (tag, note, link,
unlink) and a profile tag for the authors of a selection, every store call on a worker."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from rich.cells import cell_len
from textual.pilot import Pilot
from wcwidth import wcswidth, wcwidth

from cminbox.core.clock import FrozenClock
from cminbox.core.enrich import enrich
from cminbox.core.models import Message, Status, TriageState
from cminbox.core.people import PROFILE_TAGS
from cminbox.core.people_ops import PeopleOps
from cminbox.core.sentiment import Mood, mood_of
from cminbox.core.store import Store
from cminbox.core.triage import SetStatus
from cminbox.core.views import Sort, arrange
from cminbox.tui.app import CminboxApp
from cminbox.tui.inbox_list import MOOD_MARKS, InboxList
from cminbox.tui.inbox_screen import InboxScreen
from cminbox.tui.panes import Preview
from cminbox.tui.people_dialogs import ChoiceDialog, LinkDialog, ProfileTagPicker
from cminbox.tui.person_screen import PersonScreen
from cminbox.tui.thread_screen import ThreadScreen
from tests.factories import make_message
from tests.test_tui_presence import until
from tests.test_tui_replying import notes
from tests.tui_fixtures import blocked, make_app, settle
from tests.tui_people_fixtures import (
    AIKO,
    KAI,
    NOAH,
    PRIYA,
    PRIYA_FEDI,
    PRIYA_KEY,
    people_ops,
    people_services,
)

SIZE = (120, 40)


def inbox_of(app: CminboxApp) -> InboxScreen:
    screen = next(s for s in app.screen_stack if isinstance(s, InboxScreen))
    return screen


def row_text(lst: InboxList, mid: str) -> str:
    return lst.render_line(lst.index[mid] - int(lst.scroll_offset.y)).text


def preview_text(app: CminboxApp) -> str:
    return str(inbox_of(app).query_one(Preview).render())


async def at(pilot: Pilot[None], mid: str) -> InboxScreen:
    inbox = inbox_of(pilot.app)  # type: ignore[arg-type]
    inbox.inbox_list.cursor = inbox.inbox_list.index[mid]
    await pilot.pause()  # the cursor's move is handled (its preview timer set)
    inbox.show_preview()  # what that 60 ms debounce does once the cursor rests
    await settle(pilot)  # the preview's lookups and the author card landed
    return inbox


def counting(obj: object, name: str) -> list[int]:
    """``obj.name`` records the thread of each call (the list it returns)."""
    real: Callable[..., Any] = getattr(obj, name)
    calls: list[int] = []

    def call(*args: Any, **kwargs: Any) -> Any:
        calls.append(threading.get_ident())
        return real(*args, **kwargs)

    setattr(obj, name, call)
    return calls


async def test_the_card_shows_tags_identities_counts_reply_trend_note_and_link_hint(
    tmp_path: Path, clock: FrozenClock
) -> None:
    services = people_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        cards = counting(inbox_of(app).people_ops, "card")
        await at(pilot, PRIYA)
        shown = preview_text(app)
        first_line = shown.splitlines()[0]
        assert "★ vip" in first_line and "· beta" in first_line, first_line  # glyph and word, by the name
        assert "── person: Priya Raman · p-" in shown
        assert f"{PRIYA_KEY}  1 item, 1 to do" in shown
        assert "last reply from the team 40m ago (ana)" in shown
        assert "sentiment: neutral on average" in shown  # one scored item: no trend yet
        assert "note · ana 11-27: prefers email; beta tester since 2.3" in shown
        assert f"link?: {PRIYA_FEDI}" in shown  # suggested, never linked by itself
        assert len(cards) == 1 and cards[0] != threading.get_ident()  # read on the lookup worker
        await at(pilot, NOAH)
        assert "── person: Noah Becker ──" in preview_text(app) and "no reply from the team yet" in preview_text(app)
        await at(pilot, PRIYA)
        assert len(cards) == 2  # Priya's card came from the cache: one read per author


async def test_the_message_shows_at_once_while_the_card_is_read(tmp_path: Path, clock: FrozenClock) -> None:
    """The card costs ~150 ms at 100k items: the preview does not wait for it."""
    services = people_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = inbox_of(app)
        with blocked(inbox.people_ops, "card") as gate:
            inbox.inbox_list.cursor = inbox.inbox_list.index[NOAH]
            await pilot.pause()
            inbox.show_preview()
            await gate.wait_entered()
            await until(pilot, lambda: "found a bug: search freezes" in preview_text(app), "the message")
            assert "── person:" not in preview_text(app)
            gate.release.set()
            await settle(pilot)
        assert "── person: Noah Becker ──" in preview_text(app)


async def test_rows_carry_the_profile_and_sentiment_markers_at_one_cell_each(
    tmp_path: Path, clock: FrozenClock
) -> None:
    services = people_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE):
        lst = inbox_of(app).inbox_list
        width = lst.scrollable_content_region.width
        marker_col = {
            "masto:103": (MOOD_MARKS[Mood.NEGATIVE], "⚠"),  # angry bird: negative, troll
            AIKO: ("+", "♥"),  # advocate, positive
            PRIYA: (" ", "★"),  # vip (and beta: the row shows the most telling glyph)
            "masto:200": (" ", "◆"),  # Mira: a staff account in the config, no record needed
            "masto:105": ("?", " "),  # Hebrew: not scored
        }
        for mid, (mood, person) in marker_col.items():
            text = row_text(lst, mid)
            assert text[5] == mood and text[16] == person, (mid, text)
            assert cell_len(text) == wcswidth(text) == sum(wcwidth(ch) for ch in text) == width, text
        for glyph in [*PROFILE_TAGS.values(), *MOOD_MARKS.values()]:  # every marker, per code point
            assert wcwidth(glyph) == 1 and cell_len(glyph) == 1, glyph


async def test_a_tag_from_the_cli_reaches_the_rows_markers_on_the_next_people_read(
    tmp_path: Path, clock: FrozenClock
) -> None:
    services = people_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = inbox_of(app)
        assert row_text(inbox.inbox_list, NOAH)[16] == " "
        people_ops(services, "bob").tag(["masto:noah@example.social"], ["press"])
        inbox.tick()  # the 30-second people read
        await settle(pilot)
        assert row_text(inbox.inbox_list, NOAH)[16] == "✉"


async def test_tag_authors_of_a_three_item_selection_is_one_write(tmp_path: Path, clock: FrozenClock) -> None:
    services = people_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = inbox_of(app)
        lst = inbox.inbox_list
        writes = counting(services.store, "write_people")
        for mid in (NOAH, KAI, "masto:111"):
            lst.cursor = lst.index[mid]
            await pilot.press("x")
        assert len(lst.selected) == 3
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, ProfileTagPicker), "the profile tag picker")
        assert "Profile tag for 3 authors (3 items)" in str(app.screen.query_one(".dialog-title").render())
        await pilot.press(*"vip", "enter")
        await settle(pilot)
        assert len(writes) == 1 and writes[0] != threading.get_ident()  # one write, on the store worker
        ops = people_ops(services)
        for handle in ("noah", "kai", "sam_k"):
            assert "vip" in ops.resolve(f"masto:{handle}@example.social").tags, handle
        for mid in (NOAH, KAI, "masto:111"):
            assert row_text(lst, mid)[16] == "★", mid
        assert not lst.selected
        assert "★ vip: 3 people tagged" in notes(app)


async def test_tag_authors_counts_each_person_once(tmp_path: Path, clock: FrozenClock) -> None:
    """Two items of one person are one author; a person already tagged is left alone."""
    services = people_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        lst = inbox_of(app).inbox_list
        for mid in ("fedi:700", "fedi:701", PRIYA):
            lst.cursor = lst.index[mid]
            await pilot.press("x")
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, ProfileTagPicker), "the profile tag picker")
        assert "Profile tag for 2 authors (3 items)" in str(app.screen.query_one(".dialog-title").render())
        await pilot.press(*"vip", "enter")
        await settle(pilot)
        assert "★ vip: 1 person tagged" in notes(app)  # masto Priya was a VIP already


async def open_person(pilot: Pilot[None], mid: str) -> PersonScreen:
    await at(pilot, mid)
    await pilot.press("P")
    await until(pilot, lambda: isinstance(pilot.app.screen, PersonScreen), "the person screen")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, PersonScreen) and screen.data is not None
    return screen


def card_of(screen: PersonScreen) -> str:
    return str(screen.query_one("#person-card").render())


async def test_link_then_unlink_from_the_person_screen(tmp_path: Path, clock: FrozenClock) -> None:
    services = people_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        person = await open_person(pilot, PRIYA)
        assert [r.message.id for r in person.query_one(InboxList).rows] == [PRIYA]
        assert f"link?: {PRIYA_FEDI}" in card_of(person)
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LinkDialog), "the link dialog")
        await pilot.press("enter")  # an empty box: the highlighted suggestion
        await until(pilot, lambda: len(person.query_one(InboxList).rows) == 3, "her fedi items")
        stored = people_ops(services).resolve(PRIYA_KEY)
        assert stored.identities == [PRIYA_KEY, PRIYA_FEDI] and stored.tags == ["vip", "beta"]
        assert "3 items on 2 channels" in str(person.query_one("#person-items-title").render())
        assert f"Linked {PRIYA_FEDI}" in notes(app)
        inbox = inbox_of(app)
        await until(pilot, lambda: row_text(inbox.inbox_list, "fedi:700")[16] == "★", "the fedi row's VIP marker")

        await pilot.press("L")
        await until(pilot, lambda: isinstance(app.screen, ChoiceDialog), "the identity to unlink")
        await pilot.press("down", "enter")  # the second: fedi
        await until(pilot, lambda: len(person.query_one(InboxList).rows) == 1, "only her masto item again")
        assert people_ops(services).resolve(PRIYA_KEY).identities == [PRIYA_KEY]
        assert services.store.person(PRIYA_FEDI) is None  # a person of its own again, bare
        await until(pilot, lambda: row_text(inbox.inbox_list, "fedi:700")[16] == " ", "no marker on fedi")
        assert f"link?: {PRIYA_FEDI}" in card_of(person)


async def test_tag_untag_and_note_from_the_person_screen(tmp_path: Path, clock: FrozenClock) -> None:
    services = people_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        person = await open_person(pilot, NOAH)  # nobody stored yet: the first write makes a record
        assert "no profile tags" in card_of(person)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, ProfileTagPicker), "the tag picker")
        await pilot.press("3")  # press (1 vip, 2 advocate, 3 press, ...)
        await until(pilot, lambda: "✉ press" in card_of(person), "the tag on the card")
        assert person.ref.startswith("p-")  # the stored id from now on
        await pilot.press("n")
        await pilot.press(*"wrote about us in LWN", "enter")
        await until(pilot, lambda: "wrote about us in LWN" in card_of(person), "the note")
        await pilot.press("T")
        await until(pilot, lambda: isinstance(app.screen, ProfileTagPicker), "the untag picker")
        await pilot.press("enter")
        await until(pilot, lambda: "no profile tags" in card_of(person), "the tag gone")
        stored = people_ops(services).resolve(NOAH)
        assert stored.tags == [] and [n.text for n in stored.notes] == ["wrote about us in LWN"]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)


async def test_a_stale_person_write_is_refused_and_says_who(tmp_path: Path, clock: FrozenClock) -> None:
    """Bob tags Priya while ana's tag is on its way: ana's is refused whole, with his name, and
    the screen shows what is stored (his tag, not hers)."""
    services = people_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        person = await open_person(pilot, PRIYA)
        with blocked(services.store, "write_people") as gate:
            await pilot.press("t", *"advocate", "enter")
            await gate.wait_entered()  # ana's write read the record and waits to store it
            bob = Store(tmp_path / "data", clock=clock)  # a teammate's instance on the same folder
            try:
                PeopleOps(bob, frozenset(), "bob", clock).tag([PRIYA_KEY], ["press"])
            finally:
                bob.close()
            gate.release.set()
            await settle(pilot)
        said = notes(app)
        assert any("changed by bob meanwhile; nothing was written" in n for n in said), said
        stored = people_ops(services).resolve(PRIYA_KEY)
        assert "press" in stored.tags and "advocate" not in stored.tags
        await until(pilot, lambda: "✉ press" in card_of(person), "bob's tag on the card")
        assert "♥ advocate" not in card_of(person)


async def test_the_thread_of_an_item_opens_from_the_person_screen(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(people_services(tmp_path, clock))
    async with app.run_test(size=SIZE) as pilot:
        await open_person(pilot, PRIYA)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ThreadScreen), "the thread view")


async def test_sort_by_sentiment_most_negative_first_unscored_last(tmp_path: Path, clock: FrozenClock) -> None:
    services = people_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = inbox_of(app)
        await pilot.press("S", "S", "S")  # oldest, priority, sentiment
        await settle(pilot)
        assert inbox.sort == Sort.SENTIMENT
        assert "sort: sentiment" in str(inbox.query_one("#view-line").render())
        rows = [r.message for r in inbox.inbox_list.rows]
        scores = [m.sentiment for m in rows]
        scored = [s for s in scores if s is not None]
        assert scored == sorted(scored) and scored[0] < -0.5  # the angriest first
        assert scores.index(None) == len(scored) and all(s is None for s in scores[len(scored) :])
        assert mood_of(rows[0].sentiment).value == "negative"
        # A new item mid-list is put in its place (the ordering is not by time).
        new = make_message(950, text="this is the worst, most useless garbage update ever", at=clock.now)
        [scored_new] = enrich([new])
        services.store.upsert_messages([scored_new])
        inbox.merge_new([scored_new.id], {scored_new.id: (scored_new, services.store.triage(scored_new.id))})
        assert inbox.inbox_list.rows[0].message.id == scored_new.id


def test_arrange_by_sentiment_breaks_ties_newest_first() -> None:
    def item(n: int, score: float | None) -> tuple[Message, TriageState]:
        m = msgspec.structs.replace(make_message(n), sentiment=score)  # make_message: n minutes old
        return m, TriageState(id=m.id)

    rows = [item(1, None), item(2, 0.5), item(3, -0.2), item(4, -0.2), item(5, None), item(6, -0.9)]
    order = [m.id.split(":")[1] for m, _ in arrange(rows, Sort.SENTIMENT)]
    assert order == ["6", "3", "4", "2", "1", "5"]


async def test_an_open_person_screen_follows_what_another_instance_does(tmp_path: Path, clock: FrozenClock) -> None:
    """A teammate tags the person and closes one of their items on another instance: the open
    person screen shows both without a key pressed (it read once, at opening, before)."""
    services = people_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        person = await open_person(pilot, NOAH)
        assert "no profile tags" in card_of(person)
        other = Store(services.store.dir, clock=clock)  # another instance on the same data
        people_ops(services, "bob").tag(["masto:noah@example.social"], ["press"])
        inbox_of(app).tick()  # the 30-second people read
        await until(pilot, lambda: "✉ press" in card_of(person), "the teammate's tag on the open person screen")
        other.act([NOAH], SetStatus(Status.DONE), actor="bob")
        inbox_of(app).check_store()

        def closed() -> bool:
            return any(r.message.id == NOAH and r.state.status == Status.DONE for r in person.query_one(InboxList).rows)

        await until(pilot, closed, "the item closed elsewhere, on the person screen")


async def test_the_card_counts_follow_my_own_done(tmp_path: Path, clock: FrozenClock) -> None:
    services = people_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = await at(pilot, PRIYA)
        before = preview_text(app)
        assert "1 to do" in before, before
        await pilot.press("d")
        await settle(pilot)
        inbox.inbox_list.cursor = inbox.inbox_list.index[PRIYA]
        await pilot.pause()
        inbox.show_preview()
        await settle(pilot)
        assert "0 to do" in preview_text(app), preview_text(app)


async def test_people_in_the_tui_on_postgresql(tmp_path: Path, clock: FrozenClock, pg_database: str) -> None:
    """The same people on the team store: the card, the rows' markers, linking two channels
    from the person screen (both channels' items listed after), a tag from there."""
    pg = f'\n[store]\nbackend = "postgresql"\ndsn = "{pg_database}"\nconnect_timeout = 5\n'
    services = people_services(tmp_path, clock, store_config=pg)
    assert type(services.store).__name__ != "Store"  # the PostgreSQL backend, not TinyDB
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = await at(pilot, PRIYA)
        assert "★" in row_text(inbox.inbox_list, PRIYA)
        assert "prefers email" in preview_text(app) and f"link?: {PRIYA_FEDI}" in preview_text(app)
        person = await open_person(pilot, PRIYA)
        assert [r.message.id for r in person.query_one(InboxList).rows] == [PRIYA]
        people_ops(services).link(PRIYA_KEY, PRIYA_FEDI)
        person.read()
        await until(pilot, lambda: len(person.query_one(InboxList).rows) == 3, "both channels' items")
        assert {r.message.channel for r in person.query_one(InboxList).rows} == {"masto", "fedi"}
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, ProfileTagPicker), "the tag picker")
        await pilot.press("3")  # the third tag she does not have yet (vip is hers): complainer
        await until(pilot, lambda: "▼ complainer" in card_of(person), "the tag on the card")
        assert "complainer" in people_ops(services).resolve(PRIYA_KEY).tags


def test_the_card_names_a_staff_answer_on_the_channel_as_the_team_s_last_reply(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """New-user trial of 2026-12-02: the preview said "answered first by staff: Noor Haddad"
    and the person card under it "no reply from the team yet" (it read only the outbox)."""
    from datetime import timedelta

    from cminbox.core.models import Answered
    from cminbox.core.triage import SetAnswer
    from cminbox.tui.author_card import card_text

    store = Store(tmp_path / "data", clock=clock)
    store.upsert_messages([make_message(1)])
    noor = Answered(
        kind="staff",
        who="masto:noor@example.social",
        handle="@noor",
        name="Noor Haddad",
        at=clock() - timedelta(minutes=2),
        message_id="masto:2",
    )
    store.act(["masto:1"], SetAnswer(noor, detected=True), actor="cminbox")
    card = PeopleOps(store, frozenset(), "ana", clock).card("masto:user1@example.social")
    said = card_text(card, clock()).plain
    assert "last reply from the team 2m ago (Noor Haddad, on the channel)" in said
    assert "no reply from the team yet" not in said
