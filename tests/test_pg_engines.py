"""Real app instances (the engine's run loop, wired as the app wires it) on one PostgreSQL
database: the polling instance killed with SIGKILL is replaced within the lease time with no
reply sent twice; a server crash (``pg_ctl stop -m immediate``) while they act refuses actions
with a message, and after the restart every instance acts, polls and sends again by itself,
and a store's change listener listens again.

The instances are ``tests/pg_engine_proc.py`` processes; their channel records every send with
its idempotency key, and says ``dup`` for a key it saw before (as a server honouring the key
would, posting nothing).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cminbox.core.errors import CminboxError
from cminbox.core.events import EventKind
from cminbox.core.outbox import OutboxStatus
from cminbox.core.pg.lease import TTL_SECONDS
from cminbox.core.pg.open import open_postgres_store
from cminbox.core.triage import AddTags
from tests.backend.contract import check_event_log
from tests.conftest import ROOT, cli_env
from tests.factories import make_message
from tests.pg_helpers import open_store, pg_config
from tests.servers.pg_cluster import Cluster
from tests.test_pg_concurrency import IN_DOUBT, REFUSED

pytestmark = pytest.mark.slow


class Instance:
    """One app instance: its process, and the lines it printed so far (read on a thread)."""

    def __init__(self, tmp: Path, dsn: str, me: str, *, connect_timeout: int = 5, host: str = "") -> None:
        self.me = me
        config = tmp / f"{me}.toml"
        config.write_text(
            f'[user]\nname = "{me}"\n\n[store]\nbackend = "postgresql"\ndsn = "{dsn}"\n'
            f'connect_timeout = {connect_timeout}\n\n[[channels]]\nname = "masto"\ntype = "mastodon"\n'
            'url = "https://m.example"\n'
        )
        self.stderr = (tmp / f"{me}.log").open("wb")
        # ``host``: an instance id naming another machine (its pid cannot be checked from here).
        identity = ["--instance", f"{host}:{1000 + len(me)}:{me}"] if host else []
        argv = [sys.executable, "-m", "tests.pg_engine_proc", str(config), str(tmp / f"data-{me}"), str(tmp), me]
        self.proc = subprocess.Popen(
            [*argv, *identity],
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            cwd=ROOT,
            env=cli_env(),
        )
        self.pid = self.proc.pid
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def seen(self, kind: str, after: float = 0.0) -> list[list[str]]:
        """The lines of ``kind`` (ACTIVE, ACK, REFUSED, STALL) printed at or after ``after``."""
        fields = [line.split() for line in list(self.lines) if line.startswith(kind + " ")]
        stamp = {"ACTIVE": 2, "STALL": 2, "REFUSED": 1}
        return [f for f in fields if float(f[stamp[kind]] if kind in stamp else f[-1]) >= after]

    def finish(self) -> None:
        if self.proc.poll() is None:
            self.proc.wait(timeout=60)
        self._reader.join()
        self.stderr.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()  # reaped: a zombie still answers kill(pid, 0)
        self._reader.join()
        self.stderr.close()


def wait_for(what: str, ready: Callable[[], object], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        time.sleep(0.05)


def sent_log(tmp: Path) -> list[list[str]]:
    """``[key, pid, time, new|dup]`` per reply attempt the channel saw."""
    path = tmp / "sent.log"
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


def queued(instances: list[Instance]) -> set[str]:
    return {f[2] for i in instances for f in i.seen("ACK") if f[1] == "out"}


def seeded(dsn: str) -> None:
    store = open_store(dsn, instance="seed:1:aa")
    store.upsert_messages([make_message(n) for n in range(1, 21)])
    store.close()


@pytest.fixture
def instances() -> Iterator[list[Instance]]:
    running: list[Instance] = []
    yield running
    for inst in running:
        inst.kill()


def test_a_killed_polling_instance_is_replaced_within_the_lease_time_and_sends_nothing_twice(
    tmp_path: Path, pg_database: str, instances: list[Instance]
) -> None:
    seeded(pg_database)
    (tmp_path / "hold").touch()  # the first reply stays in flight: sent, not yet marked sent
    instances += [Instance(tmp_path, pg_database, me) for me in ("ana", "bo", "cy")]
    wait_for("an instance takes the lease", lambda: any(i.seen("ACTIVE") for i in instances), 30)
    [first] = [i for i in instances if i.seen("ACTIVE")]
    wait_for("a reply in flight", lambda: any(f[1] == str(first.pid) for f in sent_log(tmp_path)), 30)
    first.kill()
    killed = time.time()
    (tmp_path / "hold").unlink()
    others = [i for i in instances if i is not first]
    wait_for("another takes over", lambda: any(i.seen("ACTIVE") for i in others), TTL_SECONDS + 30)
    [(new, took_at)] = [(i, float(i.seen("ACTIVE")[0][2])) for i in others if i.seen("ACTIVE")]
    takeover = took_at - killed
    # The dead holder's last renewal expires within one lease time of the kill, and a passive
    # instance tries again as soon as it does (1 s: process scheduling on a busy machine).
    assert takeover <= TTL_SECONDS + 1.0, takeover
    [in_flight] = [f[0] for f in sent_log(tmp_path) if f[1] == str(first.pid)]
    wait_for(
        "the reply in flight retried", lambda: [in_flight, str(new.pid)] in [f[:2] for f in sent_log(tmp_path)], 30
    )
    (tmp_path / "quiet").touch()
    store = open_store(pg_database, instance="check:1:cc")
    try:
        unsent = (OutboxStatus.PENDING, OutboxStatus.SENDING)
        wait_for("the outbox drained", lambda: not [x for x in store.outbox.items() if x.status in unsent], 60)
        (tmp_path / "stop").touch()
        for inst in others:
            inst.finish()
            assert inst.proc.returncode == 0 and inst.lines[-1] == "EXIT", inst.lines[-3:]
        attempts = sent_log(tmp_path)
        # Every reply in the outbox (the killed instance may have queued one it had no time to print).
        assert {item.status for item in store.outbox.items()} == {OutboxStatus.SENT}
        keys = {item.idempotency_key for item in store.outbox.items()}
        assert {f"cminbox-{item_id}" for item_id in queued(instances)} <= keys
        effective = Counter(f[0] for f in attempts if f[3] == "new")
        # Every queued reply reached the channel, each posted once; the one attempt repeated is
        # the reply in flight when its sender was killed, retried by the new poller with its key.
        assert set(effective) == keys and set(effective.values()) == {1}
        assert [f[:2] for f in attempts if f[3] == "dup"] == [[in_flight, str(new.pid)]]
        sent_events = Counter(e.group for e in store.events() if e.kind == EventKind.SENT)
        assert {f"cminbox-{g}" for g in sent_events} == keys and set(sent_events.values()) == {1}
        # Only the lease holder polled: the killed one before its death, the new one after it took over.
        polls = [line.split() for line in (tmp_path / "poll.log").read_text().splitlines()]
        assert {p[1] for p in polls} == {str(first.pid), str(new.pid)}
        assert all(float(p[2]) < killed for p in polls if p[1] == str(first.pid))
        assert all(float(p[2]) >= took_at for p in polls if p[1] == str(new.pid))
        for inst in instances:
            for f in inst.seen("ACK"):
                assert f[1] != "tag" or f[3] in store.triage(f[2]).tags, f"lost {f}"
        assert not any(i.seen("REFUSED") for i in instances)
        check_event_log(store)
    finally:
        store.close()
    print(f"\ntakeover {takeover:.1f} s after the kill (lease {TTL_SECONDS:.0f} s); {len(keys)} replies")


def test_a_killed_sender_on_another_host_has_its_reply_in_flight_sent_by_the_new_poller_at_takeover(
    tmp_path: Path, pg_database: str, instances: list[Instance]
) -> None:
    """Instances on other hosts: the killed one's claim cannot be judged by its pid, yet the
    reply it had in flight is retried as soon as another instance holds the lease (its claim
    belongs to a lease that was taken over), not when the claim's 120 s run out; once."""
    seeded(pg_database)
    (tmp_path / "hold").touch()
    instances += [Instance(tmp_path, pg_database, me, host=f"{me}.example") for me in ("ana", "bo")]
    wait_for("an instance takes the lease", lambda: any(i.seen("ACTIVE") for i in instances), 30)
    [first] = [i for i in instances if i.seen("ACTIVE")]
    wait_for("a reply in flight", lambda: any(f[1] == str(first.pid) for f in sent_log(tmp_path)), 30)
    first.kill()
    (tmp_path / "hold").unlink()
    [other] = [i for i in instances if i is not first]
    wait_for("the other takes over", lambda: other.seen("ACTIVE"), TTL_SECONDS + 30)
    took_at = float(other.seen("ACTIVE")[0][2])
    [in_flight] = [f[0] for f in sent_log(tmp_path) if f[1] == str(first.pid)]

    def retried() -> list[float]:
        return [float(f[2]) for f in sent_log(tmp_path) if f[:2] == [in_flight, str(other.pid)]]

    wait_for("the reply in flight retried by the new poller", retried, 30)
    after = retried()[0] - took_at
    # Its first delivery round (every 2 s), not LEASE (120 s) after the claim.
    assert after <= 5.0, after
    (tmp_path / "quiet").touch()
    store = open_store(pg_database, instance="check:1:cc")
    try:
        unsent = (OutboxStatus.PENDING, OutboxStatus.SENDING)
        wait_for("the outbox drained", lambda: not [x for x in store.outbox.items() if x.status in unsent], 60)
        (tmp_path / "stop").touch()
        other.finish()
        assert other.proc.returncode == 0 and other.lines[-1] == "EXIT", other.lines[-3:]
        attempts = sent_log(tmp_path)
        keys = {item.idempotency_key for item in store.outbox.items()}
        effective = Counter(f[0] for f in attempts if f[3] == "new")
        assert set(effective) == keys and set(effective.values()) == {1}  # each reply posted once
        assert [f[:2] for f in attempts if f[3] == "dup"] == [[in_flight, str(other.pid)]]
        sent_events = Counter(e.group for e in store.events() if e.kind == EventKind.SENT)
        assert {f"cminbox-{g}" for g in sent_events} == keys and set(sent_events.values()) == {1}
        check_event_log(store)
    finally:
        store.close()
    print(f"\nthe reply in flight was retried {after:.1f} s after the takeover")


