"""A terminal that stops taking output (an SSH link that stalls, a terminal paused) never stops
the inbox: keys are still acted on and written to the store; the frames the terminal cannot
take are dropped, and the whole screen is drawn once it takes output again.

Before 2026-12-02 the UI thread waited on Textual's writer once ten frames were queued behind
the stalled terminal (tui/terminal_writer.py): no key, poll result or timer ran until the link
came back, then every stale frame was written in turn."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, cli_env
from tests.pty_app import cminbox_in_pty


def done_ids(data: Path) -> set[str]:
    env = cli_env(CMINBOX_DATA_DIR=str(data), CMINBOX_CONFIG=str(data / "demo.toml"))
    out = subprocess.run(
        [sys.executable, "-m", "cminbox", "list", "--status", "done", "--json", "--limit", "1000"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {item["id"] for item in json.loads(out)}


def test_a_stalled_terminal_never_stops_triage(tmp_path: Path) -> None:
    data = tmp_path / "data"
    demo = ["--data-dir", str(data), "demo", "--rate", "0", "--burst-after", "-1"]
    with cminbox_in_pty(*demo, timeout=120, TMPDIR=str(tmp_path)) as app:
        seen = app.wait_for(b"needs reply")
        assert b"needs reply" in seen, seen[-500:]
        time.sleep(1.0)
        while select.select([app.fd], [], [], 0.3)[0]:  # what it drew so far, read
            os.read(app.fd, 65536)
        before = done_ids(data)
        # From here the terminal takes no output: 60 switches between views 5 and 1, each a
        # whole list drawn again (~15 KB), are far more than the terminal's buffer (64 KB) and
        # the writer's queue (ten frames) hold; then `d` closes the item under the cursor.
        for _ in range(30):
            for key in (b"5", b"1"):
                os.write(app.fd, key)
                time.sleep(0.04)
        time.sleep(1.0)
        os.write(app.fd, b"d")
        deadline = time.monotonic() + 20
        while (after := done_ids(data)) == before and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(after - before) == 1, "the `d` pressed while the terminal was stalled was not acted on"
        # The terminal takes output again: the screen is drawn whole (the header with the new
        # count), and the app answers keys.
        drawn = b""
        until = time.monotonic() + 20
        while b"done %d" % (len(before) + 1) not in drawn and time.monotonic() < until:
            if select.select([app.fd], [], [], 0.5)[0]:
                drawn += os.read(app.fd, 65536)
        assert b"done %d" % (len(before) + 1) in drawn, drawn[-800:]
        os.write(app.fd, b"q")
        assert app.wait_gone(app.cminbox_pid(), 30)
