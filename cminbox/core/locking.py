"""Inter-process locks on lock files (``flock``), reentrant within one process."""

from __future__ import annotations

import errno
import fcntl
import functools
import os
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import ParamSpec, TypeVar

from cminbox.core.errors import from_os_error
from cminbox.core.instance import INSTANCE_ID
from cminbox.core.sending_api import LeaseHolder

P = ParamSpec("P")
R = TypeVar("R")


def synchronized(method: Callable[P, R]) -> Callable[P, R]:
    """Serialise a Store method against other threads (workers and the UI share one Store)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with args[0]._mutex:  # type: ignore[attr-defined]
            return method(*args, **kwargs)

    return wrapper


class FileLock:
    """An exclusive lock shared by every process that opens the same path.

    The kernel drops an ``flock`` when its holder dies, so a ``kill -9`` never leaves
    the store locked.
    """

    def __init__(self, path: Path, *, record_pid: bool = False) -> None:
        """``record_pid``: the holder writes its process id into the file, so another
        process that cannot take the lock can say who has it (:meth:`holder`)."""
        self.path = path
        self.record_pid = record_pid
        self._fd: int | None = None
        self._depth = 0
        self._thread_lock = threading.RLock()

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EROFS):
                # A read-only data folder: flock works on a read-only descriptor too, so
                # reading still works; the first write names the folder and what to do.
                try:
                    return os.open(self.path, os.O_RDONLY)
                except OSError:
                    pass
            raise from_os_error(exc, self.path) from exc

    def acquire(self, blocking: bool = True) -> bool:
        if not self._thread_lock.acquire(blocking=blocking):
            return False
        if self._depth == 0:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                os.close(fd)
                self._thread_lock.release()
                return False
            except BaseException:
                os.close(fd)
                self._thread_lock.release()
                raise
            self._fd = fd
            if self.record_pid:
                self._write_pid(fd)
        self._depth += 1
        return True

    @staticmethod
    def _write_pid(fd: int) -> None:
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {INSTANCE_ID}\n".encode(), 0)
        except OSError:
            pass  # a read-only folder: the lock still works, only the pid is not told

    def holder(self) -> int | None:
        """None if nobody holds the lock; else the holder's pid (0 when it did not say).
        Another process's view: within this process the lock is reentrant."""
        if self.acquire(blocking=False):
            self.release()
            return None
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return 0
        pid = text.split()[0] if text else ""
        return int(pid) if pid.isdigit() else 0

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        self._thread_lock.release()

    @property
    def held(self) -> bool:
        return self._depth > 0

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


class FileLease:
    """The single-poller lease on one host (cminbox.core.sending_api.PollerLease) as an
    ``flock``: held until released or until the holder dies (the kernel drops it), so it never
    expires under a live holder and :meth:`renew` only says whether this handle still holds it.
    The holder writes ``pid instance-id`` into the file for others to read."""

    def __init__(self, path: Path) -> None:
        self._lock = FileLock(path, record_pid=True)

    def acquire(self) -> bool:
        return self._lock.held or self._lock.acquire(blocking=False)

    def renew(self) -> bool:
        return self._lock.held

    def release(self) -> None:
        while self._lock.held:
            self._lock.release()

    @property
    def held(self) -> bool:
        return self._lock.held

    def holder(self) -> LeaseHolder | None:
        if self._lock.held:
            return LeaseHolder(instance=INSTANCE_ID, pid=os.getpid())
        pid = self._lock.holder()
        if pid is None:
            return None
        try:
            fields = self._lock.path.read_text(encoding="ascii").split()
        except (OSError, UnicodeDecodeError):
            fields = []
        return LeaseHolder(instance=fields[1] if len(fields) > 1 else "", pid=pid)
