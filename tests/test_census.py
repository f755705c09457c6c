"""The census of a lazily opened store (core/census.py): every live item's id, date and state
before the older parts are loaded, read again only for parts changed since, kept across runs
in state/census.json (derived data: a bad file is ignored, never an error)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cminbox.core.clock import FrozenClock
from cminbox.core.models import Status
from cminbox.core.store import Store
from cminbox.core.triage import SetStatus
from tests.conftest import T0
from tests.factories import make_message


def _spread(data: Path, days: list[int]) -> None:
    """One message per entry of ``days``, that many days old (so in that month's part)."""
    Store(data).upsert_messages([make_message(n, at=T0 - timedelta(days=d, minutes=n)) for n, d in enumerate(days)])


def _truth(data: Path) -> list[tuple[str, object, Status]]:
    full = Store(data)
    return sorted((m.id, m.created_at, full.triage(m.id).status) for m in full.all_messages())


def _census(store: Store) -> list[tuple[str, object, Status]]:
    return sorted((mid, at, state.status) for mid, at, state in store.census())


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 400), min_size=1, max_size=60), st.integers(0, 3))
def test_the_census_is_every_item_however_much_is_loaded(days: list[int], loads: int) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        _spread(data, days)
        Store(data).act([f"masto:{n}" for n in range(0, len(days), 3)], SetStatus(Status.DONE), actor="a")
        lazy = Store(data, lazy=True)
        for _ in range(loads):
            lazy.load_next_segment()
        assert _census(lazy) == _truth(data)
        again = Store(data, lazy=True)  # from state/census.json this time
        assert _census(again) == _truth(data)


def test_a_part_changed_since_is_read_again_and_a_bad_cache_is_ignored(tmp_path: Path, clock: FrozenClock) -> None:
    _spread(tmp_path, [0, 40, 80, 120])
    first = Store(tmp_path, lazy=True)
    first.load_next_segment()
    assert len(first.census()) == 4
    cache = tmp_path / "state" / "census.json"
    assert cache.exists()
    Store(tmp_path).upsert_messages([make_message(99, at=T0 - timedelta(days=81))])  # into an older part
    assert sorted(m for m, _, _ in Store(tmp_path, lazy=True).census()) == sorted(
        ["masto:0", "masto:1", "masto:2", "masto:3", "masto:99"]
    )
    cache.write_text('{"2026-08": {"sig": [1, 2, 3], "ids": ["ghost"], "at": []}}')  # damaged
    assert len(Store(tmp_path, lazy=True).census()) == 5
    cache.write_text("not json")
    assert len(Store(tmp_path, lazy=True).census()) == 5
