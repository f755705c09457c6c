"""The example of a typed time that the snooze box and its error show."""

from __future__ import annotations

from datetime import UTC, datetime

from cminbox.core.when import example_time, parse_when


def test_the_example_time_shown_can_be_typed_as_it_is() -> None:
    """Regression (new-user trial of 2026-12-02): the example was a fixed 2026-12-01 10:00,
    in the past by then, and typing it was refused."""
    now = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
    assert parse_when(example_time(now), now, UTC) > now
    assert example_time(now) == "2026-12-09 10:00"


def test_a_snooze_of_no_time_is_refused() -> None:
    import pytest

    from cminbox.core.when import WhenError

    now = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
    for text in ("0m", "0h", " 0d "):
        with pytest.raises(WhenError, match="a snooze needs a time ahead"):
            parse_when(text, now, UTC)
