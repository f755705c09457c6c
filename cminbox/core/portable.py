"""Export and import: JSON Lines for backup and migration, CSV for spreadsheets.

An item's JSONL line is ``{"message": {...}, "triage": {...}, "archived": false}``: everything
cminbox knows about an item, so ``export`` then ``import`` into an empty data dir gives
the same inbox back. ``export --all`` (:func:`everything`) adds the rest of the store, one line
each: ``{"outbox": {...}}`` (status, attempts and id, hence the idempotency key: a reply sent
before a move is never sent again), ``{"draft": {...}}``, ``{"cursor": {...}}`` (polling goes on
where it was, nothing is notified twice) and ``{"event": {...}}`` (the event log, positions kept).
CSV is flat and lossy (one row per item, the fields people sort and count by) and is export-only.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import msgspec

from cminbox.core.errors import CminboxError
from cminbox.core.events import Event
from cminbox.core.models import Archived, Message, TriageState
from cminbox.core.outbox_types import OutboxItem
from cminbox.core.packed_extras import enc_hook
from cminbox.core.people import Person
from cminbox.core.portable_api import PortableStore
from cminbox.core.store_api import StoreApi

EVENT_PAGE = 5000

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
    archived_at: datetime | None = None


class Draft(msgspec.Struct, kw_only=True):
    message_id: str
    text: str


class Cursor(msgspec.Struct, kw_only=True):
    channel: str
    cursor: dict[str, Any] | None


class Line(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Any line of an export: an item (``message``...) or one of the other kinds."""

    message: Message | None = None
    triage: TriageState | None = None
    archived: bool = False
    archived_at: datetime | None = None
    event: Event | None = None
    outbox: OutboxItem | None = None
    draft: Draft | None = None
    cursor: Cursor | None = None
    person: Person | None = None


class ImportError_(CminboxError):
    """A line of an import file that cannot be read; names the file and line."""


@dataclass(frozen=True)
class ImportReport:
    read: int
    new_messages: int
    triage_written: int
    events: int = 0
    events_skipped: int = 0  # the file's events, not imported: this store has a log of its own
    outbox: int = 0
    drafts: int = 0
    cursors: int = 0
    people: int = 0


_encoder = msgspec.json.Encoder(enc_hook=enc_hook)
_decoder = msgspec.json.Decoder(Line)


