"""login, doctor, doctor --repair and reply --editor, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import pytest

from cminbox.cli import main
from cminbox.core.store import Store
from tests.conftest import cli_env, run_cli


def write_config(tmp_path: Path, demo_server: str, token_line: str = "") -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[[channels]]\nname = "demo"\ntype = "mastodon"\nurl = "{demo_server}"\n{token_line}\n')
    return cfg


def test_login_stores_in_the_keyring_and_checks_the_token(
    tmp_path: Path, demo_server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path, demo_server)
    monkeypatch.setenv("CMINBOX_TOKEN", "demo-token")
    assert main(["--config", str(cfg), "--data-dir", str(tmp_path / "d"), "login", "demo", "--from-env"]) == 0
    out = capsys.readouterr().out
    assert "stored the token for 'demo'" in out and "authorised as @lumen@demo.lumen.community" in out
    assert keyring.get_password("cminbox", "demo") == "demo-token"
    assert "demo-token" not in cfg.read_text()


def test_login_with_a_wrong_token_says_so(
    tmp_path: Path, demo_server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path, demo_server)
    monkeypatch.setenv("CMINBOX_TOKEN", "wrong-token")
    assert main(["--config", str(cfg), "--data-dir", str(tmp_path / "d"), "login", "demo", "--from-env"]) == 1
    assert "rejected the token (401)" in capsys.readouterr().out


def test_login_without_a_usable_keyring_explains(tmp_path: Path, demo_server: str) -> None:
    cfg = write_config(tmp_path, demo_server)
    result = run_cli("--config", str(cfg), "login", "demo", "--from-env", env=cli_env(CMINBOX_TOKEN="x1234"))
    assert result.returncode == 1 and "no keyring backend" in result.stderr and "token_command" in result.stderr


def test_doctor_all_good_and_repair(tmp_path: Path, demo_server: str) -> None:
    cfg = write_config(tmp_path, demo_server, 'token_command = "printf demo-token"')
    env = cli_env(
        CMINBOX_CONFIG=str(cfg),
        CMINBOX_DATA_DIR=str(tmp_path / "d"),
        # "all good" needs a usable keyring (an unusable one is a problem even with token_command).
        PYTHON_KEYRING_BACKEND="tests.memkeyring.SharedTestKeyring",
        CMINBOX_TEST_KEYRING=str(tmp_path / "keyring.json"),
    )
    ok = run_cli("doctor", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "authorised as @lumen" in ok.stdout and ok.stdout.strip().endswith("all good")
    run_cli("poll", "--once", env=env)
    shard = next((tmp_path / "d" / "triage").glob("*.json"), None) or (tmp_path / "d" / "state" / "cursors.json")
    shard.write_text("{ not json")
    broken = run_cli("doctor", env=env)
    assert broken.returncode == 1 and str(shard) in broken.stdout
    listed = run_cli("list", env=env)  # the rest of the store still works, with a warning naming the file
    assert listed.returncode == 0 and "demo:" in listed.stdout
    assert str(shard) in listed.stderr and "Traceback" not in listed.stderr
    assert shard.read_text() == "{ not json"  # nothing overwritten until the user decides
    repaired = run_cli("doctor", "--repair", env=env)
    assert f"{shard}: kept 0 document(s)" in repaired.stdout and "all good" not in repaired.stdout
    assert list((tmp_path / "d" / "backups").glob(f"repair-*/*/{shard.name}"))  # the original is kept
    assert run_cli("doctor", env=env).returncode == 0


def test_reply_through_the_editor(tmp_path: Path, demo_server: str) -> None:
    cfg = write_config(tmp_path, demo_server, 'token_command = "printf demo-token"')
    editor = tmp_path / "fake-editor.sh"
    editor.write_text(
        '#!/bin/sh\ngrep -q "^# > " "$1" || exit 9\nsed -i "1s/^/Thanks for writing in, we are on it./" "$1"\n'
    )
    editor.chmod(0o755)
    env = cli_env(CMINBOX_CONFIG=str(cfg), CMINBOX_DATA_DIR=str(tmp_path / "d"), EDITOR=str(editor))
    run_cli("poll", "--once", env=env)
    mid = json.loads(run_cli("list", "--json", "--limit", "1", env=env).stdout)[0]["id"]
    result = run_cli("reply", mid, "--editor", env=env)
    assert result.returncode == 0 and "sent reply" in result.stdout, result.stdout + result.stderr
    outbox = json.loads(run_cli("outbox", "--all", "--json", env=env).stdout)
    assert outbox[0]["payload"]["text"] == "Thanks for writing in, we are on it."
    assert Store(tmp_path / "d").triage(mid).first_response_at is not None
