"""The TinyDB store's event log: recording events with the change they describe, and reading them.

Why a crash can leave neither a change without its event nor an event without its change:
every writing step runs under the store lock and does, in this order,

1. append its events to the newest ``events/`` part (one atomic, fsynced file replace);
2. write the change itself (triage shards, message parts, archive, outbox), each file by
   atomic replace;
3. release the lock.

A crash before 1 leaves nothing. A crash between 1 and the end of 2 leaves events whose
change is missing in whole or in part; so before any step (the outermost transaction, in
every process, and once at open) the store checks the events written since it last looked
against the stored data (:meth:`EventTables._happened`: the item's triage revision reached
the event's, the message is there, an edited message has the event's content, the outbox
item is sent, a person record has the event's revision...) and removes the events whose
change is not there (an edit whose message was written but not its history line is finished
instead: store_upsert.py). Only the newest step can be unchecked (each step checks before
it appends), so the check at open reads one step. Writing the change first and the event
second would instead need a scan of every item at open to find changes without events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from cminbox.core.event_log import EventParts
from cminbox.core.events import Event, EventKind
from cminbox.core.failpoints import failpoint
from cminbox.core.instance import INSTANCE_ID
from cminbox.core.outbox_types import OutboxItem, OutboxStatus
from cminbox.core.random_ids import token_hex
from cminbox.core.segment import file_signature
from cminbox.core.store_parts import StoreParts

log = logging.getLogger(__name__)
CHANGE_POLL = 0.1  # seconds between looks at the files while waiting for a change


def new_group() -> str:
    return token_hex(6)


def draft(
    kind: EventKind, at: datetime, actor: str, message_id: str, label: str = "", group: str = "", **fields: object
) -> Event:
    """An event before the log gives it its position."""
    return Event(
        pos=0,
        kind=kind,
        at=at,
        actor=actor,
        instance=INSTANCE_ID,
        message_id=message_id,
        label=label,
        group=group,
        **fields,  # type: ignore[arg-type]
    )


class EventTables(StoreParts):
    pushes_changes = False  # files have no notifications: wait_for_change looks on a timer
    _waited = False  # wait_for_change was called once (the first call says True)
    dir: Path
    _events: EventParts
    _verified: int | None
    _mutex: threading.RLock
    _imported_through: Callable[[], int]  # store_portable.py: events copied from another store
    _person_written: Callable[[Event], bool]  # store_people.py

    def _outbox_item(self, item_id: str) -> OutboxItem | None:
        raise NotImplementedError

    def _edit_written(self, event: Event) -> bool:
        raise NotImplementedError  # store_upsert.py

    def _finish_edits(self, kept: Iterable[Event]) -> None:
        raise NotImplementedError  # store_upsert.py

    # ----------------------------------------------------------------- writing
    def _append_events(self, drafts: Iterable[Event]) -> list[Event]:
        """Step 1 of a writing step (see the module docstring); call inside the transaction."""
        written = self._events.append(drafts)
        if written:
            failpoint("store.after_events")  # the crash tests' kill between an event and its change
        return written

    def _verify_events(self) -> None:
        """Remove the events whose change a crash cut off (see the module docstring)."""
        if self._verified is None:
            tail = self._events.last_step()
        elif self._events.last_position() == self._verified:
            return
        else:
            tail = self._events.read(since=self._verified)
        imported = self._imported_through()  # copied from another store: not a step of this one
        newest = tail[-1].group if tail else ""
        checked = [e for e in tail if e.pos > imported]
        missing = [e for e in checked if not self._happened(e, newest)]
        if missing:
            log.warning("dropping %d event(s) of a step that did not complete (a crash mid-write)", len(missing))
            self._events.remove(missing)
        dropped = {e.pos for e in missing}
        self._finish_edits(e for e in checked if e.group == newest and e.pos not in dropped)
        self._verified = self._events.last_position()

    def _happened(self, event: Event, newest: str) -> bool:
        """Whether the change an event records is stored. Only the newest step (group ``newest``)
        can be unfinished: every step checked the ones before it before appending its own."""
        match event.kind:
            case EventKind.ACTION | EventKind.UNDO:
                return self._triage(event.message_id).rev >= event.rev
            case EventKind.EDITED:
                # Not monotonic like a revision (a later edit changes the content again), so
                # only the newest step's edits are compared with the stored message.
                return event.group != newest or self._edit_written(event)
            case EventKind.ARRIVED | EventKind.RESTORED:
                return self._get_message(event.message_id) is not None
            case EventKind.ARCHIVED:
                return self._get_message(event.message_id) is None
            case EventKind.SENT:
                item = self._outbox_item(event.group)
                return item is not None and item.status == OutboxStatus.SENT
            case EventKind.PERSON:
                # A record's later step may remove it (a link), so only the newest step's are checked.
                return event.group != newest or self._person_written(event)

    def _record_sent(self, item: OutboxItem, result: dict[str, str]) -> None:
        """The outbox's hook: the ``sent`` event of a delivery, inside the outbox's transaction."""
        label = item.kind.value if item.kind != "action" else f"action: {item.payload.get('action', '')}"
        self._append_events(
            [
                draft(
                    EventKind.SENT,
                    self._now(),
                    item.actor,
                    item.message_id,
                    label=f"{label} → {item.destination}",
                    group=item.id,
                    after=dict(result),
                )
            ]
        )

    def _now(self) -> datetime:
        raise NotImplementedError

    # ----------------------------------------------------------------- reading
    def events(self, *, since: int = 0, after: datetime | None = None, limit: int | None = None) -> list[Event]:
        with self.transaction():  # checked: never an event of a step cut short
            return self._events.read(since=since, after=after, limit=limit)

    def last_position(self) -> int:
        with self.transaction():
            return self._events.last_position()

    def _change_signature(self) -> tuple[object, ...]:
        """What every change touches: the folders (files added or removed) and their files."""
        parts: list[object] = []
        for sub in ("messages", "triage", "events", "archive"):
            folder = self.dir / sub
            parts.append(file_signature(folder))
            parts.extend(file_signature(p) for p in sorted(folder.glob("*.json*")))
        parts.append(file_signature(self.dir / "outbox.json"))
        return tuple(parts)

    def wait_for_change(self, timeout: float) -> bool:
        """TinyDB has no notifications: look at the files' signatures every CHANGE_POLL seconds.
        The first call says True at once (what changed since the open is not known here)."""
        if not self._waited:
            self._waited = True
            return True
        deadline = time.monotonic() + timeout
        before = self._change_signature()
        while True:
            if self._change_signature() != before:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(CHANGE_POLL, left))
