"""One age() for the TUI and the CLI (issue #11: the TUI showed "52w" where the CLI showed "1y")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from cminbox.commands.render import row
from cminbox.core.clock import FrozenClock
from cminbox.core.models import TriageState
from cminbox.core.when import age, clock_time, whole_months
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


_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-11, minutes=-30))])
_TIMES = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=_ZONES)


@given(_TIMES, _TIMES)
def test_whole_months_count_as_dateutil_does(a: datetime, b: datetime) -> None:
    """age() counted months with relativedelta (~25 µs a row at every repaint, issue #14); its
    own count must agree with it everywhere: month ends (Jan 31 + 1 month), leap years, zones."""
    then, now = min(a, b), max(a, b)
    delta = relativedelta(now, then)
    assert whole_months(then, now) == delta.years * 12 + delta.months


@pytest.mark.parametrize(
    ("then", "now", "months"),
    [
        (datetime(2024, 1, 31, tzinfo=UTC), datetime(2024, 2, 29, tzinfo=UTC), 1),  # leap February's end
        (datetime(2023, 1, 31, tzinfo=UTC), datetime(2023, 2, 28, tzinfo=UTC), 1),
        (datetime(2023, 1, 31, 12, tzinfo=UTC), datetime(2023, 2, 28, 11, tzinfo=UTC), 0),
        (datetime(2100, 1, 31, tzinfo=UTC), datetime(2100, 2, 28, tzinfo=UTC), 1),  # 2100 is not leap
        (datetime(2000, 1, 29, tzinfo=UTC), datetime(2000, 2, 29, tzinfo=UTC), 1),  # 2000 is
        (datetime(2025, 11, 30, tzinfo=UTC), datetime(2026, 11, 29, 23, tzinfo=UTC), 11),
    ],
)
def test_whole_months_at_month_ends(then: datetime, now: datetime, months: int) -> None:
    assert whole_months(then, now) == months


def test_a_time_on_another_day_carries_its_date() -> None:
    now = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert clock_time(now + timedelta(hours=2), now) == "19:00:00 UTC"
    assert clock_time(now + timedelta(days=11, hours=12), now) == "2026-12-12 05:00:00 UTC"


@pytest.mark.parametrize(
    ("ahead", "shown"),
    [
        (timedelta(seconds=-90), "1m ago"),
        (timedelta(0), "0s ago"),
        (timedelta(seconds=20), "just now"),
        (timedelta(hours=3), "dated ahead of this machine's clock"),
    ],
)
def test_a_time_ahead_of_the_clock_is_not_said_to_be_ago(ahead: timedelta, shown: str) -> None:
    """Regression (fault trial of 2026-12-01): a message a server dated in the future read
    "(now ago)" in the preview and in `cminbox show`."""
    from cminbox.core.when import ago

    assert ago(T0 + ahead, T0) == shown


def test_a_snooze_is_described_as_the_inbox_says_it() -> None:
    """Regression (new-user trial of 2026-12-01): undoing a snooze said "Undone: snooze until
    2026-12-02T09:00+00:00" where snoozing had said "Snoozed until Wed 02 Dec 09:00"."""
    from cminbox.core.triage import Snooze, describe

    until = datetime(2026, 12, 2, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert describe(Snooze(until=until)) == "snooze until Wed 02 Dec 2026 09:00 UTC"
    assert describe(Snooze(until=None)) == "unsnooze"
