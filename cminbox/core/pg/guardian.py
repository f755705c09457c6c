"""The guardian of a throwaway cluster: it stops the server and removes the temp folders when
the cminbox process that owns them dies, however it dies (SIGKILL and the OOM killer run no
clean-up code in the dying process).

How it knows: the owner makes a pipe and keeps the only write end; the guardian, started
before any folder exists, blocks reading the other end. The kernel closes the owner's end
when the owner exits for any reason, so the read returns end-of-file, and the guardian
cleans up. A clean exit closes it too, after the owner's own clean-up: the guardian then
finds nothing and exits.

Why a pipe rather than ``prctl(PR_SET_PDEATHSIG)``: the death signal is Linux-only, fires when
the *thread* that forked the child exits (not the process), and reaches only that child: the
postmaster is started by ``pg_ctl``, which detaches it (its own session), so it is nobody's
child we could arm. A pidfd is Linux 5.3+ only. A pipe's end-of-file is POSIX (macOS too), has
no race with the owner's exit, and needs no signal handler.

What it cleans, found by name rather than by pid (a pid file may not exist yet, or be gone):
every folder ``cminbox-team-TAG-*`` and ``cminbox-pg-TAG-*`` in the temp dir, and every process
whose command line names ``cminbox-pg-TAG-`` (initdb, pg_ctl and the postmaster all get the
data folder on their command line) with its children (the server's backends). The postmaster
gets SIGQUIT, which is what ``pg_ctl stop -m immediate`` sends (no binaries, no ``runuser``
needed: the guardian runs as the owner, root included), then SIGKILL if it lingers; tools are
killed. It looks again until two looks in a row half a second apart find nothing (a ``pg_ctl
start`` orphaned mid-way may fork the server after the first look), for at most a minute.
``TAG`` is the owner's pid and a random part, so :func:`sweep` (run by the next ``demo --team``)
can tell leftovers whose owner is dead, should the guardian itself have been killed too.

Standard library only: it runs as ``python -I -S guardian.py`` (no site-packages, no cminbox
import), so it starts in ~20 ms and nothing of the owner's environment changes what it does.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

SETTLE = 0.5  # seconds between the two empty looks that end the clean-up
GIVE_UP = 60.0
QUIT_GRACE = 5.0  # after SIGQUIT, before SIGKILL
LEFTOVER = re.compile(r"^cminbox-(team|pg)-(\d+)-([0-9a-f]+)-")


def folders(tempdir: Path, tag: str) -> list[Path]:
    return sorted([*tempdir.glob(f"cminbox-team-{tag}-*"), *tempdir.glob(f"cminbox-pg-{tag}-*")])


def _table() -> dict[int, tuple[int, str]]:
    """Every live process: pid -> (parent pid, command line). /proc where there is one, else ps."""
    found: dict[int, tuple[int, str]] = {}
    proc = Path("/proc")
    if (proc / "self" / "stat").exists():
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, IndexError):
                continue  # gone meanwhile
            if fields and fields[0] != "Z":  # a zombie is dead already: its parent reaps it
                found[int(entry.name)] = (int(fields[1]), cmdline)
        return found
    try:
        out = subprocess.run(
            ["ps", "-axo", "pid=,ppid=,stat=,command="], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return found
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) >= 3 and parts[0].isdigit() and parts[1].isdigit() and not parts[2].startswith("Z"):
            found[int(parts[0])] = (int(parts[1]), parts[3] if len(parts) > 3 else "")
    return found


def _is_postmaster(cmdline: str) -> bool:
    """The server itself (initdb's bootstrap ``postgres --boot`` is a tool to kill)."""
    argv = cmdline.split()
    return bool(argv) and Path(argv[0]).name in ("postgres", "postmaster") and "--boot" not in argv


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def clean(tempdir: Path, tag: str, *, give_up: float = GIVE_UP) -> None:
    """Stop what runs of the cluster and remove the folders, until nothing is left (returns at
    once when nothing was there: the owner cleaned up itself)."""
    mark = f"cminbox-pg-{tag}-"
    started = time.monotonic()
    quit_at: dict[int, float] = {}  # postmasters sent SIGQUIT, and when
    family: dict[int, str] = {}  # their children as last seen (pid -> command line)
    empty_since: float | None = None
    first = True
    while time.monotonic() - started < give_up:
        table = _table()
        named = {pid: cmd for pid, (_, cmd) in table.items() if mark in cmd and pid != os.getpid()}
        family.update((pid, cmd) for pid, (parent, cmd) in table.items() if parent in quit_at or parent in named)
        now = time.monotonic()
        for pid, cmd in named.items():
            if not _is_postmaster(cmd):
                _signal(pid, signal.SIGKILL)  # initdb, pg_ctl, runuser, a shell: nothing to save
            elif pid not in quit_at:
                quit_at[pid] = now
                _signal(pid, signal.SIGQUIT)  # pg_ctl stop -m immediate: it ends its backends, then itself
        lingering = [pid for pid, at in quit_at.items() if pid in table and now - at > QUIT_GRACE]
        for pid in lingering:
            _signal(pid, signal.SIGKILL)
        # A backend whose postmaster is gone or lingers (same pid, same command: not a reused pid).
        orphans = [
            pid
            for pid, cmd in family.items()
            if pid in table and table[pid][1] == cmd and (table[pid][0] not in named or table[pid][0] in lingering)
        ]
        for pid in orphans:
            _signal(pid, signal.SIGKILL)
        running = bool(named or orphans)
        left = folders(tempdir, tag)
        if first and not running and not left:
            return
        first = False
        if not running:  # nothing can write into them any more
            for folder in left:
                shutil.rmtree(folder, ignore_errors=True)
            left = folders(tempdir, tag)
        if running or left:
            empty_since = None
        elif empty_since is None:
            empty_since = now
        elif now - empty_since >= SETTLE:
            return
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(tempdir: Path) -> list[Path]:
    """Leftovers of team demos whose owner is dead (its guardian was killed too, or the machine
    rebooted with the temp dir on disk): cleaned as the guardian would. Returns the folders."""
    dead: set[str] = set()
    for entry in tempdir.glob("cminbox-*-*"):
        found = LEFTOVER.match(entry.name)
        if found and found.group(2) != str(os.getpid()) and not _alive(int(found.group(2))):
            dead.add(f"{found.group(2)}-{found.group(3)}")
    swept: list[Path] = []
    for tag in sorted(dead):
        swept += folders(tempdir, tag)
        clean(tempdir, tag, give_up=15.0)
    return swept


class Guardian:
    """The owner's side: start one before creating anything, :meth:`release` after cleaning up."""

    def __init__(self, proc: subprocess.Popen[bytes], write_end: int) -> None:
        self.proc = proc
        self._write_end: int | None = write_end

    @classmethod
    def start(cls, tempdir: Path, tag: str) -> Guardian:
        read_end, write_end = os.pipe()  # both not inherited by children (PEP 446) unless passed
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(Path(__file__).resolve()), str(tempdir), tag, str(read_end)],
                pass_fds=(read_end,),  # the read end only: an inherited write end would never close
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C and a closed terminal reach the owner, not it
            )
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        return cls(proc, write_end)

    def release(self, timeout: float = 10.0) -> None:
        """The owner cleaned up (or is about to exit): let the guardian look once and go."""
        if self._write_end is not None:
            os.close(self._write_end)
            self._write_end = None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout)


def main() -> None:
    """``guardian.py TEMPDIR TAG FD``: wait for end-of-file on FD, then clean up."""
    tempdir, tag, fd = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # its own session already; belt and braces
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    while True:
        try:
            if not os.read(fd, 4096):
                break
        except InterruptedError:
            continue
        except OSError:
            break
    clean(tempdir, tag)


if __name__ == "__main__":
    main()