def test_a_server_crash_refuses_actions_and_every_instance_resumes_by_itself(
    tmp_path: Path, crashable: Cluster, instances: list[Instance]
) -> None:
    dsn = crashable.create_database("crash")
    seeded(dsn)
    instances += [Instance(tmp_path, dsn, me, connect_timeout=2) for me in ("ana", "bo")]
    wait_for("an instance takes the lease", lambda: any(i.seen("ACTIVE") for i in instances), 30)
    wait_for("both act", lambda: all(len(i.seen("ACK")) >= 5 for i in instances), 30)
    down = time.time()
    crashable.stop("immediate")
    # Long enough for the poller's lease renewal to fail too.
    wait_for("both refused", lambda: all(i.seen("REFUSED", down) for i in instances) and time.time() > down + 5, 60)
    crashable.start()
    up = time.time()
    wait_for("both act again", lambda: all(i.seen("ACK", up) for i in instances), 60)
    reconnect = [float(i.seen("ACK", up)[0][-1]) - up for i in instances]
    wait_for("the lease taken again", lambda: any(i.seen("ACTIVE", up) for i in instances), TTL_SECONDS + 30)
    resumed = min(float(f[2]) for i in instances for f in i.seen("ACTIVE", up)) - up

    def queued_after() -> set[str]:
        return {f"cminbox-{f[2]}" for i in instances for f in i.seen("ACK", up) if f[1] == "out"}

    wait_for("a reply queued after the restart", queued_after, 30)
    after = queued_after()
    wait_for("it is sent", lambda: after <= {f[0] for f in sent_log(tmp_path)}, 30)
    (tmp_path / "quiet").touch()
    (tmp_path / "stop").touch()
    for inst in instances:
        inst.finish()
        assert inst.proc.returncode == 0 and inst.lines[-1] == "EXIT", inst.lines[-3:]
    # The instances' event loops were never held up by the dead server.
    assert not [f for i in instances for f in i.seen("STALL")]
    store = open_store(dsn, instance="check:1:cc")
    try:
        for inst in instances:
            for f in inst.seen("ACK"):
                assert f[1] != "tag" or f[3] in store.triage(f[2]).tags, f"lost {f}"
            for f in inst.seen("REFUSED"):
                kind, mid, tag, message = f[2], f[3], f[4], " ".join(f[5:])
                refused = REFUSED.fullmatch(message.split(" Try again")[0])
                assert refused or IN_DOUBT.search(message), message
                if kind == "tag" and refused:
                    assert tag not in store.triage(mid).tags, f"refused but applied: {f}"
        assert Counter(f[0] for f in sent_log(tmp_path) if f[3] == "new").most_common(1)[0][1] == 1
    finally:
        store.close()
    print(f"\nreconnected {max(reconnect):.1f} s after the restart; the lease resumed after {resumed:.1f} s")


