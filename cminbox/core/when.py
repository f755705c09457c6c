"""Human times: snooze times ("1h", "30m", "2d", "tomorrow 9:00", "next week", "friday 14:00", ISO dates)
and the compact ages ("4m", "2h", "1y") that the TUI and the CLI show."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta, tzinfo

from cminbox.core.errors import CminboxError

_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|mins|minutes?|h|hr|hrs|hours?|d|days?|w|weeks?)\s*$", re.I)
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MORNING = time(9, 0)


class WhenError(CminboxError, ValueError):
    pass


MAX_DURATION = timedelta(days=36_525)  # a hundred years: longer is a typo, and overflows dates


def _duration(amount: str, unit: str) -> timedelta:
    """The duration, or a WhenError naming the longest one taken (``3000000d`` overflowed a
    date into "internal error", and ended the TUI from the snooze box)."""
    seconds = int(amount) * _UNIT_SECONDS[unit]
    if seconds > MAX_DURATION.total_seconds():
        raise WhenError(f"{amount}{unit} is too long: at most {MAX_DURATION.days:,} days")
    return timedelta(seconds=seconds)


def parse_duration(text: str) -> timedelta | None:
    """``30m``, ``2h``, ``3d``, ``1w`` as a timedelta; None when ``text`` is not a duration, a
    WhenError when it is one longer than :data:`MAX_DURATION`."""
    m = _DURATION.match(text)
    if not m:
        return None
    return _duration(m.group(1), m.group(2)[0].lower())


def parse_when(text: str, now: datetime, local: tzinfo | None = None) -> datetime:
    """Parse a snooze time relative to ``now``; the result is timezone-aware (UTC kept as given zone)."""
    # Here, not at the top: dateutil's parser and tz take ~6 ms to import, and the inbox's first
    # frame imports this module (for age()) but parses no time (issue #14's import budget).
    from dateutil import parser as dateparser
    from dateutil import tz

    local = local or tz.tzlocal()
    here = now.astimezone(local)
    s = text.strip().lower()
    if not s:
        raise WhenError("empty time")
    if m := _DURATION.match(s):
        span = _duration(m.group(1), m.group(2)[0])
        if not span:  # "0m" snoozed until now, which undoes itself at once (new-user trial)
            raise WhenError(f"{text.strip()!r} is now: a snooze needs a time ahead, e.g. 30m")
        return now + span
    words = s.split(maxsplit=1)
    rest = words[1] if len(words) > 1 else ""
    day: datetime | None = None
    if words[0] == "tomorrow":
        day = here + timedelta(days=1)
    elif words[0] == "today":
        day = here
    elif s.startswith("next week"):
        day = here + timedelta(days=7 - here.weekday())
        rest = s[len("next week") :].strip()
    elif words[0] in _WEEKDAYS:
        ahead = (_WEEKDAYS.index(words[0]) - here.weekday()) % 7 or 7
        day = here + timedelta(days=ahead)
    if day is not None:
        at = MORNING
        if rest:
            try:
                at = dateparser.parse(rest).time()
            except (ValueError, OverflowError):
                raise WhenError(f"cannot read the time {rest!r}") from None
        return datetime.combine(day.date(), at, tzinfo=local)
    try:
        parsed = dateparser.parse(text, default=here.replace(hour=MORNING.hour, minute=0, second=0, microsecond=0))
    except (ValueError, OverflowError):
        raise WhenError(
            f"cannot read {text!r} as a time; try 1h, tomorrow 9:00, next week or {example_time(now)}"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=local)
    if parsed <= now:
        raise WhenError(f"{text!r} is in the past")
    return parsed


def example_time(now: datetime) -> str:
    """A date and time to show as an example of what may be typed: a week ahead, so it is never
    in the past (a fixed "2026-12-01 10:00" was, and typing it was refused: new-user trial)."""
    return f"{now + timedelta(days=7):%Y-%m-%d} 10:00"


def age(then: datetime, now: datetime) -> str:
    """Compact age, at most four characters, the same in the TUI and the CLI:
    45s, 4m, 2h, 3d (under two weeks), 5w, 11mo, 2y; "now" for a time ahead of the clock."""
    if then > now:
        return "now"
    seconds = (now - then).total_seconds()
    for limit, unit, size in ((60, "s", 1), (3600, "m", 60), (86400, "h", 3600), (86400 * 14, "d", 86400)):
        if seconds < limit:
            return f"{int(seconds // size)}{unit}"
    months = whole_months(then, now)  # calendar months and years: 52 weeks is "11mo", 365 days "1y"
    if months >= 12:
        return f"{months // 12}y"
    if not months:
        return f"{int(seconds // (86400 * 7))}w"
    return f"{months}mo"


def ago(then: datetime, now: datetime) -> str:
    """An age as words after a date: "4m ago"; a time up to a minute ahead of the clock (the
    server's clock a little fast) is "just now", one further ahead is said to be so rather
    than "now ago" (fault trial of 2026-12-01)."""
    if then <= now:
        return f"{age(then, now)} ago"
    return "just now" if (then - now).total_seconds() <= 60 else "dated ahead of this machine's clock"


def whole_months(then: datetime, now: datetime) -> int:
    """Whole calendar months from ``then`` to ``now`` (``then <= now``), as dateutil's
    ``relativedelta(now, then)`` counts them (a month on from Jan 31 is Feb 28 or 29), without
    importing dateutil.relativedelta and calendar before the first frame (~1 ms, issue #14);
    an age is also worked out for every visible row each second: ~2 µs here against ~5.5.
    tests/test_ages.py checks it against relativedelta."""
    months = (now.year - then.year) * 12 + now.month - then.month
    while months > 0 and now < _months_on(then, months):
        months -= 1
    return months


def _months_on(then: datetime, months: int) -> datetime:
    year, month = divmod(then.month - 1 + months, 12)
    year += then.year
    days = _MONTH_DAYS[month] + (month == 1 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0))
    return then.replace(year=year, month=month + 1, day=min(then.day, days))


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def clock_time(when: datetime, now: datetime) -> str:
    """ "05:48:45 UTC", or "2026-12-11 05:48:45 UTC" when that is not today (UTC): a time
    without its date reads as today, which misleads for a pause of days."""
    when, now = when.astimezone(UTC), now.astimezone(UTC)
    if when.date() == now.date():
        return f"{when:%H:%M:%S} UTC"
    return f"{when:%Y-%m-%d %H:%M:%S} UTC"
