"""Concurrent instances on one PostgreSQL database lose no update, and a server crash in the
middle of actions leaves each one committed whole or refused with a message (never half),
after which the same store object works again by itself."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cminbox.core.errors import CminboxError
from cminbox.core.models import Status
from cminbox.core.pg.open import open_postgres_store
from cminbox.core.pg.store import PgStore
from cminbox.core.sending_api import LeaseHolder
from cminbox.core.triage import AddTags, SetStatus
from tests.factories import make_message
from tests.pg_helpers import lease_of, open_store, pg_config
from tests.servers.pg_cluster import Cluster

ROOT = Path(__file__).resolve().parent.parent


def _run_together(*jobs: object) -> None:
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def wrap(job: object) -> None:
        barrier.wait()
        try:
            job()  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@pytest.mark.slow
def test_two_instances_acting_on_one_item_lose_no_update(pg_database: str) -> None:
    ana, bo = open_store(pg_database, instance="a:1:aa"), open_store(pg_database, instance="b:2:bb")
    try:
        ana.upsert_messages([make_message(n) for n in range(1, 41)])
        rounds = 60

        def tagger(store: PgStore, who: str) -> None:
            for i in range(rounds):
                store.act(["masto:1"], AddTags((f"{who}{i}",)), actor=who)

        _run_together(lambda: tagger(ana, "a"), lambda: tagger(bo, "b"))
        state = ana.triage("masto:1")
        assert set(state.tags) == {f"{w}{i}" for w in "ab" for i in range(rounds)}
        assert state.rev == 2 * rounds and len(state.history) == 2 * rounds
        # Bulk actions over the same 40 rows in opposite orders: row locks are taken in id
        # order, so neither deadlocks and both land on every row.
        ids = [f"masto:{n}" for n in range(1, 41)]
        _run_together(
            lambda: ana.act(ids, AddTags(("bulk-a",)), actor="a"),
            lambda: bo.act(list(reversed(ids)), AddTags(("bulk-b",)), actor="b"),
        )
        assert all({"bulk-a", "bulk-b"} <= set(s.tags) for _, s in ana.query(tag="bulk-a"))
        assert len(ana.query(tag="bulk-b")) == 40
    finally:
        ana.close()
        bo.close()


REFUSED = re.compile(r"the PostgreSQL store cm@127\.0\.0\.1:\d+/crash is unreachable \(.+\); nothing was changed\.")
IN_DOUBT = re.compile(r"went away while committing the action .*applied whole or not at all")


@pytest.mark.slow
def test_a_crash_during_actions_commits_or_refuses_each_whole(crashable: Cluster) -> None:
    dsn = crashable.create_database("crash")
    store = open_postgres_store(pg_config(dsn, connect_timeout=2), instance="c:1:cc")
    ids = [f"masto:{n}" for n in range(1, 51)]
    store.upsert_messages([make_message(n) for n in range(1, 51)])
    outcomes: list[tuple[int, str]] = []
    stop = threading.Event()

    def worker() -> None:
        i = 0
        while not stop.is_set():
            try:
                store.act(ids, AddTags((f"t{i}",)), actor="ana")  # 50 rows, one transaction
                outcomes.append((i, "ok"))
            except CminboxError as exc:
                outcomes.append((i, str(exc)))
                time.sleep(0.05)
            i += 1

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        time.sleep(0.5)
        crashable.stop("immediate")
        while sum(o != "ok" for _, o in outcomes) < 3:
            time.sleep(0.05)
        crashable.start()
        restarted = len(outcomes)
        deadline = time.monotonic() + 60
        while sum(o == "ok" for _, o in outcomes[restarted:]) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join()
    after = outcomes[restarted:]
    assert sum(o == "ok" for _, o in after) >= 3, "the store did not reconnect by itself"
    refused = [(i, o) for i, o in outcomes if o != "ok"]
    assert refused and all(REFUSED.fullmatch(o.split(" Try again")[0]) or IN_DOUBT.search(o) for _, o in refused), (
        refused
    )
    tags_per_item = [set(s.tags) for _, s in store.query()]
    for i, outcome in outcomes:
        holders = sum(f"t{i}" in tags for tags in tags_per_item)
        assert holders in (0, 50), f"action {i} half-applied ({holders}/50): {outcome}"
        if outcome == "ok":
            assert holders == 50, f"action {i} reported done but is not there"
        elif REFUSED.fullmatch(outcome.split(" Try again")[0]):
            assert holders == 0, f"action {i} refused but applied"
    store.act(ids[:1], SetStatus(Status.DONE), actor="ana")
    assert store.triage(ids[0]).status == Status.DONE
    store.close()


HOLDER = """
import sys, time
from tests.pg_helpers import lease_of, open_store
lease = lease_of(open_store(sys.argv[1], instance="dead:1:aa"), "dead:1:aa", ttl=float(sys.argv[2]))
assert lease.acquire()
print("holding", flush=True)
time.sleep(600)
"""


@pytest.mark.slow
def test_a_killed_lease_holder_is_replaced_within_the_lease_time(pg_database: str) -> None:
    ttl = 2.0
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, pg_database, str(ttl)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    store = open_store(pg_database, instance="next:2:bb")
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
        lease = lease_of(store, "next:2:bb", ttl=ttl)
        assert not lease.acquire()
        holder = lease.holder()
        assert holder is not None and holder.instance == "dead:1:aa"
        assert holder.expires_in is not None and 0 < holder.expires_in <= ttl  # by the server's clock
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed = time.monotonic()
        while not lease.acquire():
            time.sleep(0.1)
        # Taken over once the dead holder's last renewal expired: within one lease time of the kill.
        assert time.monotonic() - killed <= ttl + 2.0
        assert lease.holder() == LeaseHolder(instance="next:2:bb", pid=0)
        lease.release()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        store.close()


def test_closing_with_the_server_gone_does_not_wait_out_each_goodbye(crashable: Cluster) -> None:
    """An instance closing after its server went away (the team demo's second teammate, once
    the first quit and took the server with it) waited the pool's full timeout for each
    goodbye write, this instance's presence record and its poller lease, and then for the
    pool: a blank screen for 21-26 s after `q`. Both expire by themselves; each now waits
    db.GOODBYE_WAIT. The bound asserted is a hang check (15 s before, at the default
    connect_timeout), not a speed claim."""
    dsn = crashable.create_database("goodbye")
    store = open_postgres_store(pg_config(dsn, connect_timeout=10), instance="g:1:gg")  # the default
    store.set_presence("bob", "masto:1")
    assert store.poller_lease().acquire()
    crashable.stop("immediate")
    started = time.monotonic()
    store.close()
    took = time.monotonic() - started
    print(f"closed in {took:.1f} s with the server gone")
    assert took < 8, took
