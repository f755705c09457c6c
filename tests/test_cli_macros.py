"""`cminbox macros list` and `cminbox macro NAME`, as scripts run them (real processes, --json):
a dry run writes nothing and says what would happen per item; the run is one `cminbox undo`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cminbox.core.store import Store
from cminbox.core.triage import Assign
from tests.conftest import cli_env, run_cli
from tests.macro_fixtures import BASE, MACROS, TEAM, burst

NOW = datetime.now(UTC)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    cfg = tmp_path / "config.toml"
    cfg.write_text(BASE.replace('[team]\nme = "ana"\n', TEAM) + MACROS, encoding="utf-8")
    store = Store(tmp_path / "data")
    store.upsert_messages(burst(6, NOW))
    store.act(["masto:6"], Assign("bo"), actor="bo")
    store.close()
    return cli_env(CMINBOX_CONFIG=str(cfg), CMINBOX_DATA_DIR=str(tmp_path / "data"))


def cli_json(env: dict[str, str], *args: str) -> Any:
    result = run_cli(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_macros_list_names_keys_and_steps_in_words(env: dict[str, str]) -> None:
    listed = cli_json(env, "macros", "list")
    assert [(m["name"], m["key"], m["steps"]) for m in listed] == [
        ("outage", "O", "tag outage, reply “status page”, done"),
        ("page", "", "priority urgent, note, escalate → oncall"),
    ]
    text = run_cli("macros", env=env).stdout
    assert "outage" in text and "tag outage, reply “status page”, done" in text


def test_dry_run_says_what_per_item_and_writes_nothing(env: dict[str, str]) -> None:
    before = cli_json(env, "list")
    dry = cli_json(env, "macro", "outage", "--query", "sync", "--dry-run")
    assert dry["dry_run"] is True and len(dry["items"]) == 6
    by_id = {i["id"]: i for i in dry["items"]}
    assert by_id["masto:6"]["runs"] is False and by_id["masto:6"]["held"] == "assigned to someone else"
    assert by_id["masto:1"]["reply"] == "Sync is down for everyone, user1: follow status.example.com for updates."
    assert cli_json(env, "list") == before and cli_json(env, "outbox") == []
    text = run_cli("macro", "outage", "masto:1,masto:2", "--dry-run", env=env)
    assert text.returncode == 0 and "dry run: nothing was changed" in text.stdout and "masto:2" in text.stdout


def test_a_run_is_one_undo_and_the_undo_says_the_replies_stay(env: dict[str, str]) -> None:
    out = cli_json(env, "macro", "outage", "--query", "sync", "--queue-only")
    assert sorted(out["changed"]) == [f"masto:{i}" for i in range(1, 6)]
    assert len(out["replies"]) == 5 and out["held"] == [{"id": "masto:6", "why": "assigned to someone else"}]
    assert {m["id"]: m["status"] for m in cli_json(env, "list")}["masto:1"] == "done"
    undone = run_cli("undo", env=env)
    assert undone.returncode == 0
    assert (
        "macro outage" in undone.stdout
        and "5 unsent replies withdrawn" in undone.stdout
        and "(5 message(s))" in undone.stdout
    )
    assert all(m["status"] == "new" for m in cli_json(env, "list"))
    forced = cli_json(env, "macro", "page", "masto:6", "--force", "--queue-only")
    assert forced["changed"] == ["masto:6"] and len(forced["escalations"]) == 1


def test_unknown_macro_and_no_items_are_usage_errors(env: dict[str, str]) -> None:
    unknown = run_cli("macro", "outgae", "masto:1", env=env)
    assert unknown.returncode == 1 and "no macro named 'outgae'" in unknown.stderr and "'outage'" in unknown.stderr
    none = run_cli("macro", "outage", env=env)
    assert none.returncode == 1 and "--query" in none.stderr
