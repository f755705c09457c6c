"""The TinyDB store's side of moving a store (:class:`cminbox.core.portable_api.PortableStore`).

Copied events keep their positions and are written under the store lock like any step; a
record of the last copied position (``state/imported-events.json``) tells the crash check of
store_events.py that they are history copied from elsewhere, not a step of this store whose
change may be missing (an ``arrived`` event of an item archived since would otherwise look
cut short). The progress of a copy into this store is ``state/migration.json``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from cminbox.core.event_log import EventParts
from cminbox.core.events import Event
from cminbox.core.indexes import Indexes
from cminbox.core.models import Message, TriageState
from cminbox.core.segment import Segment, atomic_write_bytes
from cminbox.core.store_parts import StoreParts

_MARK = "migration.json"
_IMPORTED = "imported-events.json"


class PortableTables(StoreParts):
    dir: Path
    durable: bool
    ix: Indexes
    _mutex: threading.RLock
    _events: EventParts
    _state: dict[str, Segment[dict[str, Any]]]

    def put_triage(self, states: Iterable[TriageState], *, keep_newer: bool = True) -> int:
        raise NotImplementedError

    # ----------------------------------------------------------------- reading
    def export_items(self, after: str = "") -> Iterator[tuple[Message, TriageState]]:
        with self._mutex:
            self._ensure_all()
            items = [(self.ix.messages[mid], self._triage(mid)) for mid in sorted(self.ix.messages) if mid > after]
        yield from items

    def all_drafts(self) -> dict[str, str]:
        with self.transaction():
            return {doc["id"]: str(doc["text"]) for _, doc in self._state["drafts"].items()}

    def all_cursors(self) -> dict[str, dict[str, Any] | None]:
        with self.transaction():
            return {doc["id"]: doc.get("cursor") for _, doc in self._state["cursors"].items()}

    # ----------------------------------------------------------------- writing
    def import_items(self, items: list[tuple[Message, TriageState]]) -> None:
        with self._mutex, self.transaction():
            self._upsert([m for m, _ in items], arrivals=False)
            self.put_triage([st for _, st in items if st.rev or st.history], keep_newer=True)

    def import_events(self, events: list[Event]) -> int:
        with self._mutex, self.transaction():
            written = self._events.append_verbatim(events)
            if written:
                atomic_write_bytes(
                    self.dir / "state" / _IMPORTED,
                    msgspec.json.encode({"through": written[-1].pos}),
                    durable=self.durable,
                )
            return len(written)

    def import_outbox(self, items: list[Any]) -> int:
        return self.outbox.import_items(items)

    def _imported_through(self) -> int:
        path = self.dir / "state" / _IMPORTED
        try:
            return int(msgspec.json.decode(path.read_bytes()).get("through", 0))
        except (OSError, msgspec.DecodeError, AttributeError, TypeError, ValueError):
            return 0

    def migration_mark(self) -> dict[str, Any] | None:
        try:
            mark = msgspec.json.decode((self.dir / "state" / _MARK).read_bytes())
        except FileNotFoundError:
            return None
        return mark if isinstance(mark, dict) else None

    def set_migration_mark(self, mark: dict[str, Any]) -> None:
        atomic_write_bytes(self.dir / "state" / _MARK, msgspec.json.encode(mark), durable=self.durable)

    def settle(self) -> None:
        """Files need no upkeep after a copy: the indexes are built as they are read."""
