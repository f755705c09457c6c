"""The census of a lazily opened store (core/census.py): the counts of every live item the
caller has not read into rows, before the older parts are loaded, whatever loads meanwhile;
read again only for parts changed since, kept across runs in state/census.json (derived
data: a bad file is ignored, never an error)."""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cminbox.core.census import Counts
from cminbox.core.models import Status
from cminbox.core.store import Store
from cminbox.core.triage import SetFirstResponse, SetStatus
from tests.conftest import T0
from tests.factories import make_message

CUTOFF = T0 - timedelta(days=30)


def _spread(data: Path, days: list[int]) -> None:
    """One message per entry of ``days``, that many days old (so in that month's part)."""
    Store(data).upsert_messages([make_message(n, at=T0 - timedelta(days=d, minutes=n)) for n, d in enumerate(days)])


def _truth(data: Path, exclude: set[str]) -> tuple[Counter[Status], int, list[str]]:
    """What counting every message of a fully loaded store gives, ``exclude`` left out."""
    full = Store(data)
    status: Counter[Status] = Counter()
    overdue, young = 0, []
    for m in full.all_messages():
        if m.id in exclude:
            continue
        st_ = full.triage(m.id)
        status[st_.status] += 1
        if st_.status in (Status.NEW, Status.OPEN) and st_.first_response_at is None:
            if m.created_at < CUTOFF:
                overdue += 1
            else:
                young.append(m.id)
    return status, overdue, sorted(young)


def _seen(c: Counts) -> tuple[Counter[Status], int, list[str]]:
    return +c.status, c.overdue, sorted(mid for mid, _, _ in c.young)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 400), min_size=1, max_size=60), st.integers(0, 3), st.integers(0, 3))
def test_the_census_counts_every_item_not_read_however_much_is_loaded(days: list[int], before: int, after: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        _spread(data, days)
        store = Store(data)
        store.act([f"masto:{n}" for n in range(0, len(days), 3)], SetStatus(Status.DONE), actor="a")
        store.act([f"masto:{n}" for n in range(1, len(days), 5)], SetFirstResponse(T0), actor="a")
        lazy = Store(data, lazy=True)
        for _ in range(before):
            lazy.load_next_segment()
        rows = {m.id for m, _ in lazy.query(loaded_only=True)}  # what a caller read into rows
        for _ in range(after):  # parts loaded between the caller's read and the census
            lazy.load_next_segment()
        assert _seen(lazy.census(CUTOFF, rows)) == _truth(data, rows)
        again = Store(data, lazy=True)  # from state/census.json this time
        assert _seen(again.census(CUTOFF, set())) == _truth(data, set())


def test_a_part_changed_since_is_read_again_and_a_bad_cache_is_ignored(tmp_path: Path) -> None:
    _spread(tmp_path, [0, 40, 80, 120])
    first = Store(tmp_path, lazy=True)
    first.load_next_segment()
    assert sum(first.census(CUTOFF, set()).status.values()) == 4
    cache = tmp_path / "state" / "census.json"
    assert cache.exists()
    Store(tmp_path).upsert_messages([make_message(99, at=T0 - timedelta(days=81))])  # into an older part
    assert sum(Store(tmp_path, lazy=True).census(CUTOFF, set()).status.values()) == 5
    cache.write_text('{"2026-08": {"sig": [1, 2, 3], "ids": ["ghost"], "at": []}}')  # damaged
    assert sum(Store(tmp_path, lazy=True).census(CUTOFF, set()).status.values()) == 5
    cache.write_text("not json")
    assert sum(Store(tmp_path, lazy=True).census(datetime.now(T0.tzinfo), set()).status.values()) == 5
