"""Eight writer processes on one PostgreSQL database, half of them as other hosts.

Acceptance of issue #12: 8 processes x 500 mixed actions (tags, status/assign/priority/note,
new messages, queued replies, and claiming and "sending" due replies) on one database; four
share this host's data folder and identity scheme, four act as other hosts (their own data
folder, an instance id naming another host, their own person). Then: 0 lost updates (every
acknowledged action is there, and there are exactly as many action events as acknowledged
changes), every reply sent exactly once (the send log), and identical final views.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from pathlib import Path

import pytest

from cminbox.core.events import EventKind
from tests.backend.contract import check_event_log
from tests.factories import make_message
from tests.pg_helpers import open_store
from tests.test_store_torture import Lines, check_acknowledged, writer

pytestmark = pytest.mark.slow
PROCESSES, ACTIONS = 8, 500


def team_config(tmp_path: Path, dsn: str, me: str) -> Path:
    path = tmp_path / f"config-{me}.toml"
    path.write_text(f'[user]\nname = "{me}"\n\n[store]\nbackend = "postgresql"\ndsn = "{dsn}"\nconnect_timeout = 10\n')
    return path


def test_eight_processes_half_on_other_hosts_500_mixed_actions_each(tmp_path: Path, pg_database: str) -> None:
    seeder = open_store(pg_database, instance="seed:1:aa")
    seeder.upsert_messages([make_message(i) for i in range(30)])
    seeder.close()
    sendlog = tmp_path / "sent.log"
    barrier = tmp_path / "verify-now"
    procs = []
    for i in range(PROCESSES):
        me = f"p{i}"
        extra = [
            "--deliver",
            str(sendlog),
            "--barrier",
            str(barrier),
            "--config",
            str(team_config(tmp_path, pg_database, me)),
        ]
        if i < PROCESSES // 2:
            data = tmp_path / "data"  # this host: one data folder, the real host:pid:random identity
        else:  # another host: its own data folder and an instance id naming another machine
            data = tmp_path / f"data-host{i}"
            extra += ["--instance", f"host{i}.example:{4000 + i}:{secrets.token_hex(3)}"]
        procs.append(writer(data, me, i, ACTIONS, *extra))
    started = time.monotonic()
    outputs: list[list[str]] = [[] for _ in procs]
    readers = [Lines(proc) for proc in procs]
    deadline = time.monotonic() + 600
    for i, proc in enumerate(procs):
        while "DONE" not in outputs[i]:
            got = readers[i].read(min(deadline, time.monotonic() + 5))
            assert got or proc.poll() is None, f"writer {i} died: {outputs[i][-3:]}"
            outputs[i] += got
            assert time.monotonic() < deadline
    acting = time.monotonic() - started
    barrier.touch()  # every writer has finished: each now reads the database and reports what it sees
    for i, proc in enumerate(procs):
        rest, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        outputs[i] += rest.decode().split("\n")
    views = {line for out in outputs for line in out if line.startswith("VIEW")}
    assert len(views) == 1, views  # every process's final view is identical

    store = open_store(pg_database, instance="check:1:cc")
    try:
        outbox = store.outbox
        acks = [line for out in outputs for line in out if line.startswith("ACK")]
        per_writer = [sum(line.startswith("ACK") for line in out) for out in outputs]
        assert per_writer == [ACTIONS] * PROCESSES
        check_acknowledged(store, outbox, acks)
        # 0 lost updates, and none invented: one action event per acknowledged change.
        changed = sum(
            line.split()[1] == "tag" or (line.split()[1] == "act" and line.split()[3] != "-") for line in acks
        )
        events = store.events()
        assert sum(e.kind == EventKind.ACTION for e in events) == changed
        assert {e.actor for e in events if e.kind == EventKind.ACTION} == {f"p{i}" for i in range(PROCESSES)}
        hosts = Counter(e.instance.partition(":")[0] for e in events if e.kind == EventKind.ACTION)
        assert len(hosts) == 1 + PROCESSES // 2, hosts  # this host and the four others, each recorded
        # Drain what is still queued, then: every reply sent exactly once.
        while claimed := outbox.claim_due(50):
            for item in claimed:
                with sendlog.open("a") as log:
                    log.write(f"{item.id} final\n")
                outbox.mark_sent(item, {"id": "x"})
        sends = Counter(line.split()[0] for line in sendlog.read_text().splitlines())
        queued = {line.split()[2] for line in acks if line.split()[1] == "out"}
        assert set(sends) == queued and max(sends.values()) == 1, [k for k, v in sends.items() if v > 1]
        senders = Counter(line.split()[1] for line in sendlog.read_text().splitlines())
        assert len(senders) > 2  # the replies were claimed by several writers, not by one
        check_event_log(store)
    finally:
        store.close()
    print(f"\n{PROCESSES} x {ACTIONS} actions in {acting:.1f} s; {len(queued)} replies, {sum(sends.values())} sends")
