"""The header's counters, kept one item at a time, always equal a full recount.

HeaderCounts counts overdue rows with a number, not a set of their ids (issue #14: 4 MB at
100k waiting items); a row is overdue exactly when it waits and is not among the young ones.
Random sequences of new rows, state changes and clock ticks check that against a recount.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cminbox.core.models import Status, TriageState
from cminbox.tui.inbox_list import Row
from cminbox.tui.panes import HeaderCounts
from tests.factories import make_message

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

# (kind, row number, minutes): "add" a row made `minutes` before T0, "change" a row's state
# (replied or not, a status), "tick" after moving the clock on by `minutes`.
op = st.one_of(
    st.tuples(st.just("add"), st.integers(0, 12), st.integers(0, 600)),
    st.tuples(st.just("change"), st.integers(0, 12), st.sampled_from(list(Status)), st.booleans()),
    st.tuples(st.just("tick"), st.integers(0, 300)),
)


@settings(max_examples=300, deadline=None)
@given(first=st.integers(0, 6), ops=st.lists(op, max_size=40))
def test_counts_kept_one_item_at_a_time_equal_a_recount(first: int, ops: list[tuple[Any, ...]]) -> None:
    now = T0
    rows: dict[int, Row] = {}
    for n in range(first):
        rows[n] = Row(make_message(n, at=T0 - timedelta(minutes=90 * n)), TriageState(id=f"masto:{n}"))
    counts = HeaderCounts()
    counts.recount(list(rows.values()), now)
    for step in ops:
        if step[0] == "add":
            _, n, minutes = step
            if n in rows:
                continue  # add is for a row not counted before
            rows[n] = Row(make_message(n, at=T0 - timedelta(minutes=minutes)), TriageState(id=f"masto:{n}"))
            counts.add(rows[n], now)
        elif step[0] == "change":
            _, n, status, replied = step
            row = rows.get(n)
            if row is None:
                continue
            old = row.state
            row.state = TriageState(
                id=old.id, status=status, first_response_at=now if replied else None, rev=old.rev + 1
            )
            counts.change(row, old, now)
        else:
            minutes = step[1]
            now += timedelta(minutes=minutes)
            counts.tick(now)
            fresh = HeaderCounts()
            fresh.recount(list(rows.values()), now)
            assert (+counts.status, counts.overdue) == (+fresh.status, fresh.overdue)
    counts.tick(now)
    fresh = HeaderCounts()
    fresh.recount(list(rows.values()), now)
    assert (+counts.status, counts.overdue) == (+fresh.status, fresh.overdue)
    assert counts.overdue >= 0


def test_census_overdue_items_count_on_top_of_the_rows() -> None:
    from cminbox.core.census import Counts

    old = Row(make_message(1, at=T0 - timedelta(hours=5)), TriageState(id="masto:1"))
    counts = HeaderCounts()
    census = Counts()
    census.add(
        "masto:9",
        (T0 - timedelta(hours=6)).timestamp(),
        TriageState(id="masto:9"),
        (T0 - timedelta(hours=4)).timestamp(),
    )
    counts.recount([old], T0, census)
    assert counts.overdue == 2  # the row and the census's unread one
    old.state, before = TriageState(id="masto:1", status=Status.DONE, rev=1), old.state
    counts.change(old, before, T0)
    assert counts.overdue == 1
