"""`cminbox rules list|test|apply|undo` and `cminbox undo ID`, as scripts run them (real
processes, --json): test writes nothing and counts what apply then does; undo reverts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cminbox.core.store import Store
from tests.conftest import cli_env, run_cli
from tests.rules_fixtures import BASE, RULES, by

NOW = datetime.now(UTC)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    cfg = tmp_path / "config.toml"
    cfg.write_text(BASE + RULES, encoding="utf-8")
    store = Store(tmp_path / "data")
    store.upsert_messages(
        [
            by(1, "@alice@example.social", "sync is down", NOW - timedelta(hours=3)),
            by(2, "@bob@example.social", "sync again", NOW - timedelta(days=9)),  # outside `test`'s 7 days
            by(3, "@carol@example.social", "casino", NOW - timedelta(hours=1)),
            by(4, "@dan@example.social", "hello", NOW - timedelta(hours=2)),
            by(5, "@erin@example.social", "sync from the future", NOW + timedelta(minutes=30)),
        ]
    )
    store.close()
    return cli_env(CMINBOX_CONFIG=str(cfg), CMINBOX_DATA_DIR=str(tmp_path / "data"))


def cli_json(env: dict[str, str], *args: str) -> Any:
    result = run_cli(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def counts(out: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    return {r["rule"]: (r["matched"], r["changed"], r["replies"]) for r in out["rules"]}


def test_list_shows_the_rules_in_order(env: dict[str, str]) -> None:
    rules = cli_json(env, "rules", "list")
    assert [(r["rule"], r["effects"]) for r in rules] == [
        ("outage", ["tag outage", "priority high"]),
        ("ack", ["auto-reply “ack”"]),
        ("spam", ["mute (spam)"]),
    ]


def test_test_is_a_dry_run_whose_counts_apply_then_does(env: dict[str, str]) -> None:
    before = cli_json(env, "list")
    events = cli_json(env, "events")
    dry = cli_json(env, "rules", "test")
    assert dry["items"] == 4 and dry["dry_run"] is True
    assert counts(dry) == {"outage": (2, 2, 0), "ack": (2, 1, 1), "spam": (1, 1, 0)}
    [sample] = [r["sample"] for r in dry["rules"] if r["rule"] == "spam"]
    assert sample == [{"id": "masto:3", "text": "casino", "effect": "rule spam: mute (spam)"}]
    assert cli_json(env, "list") == before and cli_json(env, "events") == events  # nothing written
    assert cli_json(env, "rules", "test", "--rule", "spam")["rules"][0]["rule"] == "spam"
    # apply on what test looked at (7 days): the same counts. The reply rule came into effect
    # now, so only the item created after now gets one.
    done = cli_json(env, "rules", "apply", "--query", "age:<7d")
    assert counts(done) == {"outage": (2, 2, 0), "ack": (2, 1, 1), "spam": (1, 1, 0)}
    assert cli_json(env, "rules", "test")["rules"][0]["changed"] == 0  # nothing left to do
    shown = cli_json(env, "show", "masto:1")
    assert shown["tags"] == ["outage"] and [h["actor"] for h in shown["history"]] == ["rule outage"]
    text = run_cli("show", "masto:1", env=env).stdout
    assert " rule outage: tag outage; priority → high" in text and "rule outage: rule outage" not in text
    outbox = cli_json(env, "outbox", "--all")
    assert [(i["message_id"], i["actor"]) for i in outbox] == [("masto:5", "rule ack")]


def test_undo_one_item_then_a_rule_in_bulk(env: dict[str, str]) -> None:
    cli_json(env, "rules", "apply", "--query", "sync")
    undone = run_cli("undo", "masto:1", env=env)
    assert undone.returncode == 0 and "undone: rule outage: tag outage" in undone.stdout
    assert cli_json(env, "show", "masto:1")["tags"] == []
    bulk = cli_json(env, "rules", "undo", "outage", "--since", "1h")
    assert sorted(bulk["changed"]) == ["masto:2", "masto:5"]
    assert all(cli_json(env, "show", f"masto:{n}")["tags"] == [] for n in (1, 2, 5))
    again = run_cli("rules", "undo", "outage", "--since", "1h", env=env)
    assert again.returncode == 1 and "nothing to undo for rule outage" in again.stdout
    item = cli_json(env, "rules", "undo", "--item", "masto:5")  # the reply rule's line is left
    assert item["changed"] == ["masto:5"] and item["undone"] == "rule ack: auto-reply “ack”"


def test_usage_errors_say_what_to_do(env: dict[str, str]) -> None:
    unknown = run_cli("rules", "test", "--rule", "nope", env=env)
    assert unknown.returncode == 1 and "no rule named 'nope'" in unknown.stderr and "outage" in unknown.stderr
    bad = run_cli("rules", "apply", "--query", "statsu:new", env=env)
    assert bad.returncode == 1 and "--query: col 1" in bad.stderr
    vague = run_cli("rules", "undo", "outage", env=env)
    assert vague.returncode == 1 and "--since 1h" in vague.stderr
