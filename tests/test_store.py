from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from cminbox.core import portable, triage
from cminbox.core.clock import FrozenClock
from cminbox.core.models import Status
from cminbox.core.repair import repair_file
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


def test_corrupt_file_is_named_the_rest_works_and_nothing_is_overwritten(tmp_path: Path) -> None:
    s = Store(tmp_path)
    s.upsert_messages([make_message(n) for n in range(1, 40)])
    s.act(["masto:1"], triage.AddTags(("x",)), actor="a")
    shard = tmp_path / "triage" / f"shard-{zlib.crc32(b'masto:1') % 16:02d}.json"
    shard.write_text('{"triage": {"1": {"id": "masto:1", "tags": ["x"]')  # truncated
    reopened = Store(tmp_path)
    assert list(reopened.file_problems) == [shard]
    assert str(shard) in reopened.file_problems[shard] and "doctor --repair" in reopened.file_problems[shard]
    assert len(reopened.message_ids()) == 39  # the messages and every other shard still work
    other = next(
        f"masto:{n}" for n in range(2, 40) if zlib.crc32(f"masto:{n}".encode()) % 16 != zlib.crc32(b"masto:1") % 16
    )
    reopened.act([other], triage.AddTags(("y",)), actor="a")
    assert Store(tmp_path).triage(other).tags == ("y",)
    with pytest.raises(CorruptFileError):  # a write to the broken shard is refused ...
        reopened.act(["masto:1"], triage.AddTags(("z",)), actor="a")
    assert shard.read_text().endswith('["x"]')  # ... and the file is untouched


def test_a_document_that_does_not_fit_is_reported_with_its_path(tmp_path: Path) -> None:
    s = Store(tmp_path)
    s.upsert_messages([make_message(1)])
    seg = next((tmp_path / "messages").glob("*.json"))
    seg.write_text(seg.read_text().replace('"handle":"@user1@example.social"', '"handle":7'))
    problems = Store(tmp_path).file_problems
    assert "author.handle" in problems[seg] and "Expected `str`" in problems[seg]


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


# ---------------------------------------------------------------------------- retention, export, repair
def _done_long_ago(tmp_path: Path) -> Store:
    then = datetime(2026, 6, 1, tzinfo=UTC)
    s = Store(tmp_path, clock=lambda: then)
    s.upsert_messages([make_message(n, at=then - timedelta(hours=n)) for n in range(1, 11)])
    s.act(["masto:1", "masto:2", "masto:3"], triage.SetStatus(Status.DONE), actor="a")
    s.act(["masto:2"], triage.AddTags(("billing",)), actor="a")
    return s


def test_archive_moves_old_done_items_to_compressed_segments_that_search_reaches(tmp_path: Path) -> None:
    _done_long_ago(tmp_path)
    later = datetime(2026, 11, 1, tzinfo=UTC)
    s = Store(tmp_path, clock=lambda: later)
    assert sorted(s.archive(timedelta(days=90), dry_run=True)) == ["masto:1", "masto:2", "masto:3"]
    assert sorted(s.archive(timedelta(days=90))) == ["masto:1", "masto:2", "masto:3"]
    assert len(s.message_ids()) == 7 and s.query(status=Status.DONE) == []
    assert s.refresh() == {"masto:1", "masto:2", "masto:3"}  # views in this process hear of it too
    archive_files = list((tmp_path / "archive").glob("*.json.gz"))
    assert archive_files and gzip.decompress(archive_files[0].read_bytes()).startswith(b'{"archive"')
    reopened = Store(tmp_path)
    assert len(reopened.message_ids()) == 7
    found = {a.id: a for a in reopened.archived()}
    assert sorted(found) == ["masto:1", "masto:2", "masto:3"] and found["masto:2"].triage.tags == ("billing",)
    assert reopened.restore(["masto:2"]) == ["masto:2"]
    again = Store(tmp_path)
    assert again.triage("masto:2").tags == ("billing",) and again.triage("masto:2").status == Status.DONE
    assert sorted(a.id for a in again.archived()) == ["masto:1", "masto:3"]


