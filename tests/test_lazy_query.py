"""The newest N of a lazily opened store (`cminbox list --limit N`): only the parts that can
hold them are read, and the answer is what reading everything gives, whatever the query, the
spread over parts, the ties in time, or an item filed in an older month's part."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from cminbox.core.models import Status
from cminbox.core.query import parse
from cminbox.core.store import Store
from cminbox.core.triage import SetStatus
from tests.conftest import T0
from tests.factories import make_message

QUERIES = ["", "status:new", "status:done", "-status:done", "age:>40d", "tag:bug", "from:nobody"]


def _ids(rows: list[tuple[object, object]]) -> list[str]:
    return [m.id for m, _ in rows]  # type: ignore[attr-defined]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 300), st.integers(0, 3)), min_size=1, max_size=50),
    st.integers(1, 12),
    st.sampled_from(QUERIES),
    st.integers(0, 2),
)
def test_the_newest_n_of_a_lazy_store_are_the_newest_n_of_all(
    items: list[tuple[int, int]], limit: int, text: str, moved: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        store = Store(data)
        # Several items may share a time exactly (ties are ordered by id).
        store.upsert_messages([make_message(n, at=T0 - timedelta(days=d, hours=h)) for n, (d, h) in enumerate(items)])
        store.act([f"masto:{n}" for n in range(0, len(items), 3)], SetStatus(Status.DONE), actor="a")
        for n in range(min(moved, len(items))):
            # The same item polled again with a newer date: it stays in its older part.
            old = store.get_message(f"masto:{n}")
            assert old is not None
            store.upsert_messages([msgspec.structs.replace(old, created_at=T0 + timedelta(minutes=n), text="edited")])
        store.close()
        query = parse(text) if text else None
        everything = Store(data).query(where=query)
        lazy = Store(data, lazy=True)
        assert _ids(lazy.query(where=query, limit=limit)) == _ids(everything)[:limit]
        again = Store(data, lazy=True)  # the census from state/census.json this time
        assert _ids(again.query(where=query, limit=limit)) == _ids(everything)[:limit]


def test_the_newest_few_read_one_part_not_all(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.upsert_messages([make_message(n, at=T0 - timedelta(days=31 * n)) for n in range(1, 12)])
    store.upsert_messages([make_message(100 + n, at=T0 - timedelta(minutes=n)) for n in range(30)])
    store.close()
    lazy = Store(tmp_path, lazy=True)
    rows = lazy.query(limit=20)
    assert _ids(rows) == [f"masto:{100 + n}" for n in range(20)]
    assert len(lazy._unloaded) >= 10  # the older months were never read


def test_an_item_filed_in_an_older_part_does_not_hide_the_newer_parts(tmp_path: Path) -> None:
    """An item polled again with a newer date stays in its older month's part, which is then
    read first (its newest date is the newest of all): the parts between are read too."""
    store = Store(tmp_path)
    store.upsert_messages([make_message(n, at=T0 - timedelta(days=120, hours=n)) for n in range(10)])
    store.upsert_messages([make_message(100 + n, at=T0 - timedelta(hours=1 + n)) for n in range(10)])
    old = store.get_message("masto:0")
    assert old is not None
    store.upsert_messages([msgspec.structs.replace(old, created_at=T0 + timedelta(minutes=5), text="edited")])
    store.close()
    rows = Store(tmp_path, lazy=True).query(limit=5)
    assert _ids(rows) == ["masto:0", "masto:100", "masto:101", "masto:102", "masto:103"]


def test_list_with_a_limit_says_what_it_could_not_read(tmp_path: Path, capsys: Any) -> None:
    """`cminbox list --limit N` reads the store lazily; a damaged older part is still reported
    (once), and the newest items are listed."""
    from cminbox.cli import main

    data = tmp_path / "data"
    store = Store(data)
    store.upsert_messages([make_message(n, at=T0 - timedelta(days=100, minutes=n)) for n in range(5)])
    store.upsert_messages([make_message(100 + n, at=T0 - timedelta(minutes=n)) for n in range(5)])
    store.close()
    older = sorted((data / "messages").glob("*.json"))[0]
    older.write_bytes(older.read_bytes()[:40])
    config = tmp_path / "config.toml"
    config.write_text("")
    assert main(["--config", str(config), "--data-dir", str(data), "list", "--limit", "3", "--json"]) == 0
    out, err = capsys.readouterr()
    assert [m["id"] for m in msgspec.json.decode(out)] == ["masto:100", "masto:101", "masto:102"]
    assert err.count("warning") == 1 and older.name in err
