from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from cminbox.core import triage
from cminbox.core.clock import FrozenClock
from cminbox.core.models import Status
from cminbox.core.segment import CorruptFileError
from cminbox.core.store import Store, StoreError
from tests.factories import make_message


def test_upsert_is_idempotent_and_survives_reopen(store: Store) -> None:
    msgs = [make_message(i) for i in range(50)]
    assert len(store.upsert_messages(msgs)) == 50
    assert store.upsert_messages(msgs) == []
    reopened = Store(store.dir, clock=store.clock)
    assert sorted(reopened.message_ids()) == sorted(m.id for m in msgs)
    assert reopened.get_message("masto:7") == msgs[7]


def test_changed_content_is_updated_not_duplicated(store: Store) -> None:
    store.upsert_messages([make_message(1)])
    store.upsert_messages([make_message(1, text="edited")])
    assert store.get_message("masto:1").text == "edited"
    assert store.message_ids() == ["masto:1"]


def test_a_triage_action_does_not_rewrite_the_message_cache(store: Store) -> None:
    store.upsert_messages([make_message(i) for i in range(20)])
    segment = next((store.dir / "messages").glob("*.json"))
    before = segment.stat().st_mtime_ns, segment.stat().st_ino
    store.act(["masto:3"], triage.AddTags(("bug",)), actor="ana")
    assert (segment.stat().st_mtime_ns, segment.stat().st_ino) == before


def test_history_records_who_what_before_after(store: Store, clock: FrozenClock) -> None:
    store.upsert_messages([make_message(1)])
    store.act(["masto:1"], triage.SetStatus(Status.DONE), actor="ana")
    [entry] = store.triage("masto:1").history
    assert (entry.actor, entry.at, entry.before, entry.after) == (
        "ana",
        clock.now,
        {"status": "new"},
        {"status": "done"},
    )


def test_undo_is_per_actor_and_repeatable(store: Store) -> None:
    store.upsert_messages([make_message(1)])
    store.act(["masto:1"], triage.AddTags(("a",)), actor="ana")
    store.act(["masto:1"], triage.AddTags(("b",)), actor="bo")
    store.act(["masto:1"], triage.SetStatus(Status.DONE), actor="ana")
    assert store.undo("ana").label == "status → done"
    assert store.undo("ana").label == "tag a"
    assert store.undo("ana") is None
    state = store.triage("masto:1")
    assert (state.tags, state.status) == (("b",), Status.NEW)
    assert [h.action for h in state.history][-2:] == ["undo: status → done", "undo: tag a"]


def test_bulk_action_is_one_undo_group(store: Store) -> None:
    store.upsert_messages([make_message(i) for i in range(30)])
    ids = [f"masto:{i}" for i in range(30)]
    store.act(ids, triage.SetStatus(Status.DONE), actor="ana")
    assert all(store.triage(i).status == Status.DONE for i in ids)
    assert len(store.undo("ana").changed) == 30
    assert all(store.triage(i).status == Status.NEW for i in ids)


def test_two_instances_see_each_others_writes(tmp_path: Path, clock: FrozenClock) -> None:
    a = Store(tmp_path, clock=clock)
    b = Store(tmp_path, clock=clock)
    a.upsert_messages([make_message(1), make_message(2)])
    b.act(["masto:1"], triage.AddTags(("x",)), actor="bo")  # b reloads under the lock first
    a.act(["masto:2"], triage.AddTags(("y",)), actor="ana")
    changed = b.refresh()
    assert "masto:2" in changed
    assert b.triage("masto:2").tags == ("y",) and a.triage("masto:1").tags == ("x",)
    # Inserting after another process inserted must not reuse a TinyDB document id.
    b.upsert_messages([make_message(3)])
    a.upsert_messages([make_message(4)])
    assert sorted(Store(tmp_path).message_ids()) == ["masto:1", "masto:2", "masto:3", "masto:4"]


