"""The single-poller lease: one holder at a time, taken over when the holder goes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from cminbox.core.instance import INSTANCE_ID
from tests.backend.conftest import Backend
from tests.conftest import ROOT, cli_env

HOLD = """
import sys, time
from cminbox.core.wiring import StoreSettings, open_store
lease = open_store(StoreSettings(__import__("pathlib").Path(sys.argv[1]))).poller_lease()
assert lease.acquire()
print("HELD", flush=True)
time.sleep(600)
"""


def test_one_holder_at_a_time_and_release_lets_another_take_it(backend: Backend) -> None:
    a, b = backend.open().poller_lease(), backend.open().poller_lease()
    assert a.holder() is None
    assert a.acquire() and a.held and a.acquire()  # taking it again is a no-op
    assert not b.acquire() and not b.held
    holder = b.holder()
    assert holder is not None and holder.instance == INSTANCE_ID and holder.pid == os.getpid()
    assert a.renew()
    a.release()
    assert not a.held and not a.renew()
    assert b.acquire() and b.held
    b.release()
    a.release()  # idempotent


def test_closing_the_store_releases_its_lease(backend: Backend) -> None:
    store = backend.open()
    lease = store.poller_lease()
    assert lease.acquire()
    store.close()
    assert backend.open().poller_lease().acquire()


def test_the_lease_of_a_killed_holder_is_taken_over(backend: Backend) -> None:
    if backend.name != "tinydb":  # a database backend's version of this needs its server: its own test
        return
    data = backend.make_settings(backend.key).data_dir
    backend.open()  # creates the store
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(data)], stdout=subprocess.PIPE, cwd=ROOT, env=cli_env())
    assert proc.stdout is not None and proc.stdout.readline() == b"HELD\n"
    lease = backend.open().poller_lease()
    holder = lease.holder()
    assert holder is not None and holder.pid == proc.pid and not lease.acquire()
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 5
    while not lease.acquire():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert lease.held
