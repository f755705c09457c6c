"""`cminbox events`: the event log from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cminbox.core import triage
from cminbox.core.store import Store
from tests.cli_in_process import cli
from tests.factories import make_message


def test_events_lists_what_happened_since_a_position_or_a_while(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Store(tmp_path / "data").upsert_messages([make_message(1), make_message(2)])
    assert cli(tmp_path, capsys, "tag", "masto:1", "outage")[0] == 0
    assert cli(tmp_path, capsys, "undo")[0] == 0
    code, out = cli(tmp_path, capsys, "events")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 4
    assert lines[2].split()[3:] == ["ana", "action", "masto:1", "tag", "outage"]
    assert lines[3].split()[3:6] == ["ana", "undo", "masto:1"] and lines[3].endswith("undo: tag outage")
    code, out = cli(tmp_path, capsys, "events", "--since", "2", "--json")
    events = json.loads(out)
    assert [(e["pos"], e["kind"], e["label"]) for e in events] == [
        (3, "action", "tag outage"),
        (4, "undo", "undo: tag outage"),
    ]
    assert events[0]["before"] == {"tags": []} and events[0]["after"] == {"tags": ["outage"]} and events[0]["instance"]
    assert json.loads(cli(tmp_path, capsys, "events", "--since", "1h", "--json", "--limit", "1")[1])[0]["pos"] == 1
    assert cli(tmp_path, capsys, "events", "--since", "4")[1].strip() == "(no events)"


def test_a_bad_since_says_what_it_takes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli(tmp_path, capsys, "events", "--since", "yesterday-ish")
    assert code != 0 and "a position (1234) or a duration (30m, 2h, 3d)" in out and "Traceback" not in out


def test_an_action_through_the_store_is_an_event_another_process_lists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(tmp_path / "data")
    store.upsert_messages([make_message(1)])
    store.act(["masto:1"], triage.Assign("bo"), actor="bo")
    out = cli(tmp_path, capsys, "events", "--json")[1]
    assert json.loads(out)[-1]["after"] == {"assignee": "bo"}
