"""The CLI says what happened: show --fetch, reply --queue-only, outbox list, a second poll,
doctor, archive --older-than 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
import respx
from keyring.backends import fail

from cminbox.cli import main
from cminbox.core.clock import FrozenClock
from cminbox.core.health import ChannelHealth, HealthState
from cminbox.core.locking import FileLock
from cminbox.core.models import Status
from cminbox.core.outbox import LEASE, Outbox, OutboxKind
from cminbox.core.store import Store
from cminbox.core.triage import SetStatus
from tests.conftest import ROOT, cli_env, free_port
from tests.factories import make_message
from tests.mastodon_fixtures import ME, notification

CHANNEL = (
    '[[channels]]\nname = "masto"\ntype = "mastodon"\nurl = "https://m.example"\ntoken_command = "printf tok-cli"\n'
)


def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str, config: str = CHANNEL) -> tuple[int, str]:
    cfg = tmp_path / "config.toml"
    if not cfg.exists():
        cfg.write_text(config)
    code = main(["--config", str(cfg), "--data-dir", str(tmp_path / "data"), *args])
    out, err = capsys.readouterr()
    return code, out + err


def mastodon(api: respx.MockRouter, *ids: int) -> None:
    api.get("https://m.example/api/v1/accounts/verify_credentials").respond(json=ME)
    api.get("https://m.example/api/v1/notifications").respond(json=[notification(n) for n in ids])


def test_show_fetch_prints_the_live_thread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], demo_server: str
) -> None:
    """Against a real HTTP server: the second event loop only failed with live connections."""
    config = CHANNEL.replace('"masto"', '"demo"').replace("https://m.example", demo_server)
    config = config.replace("tok-cli", "demo-token")
    assert cli(tmp_path, capsys, "poll", "--once", config=config)[0] == 0
    code, out = cli(tmp_path, capsys, "list", "--json", "--limit", "1")
    mid = json.loads(out)[0]["id"]
    code, out = cli(tmp_path, capsys, "show", mid, "--fetch")
    assert code == 0, out
    assert "internal error" not in out and mid in out


def polled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with respx.mock(assert_all_called=False) as api:
        mastodon(api, 1)
        assert cli(tmp_path, capsys, "poll", "--once")[0] == 0


def test_reply_queue_only_says_who_will_send_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    polled(tmp_path, capsys)
    code, out = cli(tmp_path, capsys, "reply", "1001", "--text", "on it", "--queue-only")
    assert code == 0 and "the running cminbox instance" not in out
    assert "no cminbox is running" in out and "cminbox outbox flush" in out
    with FileLock(tmp_path / "data" / "poller.lock", record_pid=True):  # as a running poller holds it
        code, out = cli(tmp_path, capsys, "reply", "1001", "--text", "still on it", "--queue-only")
    assert code == 0 and f"the running cminbox instance (pid {os.getpid()}) will send it" in out


def test_outbox_list_shows_sent_items_only_with_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store(tmp_path / "data")
    outbox = Outbox(store.dir, store.lock)
    sent, waiting = outbox.enqueue_many(
        OutboxKind.REPLY, [("masto:1", "masto", {"text": "done"}), ("masto:2", "masto", {"text": "later"})], "ana"
    )
    [claimed, _] = outbox.claim_due()
    outbox.mark_sent(claimed, {"url": "https://m.example/1"})
    _, out = cli(tmp_path, capsys, "outbox")
    assert waiting.id in out and sent.id not in out
    _, out = cli(tmp_path, capsys, "outbox", "--all")
    assert waiting.id in out and sent.id in out


def test_a_second_poll_says_it_stands_by(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(CHANNEL.replace("https://m.example", f"http://127.0.0.1:{free_port()}"))
    env = cli_env(CMINBOX_CONFIG=str(cfg), CMINBOX_DATA_DIR=str(tmp_path / "data"))
    Store(tmp_path / "data")
    with FileLock(tmp_path / "data" / "poller.lock", record_pid=True):
        proc = subprocess.Popen(
            [sys.executable, "-m", "cminbox", "poll"], env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True
        )
        try:
            assert proc.stderr is not None
            first = proc.stderr.readline()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    assert f"another cminbox instance (pid {os.getpid()}) is polling; standing by" in first
    assert "polling; Ctrl-C to stop" not in first


def test_doctor_reports_a_bad_last_poll_a_stuck_outbox_and_an_unusable_keyring(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    polled(tmp_path, capsys)
    store = Store(tmp_path / "data")
    health = ChannelHealth(channel="masto", state=HealthState.RATE_LIMITED, reason="429 from the server")
    store.set_health("masto", health.to_doc())
    clock = FrozenClock(store.clock() - LEASE * 2)  # the claim's lease ran out long ago
    outbox = Outbox(store.dir, store.lock, clock=clock)
    outbox.enqueue(OutboxKind.REPLY, "masto:1001", "masto", {"text": "hi"}, "ana")
    [stuck] = outbox.claim_due()
    with respx.mock(assert_all_called=False) as api:
        mastodon(api)
        code, out = cli(tmp_path, capsys, "doctor")
        assert code == 1 and "all good" not in out
        assert "FAIL  masto last poll: rate-limited: 429 from the server" in out
        assert f"FAIL  outbox: 1 item(s) stuck in 'sending' ({stuck.id})" in out
        assert "ok    keyring" in out
        monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
        code, out = cli(tmp_path, capsys, "doctor")
        # Every channel on token_command: a warning, not one of the problems counted.
        assert code == 1 and "warn  keyring" in out and "ok    keyring" not in out and "2 problem(s)" in out
        (tmp_path / "config.toml").write_text(CHANNEL.replace('token_command = "printf tok-cli"\n', ""))
        code, out = cli(tmp_path, capsys, "doctor")
    assert code == 1 and "FAIL  keyring" in out and "ok    keyring" not in out


def test_archive_older_than_zero_archives_every_done_item(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], clock: FrozenClock
) -> None:
    store = Store(tmp_path / "data", clock=clock)
    store.upsert_messages([make_message(1), make_message(2)])
    store.act(["masto:1"], SetStatus(status=Status.DONE), actor="ana")
    code, out = cli(tmp_path, capsys, "archive", "--older-than", "0", config="")
    assert code == 0 and "archiving is off" not in out
    assert "archived 1 done item(s)" in out
    code, out = cli(tmp_path, capsys, "archive", "--list")
    assert "masto:1" in out and "masto:2" not in out
    code, out = cli(tmp_path, capsys, "archive", "--older-than", "-1")
    assert code == 1 and "--older-than -1" in out


def test_tag_says_the_tags_as_stored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression (new-user trial of 2026-12-01): `tag ID "Bad Tag!"` printed "tagged Bad Tag!"
    and stored bad-tag!."""
    polled(tmp_path, capsys)
    code, out = cli(tmp_path, capsys, "tag", "1001", "Bad Tag!", "#Sync", "sync")
    assert code == 0 and "tagged bad-tag! sync" in out and "Bad Tag!" not in out
    code, out = cli(tmp_path, capsys, "untag", "1001", "Bad Tag!")
    assert code == 0 and "untagged bad-tag!" in out
