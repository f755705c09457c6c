"""Which store files should be there: an empty marker file per file, in ``.kept/``.

A message part that went missing (deleted, a dangling symlink, a restore that left it out) read
as "archived away by another process": its items dropped out of every list with no word, and
no poll fetched them again (review of 2026-12-01). The store cannot tell a file it never knew
from one that was never there, so each message part and the outbox leave a marker when they
are first written; a marker whose file is gone is a missing file, reported as a damaged one is,
until `cminbox doctor --repair` accepts the loss.

One file per marker, not a list in one file: noting and forgetting are a create and an unlink,
never a read-modify-write, so processes need no lock for them and a crash leaves either state.
The order makes every reading safe without the store lock:
- a new file is written first, then noted (a crash between: adopted at the next look);
- an archived part is forgotten first, then unlinked (a crash between: adopted again, its items
  still live, as a cut-short archive always left them);
- :meth:`Kept.missing` checks the file after the marker list and the marker again after that,
  so neither a writer nor an archiver caught midway makes a false alarm.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from cminbox.core.errors import CminboxError
from cminbox.core.segment import CorruptFileError

FOLDER = ".kept"
SUFFIX = ".kept"
MISSING = (
    "missing: the file is gone, and it was not archived (deleted, or left out of a restore). Its items are "
    "not listed. Put it back from a backup, or run `cminbox doctor --repair` to accept the loss (the "
    "channels' recent items are fetched again)."
)


class Kept:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / FOLDER

    # messages/2026-12-000.json -> .kept/messages~2026-12-000.json.kept (not *.json: a marker
    # is no data file, and whatever globs the store's JSON must not find it)
    def _marker(self, path: Path) -> Path:
        return self.folder / (str(path.relative_to(self.root)).replace(os.sep, "~") + SUFFIX)

    def _path(self, marker: str) -> Path:
        return self.root / marker.removesuffix(SUFFIX).replace("~", os.sep)

    def names(self) -> set[str]:
        try:
            return {name for name in os.listdir(self.folder) if name.endswith(SUFFIX)}
        except FileNotFoundError:
            return set()

    def note(self, paths: Iterable[Path], known: set[str] | None = None) -> None:
        """Mark files that exist as kept (``known``: the markers already listed, to skip them)."""
        for path in paths:
            marker = self._marker(path)
            if known is not None and marker.name in known:  # (listed: no create to try)
                continue
            self.folder.mkdir(exist_ok=True)
            marker.touch(exist_ok=True)

    def forget(self, path: Path) -> None:
        self._marker(path).unlink(missing_ok=True)

    def is_noted(self, path: Path) -> bool:
        return self._marker(path).exists()

    def missing(self, present: set[Path], names: set[str] | None = None) -> list[Path]:
        """Noted files that are not among ``present`` (listed before this call) and are gone."""
        names = self.names() if names is None else names
        gone = []
        for name in sorted(names):
            path = self._path(name)
            if path not in present and not path.exists() and (self.folder / name).exists():
                gone.append(path)
        return gone


MISSING_OUTBOX = (
    "missing: the file is gone (deleted, or left out of a restore), and with it the replies, "
    "escalations and moderation queued there and the record of what was sent. Put it back from a "
    "backup, or run `cminbox doctor --repair` to accept the loss (an empty outbox; what was queued "
    "and not sent is not sent)."
)


class MissingFileError(CorruptFileError):
    """A kept file that is gone: refused as a damaged file is, with what to do about it.
    ``what``: the loss in words (the outbox's is not a message part's: fault trial of 2026-12-01)."""

    def __init__(self, path: Path, what: str = MISSING) -> None:
        CminboxError.__init__(self, f"{path}: {what}")
        self.path = path
        self.reason = "missing"
