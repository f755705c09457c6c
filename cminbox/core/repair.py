"""`cminbox doctor --repair`: salvage what can be read from a broken store file, keep a backup.

A file cminbox wrote itself is always whole (atomic replace), so a broken file means a
hand edit, a disk fault or a copy gone wrong. Repair never guesses silently: the original
is kept under ``backups/repair-<time>/``, every document that can still be read whole and
fits the schema is kept, and the report says what was lost and where the original is.

The file is TinyDB's ``{"table": {"1": {...}, "2": {...}}}``. It is not decoded as one JSON
value (one bad byte would lose everything) but scanned document by document: each
``"<id>": {`` is decoded on its own, and after a damaged stretch the scan picks up at the
next document. A file cut off halfway keeps every document before the cut.

Messages lost from ``messages/`` can come back from their channel: repair rewinds the poll
cursor of the channels they belonged to (of every channel when that cannot be told, e.g.
after a cut), so the next poll reads their recent history again. Triage state lives in
other files and reattaches by message id.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from cminbox.core.events import Event
from cminbox.core.kept import Kept
from cminbox.core.models import Archived, Message, TriageState
from cminbox.core.people import Person
from cminbox.core.segment import atomic_write_bytes
from cminbox.core.text import one_line

if TYPE_CHECKING:
    from cminbox.core.store import Store

# Where a document starts: its TinyDB id as a key, then its object.
_DOC_START = re.compile(r'"(\d+)"\s*:\s*\{')
# What looks like the start of a document in a damaged stretch (the app writes "id" first);
# objects nested in a document that also start with "id" are not counted.
_LOOKS_LIKE_DOC = re.compile(r'"([^"\\]{0,24})"\s*:\s*\{\s*"id"\s*:')
_NESTED_WITH_ID = frozenset({"author", "message", "triage"})
# Between documents only structure may stand: the table header, commas, the closing braces.
_STRUCTURE = re.compile(r'[\s{},]*(?:"\w+"\s*:\s*\{)?[\s{},]*')
_WHOLE_END = re.compile(r"\s*\}\s*\}\s*")
# Which channel a damaged message belonged to: its "channel" field, or its own id's prefix.
_CHANNEL_FIELD = re.compile(r'"channel"\s*:\s*"([^"\\]+)"')
_OWN_ID = re.compile(r'"[^"\\]*"\s*:\s*\{\s*"id"\s*:\s*"([^"\\]*)"')


@dataclass(frozen=True)
class Salvage:
    docs: dict[str, Any]
    damaged: list[str]  # the stretches that could not be read as documents
    whole: bool  # the file ends as a whole file does: nothing can be missing after the last document

    @property
    def dropped(self) -> int:
        """Documents seen in the damaged stretches (at least one per stretch)."""
        return sum(
            max(1, sum(1 for m in _LOOKS_LIKE_DOC.finditer(part) if m.group(1) not in _NESTED_WITH_ID))
            for part in self.damaged
        )

    def lost_ids(self) -> list[str]:
        """The ids of the documents seen in the damaged stretches, as far as they can be read
        (a triage record's id is its item's): what a user must look at again, since triage
        state cannot be fetched back from a channel (fault trial of 2026-12-01)."""
        ids: list[str] = []
        for part in self.damaged:
            for m in _OWN_ID.finditer(part):
                if m.group(0).split('"')[1] not in _NESTED_WITH_ID and (mid := one_line(m.group(1))):
                    ids.append(mid[:120])
        return list(dict.fromkeys(ids))

    def lost_channels(self) -> frozenset[str] | None:
        """The channels whose messages were lost; None when that cannot be told (a cut, or a
        damaged document that names no channel)."""
        if not self.whole:
            return None
        names: set[str] = set()
        for part in self.damaged:
            starts = [m.start() for m in _LOOKS_LIKE_DOC.finditer(part) if m.group(1) not in _NESTED_WITH_ID]
            if not starts or not _STRUCTURE.fullmatch(part[: starts[0]]):
                starts.insert(0, 0)  # damage before the first recognisable document start
            for begin, end in zip(starts, [*starts[1:], len(part)], strict=True):
                name = _channel_of(part[begin:end])
                if name is None:
                    return None
                names.add(name)
        return frozenset(names)


def _channel_of(chunk: str) -> str | None:
    if found := _CHANNEL_FIELD.search(chunk):
        return found.group(1)
    if (found := _OWN_ID.match(chunk)) and ":" in found.group(1):
        return found.group(1).partition(":")[0]  # a message id is "<channel>:<native id>"
    return None


def scan(text: str, valid: Any) -> Salvage:
    """Every whole document of a TinyDB file, however damaged the rest is. ``valid(doc)``
    says whether a decoded document is usable."""
    decoder = json.JSONDecoder()
    docs: dict[str, Any] = {}
    damaged: list[str] = []
    pos = last_end = 0
    while (m := _DOC_START.search(text, pos)) is not None:
        try:
            doc, end = decoder.raw_decode(text, m.end() - 1)
        except json.JSONDecodeError:
            pos = m.start() + 1
            continue
        if m.group(1) in docs or not valid(doc):
            pos = m.start() + 1
            continue
        between = text[last_end : m.start()]
        if not _STRUCTURE.fullmatch(between):
            damaged.append(between)
        docs[m.group(1)] = doc
        pos = last_end = end
    tail = text[last_end:]
    whole = _WHOLE_END.fullmatch(tail) is not None or _closes(tail if docs else text, 2 if docs else 0)
    if not _STRUCTURE.fullmatch(tail):
        damaged.append(tail)
    return Salvage(docs, damaged, whole)


def _closes(text: str, depth: int) -> bool:
    """Whether ``text``, read from inside ``depth`` open objects, ends with every one closed:
    a damaged last document still ends the file; a cut leaves something open."""
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return depth == 0 and not in_string and text.rstrip().endswith("}")


SHOWN_IDS = 10  # lost ids named in a repair's report


@dataclass(frozen=True)
class Repaired:
    path: Path
    backup: Path
    kept: int
    dropped: int
    whole: bool
    # Messages files only: the channels whose messages were lost (None: possibly any).
    lost_channels: frozenset[str] | None = field(default_factory=frozenset)
    missing: bool = False  # the file was gone (core/kept.py): the loss is accepted, nothing kept
    lost_ids: tuple[str, ...] = ()  # the ids read in the damaged stretches (Salvage.lost_ids)

    @property
    def lost_data(self) -> bool:
        return self.dropped > 0 or not self.whole or self.missing

    def describe(self) -> str:
        if self.missing:
            return f"{self.path}: it was missing; what it held is lost (the store no longer expects it)"
        lost = []
        if self.dropped:
            named = ", ".join(self.lost_ids[:SHOWN_IDS]) + (" ..." if len(self.lost_ids) > SHOWN_IDS else "")
            lost.append(
                f"lost {self.dropped} damaged or unfit document(s)" + (f" (of {named})" if self.lost_ids else "")
            )
        if not self.whole:
            lost.append(
                "the file does not end as a whole file does (cut off?): anything after its last whole document is lost"
            )
        what = "; ".join(lost) if lost else "nothing was lost"
        return f"{self.path}: kept {self.kept} document(s); {what} (the original is in {self.backup})"


def _doc_type(data_dir: Path, path: Path) -> type | None:
    rel = path.relative_to(data_dir)
    if rel == Path("state", "people.json"):  # the one typed state table (store_people.py)
        return Person
    return {"messages": Message, "triage": TriageState, "archive": Archived, "events": Event}.get(rel.parts[0])


def _table_name(data_dir: Path, path: Path) -> str:
    rel = path.relative_to(data_dir)
    if rel.parts[0] in ("messages", "triage", "archive", "events"):
        return rel.parts[0]
    return path.stem  # state/<name>.json and outbox.json keep one table named after the file


def _validator(doc_type: type | None) -> Any:
    def valid(doc: Any) -> bool:
        # Every document names itself: by id, or (events) by position.
        if not (isinstance(doc, dict) and ("pos" if doc_type is Event else "id") in doc):
            return False
        try:
            msgspec.json.encode(doc)  # a garbled byte decodes to a lone surrogate: not a whole document
            if doc_type is not None:
                msgspec.convert(doc, doc_type, strict=False)
        except (msgspec.ValidationError, msgspec.EncodeError, ValueError, TypeError):
            return False
        return True

    return valid


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        # As much as decompresses: a cut-off or damaged archive still yields what came before.
        inflate, parts = zlib.decompressobj(wbits=31), []
        for at in range(0, len(raw), 65536):
            try:
                parts.append(inflate.decompress(raw[at : at + 65536]))
            except zlib.error:
                break
        raw = b"".join(parts)
    return raw.decode("utf-8", errors="surrogateescape")


def repair_file(data_dir: Path, path: Path, *, now: float | None = None) -> Repaired:
    kept = Kept(data_dir)
    if not path.exists() and kept.is_noted(path):  # gone, not damaged: nothing to salvage
        kept.forget(path)
        is_messages = _doc_type(data_dir, path) is Message
        return Repaired(path, path, 0, 0, True, None if is_messages else frozenset(), missing=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    backup = data_dir / "backups" / f"repair-{stamp}" / path.relative_to(data_dir)
    backup.parent.mkdir(parents=True, exist_ok=True)
    if not backup.exists():
        os.link(path, backup)
    doc_type = _doc_type(data_dir, path)
    salvage = scan(_read_text(path), _validator(doc_type))
    body = msgspec.json.encode({_table_name(data_dir, path): salvage.docs})
    atomic_write_bytes(path, gzip.compress(body, 6) if path.name.endswith(".gz") else body)
    is_messages = doc_type is Message
    return Repaired(
        path,
        backup,
        kept=len(salvage.docs),
        dropped=salvage.dropped,
        whole=salvage.whole,
        lost_channels=(salvage.lost_channels() if is_messages else frozenset())
        if salvage.dropped or not salvage.whole
        else frozenset(),
        lost_ids=tuple(salvage.lost_ids()),
    )


def repair_store(store: Store, paths: Iterable[Path], *, now: float | None = None) -> tuple[list[Repaired], list[str]]:
    """Repair ``paths``, then rewind the poll cursors of the channels that lost messages.
    Returns the repairs and the channels rewound."""
    results = [repair_file(store.dir, path, now=now) for path in sorted(paths)]
    store.refresh()
    wanted: set[str] | None = set()
    for result in results:
        if result.lost_data and _doc_type(store.dir, result.path) is Message:
            if result.lost_channels is None or wanted is None:
                wanted = None
            else:
                wanted |= result.lost_channels
    rewound = store.rewind_cursors(wanted) if wanted is None or wanted else []
    return results, rewound
