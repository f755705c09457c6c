"""Durability under SIGKILL and two writers: every acknowledged action survives."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cminbox.core.store import Store
from tests.backend.contract import check_event_log
from tests.conftest import ROOT, cli_env, run_cli
from tests.factories import make_message

pytestmark = pytest.mark.slow


def seed(data: Path, n: int = 20) -> list[str]:
    store = Store(data)
    store.upsert_messages([make_message(i) for i in range(n)])
    return [f"masto:{i}" for i in range(n)]


def start_writer(data: Path, prefix: str, first: int, count: int, ids: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.crash_writer", str(data), prefix, str(first), str(count), *ids],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=cli_env(),
    )


def test_sigkill_of_real_cli_processes(tmp_path: Path) -> None:
    """The same guarantee, with separate `cminbox tag` commands as a script would run them."""
    data = tmp_path / "data"
    ids = seed(data, 5)
    env = cli_env()
    acked = []
    for n in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-m", "cminbox", "--data-dir", str(data), "tag", ids[n % 5], f"c{n}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        if n % 3 == 2:
            time.sleep(random.Random(n).uniform(0.05, 0.4))
            proc.kill()
        out, _ = proc.communicate()
        if proc.returncode == 0 and "tagged" in out:
            acked.append((n, ids[n % 5]))
    store = Store(data)
    for n, mid in acked:
        assert f"c{n}" in store.triage(mid).tags
    assert len(acked) >= 8
    check_event_log(store)  # every tag that landed has its event, and no killed one left an event


def test_two_processes_tagging_at_once_lose_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ids = seed(data, 20)
    a = start_writer(data, "a", 0, 150, ids[:10])
    b = start_writer(data, "b", 0, 150, ids[10:])
    out_a, _ = a.communicate(timeout=300)
    out_b, _ = b.communicate(timeout=300)
    assert a.returncode == 0 and b.returncode == 0, (out_a[-500:], out_b[-500:])
    store = Store(data)
    for prefix, subset in (("a", ids[:10]), ("b", ids[10:])):
        for n in range(150):
            assert f"{prefix}{n}" in store.triage(subset[n % 10]).tags


def test_two_processes_on_the_same_messages_lose_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ids = seed(data, 4)
    procs = [start_writer(data, p, 0, 100, ids) for p in ("x", "y")]
    for p in procs:
        p.communicate(timeout=300)
        assert p.returncode == 0
    store = Store(data)
    for prefix in ("x", "y"):
        for n in range(100):
            assert f"{prefix}{n}" in store.triage(ids[n % 4]).tags


def test_cli_reports_the_action_only_after_it_is_durable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    seed(data, 2)
    result = run_cli("--data-dir", str(data), "tag", "masto:1", "urgent")
    assert result.returncode == 0 and "tagged urgent" in result.stdout
    assert "urgent" in Store(data).triage("masto:1").tags
    assert os.environ.get("CMINBOX_FAILPOINT") is None
