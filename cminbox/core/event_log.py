"""The event log on disk (TinyDB backend): ``events/NNNNNN.json`` parts of at most EVENT_PART
events each, in position order, so an append rewrites one part (~300 KB at most), never the
whole log. Callers hold the store lock around :meth:`EventParts.append` and
:meth:`EventParts.remove`; reads reload any part another process replaced.

Only the newest part is read at open (for the last position); older parts are read when
someone asks for events that old, and full parts never change again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import msgspec

from cminbox.core.events import Event
from cminbox.core.segment import Segment, Signature, file_signature

EVENT_PART = 1000
TABLE = "events"


def part_path(folder: Path, number: int) -> Path:
    return folder / f"{number:06d}.json"


class EventParts:
    def __init__(self, folder: Path, *, durable: bool = True) -> None:
        self.folder = folder
        self.durable = durable
        self._parts: dict[int, Segment[Event]] = {}
        # Each part's events in position order, re-sorted only when the file changed: every
        # transaction asks for the last position, and an action must stay cheap.
        self._sorted: dict[int, list[Event]] = {}
        self._numbers: tuple[Signature, list[int]] = (None, [])

    def _part(self, number: int) -> Segment[Event]:
        seg = self._parts.get(number)
        if seg is None:
            seg = Segment(part_path(self.folder, number), TABLE, durable=self.durable, doc_type=Event)
            self._parts[number] = seg
        return seg

    def numbers(self) -> list[int]:
        """The part numbers, listed again only when the folder changed (a file added or replaced)."""
        sig = file_signature(self.folder)
        if sig is None or sig != self._numbers[0]:
            self._numbers = (sig, sorted(int(p.stem) for p in self.folder.glob("[0-9]*.json")))
        return self._numbers[1]

    def _loaded(self, number: int) -> list[Event]:
        seg = self._part(number)
        if seg.refresh() or number not in self._sorted:
            self._sorted[number] = sorted((event for _, event in seg.items()), key=lambda e: e.pos)
        return self._sorted[number]

    def last_position(self) -> int:
        for number in reversed(self.numbers()):
            events = self._loaded(number)
            if events:
                return events[-1].pos
        return 0

    def last_step(self) -> list[Event]:
        """The events of the newest step (one group), which a crash may have left without its change."""
        numbers = self.numbers()
        if not numbers:
            return []
        events = self._loaded(numbers[-1])
        if not events:
            return []
        group = events[-1].group
        step = [e for e in events if e.group == group]
        if len(numbers) > 1 and step[0] is events[0]:  # the step may begin in the part before
            step = [e for e in self._loaded(numbers[-2]) if e.group == group] + step
        return step

    def read(self, since: int = 0, after: datetime | None = None, limit: int | None = None) -> list[Event]:
        """Events with ``pos > since`` (and ``at >= after``), oldest first: reads parts from the
        newest back to the one holding ``since`` (or the first event before ``after``)."""
        picked: list[list[Event]] = []
        for number in reversed(self.numbers()):
            events = self._loaded(number)
            picked.append([e for e in events if e.pos > since and (after is None or e.at >= after)])
            if events and (events[0].pos <= since + 1 or (after is not None and events[0].at < after)):
                break
        out = [e for part in reversed(picked) for e in part]
        return out if limit is None else out[:limit]

    def append(self, drafts: Iterable[Event]) -> list[Event]:
        """Give the drafts the next positions and write them durably (call under the store lock,
        after refreshing). Returns them with their positions."""
        drafts = list(drafts)
        if not drafts:
            return []
        numbers = self.numbers()
        number = numbers[-1] if numbers else 0
        position = self.last_position()
        written: list[Event] = []
        pending = [msgspec.structs.replace(d, pos=position + i) for i, d in enumerate(drafts, start=1)]
        while pending:
            known = self._loaded(number)  # reloaded if another process wrote it
            room = EVENT_PART - len(known)
            if room <= 0:
                number += 1
                continue
            batch, pending = pending[:room], pending[room:]
            self._part(number).insert_many(batch)
            self._sorted[number] = known + batch  # the batch's positions follow every stored one
            written.extend(batch)
        return written

    def append_verbatim(self, events: list[Event]) -> list[Event]:
        """Write events with their own positions (ascending, above every stored one: a store
        being copied into; call under the store lock). Returns those written."""
        last = self.last_position()
        pending = [e for e in events if e.pos > last]
        numbers = self.numbers()
        number = numbers[-1] if numbers else 0
        written: list[Event] = []
        while pending:
            known = self._loaded(number)
            room = EVENT_PART - len(known)
            if room <= 0:
                number += 1
                continue
            batch, pending = pending[:room], pending[room:]
            self._part(number).insert_many(batch)
            self._sorted[number] = known + batch
            written.extend(batch)
        return written

    def remove(self, events: Iterable[Event]) -> None:
        """Drop events whose change did not happen (crash recovery; under the store lock)."""
        doomed = {e.pos for e in events}
        for number in reversed(self.numbers()):
            self._loaded(number)  # reloaded if another process wrote it
            seg = self._part(number)
            hits = [(doc_id, e.pos) for doc_id, e in seg.items() if e.pos in doomed]
            seg.remove_many([doc_id for doc_id, _ in hits])
            self._sorted.pop(number, None)
            doomed -= {pos for _, pos in hits}
            if not doomed:
                break
