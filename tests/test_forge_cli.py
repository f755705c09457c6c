"""GitHub, Discourse and Reddit end to end through the `cminbox` command, as a script would run it:
poll, reply killed right after the server accepted it (SIGKILL), flush again: one post, never two."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import cli_env, run_cli
from tests.forge_fakes import Fake, FakeDiscourse, FakeGitHub, FakeReddit

pytestmark = pytest.mark.slow


def github() -> tuple[Fake, str, Callable[[], int]]:
    fake = FakeGitHub()
    comment = fake.add_comment("acme/app", 9, "alice", "@cm-bot the build is red", minute=5)
    fake.notify(comment, title="CI broken")
    return (
        fake,
        'type = "github"\ntoken_command = "printf ghp_x"\n',
        lambda: sum(c["user"]["login"] == "cm-bot" for c in fake.comments),
    )


def discourse() -> tuple[Fake, str, Callable[[], int]]:
    fake = FakeDiscourse()
    fake.add_post(12, "alice", "How do I export?")
    return (
        fake,
        'type = "discourse"\naccount = "cm"\ntoken_command = "printf key"\n',
        lambda: sum(p["username"] == "cm" for p in fake.posts),
    )


def reddit() -> tuple[Fake, str, Callable[[], int]]:
    fake = FakeReddit()
    fake.receive("alice", "does it work offline?")
    creds = '{\\"client_secret\\":\\"app-secret\\",\\"password\\":\\"pw\\"}'
    conf = f'type = "reddit"\naccount = "cm_bot"\nclient_id = "app-id"\ntoken_command = "printf \'{creds}\'"\n'
    return fake, conf, lambda: len(fake.mine)


@pytest.mark.parametrize("build", [github, discourse, reddit], ids=["github", "discourse", "reddit"])
def test_reply_is_posted_once_across_a_kill_and_restart(
    tmp_path: Path, build: Callable[[], tuple[Fake, str, Callable[[], int]]]
) -> None:
    fake, conf, posted = build()
    with fake.serve() as base:
        extra = f'auth_url = "{base}/api/v1/access_token"\n' if isinstance(fake, FakeReddit) else ""
        if isinstance(fake, FakeGitHub):
            extra = "backfill_hours = 87600\n"  # the most allowed: the fake's dates are fixed
        cfg = tmp_path / "config.toml"
        cfg.write_text(f'[[channels]]\nname = "forge"\nurl = "{base}"\n{conf}{extra}')
        env = cli_env(CMINBOX_CONFIG=str(cfg), CMINBOX_DATA_DIR=str(tmp_path / "data"))
        polled = run_cli("poll", "--once", env=env)
        assert "1 new" in polled.stdout, polled.stdout + polled.stderr
        [row] = json.loads(run_cli("list", "--json", env=env).stdout)
        killed = run_cli(
            "reply", str(row["id"]), "--text", "Thanks, on it.", env={**env, "CMINBOX_FAILPOINT": "outbox.after_send"}
        )
        assert killed.returncode == -9 and posted() == 1  # the server has it; we never recorded it
        flushed = run_cli("outbox", "flush", env=env)
        assert "1 sent" in flushed.stdout, flushed.stdout + flushed.stderr
        assert posted() == 1  # the retry found the first post
        assert run_cli("outbox", "flush", env=env).stdout.strip().endswith("0 sent, 0 not sent")
        if isinstance(fake, FakeGitHub):
            # Done marks the notification thread read; `moderate` locks the issue: both via the outbox.
            assert run_cli("status", str(row["id"]), "done", env=env).returncode == 0
            locked = run_cli("moderate", str(row["id"]), "lock", "--reason", "resolved", env=env)
            assert locked.returncode == 0, locked.stdout + locked.stderr
            assert fake.locked == [("acme/app#9", "resolved")]
            shown = json.loads(run_cli("show", str(row["id"]), "--json", env=env).stdout)
            assert [n["text"] for n in shown["notes"]] == ["moderation: lock on forge (resolved)"]
            run_cli("outbox", "flush", env=env)
            assert fake.read == [fake.threads[0]["id"]]
            refused = run_cli("moderate", str(row["id"]), "remove", env=env)
            assert refused.returncode != 0 and "it can: lock, unlock, hide" in refused.stderr
