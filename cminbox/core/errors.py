"""The errors a user can act on: one base class, caught once by the CLI and the TUI.

Anything else that escapes is a bug and is reported as "internal error ... please report
it". A fault of the environment (an unwritable data folder, a full disk) is not a bug:
:func:`from_os_error` turns the ``OSError`` into a :class:`FileAccessError` that names the
path and says what to do.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

# errno values that describe the machine, not cminbox: reported with a hint, never as a bug.
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_DENIED = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
_NOT_A_FOLDER = frozenset({errno.ENOTDIR, errno.EEXIST, errno.EISDIR})
ENVIRONMENT_ERRNOS = _FULL | _DENIED | _NOT_A_FOLDER | {errno.EIO, errno.ENAMETOOLONG}


class CminboxError(Exception):
    """``message`` says what is wrong (naming the file, key or id); ``hint`` says what to do.
    ``str()`` is both, so the error reads as one line wherever it is shown."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(f"{message} {hint}" if hint else message)
        self.message = message
        self.hint = hint


class StoreUnavailable(CminboxError):
    """The store cannot be reached or written now (a database that is down, a folder that
    cannot be written, a full disk): nothing was changed, and the same action may work later.
    The TUI shows a banner and refuses actions while one is in the air; other refusals (a
    broken file, an unknown id) concern one action only."""


class FileAccessError(StoreUnavailable):
    """A file or folder cminbox needs cannot be written or read: permissions, a read-only
    mount, a full disk. Carries the path and the errno."""

    def __init__(self, path: Path, message: str, hint: str, err: int | None) -> None:
        super().__init__(message, hint)
        self.path = path
        self.errno = err


def from_os_error(exc: OSError, path: Path | str | None = None) -> FileAccessError:
    """Describe an ``OSError`` met while reading or writing ``path`` (default: the one it names)."""
    where = Path(path if path is not None else (exc.filename or "?"))
    code = exc.errno
    reason = exc.strerror or (os.strerror(code) if code else str(exc))
    if code in _FULL:
        return FileAccessError(
            where,
            f"cannot write {where}: the disk is full ({reason}).",
            "Free some space and run the command again; nothing was changed (the previous file is intact).",
            code,
        )
    if code in _DENIED:
        return FileAccessError(
            where,
            f"cannot write {where} ({reason}).",
            "Make the data folder writable by this user (its owner and permissions, or a read-only mount), "
            "or choose another one with --data-dir or $CMINBOX_DATA_DIR.",
            code,
        )
    if code in _NOT_A_FOLDER:
        return FileAccessError(
            where,
            f"cannot use {where} ({reason}): a file stands where a folder is needed, or the other way round.",
            "Move it away, or choose another data folder with --data-dir or $CMINBOX_DATA_DIR.",
            code,
        )
    return FileAccessError(
        where,
        f"cannot use {where} ({reason}).",
        "Check the disk and the folder's permissions, then run the command again.",
        code,
    )
