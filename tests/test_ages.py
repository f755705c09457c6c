"""One age() for the TUI and the CLI (issue #11: the TUI showed "52w" where the CLI showed "1y")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cminbox.commands.render import row
from cminbox.core.clock import FrozenClock
from cminbox.core.models import TriageState
from cminbox.core.when import age, clock_time
from tests.conftest import T0
from tests.factories import make_message
from tests.tui_fixtures import make_app, make_services


@pytest.mark.parametrize(
    ("ago", "shown"),
    [
        (timedelta(seconds=-30), "now"),
        (timedelta(seconds=45), "45s"),
        (timedelta(minutes=4), "4m"),
        (timedelta(hours=23), "23h"),
        (timedelta(days=13), "13d"),
        (timedelta(days=20), "2w"),
        (timedelta(days=75), "2mo"),
        (timedelta(days=364), "11mo"),
        (timedelta(days=365), "1y"),
        (timedelta(days=800), "2y"),
    ],
)
def test_age_is_compact_and_calendar_aware(ago: timedelta, shown: str) -> None:
    assert age(T0 - ago, T0) == shown
    assert len(shown) <= 4  # the rows' age column


async def test_the_tui_and_the_cli_show_the_same_age(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    old = make_message(5000, at=clock.now - timedelta(days=365))
    services.store.upsert_messages([old])
    cli_line = row(old, TriageState(id=old.id), clock.now, width=120)
    assert " 1y " in cli_line
    app = make_app(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")  # the "all" view
        screen = app.screen
        lst = screen.inbox_list  # type: ignore[attr-defined]
        lst.cursor = lst.index[old.id]
        line = lst.render_line(lst.cursor - int(lst.scroll_offset.y)).text
        assert line.rstrip().endswith(" 1y"), line


def test_a_time_on_another_day_carries_its_date() -> None:
    now = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert clock_time(now + timedelta(hours=2), now) == "19:00:00 UTC"
    assert clock_time(now + timedelta(days=11, hours=12), now) == "2026-12-12 05:00:00 UTC"
