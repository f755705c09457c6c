"""`cminbox moderate --guideline`, `cminbox follow-up` and `cminbox guidelines`, as scripts run
them (real processes, --json) against the demo's Mastodon server: the author gets one direct
message, also when the process is killed after the server took it and before it was recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import cli_env, run_cli

TOKEN_HEADERS = {"Authorization": "Bearer demo-token"}
GUIDELINES = """
[[guidelines]]
name = "be-kind"
text = "Be kind to each other."
url = "https://demo.lumen.community/guidelines#be-kind"
[[guidelines]]
name = "no-spam"
text = "No advertising."
follow_up = "{author.handle}: your post was {action} per {guideline.name}."
"""


@pytest.fixture
def env(tmp_path: Path, demo_server: str) -> dict[str, str]:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f"""
[team]
me = "tester"
[[channels]]
name = "demo"
type = "mastodon"
url = "{demo_server}"
token_command = "printf demo-token"
backfill_pages = 10
"""
        + GUIDELINES,
        encoding="utf-8",
    )
    env = cli_env(CMINBOX_CONFIG=str(cfg), CMINBOX_DATA_DIR=str(tmp_path / "data"))
    assert run_cli("poll", "--once", env=env).returncode == 0
    return env


def cli_json(env: dict[str, str], *args: str, code: int = 0) -> Any:
    result = run_cli(*args, "--json", env=env)
    assert result.returncode == code, result.stdout + result.stderr
    return json.loads(result.stdout)


def mentions(env: dict[str, str]) -> list[dict[str, Any]]:
    return [r for r in cli_json(env, "list") if r["kind"] == "mention"]


def status(server: str, native_id: str) -> dict[str, Any]:
    found: dict[str, Any] = httpx.get(f"{server}/api/v1/statuses/{native_id}", headers=TOKEN_HEADERS).json()
    return found


def own_statuses(server: str, account_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = httpx.get(
        f"{server}/api/v1/accounts/{account_id}/statuses", params={"limit": 200}, headers=TOKEN_HEADERS
    ).json()
    return rows


def test_guidelines_list(env: dict[str, str]) -> None:
    out = cli_json(env, "guidelines", "list")
    assert [g["name"] for g in out["guidelines"]] == ["be-kind", "no-spam"]
    assert out["guidelines"][0]["follow_up"].startswith("Hi {author.name}")
    assert out["follow_up_by_channel"] == {"demo": {"via": "dm", "how": "a direct message on mastodon"}}
    text = run_cli("guidelines", env=env).stdout
    assert "be-kind" in text and "follow-up on demo: a direct message on mastodon" in text


def test_moderate_with_a_guideline_sends_one_direct_message(env: dict[str, str], demo_server: str) -> None:
    row = mentions(env)[3]
    out = cli_json(env, "moderate", row["id"], "report", "--guideline", "be-kind")
    action, follow_up = out["items"]
    assert (action["kind"], action["status"]) == ("action", "sent")
    assert (follow_up["kind"], follow_up["status"], follow_up["via"]) == ("follow_up", "sent", "dm")
    dm = status(demo_server, follow_up["result"]["native_id"])
    handle = row["author"]["handle"].lstrip("@").split("@")[0]
    assert dm["visibility"] == "direct" and f"@{handle}" in dm["content"]
    assert "under our community guideline" in dm["content"] and "Be kind to each other." in dm["content"]
    shown = json.loads(run_cli("show", row["id"], "--json", env=env).stdout)
    history = [h["action"] for h in shown["history"]]
    assert "guideline be-kind: follow-up sent by direct message" in history
    again = run_cli("follow-up", row["id"], "--guideline", "be-kind", "--json", env=env)
    assert again.returncode != 0 and "told of 'be-kind' already" in again.stderr
    person = json.loads(run_cli("people", "show", row["author"]["handle"], "--json", env=env).stdout)
    assert person["guideline_notices"] == {"be-kind": 1}


def test_a_follow_up_killed_after_sending_is_sent_once(env: dict[str, str], demo_server: str) -> None:
    row = mentions(env)[5]
    killed = run_cli(
        "follow-up", row["id"], "--guideline", "no-spam", env={**env, "CMINBOX_FAILPOINT": "outbox.after_send"}
    )
    assert killed.returncode == -9
    flushed = run_cli("outbox", "flush", env=env)
    assert "1 sent" in flushed.stdout, flushed.stdout + flushed.stderr
    [item] = [i for i in cli_json(env, "outbox", "--all") if i["kind"] == "follow_up"]
    dm = status(demo_server, item["result"]["native_id"])
    mine = [s for s in own_statuses(demo_server, dm["account"]["id"]) if "per no-spam" in s["content"]]
    assert len(mine) == 1 and mine[0]["visibility"] == "direct"
    assert "your post was moderated per no-spam." in mine[0]["content"]
    assert run_cli("outbox", "flush", env=env).stdout.strip().endswith("0 sent, 0 not sent")


def test_refusals_say_why(env: dict[str, str]) -> None:
    row = mentions(env)[6]
    unknown = run_cli("moderate", row["id"], "report", "--guideline", "be-kin", "--queue-only", env=env)
    assert unknown.returncode != 0 and "Did you mean 'be-kind'" in unknown.stderr
    out = cli_json(env, "moderate", row["id"], "mute", "--guideline", "be-kind", "--queue-only")
    assert [i["kind"] for i in out["items"]] == ["action"]
    assert out["no_follow_up"] == [
        {"message_id": row["id"], "why": "no follow-up after 'mute': mastodon offers one after report"}
    ]
    quiet = cli_json(env, "moderate", row["id"], "report", "--guideline", "be-kind", "--no-follow-up", "--queue-only")
    assert [i["kind"] for i in quiet["items"]] == ["action"] and quiet["no_follow_up"] == []
