"""Moving a store to another backend (``cminbox store migrate``): copy, resume, verify.

The copy goes through the store interface (:class:`~cminbox.core.portable_api.PortableStore`),
so it works from and to every backend. It runs in phases (live items, archive, outbox,
drafts, cursors and person records, event log), each in batches committed in the target; after each batch
the target keeps a mark of where the copy stands (``migration_mark``). A run that was killed
starts again from the mark; every write is keyed (ids, positions), so a batch that was
written but not yet marked is written again without a duplicate. A run that finds the copy
complete only verifies it, so a second run changes nothing.

The target must be empty, or hold a copy of this same source (its mark names the source):
merging two stores' histories is not something a copy can do faithfully (two event logs
cannot share positions), so it is refused; ``cminbox import`` merges items.

Verifying compares a digest of the complete export of each store (:func:`digest`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import msgspec

from cminbox.core.errors import CminboxError
from cminbox.core.failpoints import failpoint
from cminbox.core.models import HistoryEntry, TriageState
from cminbox.core.packed_extras import enc_hook
from cminbox.core.portable import Line, everything
from cminbox.core.portable_api import PortableStore
from cminbox.core.store_api import StoreApi

BATCH = 2000
_ENC = msgspec.json.Encoder(order="sorted", enc_hook=enc_hook)  # a database keeps JSON objects without their key order
Say = Callable[[str], None]


class MoveError(CminboxError):
    """A copy that cannot start or did not come out equal; the message says what to do."""


@dataclass
class Digest:
    counts: dict[str, int] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MoveReport:
    resumed: bool  # a killed run was continued
    already_done: bool  # nothing was left to copy (only verified)
    copied: dict[str, int]
    source: Digest
    target: Digest


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _history(state: TriageState | None) -> TriageState | None:
    if state is None or not state.history:
        return state
    return msgspec.structs.replace(
        state,
        history=tuple(msgspec.structs.replace(h, at=_utc(h.at)) for h in state.history if isinstance(h, HistoryEntry)),
    )


def _canonical(line: Line) -> tuple[str, bytes]:
    """A line's section and bytes, with times as UTC instants (a database gives them back in its
    session time zone; the instant is what is kept)."""
    if line.event is not None:
        return "events", _ENC.encode(msgspec.structs.replace(line.event, at=_utc(line.event.at)))
    if line.outbox is not None:
        o = line.outbox
        fixed = msgspec.structs.replace(
            o,
            created_at=_utc(o.created_at),
            next_attempt_at=_utc(o.next_attempt_at),
            lease_until=_utc(o.lease_until),
            sent_at=_utc(o.sent_at),
        )
        return "outbox", _ENC.encode(fixed)
    if line.draft is not None:
        return "drafts", _ENC.encode(line.draft)
    if line.cursor is not None:
        return "cursors", _ENC.encode(line.cursor)
    if line.person is not None:
        p = line.person
        notes = [msgspec.structs.replace(n, at=_utc(n.at)) for n in p.notes]
        return "people", _ENC.encode(msgspec.structs.replace(p, updated_at=_utc(p.updated_at), notes=notes))
    fixed_line = msgspec.structs.replace(line, triage=_history(line.triage), archived_at=_utc(line.archived_at))
    return ("archive" if line.archived else "items"), _ENC.encode(fixed_line)


def digest(store: StoreApi) -> Digest:
    """Counts and SHA-256 per section of the store's complete export (outbox in id order, the
    rest in the export's own order, which is by id or position)."""
    result = Digest()
    hashers: dict[str, Any] = {}
    outbox: list[bytes] = []
    for line in everything(store):
        section, data = _canonical(line)
        if section == "outbox":
            outbox.append(data)
            continue
        hashers.setdefault(section, hashlib.sha256()).update(data + b"\n")
        result.counts[section] = result.counts.get(section, 0) + 1
    for data in sorted(outbox):
        hashers.setdefault("outbox", hashlib.sha256()).update(data + b"\n")
    result.counts["outbox"] = len(outbox)
    for section in ("items", "archive", "outbox", "drafts", "cursors", "people", "events"):
        result.counts.setdefault(section, 0)
        result.hashes[section] = hashers[section].hexdigest() if section in hashers else ""
    return result


def _is_empty(store: StoreApi) -> bool:
    return (
        not store.message_ids() and not store.archived_ids() and store.last_position() == 0 and not store.outbox.items()
    )


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


