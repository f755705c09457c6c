"""`cminbox reply` asks before answering an item a teammate answered meanwhile: it refuses,
showing that reply, unless --force."""

from __future__ import annotations

from pathlib import Path

import pytest

from cminbox.core.outbox import Outbox, OutboxKind
from cminbox.core.store import Store
from tests.test_cli_truthful import cli, polled


def test_reply_refuses_after_a_teammates_reply_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    polled(tmp_path, capsys)
    store = Store(tmp_path / "data")
    [mid] = [m for m in store.message_ids() if m.endswith("1001")]
    Outbox(store.dir, store.lock).enqueue(OutboxKind.REPLY, mid, "masto", {"text": "Fixed in 1.2, thanks!"}, "bob")
    (tmp_path / "config.toml").write_text((tmp_path / "config.toml").read_text() + '\n[team]\nme = "ana"\n')

    code, out = cli(tmp_path, capsys, "reply", "1001", "--text", "On it!", "--queue-only")
    assert code != 0
    assert 'bob queued a reply just now: "Fixed in 1.2, thanks!"' in out and "--force" in out
    assert Store(tmp_path / "data").get_draft(mid) == "On it!"  # nothing lost, nothing queued
    assert [i.actor for i in Outbox(store.dir, store.lock).items()] == ["bob"]

    code, out = cli(tmp_path, capsys, "reply", "1001", "--text", "On it!", "--queue-only", "--force")
    assert code == 0, out
    assert sorted(i.actor for i in Outbox(store.dir, store.lock).items()) == ["ana", "bob"]
    # Your own earlier reply is no news: only bob's is shown (two of your own replies in a row
    # go without asking: test_cli_truthful's test_reply_queue_only_says_who_will_send_it).
    code, out = cli(tmp_path, capsys, "reply", "1001", "--text", "And done.", "--queue-only")
    assert code != 0 and "bob queued" in out and "ana" not in out
