"""The acceptance path, as a user's scripts would run it: real processes, a real server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.conftest import cli_env, run_cli

TOKEN_HEADERS = {"Authorization": "Bearer demo-token"}


class Receiver(BaseHTTPRequestHandler):
    deliveries: list[tuple[str, dict[str, object]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.deliveries.append((self.headers["X-Cminbox-Delivery"], json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    Receiver.deliveries = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


@pytest.fixture
def env(tmp_path: Path, demo_server: str, webhook: str) -> dict[str, str]:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f"""
[user]
name = "tester"
[[channels]]
name = "demo"
type = "mastodon"
url = "{demo_server}"
token_command = "printf demo-token"
backfill_pages = 10
[[escalation.targets]]
name = "hook"
url = "{webhook}"
""")
    return cli_env(CMINBOX_CONFIG=str(cfg), CMINBOX_DATA_DIR=str(tmp_path / "data"))


def listed(env: dict[str, str], *args: str) -> list[dict[str, object]]:
    result = run_cli("list", "--json", *args, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def own_replies(server: str, native_id: str) -> list[dict[str, object]]:
    ctx = httpx.get(f"{server}/api/v1/statuses/{native_id}/context", headers=TOKEN_HEADERS).json()
    return [s for s in ctx["descendants"] if s["account"]["username"] == "lumen"]


def test_poll_list_and_no_duplicates(env: dict[str, str]) -> None:
    first = run_cli("poll", "--once", env=env)
    assert first.returncode == 0, first.stderr
    # The 300-post backlog and the team's 10 replies in its threads (community.staff_answers).
    assert "demo" in first.stdout and "310 new" in first.stdout
    rows = listed(env)
    assert len(rows) == 310 and len({r["id"] for r in rows}) == 310
    assert {
        "id",
        "channel",
        "kind",
        "author",
        "text",
        "url",
        "created_at",
        "status",
        "tags",
        "assignee",
        "priority",
    } <= set(rows[0])
    assert rows[0]["author"]["handle"].startswith("@")
    assert [r["created_at"] for r in rows] == sorted((r["created_at"] for r in rows), reverse=True)
    again = run_cli("poll", "--once", env=env)
    assert "0 new" in again.stdout
    assert len(listed(env)) == 310
    assert {r["kind"] for r in rows} >= {"mention", "direct"}


def test_reply_survives_sigkill_before_and_after_sending(env: dict[str, str], demo_server: str) -> None:
    run_cli("poll", "--once", env=env)
    # The demo server is shared by the session: count replies relative to what is already there.
    a, b = [r for r in listed(env) if r["kind"] == "mention"][7:9]
    native_a, native_b = str(a["id"]).split(":")[1], str(b["id"]).split(":")[1]
    before_a, before_b = len(own_replies(demo_server, native_a)), len(own_replies(demo_server, native_b))
    # Killed after queuing, before sending: the next run sends it, once.
    killed = run_cli(
        "reply",
        str(a["id"]),
        "--text",
        "Thanks for the report!",
        env={**env, "CMINBOX_FAILPOINT": "outbox.after_enqueue"},
    )
    assert killed.returncode == -9
    assert len(own_replies(demo_server, native_a)) == before_a
    assert run_cli("poll", "--once", env=env).returncode == 0
    assert len(own_replies(demo_server, native_a)) == before_a + 1
    # Killed after the server accepted, before we recorded it: the retry reuses the idempotency key.
    killed = run_cli(
        "reply", str(b["id"]), "--text", "Looking into it.", env={**env, "CMINBOX_FAILPOINT": "outbox.after_send"}
    )
    assert killed.returncode == -9
    flushed = run_cli("outbox", "flush", env=env)
    assert "1 sent" in flushed.stdout, flushed.stdout + flushed.stderr
    replies = own_replies(demo_server, native_b)
    assert len(replies) == before_b + 1 and "Looking into it." in str(replies[-1]["content"])
    assert replies[-1]["in_reply_to_id"] == native_b
    assert run_cli("outbox", "flush", env=env).stdout.strip().endswith("0 sent, 0 not sent")
    assert len(own_replies(demo_server, native_b)) == before_b + 1
    shown = json.loads(run_cli("show", str(b["id"]), "--json", env=env).stdout)
    assert shown["first_response_at"] is not None


def test_escalate_is_delivered_once_across_a_kill(env: dict[str, str]) -> None:
    run_cli("poll", "--once", env=env)
    row = listed(env)[5]
    killed = run_cli(
        "escalate",
        str(row["id"]),
        "--to",
        "hook",
        "--note",
        "billing issue",
        env={**env, "CMINBOX_FAILPOINT": "outbox.after_enqueue"},
    )
    assert killed.returncode == -9
    assert Receiver.deliveries == []
    run_cli("poll", "--once", env=env)
    run_cli("poll", "--once", env=env)
    assert len(Receiver.deliveries) == 1
    delivery_id, payload = Receiver.deliveries[0]
    assert payload["note"] == "billing issue" and payload["message"]["id"] == row["id"]
    assert [r["status"] for r in listed(env) if r["id"] == row["id"]] == ["escalated"]
    outbox = json.loads(run_cli("outbox", "--all", "--json", env=env).stdout)
    assert [(i["id"], i["status"]) for i in outbox] == [(delivery_id, "sent")]


def test_triage_commands_and_undo(env: dict[str, str]) -> None:
    run_cli("poll", "--once", env=env)
    mid = str(listed(env)[0]["id"])
    suffix = mid.split(":")[1]
    for args in (
        ("tag", suffix, "bug", "Sync"),
        ("assign", mid, "ana"),
        ("status", mid, "waiting"),
        ("priority", mid, "urgent"),
        ("note", mid, "asked", "for", "logs"),
        ("snooze", mid, "2h"),
    ):
        result = run_cli(*args, env=env)
        assert result.returncode == 0, (args, result.stderr)
    shown = json.loads(run_cli("show", mid, "--json", env=env).stdout)
    assert (shown["tags"], shown["assignee"], shown["status"], shown["priority"]) == (
        ["bug", "sync"],
        "ana",
        "waiting",
        "urgent",
    )
    assert shown["notes"][0]["text"] == "asked for logs" and shown["snoozed_until"]
    assert [h["actor"] for h in shown["history"]] == ["tester"] * 6
    assert listed(env, "--tag", "bug")[0]["id"] == mid
    assert listed(env, "--status", "waiting")[0]["id"] == mid
    assert [r["id"] for r in listed(env, "--query", "tag:sync assignee:ana -status:done")] == [mid]
    bad = run_cli("list", "--query", "status:nope", env=env)
    assert bad.returncode == 1 and "--query: col 8: status:nope: unknown status" in bad.stderr
    for _ in range(6):
        assert run_cli("undo", env=env).returncode == 0
    shown = json.loads(run_cli("show", mid, "--json", env=env).stdout)
    assert (shown["tags"], shown["assignee"], shown["status"], shown["notes"]) == ([], None, "new", [])
    assert run_cli("undo", env=env).returncode == 1


def test_untrusted_text_is_stored_and_printed_inert(env: dict[str, str]) -> None:
    run_cli("poll", "--once", env=env)
    rows = listed(env)
    texts = [str(r["text"]) for r in rows]
    assert any("[bold]markup[/bold]" in t for t in texts)
    printed = run_cli("list", env=env).stdout + run_cli("list", "--json", env=env).stdout
    for bad in ("\x1b", "\u202e", "\x07"):
        assert bad not in printed
    assert all("\x1b" not in t and "\u202e" not in t for t in texts)
    ansi_row = next(r for r in rows if "my terminal says" in str(r["text"]))
    assert "ERROR" in str(ansi_row["text"]) and "[31m" not in str(ansi_row["text"])
    shown = run_cli("show", str(ansi_row["id"]), env=env).stdout
    assert "\x1b" not in shown
