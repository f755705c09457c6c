"""`u` in the inbox takes back a rule's effect on the item under the cursor when this session
has nothing of its own to undo; the history pane names the rule once."""

from __future__ import annotations

from pathlib import Path

from cminbox.core.clock import FrozenClock
from cminbox.core.rules_run import RuleRunner
from cminbox.tui.panes import Preview
from tests.conftest import T0
from tests.test_tui_presence import until
from tests.test_tui_replying import SIZE, at
from tests.tui_fixtures import CONFIG, make_app, make_services, settle

KAI = "masto:109"  # "is sync down? nothing has synced for 10 minutes"
RULES = CONFIG + '\n[[rules]]\nname = "outage"\nwhen = "sync"\ntag = ["outage"]\n'


async def test_u_takes_back_the_rules_tag_on_the_item(tmp_path: Path) -> None:
    services = make_services(tmp_path, FrozenClock(T0), config_text=RULES)
    runner = RuleRunner.of(services.config, services.store, services.clock)
    assert runner is not None
    runner.apply(services.store.message_ids())
    assert services.store.triage(KAI).tags == ("outage",)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = await at(pilot, KAI)
        preview = inbox.query_one(Preview)
        await until(pilot, lambda: "rule outage: tag outage" in str(preview.render()), "the rule's history line")
        assert "rule outage: rule outage" not in str(preview.render())
        await pilot.press("u")
        rows = inbox.inbox_list
        # Asked first (new-user trial of 2026-12-01: one `u` too many took back a rule's tag).
        assert rows.rows[rows.index[KAI]].state.tags == ("outage",)
        said = [str(n.message) for n in pilot.app._notifications]
        assert any("Nothing of yours to undo here. u again takes back rule outage: tag outage" in m for m in said)
        await settle(pilot)
        assert services.store.triage(KAI).tags == ("outage",)
        await pilot.press("u")
        assert rows.rows[rows.index[KAI]].state.tags == ()  # on screen at once
        await settle(pilot)
    assert services.store.triage(KAI).tags == ()
    assert services.store.triage("masto:110").tags == ("outage",)  # Grace's item keeps its tag
