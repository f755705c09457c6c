"""The store: messages, triage state, cursors, channel health and the undo log, on TinyDB.

Layout under the data dir (all plain JSON, readable and diffable):

    meta.json                 schema version (migrations.py upgrades older stores)
    messages/YYYY-MM-NNN.json the message cache: TinyDB segments by month of created_at,
                              at most PART_DOCS each, so a write rewrites ~2 MB at most
    triage/shard-NN.json      triage state, sharded by a hash of the message id
    state/cursors.json        poll cursors per channel (these small tables: state_tables.py)
    state/health.json         channel health per channel
    state/undo.json           the undo log (inverse actions per action group)
    state/drafts.json         unsent reply drafts, per message
    state/people.json         person records: profile tags, notes, linked identities (store_people.py)
    state/migration.json      where a `store migrate` into this folder stands (store_portable.py)
    state/presence.json       who views or replies to what (throwaway, not fsynced: store_presence.py)
    archive/YYYY-MM.json.gz   done items past the retention age, compressed (archive.py)
    events/NNNNNN.json        the append-only event log, EVENT_PART events a part (event_log.py)
    outbox.json               queued replies and escalations (see outbox.py)
    .kept/                    an empty marker per message part and outbox.json: a missing one is a loss (kept.py)
    store.lock                the inter-process lock around every read-modify-write
    poller.lock               the single-poller lease (an flock with the holder's pid)

A triage action (store_triage.py) rewrites one small shard, never the message history. Every write is
an atomic replace with fsync, done under ``store.lock`` after reloading any file
another process changed, so two instances never lose each other's updates. Lookups
are answered from in-memory indexes (indexes.py), never by scanning TinyDB tables. Every
change is recorded in the event log in the same step (store_events.py says how a crash is
handled). This is the TinyDB implementation of cminbox.core.store_api.StoreApi.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from cminbox.core import gc_pause
from cminbox.core.archive import ArchiveTables
from cminbox.core.census import Part, Signature
from cminbox.core.clock import Clock, system_clock
from cminbox.core.community import Answering
from cminbox.core.effects import Plan
from cminbox.core.errors import CminboxError, from_os_error
from cminbox.core.event_log import EventParts
from cminbox.core.indexes import TRIAGE_SHARDS, Indexes, author_key
from cminbox.core.kept import MISSING, Kept
from cminbox.core.locking import FileLease, FileLock, synchronized
from cminbox.core.migrations import SchemaError, migrate
from cminbox.core.models import Message, TriageState
from cminbox.core.outbox import Outbox
from cminbox.core.outbox_types import OutboxItem
from cminbox.core.people import Person
from cminbox.core.segment import CorruptFileError, Segment, remove_stale_temp_files
from cminbox.core.state_tables import StateTables
from cminbox.core.store_api import ActResult, ProgressiveLoading, StoreError, UndoResult
from cminbox.core.store_effects import EffectTables
from cminbox.core.store_events import EventTables
from cminbox.core.store_people import PeopleTables
from cminbox.core.store_portable import PortableTables
from cminbox.core.store_presence import PresenceTable
from cminbox.core.store_queries import QueryTables
from cminbox.core.store_triage import TriageTables
from cminbox.core.store_upsert import UpsertTables

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
__all__ = ["ActResult", "Store", "StoreError", "UndoResult", "author_key"]


class Store(
    UpsertTables,
    EventTables,
    QueryTables,
    StateTables,
    ArchiveTables,
    PortableTables,
    PresenceTable,
    PeopleTables,
    EffectTables,
    TriageTables,
):
    def __init__(
        self, data_dir: Path, *, clock: Clock = system_clock, durable: bool = True, lazy: bool = False
    ) -> None:
        """``lazy``: read message segments only when needed, newest first through
        :meth:`load_next_segment` (the TUI shows the newest part at once, the rest streams in)."""
        self.dir = data_dir
        self.clock = clock
        self.durable = durable
        for sub in ("messages", "triage", "state", "archive", "events"):
            try:
                (data_dir / sub).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise from_os_error(exc, data_dir / sub) from exc
        self.lock = FileLock(data_dir / "store.lock")
        self._mutex = threading.RLock()
        with self.lock:
            for sub in ("", "messages", "triage", "state", "archive", "events"):
                try:
                    remove_stale_temp_files(data_dir / sub)
                except OSError as exc:
                    raise from_os_error(exc, data_dir / sub) from exc
            try:
                self.migrated = migrate(data_dir, durable=durable)
            except SchemaError as exc:
                raise StoreError(str(exc)) from None
        self._shards: list[Segment[TriageState]] = [
            Segment(
                data_dir / "triage" / f"shard-{i:02d}.json",
                "triage",
                durable=durable,
                doc_type=TriageState,
                reuse_encoding=True,  # rewritten by every action: segment.py
            )
            for i in range(TRIAGE_SHARDS)
        ]
        self._state: dict[str, Segment[dict[str, Any]]] = {
            name: Segment(data_dir / "state" / f"{name}.json", name, durable=durable)
            for name in ("cursors", "health", "undo", "drafts")
        }
        self._init_presence(Segment(data_dir / "state" / "presence.json", "presence", durable=False))
        self._init_people(Segment(data_dir / "state" / "people.json", "people", durable=durable, doc_type=Person))
        self._segments: dict[str, Segment[Message]] = {}
        self.kept = Kept(data_dir)  # which parts should be there (a missing one is said, not taken as archived)
        self._missing_parts: set[Path] = set()  # the parts _check_kept last found missing
        self._events = EventParts(data_dir / "events", durable=durable)
        self._verified: int | None = None  # events checked up to here (None: the newest step is not)
        self._depth = 0  # nesting of event-appending transactions: the outermost checks the events
        self._outbox: Outbox | None = None
        self._leases: list[FileLease] = []
        self._lazy = lazy
        self._unloaded: set[str] = set()  # message segments registered but not read yet
        # Parts not loaded yet, as a census read them: key -> (file signature, ids and dates).
        self._census_parts: dict[str, tuple[Signature, Part]] = {}
        self.ix = Indexes()
        self._shard_ids: list[set[str]] = [set() for _ in range(TRIAGE_SHARDS)]
        # Ids this process removed from the live store (archiving): the next refresh() reports
        # them, as it would if another process had done it, so views drop them.
        self._unreported: set[str] = set()  # changed ids the next refresh() reports
        # Files that cannot be loaded: path -> what is wrong. They are skipped (the rest of the
        # store works) and never written until `cminbox doctor --repair` moves them aside.
        self.file_problems: dict[Path, str] = {}
        # Parsing a large store is mostly garbage-collector time: pause it, then freeze what was
        # loaded so later collections do not walk (and stall on) every stored message.
        with gc_pause.paused():
            try:  # the newest part of the event log: an unreadable one is a problem to repair, said at open
                self._events.last_position()
            except CorruptFileError as exc:
                self.file_problems[exc.path] = str(exc)
            self.refresh()

    # ----------------------------------------------------------------- loading
    def _reload(self, seg: Segment[Any]) -> bool:
        try:
            changed = seg.refresh()
        except CorruptFileError as exc:
            if seg is self._state.get("health"):
                # Channel health is throwaway (the next poll re-learns it): rebuild it rather
                # than let one bad file stop every poll.
                try:
                    with self.lock:
                        seg.reset()
                except CminboxError as cannot:
                    self.file_problems[seg.path] = f"{exc.message} {cannot}"
                    return True
                log.warning("%s; rebuilt it empty (channel health is re-learnt at the next poll)", exc.message)
                return True
            self.file_problems[seg.path] = str(exc)
            return True
        if changed:
            self.file_problems.pop(seg.path, None)
        return changed

    @synchronized
    def refresh(self) -> set[str]:
        """Pick up what other processes wrote. Returns the ids of messages whose data changed
        (or that left the live store) since the last call, including what a transaction picked
        up meanwhile (every step reloads first: without keeping its finds, a triage write or an
        outbox read between two change checks would hide another instance's changes)."""
        changed, self._unreported = self._unreported | self._pick_up(), set()
        return changed

    def _pick_up(self, *, locked: bool = False) -> set[str]:
        changed: set[str] = set()
        on_disk = _parts_in(self.dir / "messages")
        self._check_kept(on_disk, locked)
        for key, path in sorted(on_disk.items()):
            if key not in self._segments:
                self._segments[key] = Segment[Message](path, "messages", durable=self.durable, doc_type=Message)
                if self._lazy:
                    self._unloaded.add(key)
        for key in [k for k in self._segments if k not in on_disk]:  # archived away, or missing (_check_kept)
            changed |= self.ix.drop_segment(key)
            del self._segments[key]
            self._unloaded.discard(key)
        for key, seg in self._segments.items():
            if key not in self._unloaded and self._reload(seg):
                changed |= self._reindex_segment(key, seg)
        for shard in self._shards:
            if self._reload(shard):
                changed |= self._reindex_shard(shard)
        for table in self._state.values():
            self._reload(table)
        self._reload(self._people)
        return changed

    def _check_kept(self, on_disk: dict[str, Path], locked: bool) -> None:
        """Parts noted as kept (core/kept.py) that are gone are file problems; parts on disk not
        noted yet (a store from before, a crash between a write and its note) are noted, under
        the store lock only (an archiver holding it may be between its two unlinks)."""
        names = self.kept.names()  # listed after the parts: see kept.py
        if locked:
            self.kept.note(on_disk.values(), known=names)
        noted_parts = {name for name in names if name.startswith("messages~")}
        missing = set(self.kept.missing(set(on_disk.values()), noted_parts))
        for path in missing:
            self.file_problems[path] = f"{path}: {MISSING}"
        for path in self._missing_parts - missing:  # put back, or accepted by a repair
            self.file_problems.pop(path, None)
        self._missing_parts = missing

    def _reindex_segment(self, key: str, seg: Segment[Message]) -> set[str]:
        before = self.ix.drop_segment(key)
        msgs = list(seg.raw().values())
        ids = [msg.id for msg in msgs]
        # The same id in another part (a migration or archive was cut short): this part's wins.
        for mid in self.ix.messages.keys() & ids:
            self.ix.drop_message(mid)
        self.ix.add_segment(key, msgs)
        return before.union(ids)

    def _reindex_shard(self, shard: Segment[TriageState]) -> set[str]:
        seen: set[str] = set()
        number = self._shards.index(shard)
        for doc_id, state in shard.items():
            self.ix.set_triage(doc_id, state, number)
            seen.add(state.id)
        # Records gone from the file (archived by another process) leave the indexes too.
        for mid in self._shard_ids[number] - seen:
            self.ix.drop_triage(mid)
            seen.add(mid)
        self._shard_ids[number] = {state.id for state in shard.raw().values()}
        return seen

    @property
    def fully_loaded(self) -> bool:
        return not self._unloaded

    @property
    def loaded_items(self) -> int:
        return len(self.ix.messages)

    @synchronized
    def load_next_segment(self) -> str | None:
        """Read the newest message segment not read yet; None when everything is loaded."""
        if not self._unloaded:
            return None
        key = max(self._unloaded)
        self._load_segment(key)
        return key

    def _load_segment(self, key: str) -> None:
        seg = self._segments[key]
        with gc_pause.paused():
            if self._reload(seg):
                self._reindex_segment(key, seg)
        self._unloaded.discard(key)
        self._census_parts.pop(key, None)

    def _ensure_all(self) -> None:
        for key in sorted(self._unloaded, reverse=True):
            self._load_segment(key)

    @contextmanager
    def transaction(self, *, events: bool = True) -> Iterator[None]:
        """Hold the inter-process lock, with every file reloaded if someone else changed it
        and the event log checked (the outermost transaction: store_events.py).

        ``events=False``: a step that appends no event (a health, cursor, draft or presence
        write, an outbox claim). It leaves the check to the next step that appends one: the
        check is only needed before an append, and on a lazily loaded store it may have to read
        every message segment, which an outbox claim at start-up must not make the TUI's first
        screen wait for."""
        with self._mutex, self.lock:
            # The first step in the nesting that may append events checks them (a plain step
            # around it does not count as having checked).
            outer = events and self._depth == 0
            self._depth += events
            try:
                self._unreported |= self._pick_up(locked=True)
                if outer:
                    self._verify_events()
                yield
            except BaseException:
                if outer:  # a step that failed half-way (a full disk): drop its events now
                    with suppress(CminboxError, OSError):
                        self._verify_events()
                raise
            finally:
                self._depth -= events
            if outer:  # this step completed: its events are checked
                self._verified = self._events.last_position()

    # ----------------------------------------------------------------- messages
    @synchronized
    def upsert_messages(
        self, messages: Iterable[Message], *, plan: Plan | None = None, answers: Answering | None = None
    ) -> list[str]:
        """Add messages not seen before (by id); update ones that changed, a change of content
        with its ``edited`` event and history line (store_upsert.py); ``plan``'s effects on the
        new ones in the same step (store_effects.py). Returns the new ids."""
        return self._upsert(messages, arrivals=True, plan=plan, answers=answers)

    @synchronized
    def get_message(self, message_id: str) -> Message | None:
        return self._get_message(message_id)

    def _get_message(self, message_id: str) -> Message | None:
        """From what is loaded, else reading the parts not loaded yet newest first until it is
        found (what is asked for is mostly recent: a lazy store seldom reads everything here)."""
        msg = self.ix.messages.get(message_id)
        while msg is None and self._unloaded:
            self._load_segment(max(self._unloaded))
            msg = self.ix.messages.get(message_id)
        return msg

    @synchronized
    def message_ids(self) -> list[str]:
        self._ensure_all()
        return list(self.ix.messages)

    @synchronized
    def all_messages(self, *, loaded_only: bool = False) -> list[Message]:
        """Every stored message. ``loaded_only``: just the segments read so far (lazy stores)."""
        if not loaded_only:
            self._ensure_all()
        return list(self.ix.messages.values())

    def __len__(self) -> int:
        return len(self.ix.messages)

    def is_live(self, message_id: str) -> bool:
        """In the live store, from the segments read so far (never triggers loading)."""
        return message_id in self.ix.messages

    # ----------------------------------------------------------------- triage
    @synchronized
    def triage(self, message_id: str) -> TriageState:
        return self._triage(message_id)

    def _triage(self, message_id: str) -> TriageState:
        doc_id = self.ix.triage_at.get(message_id)
        if doc_id is not None:
            state = self._shards[self.ix.triage_shard[message_id]].get(doc_id)
            if state is not None:
                return state
        return TriageState(id=message_id)

    # ----------------------------------------------------------------- the rest of StoreApi
    @property
    def outbox(self) -> Outbox:
        with self._mutex:
            if self._outbox is None:
                self._outbox = Outbox(
                    self.dir,
                    self.lock,
                    clock=self.clock,
                    durable=self.durable,
                    transaction=self.transaction,
                    plain_transaction=lambda: self.transaction(events=False),
                    record_sent=self._record_sent,
                )
            return self._outbox

    def _outbox_item(self, item_id: str) -> OutboxItem | None:
        return next((i for i in self.outbox.items() if i.id == item_id), None)

    def _now(self) -> datetime:
        return self.clock()

    def poller_lease(self) -> FileLease:
        lease = FileLease(self.dir / "poller.lock")
        self._leases.append(lease)
        return lease

    @property
    def progressive(self) -> ProgressiveLoading | None:
        return self if self._lazy else None

    @property
    def problems(self) -> dict[str, str]:
        return {str(path): problem for path, problem in self.file_problems.items()}

    def ping(self) -> None:
        """A scratch write next to the triage shards meets the same full disk or read-only
        folder a triage write would."""
        folder = self.dir / "triage"
        try:
            fd, name = tempfile.mkstemp(prefix=".probe-", suffix=".tmp", dir=folder)
            try:
                os.write(fd, b"x")
                os.fsync(fd)
            finally:
                os.close(fd)
                os.unlink(name)
        except OSError as exc:
            raise from_os_error(exc, folder) from exc

    def close(self) -> None:
        with suppress(CminboxError, OSError):
            self.clear_presence()
        for lease in self._leases:
            lease.release()
        self._leases.clear()


def _parts_in(folder: Path) -> dict[str, Path]:
    """The message parts in ``folder``, by key: files named like ``2026-12-000.json``. A dangling
    symlink is no part (it read as an empty one: its items went with no word). DirEntry.is_file
    costs no stat for a regular file (the folder listing says what it is)."""
    try:
        with os.scandir(folder) as entries:
            return {
                entry.name[:-5]: Path(entry.path)
                for entry in entries
                if entry.name[:1].isdigit() and entry.name.endswith(".json") and entry.is_file()
            }
    except FileNotFoundError:
        return {}
