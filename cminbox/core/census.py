"""Every live item's id and date without reading whole messages: what the inbox's header
counts need (status comes from the triage shards, which a store reads at open) before the
older message parts are loaded.

A lazily opened TinyDB store shows its newest part first and reads the rest behind it; until
then its counts would be the first part's ("new 56 · overdue 56" at 100k, then a jump to the
real numbers). A census decodes only ``id`` and ``created_at`` of each document (msgspec skips
the rest: ~150 ms for 100k messages, against ~520 ms for a full load), once per part: a
part is cached by its file signature, so only the part being written to is read again.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import msgspec


class _Light(msgspec.Struct, gc=False):
    id: str
    created_at: datetime


_DECODER = msgspec.json.Decoder(dict[str, dict[str, _Light]])

#: One part's items: (id, created_at), in file order.
Entries = list[tuple[str, datetime]]


def read_part(path: Path) -> Entries:
    """The ids and dates of one message part (a TinyDB file). Raises OSError or
    msgspec.DecodeError/ValidationError for an unreadable file: the caller loads it whole
    instead, which reports the problem as the store does."""
    tables = _DECODER.decode(path.read_bytes())
    return [(doc.id, doc.created_at) for docs in tables.values() for doc in docs.values()]


class _Part(msgspec.Struct, gc=False):
    sig: tuple[int, int, int]  # the part file's (inode, mtime ns, size) when it was read
    ids: list[str]
    at: list[datetime]  # created_at (msgspec reads RFC 3339 in C: ~10x faster than fromtimestamp)


_CACHE = msgspec.json.Decoder(dict[str, _Part])
_ENCODE = msgspec.json.Encoder()
Signature = tuple[int, int, int] | None


def load_cache(path: Path) -> dict[str, tuple[Signature, Entries]]:
    """The census kept from an earlier run (``state/census.json``): each part with the file
    signature it was read at, so a part changed since is read again. Derived data: a file that
    is missing or unreadable is an empty cache, never an error."""
    try:
        parts = _CACHE.decode(path.read_bytes())
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return {}
    out: dict[str, tuple[Signature, Entries]] = {}
    for key, part in parts.items():
        if len(part.ids) == len(part.at):
            out[key] = (part.sig, list(zip(part.ids, part.at, strict=True)))
    return out


def cache_bytes(parts: dict[str, tuple[Signature, Entries]]) -> bytes:
    """What :func:`load_cache` reads back (the parts with a signature)."""
    return _ENCODE.encode(
        {
            key: _Part(sig=sig, ids=[i for i, _ in entries], at=[t for _, t in entries])
            for key, (sig, entries) in parts.items()
            if sig is not None
        }
    )
