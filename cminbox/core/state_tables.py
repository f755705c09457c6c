"""The store's small tables: poll cursors and health per channel, reply drafts per message.

A mixin of :class:`~cminbox.core.store.Store` (it uses the store's segments, inter-process
lock and thread mutex), kept apart so store.py holds the message and triage layout.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from cminbox.core.segment import Segment
from cminbox.core.store_parts import StoreParts


class StateTables(StoreParts):
    _state: dict[str, Segment[dict[str, Any]]]
    _mutex: threading.RLock

    def _get_doc(self, table: str, key: str) -> tuple[int, dict[str, Any]] | tuple[None, None]:
        for doc_id, doc in self._state[table].items():
            if doc["id"] == key:
                return doc_id, doc
        return None, None

    def _put_doc(self, table: str, doc: dict[str, Any]) -> None:
        with self.transaction(events=False):  # health, cursors, drafts: no event
            doc_id, _ = self._get_doc(table, doc["id"])
            if doc_id is None:
                self._state[table].insert_many([doc])
            else:
                self._state[table].replace_many({doc_id: doc})

    def get_cursor(self, channel: str) -> dict[str, Any] | None:
        """Raises CorruptFileError when the cursors file cannot be loaded: polling as if from
        scratch would re-read (and re-notify) what the lost cursor already covered."""
        with self._mutex:
            if self._state["cursors"].broken is not None:
                raise self._state["cursors"].broken
            _, doc = self._get_doc("cursors", channel)
            return doc["cursor"] if doc else None

    def set_cursor(self, channel: str, cursor: dict[str, Any] | None) -> None:
        self._put_doc("cursors", {"id": channel, "cursor": cursor})

    def rewind_cursors(self, channels: Iterable[str] | None) -> list[str]:
        """Forget the poll cursor of ``channels`` (of every channel: None), so the next poll
        reads their recent history again as on first use; what is still stored merges by id.
        Returns the channels rewound."""
        with self.transaction():
            wanted = None if channels is None else set(channels)
            seg = self._state["cursors"]
            docs = {
                doc_id: {**doc, "cursor": None}
                for doc_id, doc in seg.items()
                if (wanted is None or doc["id"] in wanted) and doc.get("cursor") is not None
            }
            seg.replace_many(docs)
            return sorted(doc["id"] for doc in docs.values())

    def get_health(self, channel: str) -> dict[str, Any] | None:
        with self._mutex:
            _, doc = self._get_doc("health", channel)
            return doc

    def set_health(self, channel: str, health: dict[str, Any]) -> None:
        self._put_doc("health", {**health, "id": channel})

    def all_health(self) -> dict[str, dict[str, Any]]:
        with self._mutex:
            return {doc["id"]: doc for _, doc in self._state["health"].items()}

    def get_draft(self, message_id: str) -> str:
        with self._mutex:
            _, doc = self._get_doc("drafts", message_id)
            return str(doc["text"]) if doc else ""

    def set_draft(self, message_id: str, text: str) -> None:
        """Keep (or, when empty, drop) the unsent reply to a message. NUL characters are
        dropped, as on PostgreSQL (its text cannot hold them): a draft moves between backends."""
        text = text.replace("\x00", "")
        with self.transaction(events=False):
            doc_id, _ = self._get_doc("drafts", message_id)
            if not text.strip():
                if doc_id is not None:
                    self._state["drafts"].remove_many([doc_id])
                return
            self._put_doc("drafts", {"id": message_id, "text": text})
