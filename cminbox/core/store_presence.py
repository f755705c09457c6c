"""Presence on the TinyDB store: ``state/presence.json``, one document per store handle.

A mixin of :class:`~cminbox.core.store.Store`. Writes hold the store lock (so two instances
never drop each other's record) but skip fsync: presence is throwaway (a record lost in a
crash would have expired within seconds anyway), and a heartbeat every few seconds should
not cost a disk flush. The file is still replaced atomically, so a reader never sees half
of it; a file that cannot be read is rebuilt empty, as channel health is.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from cminbox.core.clock import Clock
from cminbox.core.instance import new_instance_id
from cminbox.core.locking import FileLock
from cminbox.core.presence import TTL, Activity, Presence
from cminbox.core.segment import CorruptFileError, Segment


class PresenceTable:
    clock: Clock
    lock: FileLock
    _mutex: threading.RLock
    _presence: Segment[dict[str, Any]]
    presence_id: str

    def _init_presence(self, seg: Segment[dict[str, Any]]) -> None:
        self._presence = seg
        self.presence_id = new_instance_id()  # per handle: two handles of one process are two instances
        self._presence_held = False

    def _presence_docs(self) -> dict[int, dict[str, Any]]:
        try:
            self._presence.refresh()
        except CorruptFileError:
            with self.lock:
                self._presence.reset()
        return dict(self._presence.items())

    def set_presence(self, person: str, message_id: str | None, activity: Activity = Activity.VIEWING) -> None:
        now = self.clock()
        with self._mutex, self.lock:
            docs = self._presence_docs()
            drop = [
                doc_id
                for doc_id, doc in docs.items()
                if doc["instance"] == self.presence_id or doc["expires"] <= now.timestamp()
            ]
            if drop:
                self._presence.remove_many(drop)
            if message_id is not None:
                doc = {
                    "id": self.presence_id,
                    "instance": self.presence_id,
                    "person": person,
                    "message_id": message_id,
                    "activity": Activity(activity).value,
                    "expires": (now + TTL).timestamp(),
                }
                self._presence.insert_many([doc])
            self._presence_held = message_id is not None

    def presence(self) -> list[Presence]:
        now = self.clock().timestamp()
        with self._mutex:
            docs = self._presence_docs()
        return [_record(doc) for doc in docs.values() if doc["instance"] != self.presence_id and doc["expires"] > now]

    def clear_presence(self) -> None:
        """Remove this handle's record (closing the store does it)."""
        if self._presence_held:
            self.set_presence("", None)


def _record(doc: dict[str, Any]) -> Presence:
    return Presence(
        person=str(doc["person"]),
        instance=str(doc["instance"]),
        message_id=str(doc["message_id"]),
        activity=Activity(doc["activity"]),
        expires_at=datetime.fromtimestamp(float(doc["expires"]), UTC),
    )
