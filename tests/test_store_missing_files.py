"""A store file that went missing is said, never read as "archived" or "nothing pending".

Regression (review of 2026-12-01): `rm messages/2026-12-000.json` (or a dangling symlink in
its place) dropped its items from `list` with no warning, `doctor` said "ok", and no poll
fetched them again; `rm outbox.json` made a queued reply vanish ("nothing pending").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cminbox.core.clock import FrozenClock
from cminbox.core.errors import CminboxError
from cminbox.core.kept import FOLDER
from cminbox.core.models import Status
from cminbox.core.outbox_types import OutboxKind
from cminbox.core.store import Store
from cminbox.core.triage import SetStatus
from tests.cli_in_process import cli
from tests.factories import make_message

OCTOBER = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)


def two_months(tmp_path: Path, clock: FrozenClock) -> tuple[Store, Path]:
    store = Store(tmp_path / "data", clock=clock)
    store.upsert_messages([make_message(1), make_message(2), make_message(3, at=OCTOBER)])
    store.set_cursor("masto", {"min_id": "3"})
    october = tmp_path / "data" / "messages" / "2026-10-000.json"
    assert october.exists()
    return store, october


@pytest.mark.parametrize("how", ["deleted", "dangling-symlink"])
def test_a_missing_part_is_a_problem_until_repaired(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], clock: FrozenClock, how: str
) -> None:
    store, october = two_months(tmp_path, clock)
    store.close()
    october.unlink()
    if how == "dangling-symlink":
        october.symlink_to(tmp_path / "nowhere.json")
    fresh = Store(tmp_path / "data", clock=clock)
    assert any("missing" in problem for problem in fresh.problems.values())
    assert sorted(fresh.message_ids()) == ["masto:1", "masto:2"]
    fresh.close()
    code, out = cli(tmp_path, capsys, "list")
    assert "2026-10-000.json" in out and "missing" in out  # said beside the list
    code, out = cli(tmp_path, capsys, "doctor")
    assert code == 1 and "missing" in out and "all good" not in out
    if how == "dangling-symlink":
        october.unlink()
    code, out = cli(tmp_path, capsys, "doctor", "--repair")
    assert "it was missing; what it held is lost" in out
    assert "poll cursor rewound" in out  # its items come again with the next poll
    again = Store(tmp_path / "data", clock=clock)
    assert not again.problems and again.get_cursor("masto") is None


def test_a_part_put_back_is_no_longer_a_problem(tmp_path: Path, clock: FrozenClock) -> None:
    store, october = two_months(tmp_path, clock)
    saved = october.read_bytes()
    october.unlink()
    store.refresh()
    assert store.problems
    october.write_bytes(saved)
    store.refresh()
    assert not store.problems and "masto:3" in store.message_ids()


def test_a_part_emptied_by_archiving_is_not_missing(tmp_path: Path, clock: FrozenClock) -> None:
    store, october = two_months(tmp_path, clock)
    store.act(["masto:3"], SetStatus(status=Status.DONE), actor="ana")
    clock.advance(days=2)
    assert store.archive(timedelta(days=1)) == ["masto:3"]
    assert not october.exists() and not store.problems
    assert not Store(tmp_path / "data", clock=clock).problems  # nor for a process that opens it after


def test_a_store_from_before_the_markers_is_adopted_without_alarm(tmp_path: Path, clock: FrozenClock) -> None:
    store, _ = two_months(tmp_path, clock)
    store.close()
    kept = tmp_path / "data" / FOLDER
    for marker in kept.iterdir():
        marker.unlink()
    reopened = Store(tmp_path / "data", clock=clock)
    assert not reopened.problems
    reopened.set_cursor("masto", {"min_id": "4"})  # any step under the lock notes the parts
    assert sorted(m.name for m in kept.iterdir()) == [
        "messages~2026-10-000.json.kept",
        "messages~2026-11-000.json.kept",
    ]


def test_a_missing_outbox_is_refused_not_read_as_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], clock: FrozenClock
) -> None:
    store = Store(tmp_path / "data", clock=clock)
    store.upsert_messages([make_message(1)])
    store.outbox.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "hello"}, "ana")
    store.close()
    (tmp_path / "data" / "outbox.json").unlink()
    fresh = Store(tmp_path / "data", clock=clock)
    with pytest.raises(CminboxError, match="missing"):
        fresh.outbox.items()
    with pytest.raises(CminboxError, match="missing"):  # nor is a new reply queued over the loss
        fresh.outbox.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "again"}, "ana")
    fresh.close()
    code, out = cli(tmp_path, capsys, "outbox")
    assert code != 0 and "missing" in out and "nothing pending" not in out
    # Said as the outbox's loss, not a message part's (fault trial of 2026-12-01).
    assert "the replies, escalations and moderation queued there" in out
    assert "Its items are not listed" not in out and "fetched again" not in out
    code, out = cli(tmp_path, capsys, "doctor", "--repair")
    assert "outbox.json: it was missing" in out
    assert Store(tmp_path / "data", clock=clock).outbox.items() == []
