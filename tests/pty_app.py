"""The real `cminbox` TUI in a pseudo-terminal, for tests that signal it as a terminal would."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

from tests.conftest import ROOT, cli_env


@dataclass
class PtyApp:
    pid: int
    fd: int
    deadline: float

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
def cminbox_in_pty(*args: str, timeout: float, **env: str) -> Iterator[PtyApp]:
    """``python -m cminbox ARGS`` in a 100x30 terminal; killed at the end whatever happened."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real command in a terminal
        os.chdir(ROOT)
        full_env = cli_env(TERM="xterm-256color", COLUMNS="100", LINES="30", **env)
        os.execve(sys.executable, [sys.executable, "-m", "cminbox", *args], full_env)
    try:
        yield PtyApp(pid, fd, time.monotonic() + timeout)
    finally:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
