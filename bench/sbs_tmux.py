"""A terminal client in a private tmux server, watched like a person at a 120x40 terminal would.

Everything runs on its own socket (``tmux -L cminbox-sbs``), so no tmux the user has open is seen
or touched; ``kill_server`` ends it. Screens are read through one control-mode client per session
(``tmux -C``): a capture costs well under a millisecond that way, where running ``tmux capture-pane``
each time would cost a fork and exec (1-3 ms), more than some of what is measured.
"""

from __future__ import annotations

import os
import random
import shlex
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

SOCKET = "cminbox-sbs"
COLS, ROWS = 120, 40
CLK_TCK = os.sysconf("SC_CLK_TCK")
CONF = "set -g status off\nset -sg escape-time 0\nset -g default-size 120x40\n"  # window-size: see Pane


def tmux_argv(conf: Path) -> list[str]:
    return ["tmux", "-L", SOCKET, "-f", str(conf)]


def kill_server(conf: Path) -> None:
    subprocess.run([*tmux_argv(conf), "kill-server"], capture_output=True, check=False)


class Control:
    """A tmux control-mode client attached to one session: commands in, their output back."""

    def __init__(self, conf: Path, session: str) -> None:
        self.proc = subprocess.Popen(
            [*tmux_argv(conf), "-C", "attach-session", "-t", session],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin: IO[bytes] = self.proc.stdin
        self.stdout: IO[bytes] = self.proc.stdout
        self._reply()  # the attach's own reply
        self.cmd("refresh-client -f no-output")  # no %output stream: only replies to read

    def _reply(self) -> list[bytes]:
        lines: list[bytes] = []
        inside = False
        while True:
            line = self.stdout.readline()
            if not line:
                raise EOFError("the tmux control client went away")
            if not inside:
                inside = line.startswith(b"%begin")
                continue
            if line.startswith((b"%end", b"%error")):
                if line.startswith(b"%error"):
                    raise RuntimeError(b"".join(lines).decode(errors="replace"))
                return lines
            lines.append(line)

    def cmd(self, command: str) -> list[bytes]:
        self.stdin.write(command.encode() + b"\n")
        self.stdin.flush()
        return self._reply()

    def close(self) -> None:
        try:
            self.stdin.close()
            self.proc.wait(timeout=3)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def proc_stats(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (MB) and CPU seconds of a live process; empty once it is gone."""
    out: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        out["cpu"] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (FileNotFoundError, ProcessLookupError, IndexError):
        pass
    return out


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


class Pane:
    """One client in a session of its own; it is exec'd when ``go`` presses Enter."""

    def __init__(self, conf: Path, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.conf, self.name = conf, name
        # PYTHONDONTWRITEBYTECODE emptied: a Python client is measured as installed, with its
        # bytecode written (by the unmeasured first run), not compiling what an environment that
        # forbids writing bytecode (this machine's does) leaves stale after each edit.
        env = {"PYTHONDONTWRITEBYTECODE": "", **env}
        command = "read _; exec env " + " ".join(shlex.quote(a) for a in [*(f"{k}={v}" for k, v in env.items()), *argv])
        tmux = tmux_argv(conf)
        subprocess.run([*tmux, "kill-session", "-t", name], capture_output=True, check=False)
        new = [*tmux, "new-session", "-d", "-s", name, "-x", str(COLS), "-y", str(ROWS), "sh", "-c", command]
        # window-size manual (attaching the control client must not resize the window) is set here:
        # in the configuration file, tmux 3.3a's server exits as it starts
        subprocess.run([*new, ";", "set-option", "-g", "window-size", "manual"], check=True)
        self.ctl = Control(conf, name)
        self.pid = int(self.ctl.cmd(f"display-message -p -t {name} '#{{pane_pid}}'")[0])
        size = self.ctl.cmd(f"display-message -p -t {name} '#{{pane_width}}x#{{pane_height}}'")[0].strip()
        if size != f"{COLS}x{ROWS}".encode():
            raise RuntimeError(f"the pane is {size.decode()}, not {COLS}x{ROWS}")

    def go(self) -> float:
        """Start the client; returns t0 (taken just before the Enter that execs it)."""
        time.sleep(0.2)
        t0 = time.perf_counter()
        self.keys("Enter")
        return t0

    def keys(self, *keys: str) -> None:
        self.ctl.cmd(f"send-keys -t {self.name} " + " ".join(keys))

    def screen(self, attributes: bool = False) -> list[str]:
        lines = self.ctl.cmd(f"capture-pane -p {'-e ' if attributes else ''}-t {self.name}")
        return [line.decode(errors="replace").rstrip("\n") for line in lines]

    def wait_for(
        self, done: Callable[[list[str]], bool], t0: float, deadline: float, poll: float = 0.005
    ) -> float | None:
        """Seconds from t0 to the first capture (as requested) that satisfies ``done``; None at the deadline."""
        while True:
            asked = time.perf_counter()
            if done(self.screen()):
                return asked - t0
            if asked > deadline or not alive(self.pid):
                return None
            time.sleep(max(0.0, asked + poll - time.perf_counter()))

    def still(self, quiet: float = 0.03, limit: float = 1.0) -> None:
        """Wait until the pane (with attributes) has not changed for ``quiet`` seconds (at most ``limit``)."""
        end = time.perf_counter() + limit
        before, since = self.screen(True)[:-1], time.perf_counter()
        while time.perf_counter() < end:
            time.sleep(0.005)
            now = self.screen(True)[:-1]
            if now != before:
                before, since = now, time.perf_counter()
            elif time.perf_counter() - since >= quiet:
                return

    def key_latency(self, key: str, presses: int, deadline: float) -> list[float]:
        """Seconds from send-keys to the first changed capture (attributes included, so the cursor bar
        counts; the last line, where clients put transient messages, left out), one per press."""
        out: list[float] = []
        for _ in range(presses):
            if time.perf_counter() > deadline:
                break
            time.sleep(random.uniform(0.06, 0.1))
            self.still()  # nothing of the previous key is still being drawn
            before = self.screen(True)[:-1]
            t0 = time.perf_counter()
            self.keys(key)
            while True:
                changed = self.screen(True)[:-1] != before
                t = time.perf_counter()
                if changed:
                    out.append(t - t0)
                    break
                if t - t0 > 3:
                    break  # no change in 3 s: not counted (reported as fewer presses)
                time.sleep(0.0002)
        return out

    def stop(self, quit_keys: tuple[str, ...]) -> bool:
        """Quit the client with its own keys; kill the session in any case. True if it exited by itself."""
        clean = False
        try:
            if alive(self.pid):
                self.keys(*quit_keys)
            end = time.time() + 10
            while time.time() < end and alive(self.pid):
                time.sleep(0.02)
            clean = not alive(self.pid)
        except (EOFError, BrokenPipeError, RuntimeError):
            clean = not alive(self.pid)
        self.ctl.close()
        subprocess.run([*tmux_argv(self.conf), "kill-session", "-t", self.name], capture_output=True, check=False)
        return clean