def write_jsonl(records: Iterable[Record | Line], out: IO[bytes]) -> int:
    count = 0
    for record in records:
        out.write(_encoder.encode(record) + b"\n")
        count += 1
    return count


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    """Spreadsheet apps run a cell that starts with = + - @ (or a tab or CR before one) as a
    formula: such a cell gets a leading ' and stays text (OWASP's advice). Every cell a server
    or a user wrote, not only the message's text: a feed's author ``=HYPERLINK(...)`` went out
    as a live formula (hostile-data trial of 2026-12-01)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def write_csv(records: Iterable[Record], out: IO[str]) -> int:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for r in records:
        m, st = r.message, r.triage or TriageState(id=r.message.id)
        writer.writerow(
            [
                _cell(m.id),
                _cell(m.channel),
                m.kind.value,
                _cell(m.author.handle),
                m.created_at.isoformat(),
                st.status.value,
                st.priority.value,
                _cell(" ".join(st.tags)),
                _cell(st.assignee or ""),
                _cell(m.text),
                _cell(m.url),
                "yes" if r.archived else "",
            ]
        )
        count += 1
    return count


def read_jsonl(path: Path) -> Iterator[Line]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                line = _decoder.decode(raw)
            except (msgspec.DecodeError, ValueError) as exc:
                raise ImportError_(f"{path}, line {number}: {exc}") from None
            if line.message is None and not (line.event or line.outbox or line.draft or line.cursor or line.person):
                raise ImportError_(
                    f"{path}, line {number}: neither an item nor an event, outbox item, draft, cursor or person"
                )
            yield line


def records(store: StoreApi, *, archived: bool = False) -> Iterator[Record]:
    """Every live item, newest first, with its whole triage state (history included); then,
    with ``archived``, every archived one. A query's states are the lists': PostgreSQL keeps
    the history in the event log and leaves it out of them, so a plain export of a team store
    had no history, where a TinyDB one had it (review of 2026-12-01)."""
    if isinstance(store, PortableStore):
        items = sorted(store.export_items(), key=lambda item: (item[0].created_at, item[0].id), reverse=True)
    else:
        items = store.query()
    for msg, state in items:
        yield Record(message=msg, triage=state if state.rev or state.history else None)
    if archived:
        for item in store.archived():
            yield Record(message=item.message, triage=item.triage, archived=True)


def everything(store: StoreApi) -> Iterator[Line]:
    """The whole store (``export --all``): live items in id order with their history, archived
    items, the outbox, drafts, cursors, then the event log (events carry no ``rev``: that is
    the TinyDB store's crash check, not part of what happened)."""
    assert isinstance(store, PortableStore)
    for msg, state in store.export_items():
        yield Line(message=msg, triage=state if state.rev or state.history else None)
    for a in sorted(store.archived(), key=lambda a: a.id):
        yield Line(message=a.message, triage=a.triage, archived=True, archived_at=a.archived_at)
    for item in store.outbox.items():
        yield Line(outbox=item)
    for mid, text in sorted(store.all_drafts().items()):
        yield Line(draft=Draft(message_id=mid, text=text))
    for channel, cursor in sorted(store.all_cursors().items()):
        yield Line(cursor=Cursor(channel=channel, cursor=cursor))
    for person in store.people():
        yield Line(person=person)
    since = 0
    while batch := store.events(since=since, limit=EVENT_PAGE):
        for event in batch:
            yield Line(event=msgspec.structs.replace(event, rev=0))
        since = batch[-1].pos


def import_records(store: StoreApi, path: Path) -> ImportReport:
    """Read the whole file first (a bad line stops the import before anything is written),
    then add the messages and write triage records the store has not seen a later revision of.

    A file with events (``export --all``) into a store with no events of its own is copied
    verbatim (no new ``arrived`` events, the file's log as this store's); into a store with a
    log of its own, items merge as above and the file's events are left out (said in the report).
    Outbox items merge by id (an item sent in either stays sent); drafts and cursors fill in
    what this store has none of."""
    lines = list(read_jsonl(path))
    items = [r for r in lines if r.message is not None]
    events = [r.event for r in lines if r.event is not None]
    verbatim = bool(events) and isinstance(store, PortableStore) and store.last_position() == 0
    live = [r for r in items if not r.archived]
    if verbatim:
        assert isinstance(store, PortableStore)
        known = set(store.message_ids())
        new = [r.message.id for r in live if r.message and r.message.id not in known]
        store.import_items([(r.message, r.triage or TriageState(id=r.message.id)) for r in live if r.message])
        new_ids, written = new, sum(1 for r in live if r.triage is not None)
    else:
        new_ids = store.upsert_messages([r.message for r in live if r.message])
        written = store.put_triage([r.triage for r in live if r.triage is not None], keep_newer=True)
    now = store.clock()
    store.put_archived(
        Archived(
            id=r.message.id,
            message=r.message,
            triage=r.triage or TriageState(id=r.message.id),
            archived_at=r.archived_at or now,
        )
        for r in items
        if r.archived and r.message and store.get_message(r.message.id) is None
    )
    outbox = drafts = cursors = copied = people = 0
    if isinstance(store, PortableStore):
        outbox = store.import_outbox([r.outbox for r in lines if r.outbox is not None])
        people = store.import_people([r.person for r in lines if r.person is not None])
        if verbatim:
            copied = sum(store.import_events(events[i : i + EVENT_PAGE]) for i in range(0, len(events), EVENT_PAGE))
    for r in lines:
        if r.draft is not None and not store.get_draft(r.draft.message_id):
            store.set_draft(r.draft.message_id, r.draft.text)
            drafts += 1
        if r.cursor is not None and store.get_cursor(r.cursor.channel) is None and r.cursor.cursor is not None:
            store.set_cursor(r.cursor.channel, r.cursor.cursor)
            cursors += 1
    return ImportReport(
        read=len(items),
        new_messages=len(new_ids),
        triage_written=written,
        events=copied,
        events_skipped=0 if verbatim else len(events),
        outbox=outbox,
        drafts=drafts,
        cursors=cursors,
        people=people,
    )
