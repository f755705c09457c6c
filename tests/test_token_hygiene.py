"""Tokens never reach the store, the outbox, exports, history or the log."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import cli_env, run_cli

SECRET = "tok-must-never-leak-1234"


def test_token_never_written_anywhere(tmp_path: Path, demo_server: str) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[[channels]]\nname = "d"\ntype = "mastodon"\nurl = "{demo_server}"\ntoken_command = "printf {SECRET}"\n'
    )
    home = tmp_path / "home"
    env = cli_env(
        CMINBOX_CONFIG=str(cfg),
        CMINBOX_DATA_DIR=str(tmp_path / "data"),
        HOME=str(home),
        XDG_STATE_HOME=str(home / "state"),
        CMINBOX_DEBUG="1",
    )
    result = run_cli("poll", "--once", env=env)  # a wrong token: 401 from the demo server
    assert "auth-failed" in result.stdout
    run_cli("list", "--json", env=env)
    run_cli("channels", "--json", env=env)
    written = [p for p in (tmp_path / "data").rglob("*") if p.is_file()] + [p for p in home.rglob("*") if p.is_file()]
    assert written
    for path in written:
        assert SECRET not in path.read_text(errors="replace"), path
    assert SECRET not in result.stdout + result.stderr
    assert SECRET not in cfg.read_text().replace(f"printf {SECRET}", "")
    health = json.loads(run_cli("channels", "--json", env=env).stdout)
    assert health[0]["state"] == "auth-failed"
