"""Retention: done items past a configurable age move to compressed archive segments.

``archive/YYYY-MM.json.gz`` holds, per month of ``created_at``, TinyDB documents that
carry the message and its triage state together. Search still reaches them
(:meth:`ArchiveTables.archived`), ``cminbox show`` finds them, and :meth:`restore`
brings items back into the live store.

Crash safety: an item is written to its archive segment (durably) before it leaves the
live files, so a kill in between leaves it in both places; the live copy wins on
reading, and the next archive run simply rewrites the archive entry.

A mixin of :class:`~cminbox.core.store.Store`, kept apart so store.py holds the live layout.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from cminbox.core.clock import Clock
from cminbox.core.events import EventKind
from cminbox.core.indexes import Indexes
from cminbox.core.kept import Kept
from cminbox.core.models import Archived, Message, Status, TriageState
from cminbox.core.segment import CorruptFileError, Segment
from cminbox.core.store_events import draft, new_group
from cminbox.core.store_parts import StoreParts

__all__ = ["ArchiveTables", "Archived", "last_activity"]


def last_activity(message: Message, state: TriageState) -> datetime:
    return max([message.created_at, *(entry.at for entry in state.history)])


class ArchiveTables(StoreParts):
    dir: Path
    kept: Kept
    durable: bool
    clock: Clock
    ix: Indexes
    file_problems: dict[Path, str]
    _mutex: threading.RLock
    _segments: dict[str, Segment[Message]]
    _shards: list[Segment[TriageState]]
    _shard_ids: list[set[str]]
    _unreported: set[str]

    def _archive_segment(self, month: str) -> Segment[Archived]:
        return Segment(
            self.dir / "archive" / f"{month}.json.gz",
            "archive",
            durable=self.durable,
            doc_type=Archived,
            compressed=True,
        )

    def archive(self, older_than: timedelta, *, dry_run: bool = False) -> list[str]:
        """Move done items whose last activity is older than ``older_than`` to the archive.
        Returns the ids moved (or that would move, with ``dry_run``)."""
        with self._mutex, self.transaction():
            self._ensure_all()
            cutoff = self.clock() - older_than
            picked: list[Archived] = []
            now = self.clock()
            for mid in sorted(self.ix.status.get(Status.DONE, ())):
                msg = self.ix.messages.get(mid)
                state = self._triage(mid)
                if msg is not None and state.status == Status.DONE and last_activity(msg, state) < cutoff:
                    picked.append(Archived(id=mid, message=msg, triage=state, archived_at=now))
            if dry_run or not picked:
                return [a.id for a in picked]
            self.put_archived(picked)  # 1. durable in the archive ...
            group = new_group()  # 2. the events (store_events.py) ...
            self._append_events(draft(EventKind.ARCHIVED, now, "", a.id, "archived", group) for a in picked)
            self._drop_live([a.id for a in picked])  # 3. ... then out of the live files
            return [a.id for a in picked]

    def put_archived(self, items: Iterable[Archived]) -> None:
        """Write items into their month's archive segment (replacing an entry with the same id)."""
        by_month: dict[str, list[Archived]] = {}
        for item in items:
            by_month.setdefault(item.message.created_at.strftime("%Y-%m"), []).append(item)
        with self._mutex, self.transaction():
            for month, batch in sorted(by_month.items()):
                seg = self._archive_segment(month)
                seg.refresh()
                existing = {doc.id: doc_id for doc_id, doc in seg.items()}
                seg.replace_many({existing[i.id]: i for i in batch if i.id in existing})
                seg.insert_many([i for i in batch if i.id not in existing])

    def _drop_live(self, ids: list[str]) -> None:
        by_segment: dict[str, list[int]] = {}
        part_of: dict[str, str] = {}  # each id's part, so dropping it searches no part (PartIds)
        for key, held in self.ix.by_segment(ids).items():
            by_segment[key] = [doc_id for doc_id, doc in self._segments[key].items() if doc.id in held]
            part_of.update(dict.fromkeys(held, key))
        by_shard: dict[int, list[int]] = {}
        for mid in ids:
            doc_id = self.ix.triage_at.get(mid)
            if doc_id is not None:
                by_shard.setdefault(self.ix.triage_shard[mid], []).append(doc_id)
        for key, doc_ids in by_segment.items():
            seg = self._segments[key]
            if len(doc_ids) == len(seg):
                # A part emptied by archiving goes away rather than lingering as an empty file.
                seg.remove_many(doc_ids)
                self.kept.forget(seg.path)  # before the unlink: a part gone but noted is a loss (kept.py)
                seg.path.unlink(missing_ok=True)
                del self._segments[key]
            else:
                seg.remove_many(doc_ids)
        for number, doc_ids in by_shard.items():
            self._shards[number].remove_many(doc_ids)
        for mid in ids:
            shard = self.ix.triage_shard.get(mid)
            if shard is not None:
                self._shard_ids[shard].discard(mid)
            self.ix.drop_message(mid, part_of.get(mid))
            self.ix.drop_triage(mid)
        self._unreported.update(ids)

    def archived(self) -> list[Archived]:
        """Every archived item not also live, newest first (reads and decompresses each archive file)."""
        with self._mutex:
            found: dict[str, Archived] = {}
            for path in sorted((self.dir / "archive").glob("*.json.gz")):
                seg = self._archive_segment(path.name.removesuffix(".json.gz"))
                try:
                    seg.refresh()
                except CorruptFileError as exc:
                    self.file_problems[path] = str(exc)
                    continue
                for _, item in seg.items():
                    if item.id not in self.ix.messages:
                        found[item.id] = item
            return sorted(found.values(), key=lambda a: (a.message.created_at, a.id), reverse=True)

    def archived_ids(self) -> set[str]:
        """The ids of archived items not also live (reads every archive file: not for every poll)."""
        if not any((self.dir / "archive").glob("*.json.gz")):
            return set()
        return {item.id for item in self.archived()}

    def restore(self, ids: Iterable[str]) -> list[str]:
        """Bring archived items back into the live store with their triage state. Returns the ids restored."""
        wanted = set(ids)
        with self._mutex, self.transaction():
            items = [a for a in self.archived() if a.id in wanted]
            group, now = new_group(), self.clock()
            self._append_events(draft(EventKind.RESTORED, now, "", a.id, "restored", group) for a in items)
            self._upsert([a.message for a in items], arrivals=False)
            self.put_triage([a.triage for a in items], keep_newer=False)
            for path in sorted((self.dir / "archive").glob("*.json.gz")):
                seg = self._archive_segment(path.name.removesuffix(".json.gz"))
                seg.refresh()
                seg.remove_many([doc_id for doc_id, doc in seg.items() if doc.id in wanted])
            return [a.id for a in items]

    def put_triage(self, states: Iterable[TriageState], *, keep_newer: bool = True) -> int:
        """Write whole triage records (restore, import). ``keep_newer``: leave a record alone when
        the store's copy has a higher revision (it saw later actions). Returns how many were written."""
        with self._mutex, self.transaction():
            changed = []
            for state in states:
                current = self._triage(state.id)
                if current == state or (keep_newer and current.rev > state.rev):
                    continue
                changed.append(state)
            self._write_states(changed)
        return len(changed)

    def _write_shard(self, number: int, updates: dict[int, TriageState], inserts: list[TriageState]) -> None:
        shard = self._shards[number]
        new_ids = shard.write_many(updates, inserts, [])  # one file write for both
        for doc_id, state in updates.items():
            self.ix.set_triage(doc_id, state, number)
        for state, doc_id in zip(inserts, new_ids, strict=True):
            self.ix.set_triage(doc_id, state, number)
            self._shard_ids[number].add(state.id)
