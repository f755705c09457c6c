"""`cminbox demo` (and `make demo`) leaves no /tmp/cminbox-demo-* behind, unless --data-dir named it."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from cminbox.cli import main
from cminbox.tui import launch
from tests.conftest import ROOT, cli_env
from tests.pty_app import cminbox_in_pty


def leftovers(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("cminbox-demo-*"))


def run_text_demo(tmp: Path, *options: str) -> str:
    env = cli_env(TMPDIR=str(tmp))
    proc = subprocess.Popen(
        [sys.executable, "-m", "cminbox", *options, "demo", "--text", "--rate", "0", "--burst-after", "-1"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    seen = ""
    try:
        for line in proc.stdout:
            seen += line
            if "messages in the inbox" in line:  # running: the data dir is in use
                break
        assert leftovers(tmp) or options, seen
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    return seen


def test_the_text_demo_removes_its_data_dir_on_ctrl_c(tmp_path: Path) -> None:
    run_text_demo(tmp_path)
    assert leftovers(tmp_path) == []


def test_a_data_dir_the_user_named_is_kept(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    run_text_demo(tmp_path, "--data-dir", str(mine))
    assert (mine / "demo.toml").exists() and list((mine / "messages").glob("*.json"))


def test_a_second_run_on_a_kept_data_dir_counts_what_the_store_holds(tmp_path: Path) -> None:
    """Regression (new-user trial of 2026-12-01): the second run read "0 messages in the
    inbox" above twenty of them (it counted what that poll brought in)."""
    mine = tmp_path / "mine"
    first = run_text_demo(tmp_path, "--data-dir", str(mine))
    second = run_text_demo(tmp_path, "--data-dir", str(mine))
    held = [line.split()[0] for line in (first + second).splitlines() if "messages in the inbox" in line]
    assert len(held) == 2 and held[0] == held[1] and int(held[0]) > 100, first + second


def test_the_tui_demo_removes_its_data_dir_on_exit_and_on_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen: list[list[Path]] = []

    def quits(app: object, args: argparse.Namespace, mouse_default: bool) -> int:
        seen.append(leftovers(tmp_path))
        return 0

    monkeypatch.setattr(launch, "run", quits)
    assert main(["demo", "--rate", "0", "--burst-after", "-1"]) == 0
    assert seen[0] and leftovers(tmp_path) == []

    def crashes(app: object, args: argparse.Namespace, mouse_default: bool) -> int:
        seen.append(leftovers(tmp_path))
        raise KeyboardInterrupt

    monkeypatch.setattr(launch, "run", crashes)
    assert main(["demo", "--rate", "0", "--burst-after", "-1"]) == 130
    assert seen[1] and leftovers(tmp_path) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_the_tui_demo_killed_by_a_signal_removes_its_data_dir(tmp_path: Path, sig: signal.Signals) -> None:
    """`kill` or a closed tmux pane / SSH session ends the real TUI (in a pty) as `q` would."""
    with cminbox_in_pty("demo", "--rate", "0", "--burst-after", "-1", timeout=60, TMPDIR=str(tmp_path)) as app:
        seen = app.wait_for(b"needs reply")  # the inbox has drawn
        assert b"needs reply" in seen and leftovers(tmp_path), seen[-500:]
        app.signal_and_wait(sig)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("started_by", ["", "sh", "setsid"])
def test_the_tui_ends_when_its_terminal_is_gone(tmp_path: Path, started_by: str) -> None:
    """A dropped SSH session or a killed tmux server closes the terminal itself: every write
    fails, reads see the end. With something between the terminal and cminbox (tmux's `sh -c`,
    a task runner), no SIGHUP need reach the app ("setsid": none can). Regression of
    2026-12-02 (tui/terminal_writer.py; test_terminal_writer.py pins the mechanism): a demo
    ran on for 25 minutes after `tmux kill-server`, its UI thread waiting on a dead writer, a
    core spinning, and `kill` could not end it. The app now ends as `q` would, and the demo's
    data folder goes with it."""
    demo = ["demo", "--rate", "0", "--burst-after", "-1"]
    with cminbox_in_pty(*demo, timeout=60, started_by=started_by, TMPDIR=str(tmp_path)) as app:
        seen = app.wait_for(b"needs reply")
        assert b"needs reply" in seen and leftovers(tmp_path), seen[-500:]
        pid = app.cminbox_pid()
        time.sleep(1)  # frames drawn meanwhile wait in the terminal, unread
        os.close(app.fd)  # then it is gone
        ended = app.wait_gone(pid, 30)
    assert ended, "cminbox was still running 30 s after its terminal was gone"
    assert leftovers(tmp_path) == []
