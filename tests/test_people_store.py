"""People on the TinyDB store only: ``state/people.json`` hand-edited or damaged is named,
skipped and never overwritten, and ``doctor --repair`` keeps the records that still fit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cminbox.core.errors import CminboxError
from cminbox.core.people import Person
from cminbox.core.repair import repair_store
from cminbox.core.store import Store


def test_a_record_that_does_not_fit_is_named_skipped_and_repaired(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Store(data).write_people(
        [Person(id=f"p-{n}", identities=[f"masto:user{n}"], tags=["vip"]) for n in range(3)], actor="ana", label="tag"
    )
    path = data / "state" / "people.json"
    raw = json.loads(path.read_text())
    raw["people"]["2"]["tags"] = "vip"  # a hand edit: a string where a list belongs
    path.write_text(json.dumps(raw))
    broken = Store(data)
    assert "id 'p-1' does not fit (field tags)" in broken.file_problems[path]
    assert broken.people() == [] and broken.person("masto:user0") is None  # skipped, the rest works
    with pytest.raises(CminboxError, match="cannot be loaded"):
        broken.write_people([Person(id="p-9", identities=["masto:x"])], actor="ana", label="tag")
    assert json.loads(path.read_text()) == raw  # never overwritten
    [repaired], _ = repair_store(broken, [path])
    assert (repaired.kept, repaired.dropped) == (2, 1)
    fixed = Store(data)
    assert [p.id for p in fixed.people()] == ["p-0", "p-2"] and fixed.file_problems == {}


def test_a_stored_message_whose_time_lost_its_timezone_is_named(tmp_path: Path) -> None:
    """Decoding checks the zone (msgspec, in C): a hand edit that drops it is a problem with the
    file, named with the document, not a message that breaks every sort later."""
    from tests.factories import make_message

    data = tmp_path / "data"
    Store(data).upsert_messages([make_message(n) for n in range(3)])
    [path] = (data / "messages").glob("*.json")
    raw = json.loads(path.read_text())
    raw["messages"]["2"]["created_at"] = raw["messages"]["2"]["created_at"][:19]  # "2026-11-27T11:59:00"
    path.write_text(json.dumps(raw))
    broken = Store(data)
    assert "does not fit (field created_at)" in broken.file_problems[path]