def test_corrupt_file_is_named_and_left_untouched(tmp_path: Path) -> None:
    s = Store(tmp_path)
    s.upsert_messages([make_message(1)])
    s.act(["masto:1"], triage.AddTags(("x",)), actor="a")
    shard = next((tmp_path / "triage").glob("shard-*.json"))
    shard.write_text('{"triage": {"1": {"id": "masto:1", "tags": ["x"]')  # truncated
    with pytest.raises(CorruptFileError) as info:
        Store(tmp_path)
    assert str(shard) in str(info.value) and "doctor --repair" in str(info.value)
    assert shard.read_text().endswith('["x"]')  # nothing overwritten


def test_stale_temp_files_are_removed_at_start(tmp_path: Path) -> None:
    Store(tmp_path)
    leftover = tmp_path / "triage" / ".shard-01.json.123.abcd.tmp"
    leftover.write_text("half a file")
    Store(tmp_path)
    assert not leftover.exists()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    Store(tmp_path)
    (tmp_path / "meta.json").write_text(json.dumps({"schema": 99}))
    with pytest.raises(StoreError, match="newer cminbox"):
        Store(tmp_path)


def test_files_are_plain_json(store: Store) -> None:
    store.upsert_messages([make_message(1)])
    store.act(["masto:1"], triage.AddTags(("x",)), actor="a")
    for path in store.dir.rglob("*.json"):
        json.loads(path.read_text())


class TwoInstances(RuleBasedStateMachine):
    """Two Store instances on one directory, interleaving actions; both must match a model."""

    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self.dir = Path(tempfile.mkdtemp())
        clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
        self.stores = [Store(self.dir, clock=clock, durable=False), Store(self.dir, clock=clock, durable=False)]
        self.stores[0].upsert_messages([make_message(i) for i in range(6)])
        self.model: dict[str, tuple[set[str], Status]] = {f"masto:{i}": (set(), Status.NEW) for i in range(6)}

    ids = st.sampled_from([f"masto:{i}" for i in range(6)])
    who = st.integers(0, 1)

    @rule(who=who, mid=ids, tag=st.sampled_from(["a", "b", "c"]))
    def add_tag(self, who: int, mid: str, tag: str) -> None:
        self.stores[who].act([mid], triage.AddTags((tag,)), actor=f"p{who}")
        self.model[mid][0].add(tag)

    @rule(who=who, mid=ids, tag=st.sampled_from(["a", "b", "c"]))
    def remove_tag(self, who: int, mid: str, tag: str) -> None:
        self.stores[who].act([mid], triage.RemoveTags((tag,)), actor=f"p{who}")
        self.model[mid][0].discard(tag)

    @rule(who=who, mid=ids, status=st.sampled_from(list(Status)))
    def set_status(self, who: int, mid: str, status: Status) -> None:
        self.stores[who].act([mid], triage.SetStatus(status), actor=f"p{who}")
        self.model[mid] = (self.model[mid][0], status)

    @rule(who=who, n=st.integers(100, 110))
    def ingest(self, who: int, n: int) -> None:
        self.stores[who].upsert_messages([make_message(n)])

    @invariant()
    def both_match_the_model(self) -> None:
        for s in self.stores:
            s.refresh()
            for mid, (tags, status) in self.model.items():
                state = s.triage(mid)
                assert (set(state.tags), state.status) == (tags, status)
        assert sorted(self.stores[0].message_ids()) == sorted(self.stores[1].message_ids())


TestTwoInstances = TwoInstances.TestCase
TestTwoInstances.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)


def test_by_author_spans_channels(store: Store) -> None:
    a = make_message(1, channel="masto")
    b = msgspec_replace(make_message(2, channel="bsky"), handle="@user1.bsky.social")
    store.upsert_messages([a, b, make_message(3, channel="masto")])
    assert [m.id for m in store.by_author(a)] == ["bsky:2"]


def msgspec_replace(message: object, handle: str) -> object:
    import msgspec

    author = msgspec.structs.replace(message.author, handle=handle)  # type: ignore[attr-defined]
    return msgspec.structs.replace(message, author=author)  # type: ignore[type-var]
