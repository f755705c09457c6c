"""The header's counts before the older message parts are loaded: every live item's status and
age without reading whole messages.

A lazily opened TinyDB store shows its newest part first and reads the rest behind it; until
then its counts would be the first part's ("new 56 · overdue 56" at 100k, then a jump to the
real numbers). A census decodes only ``id`` and ``created_at`` of each document (msgspec skips
the rest), once per part: a part is kept (ids and timestamps, compactly: a list and an
``array``) with its file signature, in memory and in ``state/census.json`` for the next start,
so only a part changed since is read again. Status comes from the triage shards, which the
store reads at open. What it returns is counts, not one object per item: the census must not
cost the memory it helps to keep low.
"""

from __future__ import annotations

from array import array
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from cminbox.core.models import Status, TriageState
from cminbox.core.packed_extras import enc_hook


class _Light(msgspec.Struct, gc=False):
    id: str
    created_at: datetime


_DECODER = msgspec.json.Decoder(dict[str, dict[str, _Light]])


class Part(msgspec.Struct, frozen=True):
    """One message part's items: their ids and created_at (seconds since the epoch)."""

    ids: list[str]
    at: array[float]  # array("d"): 8 bytes an item, not a datetime object


Signature = tuple[int, int, int] | None


def read_part(path: Path) -> Part:
    """The ids and dates of one message part (a TinyDB file). Raises OSError or
    msgspec.DecodeError/ValidationError for an unreadable file: the caller loads it whole
    instead, which reports the problem as the store does."""
    tables = _DECODER.decode(path.read_bytes())
    docs = [doc for table in tables.values() for doc in table.values()]
    return Part([d.id for d in docs], array("d", (d.created_at.timestamp() for d in docs)))


#: Seconds without a first response before an item counts as overdue (the header's counts).
OVERDUE_AFTER = 4 * 3600

#: The statuses of items still waiting for the team.
WAITING = (Status.NEW, Status.OPEN)


def waiting(state: TriageState) -> bool:
    """Does the item wait for a first answer (counted overdue once old enough)? The header's
    counts (tui/panes.HeaderCounts) and the census ask the same question."""
    return state.status in WAITING and state.first_response_at is None


class Counts(msgspec.Struct):
    """What a census counted: statuses, items waiting for a first answer past the cut-off
    (overdue), and those not yet past it (``young``: the clock will make them overdue)."""

    status: Counter[Status] = msgspec.field(default_factory=Counter)
    overdue: int = 0
    young: list[tuple[str, datetime, TriageState]] = msgspec.field(default_factory=list)

    def add(self, mid: str, at: float, state: TriageState, cutoff: float) -> None:
        self.status[state.status] += 1
        if waiting(state):
            if at < cutoff:
                self.overdue += 1
            else:
                self.young.append((mid, datetime.fromtimestamp(at, UTC), state))


class _Cached(msgspec.Struct, gc=False):
    sig: tuple[int, int, int]  # the part file's (inode, mtime ns, size) when it was read
    ids: list[str]
    at: list[float]


_CACHE = msgspec.json.Decoder(dict[str, _Cached])
_ENCODE = msgspec.json.Encoder(enc_hook=enc_hook)


def load_cache(path: Path) -> dict[str, tuple[Signature, Part]]:
    """The census kept from an earlier run: each part with the file signature it was read at.
    Derived data: a file that is missing or unreadable is an empty cache, never an error."""
    try:
        parts = _CACHE.decode(path.read_bytes())
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return {}
    return {key: (p.sig, Part(p.ids, array("d", p.at))) for key, p in parts.items() if len(p.ids) == len(p.at)}


def cache_bytes(parts: dict[str, tuple[Signature, Part]]) -> bytes:
    """What :func:`load_cache` reads back (the parts with a signature)."""
    return _ENCODE.encode(
        {key: _Cached(sig=sig, ids=part.ids, at=part.at.tolist()) for key, (sig, part) in parts.items() if sig}
    )
