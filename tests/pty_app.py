"""The real `cminbox` TUI in a pseudo-terminal, for tests that signal it as a terminal would."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import shlex
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import ROOT, cli_env


@dataclass
class PtyApp:
    pid: int
    fd: int
    deadline: float
    seen: set[int] = field(default_factory=set)

    def wait_for(self, text: bytes) -> bytes:
        """Read the screen until ``text`` was drawn (or the deadline); returns what was read."""
        seen = b""
        while text not in seen and time.monotonic() < self.deadline:
            if select.select([self.fd], [], [], 1)[0]:
                try:
                    seen += os.read(self.fd, 65536)
                except OSError:
                    break
        return seen

    def cminbox_pid(self) -> int:
        """The cminbox process: the terminal's own, or the child of what started it (``started_by``)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        found = int(children[0]) if children else self.pid
        self.seen.add(found)  # killed at the end too, wherever it is by then
        return found

    def wait_gone(self, pid: int, seconds: float) -> bool:
        """Whether process ``pid`` ended within ``seconds`` (nothing read: for a closed terminal)."""
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, os.WNOHANG)  # reap the terminal's process when it ends
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (FileNotFoundError, ProcessLookupError):
                return True
            if state == "Z":  # ended, not reaped yet
                return True
            time.sleep(0.1)
        return False

    def signal_and_wait(self, sig: signal.Signals) -> None:
        """Send ``sig`` and wait for the app to exit, draining the pty so it can draw its last frame."""
        os.kill(self.pid, sig)
        while time.monotonic() < self.deadline:
            done, _status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                return
            if select.select([self.fd], [], [], 0.2)[0]:
                with contextlib.suppress(OSError):
                    os.read(self.fd, 65536)
        raise AssertionError(f"the app did not exit after {sig.name}")


@contextlib.contextmanager
def cminbox_in_pty(*args: str, timeout: float, started_by: str = "", **env: str) -> Iterator[PtyApp]:
    """``python -m cminbox ARGS`` in a 100x30 terminal; killed at the end whatever happened.
    ``started_by``: "sh", a shell that waits for it, as tmux starts a pane's command (the shell
    leads the terminal's session); "setsid", in a session of its own, so no SIGHUP from the
    terminal can reach it (as under a task runner that keeps the signal to itself)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real command in a terminal
        os.chdir(ROOT)
        full_env = cli_env(TERM="xterm-256color", COLUMNS="100", LINES="30", **env)
        command = [sys.executable, "-m", "cminbox", *args]
        if started_by == "sh":
            command = ["/bin/sh", "-c", f"{shlex.join(command)}; true"]
        elif started_by == "setsid":
            command = ["/usr/bin/setsid", "--wait", *command]
        os.execve(command[0], command, full_env)
    app = PtyApp(pid, fd, time.monotonic() + timeout)
    try:
        yield app
    finally:
        with contextlib.suppress(OSError, IndexError, ValueError):  # what started it, if any: its child
            app.cminbox_pid()
        for each in {pid, *app.seen}:
            with contextlib.suppress(ProcessLookupError, ChildProcessError, OSError):
                os.kill(each, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        with contextlib.suppress(OSError):  # a test may have closed it (the terminal gone)
            os.close(fd)