def test_recent_activity_keeps_an_old_done_item_live(tmp_path: Path) -> None:
    _done_long_ago(tmp_path)
    later = datetime(2026, 11, 1, tzinfo=UTC)
    s = Store(tmp_path, clock=lambda: later)
    s.act(["masto:1"], triage.AddTags(("followup",)), actor="a")  # touched today
    assert sorted(s.archive(timedelta(days=90))) == ["masto:2", "masto:3"]


def test_archive_interrupted_between_archive_write_and_live_removal_loses_nothing(tmp_path: Path) -> None:
    s = _done_long_ago(tmp_path)
    later = datetime(2026, 11, 1, tzinfo=UTC)
    s = Store(tmp_path, clock=lambda: later)
    s._drop_live = lambda ids: None  # type: ignore[method-assign]  # "killed" after step 1
    s.archive(timedelta(days=90))
    fresh = Store(tmp_path, clock=lambda: later)
    assert len(fresh.message_ids()) == 10 and fresh.archived() == []  # live copies win, nothing twice
    assert sorted(fresh.archive(timedelta(days=90))) == ["masto:1", "masto:2", "masto:3"]
    assert len({a.id for a in Store(tmp_path).archived()}) == 3


def test_export_import_round_trip_into_an_empty_store(tmp_path: Path) -> None:
    _done_long_ago(tmp_path / "a")
    s = Store(tmp_path / "a", clock=lambda: datetime(2026, 11, 1, tzinfo=UTC))
    assert len(s.archive(timedelta(days=90))) == 3
    out = tmp_path / "backup.jsonl"
    with out.open("wb") as handle:
        assert portable.write_jsonl(portable.records(s, archived=True), handle) == 10
    target = Store(tmp_path / "b")
    report = portable.import_records(target, out)
    assert (report.read, report.new_messages) == (10, 7)
    assert sorted(a.id for a in target.archived()) == ["masto:1", "masto:2", "masto:3"]
    assert {m.id: m for m in target.all_messages()} == {m.id: m for m in s.all_messages()}
    # Importing again changes nothing, and never overwrites a newer triage state.
    target.act(["masto:5"], triage.AddTags(("newer",)), actor="b")
    again = portable.import_records(target, out)
    assert (again.new_messages, again.triage_written) == (0, 0) and target.triage("masto:5").tags == ("newer",)


def test_a_bad_import_line_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    good = msgspec.json.encode(portable.Record(message=make_message(1))).decode()
    bad.write_text(good + "\n" + '{"message": {"id": 3}}\n')
    s = Store(tmp_path / "d")
    with pytest.raises(portable.ImportError_, match=r"bad.jsonl, line 2"):
        portable.import_records(s, bad)
    assert s.message_ids() == []


def test_csv_export_keeps_formulas_inert(tmp_path: Path) -> None:
    s = Store(tmp_path)
    s.upsert_messages([make_message(1, text='=HYPERLINK("http://evil")')])
    buf = io.StringIO()
    portable.write_csv(portable.records(s), buf)
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert rows[0][:3] == ["id", "channel", "kind"] and rows[1][rows[0].index("text")].startswith("'=")


def test_repair_keeps_the_documents_that_fit_and_backs_up_the_original(tmp_path: Path) -> None:
    s = Store(tmp_path)
    s.upsert_messages([make_message(n) for n in range(1, 6)])
    seg = next((tmp_path / "messages").glob("*.json"))
    original = seg.read_text().replace('"handle":"@user3@example.social"', '"handle":7')
    seg.write_text(original)
    assert seg in Store(tmp_path).file_problems
    result = repair_file(tmp_path, seg)
    assert (result.kept, result.dropped) == (4, 1) and result.backup.read_text() == original
    fixed = Store(tmp_path)
    assert fixed.file_problems == {} and len(fixed.message_ids()) == 4
