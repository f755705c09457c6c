"""`cminbox demo --team`: a throwaway local PostgreSQL, two teammates' configs on one store.

Needs the PostgreSQL server programs (initdb, pg_ctl) and psycopg; locally a missing one
skips, under CI=true it fails. As root the server runs as `postgres`, which cannot enter
pytest's 0700 temp folders: the temp folders here are made in a folder it may traverse.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cminbox.core import config as config_mod
from cminbox.core.config import StoreConfig
from cminbox.core.events import EventKind
from cminbox.core.models import Status
from cminbox.core.pg import cluster as cluster_mod
from cminbox.core.pg import guardian
from cminbox.core.pg.cluster import LocalCluster, ServerMissingError
from cminbox.core.pg.connection import KEYRING_ENTRY
from cminbox.core.secrets import Secrets
from cminbox.core.wiring import wire
from cminbox.demo.team import start_team_demo
from tests.conftest import ROOT, cli_env, run_cli
from tests.factories import make_message
from tests.pty_app import cminbox_in_pty
from tests.servers.fixtures import _missing


def _alive(pid: int) -> bool:
    """Running (a stopped server's postmaster may linger as a zombie until init reaps it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def naming(text: str) -> set[int]:
    """Live processes whose command line contains ``text`` (a cluster's folder: its initdb,
    pg_ctl and postmaster name it), with their children (the server's backends do not)."""
    found: set[int] = set()
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or not _alive(int(entry.name)):
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            parents[int(entry.name)] = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if text in cmdline:
            found.add(int(entry.name))
    return found | {pid for pid, parent in parents.items() if parent in found}


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temp dir the `postgres` user can traverse (for the runs as root)."""
    try:
        cluster_mod.server_binaries()
        import psycopg  # noqa: F401
    except (ServerMissingError, ImportError) as exc:
        _missing("PostgreSQL server programs and psycopg", str(exc))
    folder = Path(tempfile.mkdtemp(prefix="cm-team-test-"))
    folder.chmod(0o711)
    try:
        yield folder
    finally:
        for pid in naming(str(folder)):  # a server a failed test left running (the ones it started)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)


def leftovers(folder: Path) -> list[Path]:
    return sorted([*folder.glob("cminbox-team-*"), *folder.glob("cminbox-pg-*")])


def test_missing_server_programs_name_the_package_and_exit_2(tmp_path: Path) -> None:
    done = run_cli("demo", "--team", "--text", env=cli_env(CMINBOX_PG_BIN=str(tmp_path), TMPDIR=str(tmp_path)))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    for package in ("apt install postgresql", "dnf install postgresql-server", "brew install postgresql@15"):
        assert package in done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing started, nothing left


def test_without_a_hint_of_postgresql_anywhere_the_message_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(cluster_mod.BIN_ENV, raising=False)
    monkeypatch.setattr(cluster_mod, "candidate_folders", list)
    with pytest.raises(ServerMissingError, match=r"server programs \(initdb, pg_ctl\).*apt install postgresql"):
        cluster_mod.server_binaries()


def test_the_throwaway_cluster_serves_a_store_and_is_removed_on_close(
    shared_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cminbox.core.pg.open import open_postgres_store

    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    with LocalCluster.start_new() as cluster:
        assert cluster.root.parent == shared_tmp
        pid = cluster.postmaster_pid()
        assert pid is not None and _alive(pid)
        cfg = StoreConfig(backend="postgresql", dsn=cluster.dsn)
        store = open_postgres_store(cfg, Secrets({KEYRING_ENTRY: cluster.password}))
        try:
            store.upsert_messages([make_message(1)])
            assert [m.id for m, _ in store.query()] == ["masto:1"]
            settings = store.db.read(
                lambda c: c.execute("SELECT current_setting('fsync'), current_setting('listen_addresses')").fetchone()
            )
            assert settings == ("on", "127.0.0.1")
        finally:
            store.close()
    assert not cluster.root.exists() and not _alive(pid)


def test_two_instances_from_the_generated_configs_share_one_store(
    shared_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    with start_team_demo("ana", rate=0, burst_after=-1) as team:
        assert (team.me, team.mate) == ("ana", "bob")
        # Each instance as its command would build it: its own config file, no in-process secrets.
        ana = wire(config_mod.load(team.config_path("ana")), team.data_dir("ana"), secrets=Secrets())
        bob = wire(config_mod.load(team.config_path("bob")), team.data_dir("bob"), secrets=Secrets())
        try:
            assert (ana.config.actor, bob.config.actor) == ("ana", "bob")
            ana.store.upsert_messages([make_message(n, channel="lumen") for n in range(3)])
            bob.store.refresh()
            assert len(bob.store) == 3

            ana.store.refresh()
            bob.inbox.tag(["lumen:1"], ["bug"])
            assert "lumen:1" in ana.store.refresh()
            assert ana.store.triage("lumen:1").tags == ("bug",)
            ana.inbox.set_status(["lumen:2"], Status.DONE)
            assert "lumen:2" in bob.store.refresh()
            assert bob.store.triage("lumen:2").status is Status.DONE
            actors = {(e.message_id, e.actor) for e in ana.store.events() if e.kind is EventKind.ACTION}
            assert actors == {("lumen:1", "bob"), ("lumen:2", "ana")}

            ana_lease, bob_lease = ana.store.poller_lease(), bob.store.poller_lease()
            assert ana_lease.acquire()  # one poller for the team
            assert not bob_lease.acquire()
            ana_lease.release()
        finally:
            ana.store.close()
            bob.store.close()
        script = team.script.read_text()
        assert f"--config {team.config_path('bob')}" in script and os.access(team.script, os.X_OK)
    assert leftovers(shared_tmp) == []


def test_the_text_team_demo_cleans_up_on_sigterm_while_a_teammate_works(shared_tmp: Path) -> None:
    env = cli_env(TMPDIR=str(shared_tmp))
    argv = [sys.executable, "-m", "cminbox", "demo", "--team", "--text", "--rate", "0", "--burst-after", "-1"]
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    seen = ""
    try:
        for line in proc.stdout:
            seen += line
            if "messages in the inbox" in line:
                break
        found = re.search(r"^  (.* --config \S+/bob\.toml .*)$", seen, re.MULTILINE)
        assert found, seen
        assert {p.name.split("-")[1] for p in leftovers(shared_tmp)} == {"team", "pg"}
        (pg_root,) = shared_tmp.glob("cminbox-pg-*")
        pid = int((pg_root / "data" / "postmaster.pid").read_text().split()[0])
        # The printed command, as bob: the same store (the headless verbs take it after the options).
        bob = [*shlex.split(found.group(1)), "list", "--status", "new"]
        listed = subprocess.run(bob, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert listed.returncode == 0 and listed.stdout.count("lumen:") >= 20, listed.stderr
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)
    assert leftovers(shared_tmp) == []


@pytest.mark.parametrize("moment", ["with its first folder made", "while its server starts", "with the inbox shown"])
def test_a_sigkilled_team_demo_leaves_no_server_and_no_temp_folder(shared_tmp: Path, moment: str) -> None:
    """SIGKILL runs no clean-up in the process: the guardian it started does (core/pg/guardian.py)."""
    env = cli_env(TMPDIR=str(shared_tmp))
    argv = [sys.executable, "-m", "cminbox", "demo", "--team", "--text", "--rate", "0", "--burst-after", "-1"]
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    try:
        if moment == "with the inbox shown":
            for line in proc.stdout:
                if "messages in the inbox" in line:
                    break
        else:  # the team folder, or initdb writing the cluster
            first = "cminbox-team-*" if moment == "with its first folder made" else "cminbox-pg-*/data"
            deadline = time.monotonic() + 60
            while not list(shared_tmp.glob(first)) and time.monotonic() < deadline:
                time.sleep(0.005)
        pg_root = shared_tmp / "cminbox-pg-"  # names every cluster folder while there is none yet
        if moment != "with its first folder made":
            (pg_root,) = shared_tmp.glob("cminbox-pg-*")
            assert naming(str(pg_root)), "nothing of the cluster is running"
        server = naming(str(pg_root))
        proc.kill()
        proc.wait()
        killed = time.monotonic()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    deadline = killed + 30
    while (naming(str(pg_root)) or any(map(_alive, server)) or leftovers(shared_tmp)) and time.monotonic() < deadline:
        time.sleep(0.1)
    took = time.monotonic() - killed
    assert naming(str(pg_root)) == set() and [pid for pid in server if _alive(pid)] == []
    assert leftovers(shared_tmp) == []
    print(f"\nSIGKILLed {moment}: no server and no folder {took:.1f} s later")


def test_the_next_team_demo_sweeps_what_a_dead_owner_left(tmp_path: Path) -> None:
    """Should the guardian have died too (or the machine rebooted with the temp dir on disk)."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = [tmp_path / f"cminbox-{kind}-{dead.stdout.strip()}-abc123-x1y2z3" for kind in ("team", "pg")]
    live = tmp_path / f"cminbox-team-{os.getppid()}-def456-x1y2z3"  # its owner runs
    for folder in [*gone, live]:
        (folder / "data").mkdir(parents=True)
    assert sorted(guardian.sweep(tmp_path)) == sorted(gone)
    assert [p.name for p in tmp_path.iterdir()] == [live.name]


async def test_the_first_teammates_tui_shows_the_seconds_action(
    shared_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One inbox screen (not two consuming each other's change feed), and bob's done reaches it."""
    from cminbox.core.clock import system_clock
    from cminbox.core.wiring import Setup
    from cminbox.tui.inbox_screen import InboxScreen
    from cminbox.tui.launch import team_app

    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    with start_team_demo("ana", rate=0, burst_after=-1) as team:
        app = team_app(team, Setup(config_mod.Config, team.data_dir("ana"), system_clock, team.secrets))
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            for _ in range(300):
                await pilot.pause(0.05)
                screen = app.screen
                # Every item read: a reload makes new row objects (the first rows come from the
                # launcher's early read, before the loader's full read replaces them).
                if isinstance(screen, InboxScreen) and screen.inbox_list.rows and screen.rows_complete:
                    break
            assert isinstance(screen, InboxScreen) and screen.inbox_list.rows
            assert sum(isinstance(s, InboxScreen) for s in app.screen_stack) == 1
            assert any("bob.toml" in str(n.message) for n in app._notifications)
            bob = wire(config_mod.load(team.config_path("bob")), team.data_dir("bob"), secrets=Secrets())
            listed = screen.inbox_list

            def status_of(mid: str) -> Status:
                return listed.rows[listed.index[mid]].state.status

            try:
                mid = listed.rows[0].message.id
                bob.inbox.set_status([mid], Status.DONE)
                for _ in range(100):
                    await pilot.pause(0.05)
                    if status_of(mid) is Status.DONE:
                        break
                assert status_of(mid) is Status.DONE
            finally:
                bob.store.close()
    assert leftovers(shared_tmp) == []


def test_without_the_driver_the_backends_own_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cminbox.cli import main

    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg raises ImportError
    assert main(["demo", "--team", "--text"]) == 1
    err = capsys.readouterr().err
    assert "pip install 'cminbox[postgresql]'" in err and "Traceback" not in err


def test_closing_the_pane_of_the_team_tui_stops_the_server_and_removes_both_folders(shared_tmp: Path) -> None:
    """SIGHUP (a closed tmux pane) ends the real TUI in a pty; the clean-up runs."""
    team = ("demo", "--team", "--rate", "0", "--burst-after", "-1")
    with cminbox_in_pty(*team, timeout=90, TMPDIR=str(shared_tmp)) as app:
        seen = app.wait_for(b"needs reply")  # the inbox has drawn
        assert b"needs reply" in seen, seen[-500:]
        (pg_root,) = shared_tmp.glob("cminbox-pg-*")
        server = int((pg_root / "data" / "postmaster.pid").read_text().split()[0])
        app.signal_and_wait(signal.SIGHUP)
    assert not _alive(server)
    assert leftovers(shared_tmp) == []
