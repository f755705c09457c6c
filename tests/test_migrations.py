"""Upgrading stores written by earlier versions (fixture stores written by that version's code)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import msgspec
import pytest

from cminbox.cli import main
from cminbox.core import triage
from cminbox.core.events import EventKind
from cminbox.core.migrations import PART_DOCS, SCHEMA_VERSION
from cminbox.core.models import Priority, Status
from cminbox.core.outbox import Outbox
from cminbox.core.store import Store
from tests.backend.contract import check_event_log
from tests.factories import make_message

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def v1_store(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(FIXTURES / "store-v1", target)
    return target


def test_schema_1_store_upgrades_with_everything_kept(v1_store: Path) -> None:
    store = Store(v1_store)
    assert json.loads((v1_store / "meta.json").read_text()) == {"schema": SCHEMA_VERSION}
    assert any("backup of schema 1" in step for step in store.migrated)
    assert len(store.message_ids()) == 40
    assert sorted(p.stem for p in (v1_store / "messages").glob("*.json")) == [
        "2026-09-000",
        "2026-10-000",
        "2026-11-000",
    ]
    assert store.triage("masto:1").tags == ("outage",)
    assert store.triage("masto:2").status == Status.DONE
    assert store.triage("masto:3").priority == Priority.URGENT
    assert store.get_cursor("masto") == {"min_id": "40"}
    assert store.get_draft("masto:5") == "thanks, looking into it"
    assert [i.message_id for i in Outbox(v1_store, store.lock).items()] == ["masto:4"]
    assert store.undo("ben") is not None and store.triage("masto:30").status == Status.NEW  # the undo log survived
    # The old files are kept, untouched, in the backup.
    backup = next((v1_store / "backups").iterdir())
    assert (backup / "messages" / "2026-10.json").exists() and json.loads((backup / "meta.json").read_text()) == {
        "schema": 1
    }
    assert Store(v1_store).migrated == []  # done once


def test_migration_interrupted_after_writing_parts_finishes_on_next_start(v1_store: Path) -> None:
    # Simulate a kill after the parts of one month were written but before its old file was removed.
    old = v1_store / "messages" / "2026-10.json"
    docs = json.loads(old.read_text())["messages"]
    (v1_store / "messages" / "2026-10-000.json").write_text(json.dumps({"messages": docs}))
    store = Store(v1_store)
    assert not old.exists()
    assert len(store.message_ids()) == 40  # nothing twice


def test_large_months_are_split_into_bounded_parts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "store-v1", data)
    month = data / "messages" / "2026-10.json"
    many = [
        msgspec.to_builtins(make_message(1000 + i, at=make_message(0).created_at.replace(month=10, day=5)))
        for i in range(PART_DOCS + 10)
    ]
    existing = json.loads(month.read_text())["messages"]
    merged = {str(i): doc for i, doc in enumerate([*existing.values(), *many], start=1)}
    month.write_text(json.dumps({"messages": merged}))
    store = Store(data)
    parts = sorted(p.stem for p in (data / "messages").glob("2026-10-*.json"))
    assert parts == ["2026-10-000", "2026-10-001"]
    assert len(store.message_ids()) == 40 + PART_DOCS + 10
    store.act(["masto:1005"], triage.AddTags(("kept",)), actor="a")
    assert Store(data).triage("masto:1005").tags == ("kept",)


# ---------------------------------------------------------------------------- schema 2 → 3: the event log
# tests/fixtures/store-v2 was written by the schema-2 code (before the event log): actions by two
# people, an undo, a bulk action, a note, an escalation, a snooze. store-v2-show/ holds what
# `cminbox show` printed for four of its items with that code (the history part; the rest
# of the page has the age, which moves with the clock).
SHOWN = ["masto:1", "masto:2", "masto:4", "masto:6"]


@pytest.fixture
def v2_store(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(FIXTURES / "store-v2", target)
    return target


def show(data: Path, mid: str, *extra: str, capsys: pytest.CaptureFixture[str]) -> str:
    config = data.parent / "config.toml"
    config.touch()
    assert main(["--config", str(config), "--data-dir", str(data), "show", mid, *extra]) == 0
    return capsys.readouterr().out


def test_schema_2_histories_become_events_and_show_prints_the_same_history(
    v2_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for mid in SHOWN:
        name = mid.replace(":", "-")
        text = show(v2_store, mid, capsys=capsys)
        assert text[text.index("--- history ---") :] == (FIXTURES / "store-v2-show" / f"{name}.txt").read_text()
        history = json.loads(show(v2_store, mid, "--json", capsys=capsys))["history"]
        assert history == json.loads((FIXTURES / "store-v2-show" / f"{name}.history.json").read_text())
    assert json.loads((v2_store / "meta.json").read_text()) == {"schema": SCHEMA_VERSION}

    store = Store(v2_store)
    events = check_event_log(store, arrivals=False)  # messages stored before the log have no arrival
    entries = sorted(
        ((h.at, mid, h) for mid in store.message_ids() for h in store.triage(mid).history), key=lambda e: (e[0], e[1])
    )
    assert len(events) == len(entries) == 14 and [e.pos for e in events] == list(range(1, 15))
    for event, (at, mid, entry) in zip(events, entries, strict=True):
        assert (event.at, event.message_id, event.actor, event.label, event.group) == (
            at,
            mid,
            entry.actor,
            entry.action,
            entry.group,
        )
        assert (event.before, event.after) == (entry.before, entry.after)
        assert event.kind == (EventKind.UNDO if entry.action.startswith("undo: ") else EventKind.ACTION)
    # New actions follow the migrated ones, and undo still finds the old groups.
    store.act(["masto:9"], triage.AddTags(("after",)), actor="ana")
    assert store.events(since=14)[0].pos == 15
    assert store.undo("ana") is not None and store.undo("ana") is not None
    assert store.triage("masto:1").tags == ("outage",)  # "untag outage (bulk)" undone


def test_migration_to_the_event_log_interrupted_is_redone_without_duplicates(v2_store: Path) -> None:
    (v2_store / "events").mkdir()
    (v2_store / "events" / "000000.json").write_text('{"events": {"1": {"pos": 1}}}')  # a part cut short
    store = Store(v2_store)
    assert len(check_event_log(store, arrivals=False)) == 14