def test_the_change_listener_listens_again_after_a_server_crash(crashable: Cluster) -> None:
    dsn = crashable.create_database("listen")
    ana, bo = open_store(dsn, instance="a:1:aa"), open_store(dsn, instance="b:2:bb")
    try:
        ana.upsert_messages([make_message(1)])
        assert bo.wait_for_change(0.2) is True  # the first call: what came before LISTEN is read
        assert bo.wait_for_change(0.2) is False  # listening, nothing committed since
        crashable.stop("immediate")
        assert bo.wait_for_change(10) is True  # the outage: changes may have been missed, read again
        crashable.start()
        up = time.monotonic()
        # A quiet timeout (False) only comes from a live LISTEN connection: an outage says True.
        wait_for("listening again", lambda: bo.wait_for_change(0.3) is False, 60)
        relisten = time.monotonic() - up
        woke: list[bool] = []
        waiter = threading.Thread(target=lambda: woke.append(bo.wait_for_change(10)))
        waiter.start()
        time.sleep(0.2)
        ana.act(["masto:1"], AddTags(("after",)), actor="ana")
        waiter.join()
        assert woke == [True] and "masto:1" in bo.refresh()
    finally:
        ana.close()
        bo.close()
    print(f"\nlistening again {relisten:.1f} s after the restart")


