"""Messages and triage state: ingestion, lookups, two instances on one store."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cminbox.core import portable, triage
from cminbox.core.models import Message, Status
from cminbox.core.packed_extras import PackedExtras
from cminbox.core.query import parse
from cminbox.core.store_api import StoreApi, StoreError
from cminbox.core.wiring import open_store
from tests.backend.conftest import Backend
from tests.factories import make_message


def test_upsert_is_idempotent_and_survives_reopen(backend: Backend) -> None:
    store = backend.open()
    msgs = [make_message(i) for i in range(50)]
    assert len(store.upsert_messages(msgs)) == 50
    assert store.upsert_messages(msgs) == []
    reopened = backend.open()
    assert sorted(reopened.message_ids()) == sorted(m.id for m in msgs)
    assert reopened.get_message("masto:7") == msgs[7]


def test_changed_content_is_updated_not_duplicated(store: StoreApi) -> None:
    store.upsert_messages([make_message(1)])
    assert store.upsert_messages([make_message(1, text="edited")]) == []
    found = store.get_message("masto:1")
    assert found is not None and found.text == "edited"
    assert store.message_ids() == ["masto:1"]


def with_handle(message: Message, handle: str) -> Message:
    return msgspec.structs.replace(message, author=msgspec.structs.replace(message.author, handle=handle))


def test_by_author_spans_channels(store: StoreApi) -> None:
    a = make_message(1, channel="masto")
    b = with_handle(make_message(2, channel="bsky"), "@user1.bsky.social")
    store.upsert_messages([a, b, make_message(3, channel="masto")])
    assert [m.id for m in store.by_author(a)] == ["bsky:2"]


def test_thread_of_is_the_conversation_oldest_first(store: StoreApi) -> None:
    root = make_message(5)
    reply = msgspec.structs.replace(make_message(1), thread_id=root.id, parent_id=root.id)
    store.upsert_messages([root, reply, make_message(3)])
    assert [m.id for m in store.thread_of(reply)] == ["masto:5", "masto:1"]


def test_query_filters_by_exact_fields_newest_first(store: StoreApi) -> None:
    store.upsert_messages([make_message(i) for i in range(1, 7)] + [make_message(9, channel="gh")])
    store.act(["masto:2", "masto:4", "gh:9"], triage.SetStatus(Status.OPEN), actor="ana")
    store.act(["masto:4", "masto:6"], triage.AddTags(("bug",)), actor="ana")
    assert [m.id for m, _ in store.query(status=Status.OPEN)] == ["masto:2", "masto:4", "gh:9"]
    assert [m.id for m, _ in store.query(status=Status.OPEN, tag="bug")] == ["masto:4"]
    assert [m.id for m, _ in store.query(channel="gh")] == ["gh:9"]
    assert [m.id for m, _ in store.query(channel="masto", tag="bug")] == ["masto:4", "masto:6"]
    assert store.query(channel="gh", tag="bug") == [] and store.query(channel="nosuch") == []
    assert [m.id for m, _ in store.query(channel="gh", status=Status.OPEN)] == ["gh:9"]
    assert [m.id for m, _ in store.query(channel="masto", status=Status.NEW)] == [
        "masto:1",
        "masto:3",
        "masto:5",
        "masto:6",
    ]
    assert [m.id for m, _ in store.query(limit=2)] == ["masto:1", "masto:2"]
    assert all(st.status == Status.OPEN for _, st in store.query(status=Status.OPEN))


def test_a_query_cut_short_by_its_limit_leaves_the_store_usable(store: StoreApi) -> None:
    """Free text is checked in Python on PostgreSQL (the residue), so the limit stops reading
    the rows' stream mid-way (5000 rows come in chunks of 2000): the rest of the query is
    cancelled and the next ones read normally."""
    store.upsert_messages([make_message(n, text=f"note {n} {'hit' if n % 2 else 'miss'}") for n in range(5000)])
    first = store.query(where=parse("hit"), limit=3)
    assert [m.id for m, _ in first] == ["masto:1", "masto:3", "masto:5"]
    assert len(store.query()) == 5000
    assert [m.id for m, _ in store.query(where=parse("miss"), limit=2)] == ["masto:0", "masto:2"]


def test_resolve_id_takes_a_unique_suffix_and_names_the_ambiguous(store: StoreApi) -> None:
    store.upsert_messages([make_message(1), make_message(12), make_message(1, channel="gh")])
    assert store.resolve_id("masto:12") == "masto:12"
    assert store.resolve_id("12") == "masto:12"
    with pytest.raises(StoreError, match="matches 2 messages"):
        store.resolve_id("1")
    with pytest.raises(StoreError, match="no message"):
        store.resolve_id("404")


def test_an_item_without_triage_has_a_fresh_state(store: StoreApi) -> None:
    store.upsert_messages([make_message(1)])
    state = store.triage("masto:1")
    assert (state.id, state.status, state.rev, state.history) == ("masto:1", Status.NEW, 0, ())


def test_every_item_is_the_full_query_with_none_for_an_item_never_triaged(store: StoreApi) -> None:
    """The TUI's rows read: query()'s items in its order, an item with no triage record with
    None instead of a default state made for it (issue #14: 11 MB at 100k); an item with a
    record has its state, even one changed back to the defaults."""
    store.upsert_messages([make_message(n) for n in range(1, 8)] + [make_message(9, channel="gh")])
    store.act(["masto:2", "gh:9"], triage.SetStatus(Status.OPEN), actor="ana")
    store.act(["masto:5"], triage.AddTags(("bug",)), actor="ana")
    store.act(["masto:5"], triage.RemoveTags(("bug",)), actor="ana")  # back to the defaults
    every, listed = store.query(), store.every_item()
    assert [m.id for m, _ in listed] == [m.id for m, _ in every]
    assert [m for m, _ in listed] == [m for m, _ in every]
    assert {m.id for m, st in listed if st is not None} == {"masto:2", "masto:5", "gh:9"}
    assert [st or store.triage(m.id) for m, st in listed] == [st for _, st in every]


def test_two_instances_see_each_others_writes(backend: Backend) -> None:
    a, b = backend.open(), backend.open()
    a.upsert_messages([make_message(1), make_message(2)])
    b.act(["masto:1"], triage.AddTags(("x",)), actor="bo")
    a.act(["masto:2"], triage.AddTags(("y",)), actor="ana")
    assert "masto:2" in b.refresh()
    assert b.triage("masto:2").tags == ("y",) and a.triage("masto:1").tags == ("x",)
    b.upsert_messages([make_message(3)])
    a.upsert_messages([make_message(4)])
    assert sorted(backend.open().message_ids()) == ["masto:1", "masto:2", "masto:3", "masto:4"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(st.integers(0, 30), max_size=8), max_size=5))
def test_upsert_is_idempotent_in_any_order(backend: Backend, batches: list[list[int]]) -> None:
    """Storing the same messages again, in any batches, adds nothing and changes nothing."""
    store = backend.fresh().open()
    seen: set[int] = set()
    for batch in batches:
        new = store.upsert_messages([make_message(n) for n in batch])
        assert new == [f"masto:{n}" for n in dict.fromkeys(batch) if n not in seen]
        seen |= set(batch)
    assert store.upsert_messages([make_message(n) for n in seen]) == []
    assert sorted(store.message_ids()) == sorted(f"masto:{n}" for n in seen)


def test_a_lazy_open_counts_the_items_its_first_screen_has_not_read(backend: Backend) -> None:
    """The TUI's lazy open (TinyDB: the newest parts first; PostgreSQL: the newest items by a
    LIMIT query): its census of everything not in the first rows, added to those rows'
    counts, gives the counts of every item, overdue and young (not yet overdue) included."""
    full = backend.open()
    clock = backend.clock
    months = [clock.now - timedelta(days=40 * k, minutes=n) for k in range(4) for n in range(250)]
    full.upsert_messages([make_message(n, at=at) for n, at in enumerate(months)])
    full.act([f"masto:{n}" for n in range(0, 1000, 7)], triage.SetStatus(Status.DONE), actor="ana")
    full.act([f"masto:{n}" for n in range(3, 1000, 11)], triage.SetStatus(Status.OPEN), actor="ana")
    cutoff = clock.now - timedelta(hours=4)
    every = full.query()
    lazy = open_store(msgspec.structs.replace(backend.make_settings(backend.key), lazy=True), clock)
    backend.handles.append(lazy)
    loader = lazy.progressive
    assert loader is not None
    while loader.load_next_segment() is not None and loader.loaded_items < 200:
        pass
    first = lazy.query(loaded_only=True)
    assert 200 <= len(first) < len(every) and not loader.fully_loaded
    census = loader.census(cutoff, {m.id for m, _ in first})
    statuses = Counter(st.status for _, st in first) + census.status
    assert statuses == Counter(st.status for _, st in every)
    waiting = [(m, st) for m, st in every if st.status in (Status.NEW, Status.OPEN) and st.first_response_at is None]
    shown = {m.id for m, _ in first}
    assert census.overdue == sum(1 for m, _ in waiting if m.created_at < cutoff and m.id not in shown)
    assert sorted(mid for mid, _, _ in census.young) == sorted(
        m.id for m, _ in waiting if m.created_at >= cutoff and m.id not in shown
    )
    assert [m.id for m, _ in lazy.every_item(loaded_only=True)] == [m.id for m, _ in first]
    while loader.load_next_segment() is not None:
        pass
    assert loader.fully_loaded and [m.id for m, _ in lazy.query(loaded_only=True)] == [m.id for m, _ in every]
    assert [m.id for m, _ in lazy.every_item(loaded_only=True)] == [m.id for m, _ in every]


def test_a_message_without_a_timezone_is_refused_on_its_way_in(store: StoreApi) -> None:
    """A naive time would fail every comparison with the stored ones: refused at the store's one
    way in (the check once ran as each message was made, and as each of 100k was decoded)."""
    naive = msgspec.structs.replace(make_message(1), created_at=make_message(1).created_at.replace(tzinfo=None))
    with pytest.raises(ValueError, match="timezone-aware"):
        store.upsert_messages([make_message(2), naive])
    assert store.message_ids() == []


def test_extras_read_from_a_full_read_are_packed_and_written_back_whole(backend: Backend) -> None:
    """A read of every item holds extras packed (core/packed_extras.py: half their memory) on
    either backend; what is written after (an edit, a triage step, an export) keeps them whole."""
    store = backend.open()
    msgs = [
        msgspec.structs.replace(make_message(i), extra={"subject": f"Re: {i} ✉", "uid": str(i), "references": ""})
        for i in range(6)
    ]
    store.upsert_messages(msgs)
    reopened = backend.open()
    rows = reopened.query()
    assert {m.id: m.extra for m, _ in rows} == {m.id: m.extra for m in msgs}
    assert all(type(m.extra) is PackedExtras for m, _ in rows)
    listed = {m.id: m for m, _ in rows}
    edited = msgspec.structs.replace(listed["masto:2"], text="edited")  # packed extras, written back
    assert reopened.upsert_messages([edited]) == []
    reopened.act(["masto:1", "masto:2"], triage.SetStatus(Status.DONE), actor="a")
    fresh = backend.open()
    assert {m.id: dict(m.extra) for m in fresh.all_messages()} == {m.id: dict(m.extra) for m in msgs}
    assert fresh.get_message("masto:2") == msgspec.structs.replace(msgs[2], text="edited")
    lines = [msgspec.json.decode(r) for r in _jsonl(portable.records(fresh))]
    assert {ln["message"]["id"]: ln["message"]["extra"] for ln in lines} == {m.id: dict(m.extra) for m in msgs}


def _jsonl(records: Iterable[portable.Record]) -> list[bytes]:
    out = io.BytesIO()
    portable.write_jsonl(records, out)
    return out.getvalue().splitlines()