class _Copy:
    def __init__(self, source: StoreApi, target: StoreApi, mark: dict[str, Any], say: Say, batch: int) -> None:
        assert isinstance(source, PortableStore) and isinstance(target, PortableStore)
        self.source, self.target, self.mark, self.say, self.batch = source, target, mark, say, batch
        self.copied: dict[str, int] = {}
        self._batches = 0

    def _commit(self, **progress: Any) -> None:
        """The batch just written is committed: move the mark past it."""
        self.mark.update(progress)
        assert isinstance(self.target, PortableStore)
        self.target.set_migration_mark(self.mark)
        self._batches += 1
        failpoint(f"migrate.batch.{self._batches}")  # the resume tests' kill after N batches

    def run(self) -> None:
        src, tgt = self.source, self.target
        assert isinstance(src, PortableStore) and isinstance(tgt, PortableStore)
        if self.mark.get("phase", "items") == "items":
            for batch in _batches(src.export_items(after=self.mark.get("items_after", "")), self.batch):
                tgt.import_items(batch)
                self.copied["items"] = self.copied.get("items", 0) + len(batch)
                self._commit(items_after=batch[-1][0].id)
            self._commit(phase="archive")
        if self.mark["phase"] == "archive":
            after = self.mark.get("archive_after", "")
            pending = sorted((a for a in self.source.archived() if a.id > after), key=lambda a: a.id)
            for batch in _batches(pending, self.batch):
                self.target.put_archived(batch)
                self.copied["archive"] = self.copied.get("archive", 0) + len(batch)
                self._commit(archive_after=batch[-1].id)
            self._commit(phase="small")
        if self.mark["phase"] == "small":  # keyed writes, idempotent: no finer mark needed
            self.copied["outbox"] = tgt.import_outbox(self.source.outbox.items())
            for mid, text in src.all_drafts().items():
                self.target.set_draft(mid, text)
            for channel, cursor in src.all_cursors().items():
                self.target.set_cursor(channel, cursor)
            self.copied["people"] = tgt.import_people(self.source.people())
            self._commit(phase="events")
        if self.mark["phase"] == "events":
            since = self.target.last_position()  # positions are kept: the target's last is the mark
            while events := self.source.events(since=since, limit=self.batch):
                self.copied["events"] = self.copied.get("events", 0) + tgt.import_events(
                    [msgspec.structs.replace(e, rev=0) for e in events]
                )
                since = events[-1].pos
                self._commit(events_through=since)
            self._commit(phase="verify")


def _settle(target: PortableStore, say: Say) -> None:
    """The target's upkeep after the copy (PortableStore.settle); its failure is said, not
    raised: the copy is complete without it, and the database catches up on its own."""
    try:
        target.settle()
    except CminboxError as exc:
        say(f"the copy is complete; its upkeep was not done ({exc}); the database catches up by itself")


def move(
    source: StoreApi, target: StoreApi, *, source_name: str, say: Say = lambda _: None, batch: int = BATCH
) -> MoveReport:
    """Copy ``source`` into ``target`` (resuming a killed run), then verify both exports are equal."""
    if not isinstance(source, PortableStore) or not isinstance(target, PortableStore):
        raise MoveError("one of the stores cannot be copied (it does not offer the portable interface)")
    mark = target.migration_mark()
    resumed = False
    if mark is None:
        if not _is_empty(target):
            raise MoveError(
                "the target already holds a store (items, events or outbox items) that is not a copy of this one; "
                "refusing to mix two stores' histories.",
                "Give an empty database or data folder, or merge items with `cminbox export --all` and "
                "`cminbox import`.",
            )
        mark = {"source": source_name, "phase": "items", "started": datetime.now(UTC).isoformat()}
        target.set_migration_mark(mark)
    elif mark.get("source") != source_name:
        raise MoveError(
            f"the target holds a copy of another store ({mark.get('source')}), not of {source_name}.",
            "Give an empty database or data folder.",
        )
    else:
        resumed = mark.get("phase") != "done"
        if resumed:
            say(f"continuing the copy where it stopped (phase: {mark.get('phase')})")
    already_done = mark.get("phase") == "done"
    copy = _Copy(source, target, mark, say, batch)
    if not already_done:
        copy.run()
        _settle(target, say)
    say("verifying: comparing the complete export of both stores")
    src_digest, tgt_digest = digest(source), digest(target)
    if src_digest != tgt_digest:
        differ = [s for s in src_digest.hashes if src_digest.hashes[s] != tgt_digest.hashes.get(s)]
        raise MoveError(
            f"the copy differs from the source in: {', '.join(differ)} "
            f"(source {src_digest.counts}, copy {tgt_digest.counts}). Was the source changed during the copy?",
            "Stop every cminbox on the source, then run the same command again.",
        )
    if not already_done:
        mark.update(phase="done", finished=datetime.now(UTC).isoformat())
        target.set_migration_mark(mark)
    return MoveReport(resumed, already_done, copy.copied, src_digest, tgt_digest)