def test_after_a_long_outage_the_store_reconnects_as_soon_as_the_server_is_back(crashable: Cluster) -> None:
    """The pool's background reconnection backs off (1, 2, 4, 8, 16 s...): after a 20 s outage
    its next try could come 10 s after the server is back, refusing every action meanwhile. An
    action itself starts a fresh try once the pool's round of tries has given up."""
    dsn = crashable.create_database("outage")
    store = open_postgres_store(pg_config(dsn, connect_timeout=1), instance="o:1:aa")
    try:
        store.upsert_messages([make_message(1)])
        crashable.stop("immediate")
        down = time.monotonic()
        while time.monotonic() < down + 20:
            with pytest.raises(CminboxError):
                store.act(["masto:1"], AddTags(("down",)), actor="ana")
            time.sleep(0.2)
        crashable.start()
        up = time.monotonic()
        while True:
            try:
                store.act(["masto:1"], AddTags(("back",)), actor="ana")
                break
            except CminboxError:
                assert time.monotonic() < up + 60, "never reconnected"
                time.sleep(0.1)
        reconnect = time.monotonic() - up
        # Within a few seconds (a try every 1-2 s while actions ask), not after the backoff's next step.
        assert reconnect <= 5.0, reconnect
        assert "back" in store.triage("masto:1").tags and "down" not in store.triage("masto:1").tags
    finally:
        store.close()
    print(f"\nacting again {reconnect:.1f} s after a 20 s outage ended")
