"""The `/` filter and saved views answer the people fields from the stored people: a VIP tagged
from the CLI, and the channels' staff accounts (the TUI used to evaluate them as if nobody
were stored: `author-tag:vip` listed nothing)."""

from __future__ import annotations

from pathlib import Path

from cminbox.core.clock import FrozenClock
from cminbox.core.people_ops import PeopleOps
from tests.conftest import T0
from tests.test_tui_presence import until
from tests.test_tui_replying import SIZE, inbox_of
from tests.tui_fixtures import CONFIG, make_app, make_services, settle

STAFFED = CONFIG.replace('name = "masto"\n', 'name = "masto"\nstaff = ["@mira@example.social"]\n', 1)


async def test_author_tag_and_from_staff_in_the_filter(tmp_path: Path) -> None:
    services = make_services(tmp_path, FrozenClock(T0), config_text=STAFFED)
    PeopleOps.of(services.config, services.store, services.clock).tag(["masto:@sam_k@example.social"], ["vip"])
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = inbox_of(app)
        await pilot.press("slash", *"author-tag:vip", "enter")
        await settle(pilot)
        assert [r.message.author.handle for r in inbox.inbox_list.rows] == ["@sam_k@example.social"]
        await pilot.press("slash", "ctrl+u", *"from:staff", "enter")
        await settle(pilot)
        assert {r.message.author.handle for r in inbox.inbox_list.rows} == {"@mira@example.social"}
        # Tagged from another process meanwhile: the list follows on the next people read.
        PeopleOps.of(services.config, services.store, services.clock).tag(["masto:@priya@example.social"], ["vip"])
        await pilot.press("slash", "ctrl+u", *"author-tag:vip", "enter")
        inbox.tick()
        await until(pilot, lambda: len(inbox.inbox_list.rows) == 2, "priya joins the VIP filter")
