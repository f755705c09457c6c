"""The team in the config: `[team] members` (assignment refuses typos, the header lists who else
is in), `staff` accounts per channel (their replies on the channel count in the collision check),
and `cminbox who`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from cminbox.core import config as config_mod
from cminbox.core.clock import FrozenClock
from cminbox.core.config import ConfigError
from cminbox.core.models import Author, Message
from cminbox.core.store import Store
from cminbox.tui.app import CminboxApp
from cminbox.tui.dialogs import AssignDialog
from cminbox.tui.panes import InboxHeader
from tests.conftest import T0
from tests.test_cli_truthful import CHANNEL, cli, polled
from tests.test_tui_presence import ITEM, screen_of, until
from tests.tui_fixtures import CONFIG, make_app, make_services


def team(me: str, members: str = '["ana", "bob"]') -> str:
    return CONFIG + f'\n[team]\nme = "{me}"\nmembers = {members}\n'


def test_members_are_checked_with_file_line_and_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        config_mod.parse(team("ana", '["ana", "bob", "Bob"]'), tmp_path / "c.toml")
    assert "team.members[2]" in str(err.value) and "listed twice" in str(err.value)
    line = next(i for i, text in enumerate(team("ana").splitlines(), 1) if text.startswith("members"))
    assert f"c.toml, line {line}," in str(err.value)
    with pytest.raises(ConfigError) as err:
        config_mod.parse(team("dan"), tmp_path / "c.toml")
    assert "team.me" in str(err.value) and "not in [team] members" in str(err.value)
    cfg = config_mod.parse(team("ana").replace('name = "masto"', 'name = "masto"\nstaff = ["@team@masto.example"]'))
    assert cfg.team.members == ["ana", "bob"] and cfg.channels[0].staff == ["@team@masto.example"]


async def test_header_lists_teammates_in_and_assign_refuses_a_typo(tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    a = make_app(make_services(tmp_path, clock, config_text=team("ana")))
    b = make_app(make_services(tmp_path, clock, config_text=team("bob")))
    async with a.run_test(size=(120, 40)) as pa, b.run_test(size=(120, 40)) as pb:
        sa, sb = screen_of(a), screen_of(b)
        header = sb.query_one(InboxHeader)
        # Ana's inbox is open (no key pressed): bob's header says so, and ana's says bob.
        await until(pb, lambda: "with ana" in str(header.render()), "bob's header lists ana")
        await until(pa, lambda: "with bob" in str(sa.query_one(InboxHeader).render()), "ana's header lists bob")
        await typo_refused_then_member_assigned(pa, a)
    # Ana quit: bob's header no longer lists her (her record was removed at once).
    assert b.services is not None and b.services.store.presence() == []


async def typo_refused_then_member_assigned(pa: Pilot[None], a: CminboxApp) -> None:
    sa = screen_of(a)
    sa.inbox_list.cursor = sa.inbox_list.index[ITEM]
    await pa.press("a")
    await until(pa, lambda: isinstance(a.screen, AssignDialog), "the assign dialog")
    assert isinstance(a.screen, AssignDialog) and a.screen.people == ["ana", "bob"]
    a.screen.query_one(Input).value = "bbo"
    await pa.press("enter")
    await sa.settled()
    row = sa.inbox_list.rows[sa.inbox_list.index[ITEM]]
    assert row.state.assignee is None  # refused before anything was applied or written
    assert sa.s.store.triage(ITEM).assignee is None
    assert any("'bbo' is not a teammate" in n.message and "'bob'" in n.message for n in a._notifications)
    await pa.press("a")
    await until(pa, lambda: isinstance(a.screen, AssignDialog), "the assign dialog again")
    a.screen.query_one(Input).value = "BOB"
    await pa.press("enter")
    await sa.settled()
    assert sa.s.store.triage(ITEM).assignee == "bob"  # spelled as members spell it


def test_cli_assign_refuses_a_name_outside_members(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    polled(tmp_path, capsys)
    cfg = tmp_path / "config.toml"
    cfg.write_text(cfg.read_text() + '\n[team]\nme = "ana"\nmembers = ["ana", "bob"]\n')
    code, out = cli(tmp_path, capsys, "assign", "1001", "dan")
    assert code != 0 and "'dan' is not a teammate" in out and "ana, bob" in out
    assert "internal error" not in out
    code, out = cli(tmp_path, capsys, "assign", "1001", "Bob")
    assert code == 0, out
    assert Store(tmp_path / "data").triage("masto:1001").assignee == "bob"


def test_who_lists_teammates_and_away_members(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(CHANNEL + '\n[team]\nme = "ana"\nmembers = ["ana", "bob", "chen"]\n')
    code, out = cli(tmp_path, capsys, "who")
    assert code == 0 and "nobody else" in out and "away: bob, chen" in out
    bob = Store(tmp_path / "data")
    bob.set_presence("bob", "masto:7")
    try:
        code, out = cli(tmp_path, capsys, "who", "--json")
        doc = json.loads(out)
        assert doc["me"] == "ana" and doc["away"] == ["chen"]
        assert [(r["person"], r["message_id"], r["activity"]) for r in doc["online"]] == [("bob", "masto:7", "viewing")]
        bob.set_presence("bob", "")  # in the inbox, on no item
        code, out = cli(tmp_path, capsys, "who")
        assert "bob" in out and "in the inbox" in out
    finally:
        bob.close()


def test_a_staff_reply_seen_on_the_channel_stops_a_second_reply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    polled(tmp_path, capsys)
    cfg = tmp_path / "config.toml"
    cfg.write_text(cfg.read_text().replace('name = "masto"', 'name = "masto"\nstaff = ["@Team@m.example"]'))
    store = Store(tmp_path / "data")
    item = store.get_message("masto:1001")
    assert item is not None
    # Written by a teammate on Mastodon's own site, brought in by the next poll.
    official = Message(
        id="masto:9001",
        channel="masto",
        channel_type="mastodon",
        native_id="9001",
        kind=item.kind,
        author=Author(id="t", handle="@team@m.example", display_name="The Team"),
        text="Fixed in 1.2 \x1b[31m(see the status page)",
        created_at=datetime.now(UTC),
        thread_id=item.thread_id,
        parent_id=item.id,
    )
    store.upsert_messages([official])
    store.close()
    code, out = cli(tmp_path, capsys, "reply", "1001", "--text", "On it!", "--queue-only")
    assert code != 0
    assert '@team@m.example replied on masto just now: "Fixed in 1.2 (see the status page)"' in out.replace("[31m", "")
    assert "\x1b" not in out and "--force" in out
    assert Store(tmp_path / "data").get_draft("masto:1001") == "On it!"
    code, out = cli(tmp_path, capsys, "reply", "1001", "--text", "On it!", "--queue-only", "--force")
    assert code == 0, out


async def test_teammates_seen_expire_while_the_store_cannot_be_read(tmp_path: Path) -> None:
    """Tmux trial: the team demo's owner was killed, its database went with it, and the other
    pane kept "with ana" and "⊙ ana" for good. What was seen still expires by its own time."""
    from cminbox.core.errors import StoreUnavailable
    from cminbox.core.presence import TTL, Activity, Presence

    clock = FrozenClock(T0)
    app = make_app(make_services(tmp_path, clock, config_text=team("bob")))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = screen_of(app)
        seen = Presence("ana", "host:1:x", ITEM, Activity.VIEWING, clock() + TTL)
        screen.show_presence([seen])
        header = screen.query_one(InboxHeader)
        assert "with ana" in str(header.render())

        def down(*_args: object, **_kw: object) -> None:
            raise StoreUnavailable("cannot reach the database")

        screen.s.store.presence = down  # type: ignore[method-assign,assignment]
        screen.s.store.set_presence = down  # type: ignore[method-assign]
        screen.beat()
        await pilot.pause(0.2)
        assert "with ana" in str(header.render())  # not expired yet: still shown
        clock.advance(seconds=TTL.total_seconds() + 1)
        screen.beat()
        await until(pilot, lambda: "with ana" not in str(header.render()), "ana's record expires")
        assert "⊙ ana" not in str(screen.inbox_list.render_line(0))
        screen.s.store.__dict__.pop("presence")
        screen.s.store.__dict__.pop("set_presence")
