"""Retention and portability: archive, restore, export and import, on every backend."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from cminbox.core import portable, triage
from cminbox.core.models import Status
from cminbox.core.store_api import StoreApi
from tests.backend.conftest import Backend
from tests.factories import make_message

THEN = datetime(2026, 6, 1, tzinfo=UTC)
LATER = datetime(2026, 11, 1, tzinfo=UTC)


def done_long_ago(backend: Backend) -> StoreApi:
    s = backend.open(clock=lambda: THEN)
    s.upsert_messages([make_message(n, at=THEN - timedelta(hours=n)) for n in range(1, 11)])
    s.act(["masto:1", "masto:2", "masto:3"], triage.SetStatus(Status.DONE), actor="a")
    s.act(["masto:2"], triage.AddTags(("billing",)), actor="a")
    return s


def test_archive_moves_old_done_items_out_and_restore_brings_them_back(backend: Backend) -> None:
    done_long_ago(backend)
    s = backend.open(clock=lambda: LATER)
    assert sorted(s.archive(timedelta(days=90), dry_run=True)) == ["masto:1", "masto:2", "masto:3"]
    assert sorted(s.archive(timedelta(days=90))) == ["masto:1", "masto:2", "masto:3"]
    assert len(s.message_ids()) == 7 and s.query(status=Status.DONE) == []
    assert s.refresh() == {"masto:1", "masto:2", "masto:3"}  # views in this instance hear of it too
    reopened = backend.open()
    assert len(reopened.message_ids()) == 7 and reopened.archived_ids() == {"masto:1", "masto:2", "masto:3"}
    found = {a.id: a for a in reopened.archived()}
    assert found["masto:2"].triage.tags == ("billing",) and found["masto:2"].archived_at == LATER
    assert reopened.restore(["masto:2"]) == ["masto:2"]
    again = backend.open()
    assert again.triage("masto:2").tags == ("billing",) and again.triage("masto:2").status == Status.DONE
    assert sorted(a.id for a in again.archived()) == ["masto:1", "masto:3"]


def test_recent_activity_keeps_an_old_done_item_live(backend: Backend) -> None:
    done_long_ago(backend)
    s = backend.open(clock=lambda: LATER)
    s.act(["masto:1"], triage.AddTags(("followup",)), actor="a")  # touched today
    assert sorted(s.archive(timedelta(days=90))) == ["masto:2", "masto:3"]


def test_export_import_round_trip_into_an_empty_store(backend: Backend, tmp_path: Path) -> None:
    done_long_ago(backend)
    s = backend.open(clock=lambda: LATER)
    assert len(s.archive(timedelta(days=90))) == 3
    out = tmp_path / "backup.jsonl"
    with out.open("wb") as handle:
        assert portable.write_jsonl(portable.records(s, archived=True), handle) == 10
    target = backend.fresh().open()
    report = portable.import_records(target, out)
    assert (report.read, report.new_messages) == (10, 7)
    assert sorted(a.id for a in target.archived()) == ["masto:1", "masto:2", "masto:3"]
    assert {m.id: m for m in target.all_messages()} == {m.id: m for m in s.all_messages()}
    assert {m.id: st for m, st in target.query() if st.rev} == {m.id: st for m, st in s.query() if st.rev}
    # Importing again changes nothing, and never overwrites a newer triage state.
    target.act(["masto:5"], triage.AddTags(("newer",)), actor="b")
    again = portable.import_records(target, out)
    assert (again.new_messages, again.triage_written) == (0, 0) and target.triage("masto:5").tags == ("newer",)


def test_a_bad_import_line_is_named_and_nothing_is_written(store: StoreApi, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    good = msgspec.json.encode(portable.Record(message=make_message(1))).decode()
    bad.write_text(good + "\n" + '{"message": {"id": 3}}\n')
    with pytest.raises(portable.ImportError_, match=r"bad.jsonl, line 2"):
        portable.import_records(store, bad)
    assert store.message_ids() == []


def test_csv_export_keeps_formulas_inert(store: StoreApi) -> None:
    store.upsert_messages([make_message(1, text='=HYPERLINK("http://evil")')])
    buf = io.StringIO()
    portable.write_csv(portable.records(store), buf)
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert rows[0][:3] == ["id", "channel", "kind"] and rows[1][rows[0].index("text")].startswith("'=")


def test_small_tables_keep_cursors_health_and_drafts(backend: Backend) -> None:
    s = backend.open()
    s.set_cursor("masto", {"min_id": "40"})
    s.set_cursor("gh", {"since": "x"})
    s.set_health("masto", {"state": "ok", "failures": 0})
    s.set_draft("masto:1", "thanks, looking")
    s.set_draft("masto:2", "   ")
    other = backend.open()
    assert other.get_cursor("masto") == {"min_id": "40"} and other.get_cursor("none") is None
    assert other.get_health("masto") == {"state": "ok", "failures": 0, "id": "masto"}
    assert set(other.all_health()) == {"masto"}
    assert (other.get_draft("masto:1"), other.get_draft("masto:2")) == ("thanks, looking", "")
    assert other.rewind_cursors(["masto"]) == ["masto"] and other.get_cursor("masto") is None
    assert other.rewind_cursors(None) == ["gh"] and backend.open().get_cursor("gh") is None
    other.set_draft("masto:1", "")
    assert backend.open().get_draft("masto:1") == ""


def test_the_plain_export_carries_each_items_history_on_every_backend(backend: Backend, tmp_path: Path) -> None:
    """Regression (review of 2026-12-01): PostgreSQL keeps an item's history in its event log and
    leaves it out of the lists' states, so `cminbox export` of a team store had none."""
    s = backend.open(clock=lambda: LATER)
    s.upsert_messages([make_message(n) for n in (1, 2, 3)])
    s.act(["masto:2"], triage.AddTags(("billing",)), actor="ana")
    s.act(["masto:2"], triage.SetStatus(Status.DONE), actor="bob")
    exported = {r.message.id: r for r in portable.records(s)}
    assert [r.message.id for r in portable.records(s)] == ["masto:1", "masto:2", "masto:3"]  # newest first
    history = exported["masto:2"].triage.history  # type: ignore[union-attr]
    assert [entry.actor for entry in history] == ["ana", "bob"]
    assert exported["masto:1"].triage is None  # untouched items carry no state
