"""Export and import: JSON Lines for backup and migration, CSV for spreadsheets.

A JSONL line is ``{"message": {...}, "triage": {...}, "archived": false}``: everything
cminbox knows about an item, so ``export`` then ``import`` into an empty data dir gives
the same inbox back. CSV is flat and lossy (one row per item, the fields people sort
and count by) and is export-only.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import msgspec

from cminbox.core.errors import CminboxError
from cminbox.core.models import Archived, Message, TriageState
from cminbox.core.store_api import StoreApi

CSV_COLUMNS = [
    "id",
    "channel",
    "kind",
    "author",
    "created_at",
    "status",
    "priority",
    "tags",
    "assignee",
    "text",
    "url",
    "archived",
]


class Record(msgspec.Struct, kw_only=True):
    message: Message
    triage: TriageState | None = None
    archived: bool = False


class ImportError_(CminboxError):
    """A line of an import file that cannot be read; names the file and line."""


@dataclass(frozen=True)
class ImportReport:
    read: int
    new_messages: int
    triage_written: int


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Record)


def write_jsonl(records: Iterable[Record], out: IO[bytes]) -> int:
    count = 0
    for record in records:
        out.write(_encoder.encode(record) + b"\n")
        count += 1
    return count


def write_csv(records: Iterable[Record], out: IO[str]) -> int:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for r in records:
        m, st = r.message, r.triage or TriageState(id=r.message.id)
        writer.writerow(
            [
                m.id,
                m.channel,
                m.kind.value,
                m.author.handle,
                m.created_at.isoformat(),
                st.status.value,
                st.priority.value,
                " ".join(st.tags),
                st.assignee or "",
                # Spreadsheet apps run cells that start with = + - @ as formulas: keep text inert.
                ("'" + m.text) if m.text[:1] in ("=", "+", "-", "@") else m.text,
                m.url,
                "yes" if r.archived else "",
            ]
        )
        count += 1
    return count


def read_jsonl(path: Path) -> Iterator[Record]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield _decoder.decode(line)
            except (msgspec.DecodeError, ValueError) as exc:
                raise ImportError_(f"{path}, line {number}: {exc}") from None


def records(store: StoreApi, *, archived: bool = False) -> Iterator[Record]:
    """Every live item, newest first; then, with ``archived``, every archived one."""
    for msg, state in store.query():
        yield Record(message=msg, triage=state if state.rev else None)
    if archived:
        for item in store.archived():
            yield Record(message=item.message, triage=item.triage, archived=True)


def import_records(store: StoreApi, path: Path) -> ImportReport:
    """Read the whole file first (a bad line stops the import before anything is written),
    then add the messages and write triage records the store has not seen a later revision of."""
    items = list(read_jsonl(path))
    live = [r for r in items if not r.archived]
    new_ids = store.upsert_messages([r.message for r in live])
    written = store.put_triage([r.triage for r in live if r.triage is not None], keep_newer=True)
    now = store.clock()
    store.put_archived(
        Archived(id=r.message.id, message=r.message, triage=r.triage or TriageState(id=r.message.id), archived_at=now)
        for r in items
        if r.archived and store.get_message(r.message.id) is None
    )
    return ImportReport(read=len(items), new_messages=len(new_ids), triage_written=written)
