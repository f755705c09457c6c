"""The store: messages, triage state, cursors, channel health and the undo log, on TinyDB.

Layout under the data dir (all plain JSON, readable and diffable):

    meta.json                 schema version
    messages/YYYY-MM.json     the message cache, one TinyDB segment per month of created_at
    triage/shard-NN.json      triage state, sharded by a hash of the message id
    state/cursors.json        poll cursors per channel (these small tables: state_tables.py)
    state/health.json         channel health per channel
    state/undo.json           the undo log (inverse actions per action group)
    state/drafts.json         unsent reply drafts, per message
    outbox.json               queued replies and escalations (see outbox.py)
    store.lock                the inter-process lock around every read-modify-write

A triage action rewrites one small shard, never the message history. Every write is
an atomic replace with fsync, done under ``store.lock`` after reloading any file
another process changed, so two instances never lose each other's updates.
"""

from __future__ import annotations

import functools
import gc
import json
import secrets
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import msgspec

from cminbox.core import triage
from cminbox.core.clock import Clock, system_clock
from cminbox.core.locking import FileLock
from cminbox.core.models import HistoryEntry, Message, Status, TriageState
from cminbox.core.segment import Segment, atomic_write_bytes, remove_stale_temp_files
from cminbox.core.state_tables import StateTables
from cminbox.core.triage import Action

P = ParamSpec("P")
R = TypeVar("R")
SCHEMA_VERSION = 1
TRIAGE_SHARDS = 16
UNDO_KEEP = 500


class StoreError(Exception):
    pass


@dataclass(frozen=True)
class ActResult:
    group: str
    changed: list[str]
    label: str


@dataclass(frozen=True)
class UndoResult:
    label: str
    changed: list[str]


def synchronized(method: Callable[P, R]) -> Callable[P, R]:
    """Serialise a Store method against other threads (workers and the UI share one Store)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with args[0]._mutex:  # type: ignore[attr-defined]
            return method(*args, **kwargs)

    return wrapper


def author_key(handle: str) -> str:
    """People keep their user name across networks more often than not: @ana@a.social and
    @ana.bsky.social both key to "ana" (a hint for the preview, never used to merge identities)."""
    user = handle.lower().lstrip("@").split("@")[0]
    return user.split(".")[0] if "." in user else user


def _shard_of(message_id: str) -> int:
    return zlib.crc32(message_id.encode()) % TRIAGE_SHARDS


def _segment_key(created_at: datetime) -> str:
    return created_at.strftime("%Y-%m")


class Store(StateTables):
    def __init__(
        self, data_dir: Path, *, clock: Clock = system_clock, durable: bool = True, lazy: bool = False
    ) -> None:
        """``lazy``: read message segments only when needed, newest first through
        :meth:`load_next_segment` (the TUI shows the newest month at once, the rest streams in)."""
        self.dir = data_dir
        self.clock = clock
        self.durable = durable
        for sub in ("messages", "triage", "state"):
            (data_dir / sub).mkdir(parents=True, exist_ok=True)
        self.lock = FileLock(data_dir / "store.lock")
        self._mutex = threading.RLock()
        with self.lock:
            self._check_meta()
            for folder in (data_dir, data_dir / "messages", data_dir / "triage", data_dir / "state"):
                remove_stale_temp_files(folder)
        self._shards = [
            Segment(data_dir / "triage" / f"shard-{i:02d}.json", "triage", durable=durable)
            for i in range(TRIAGE_SHARDS)
        ]
        self._state = {
            name: Segment(data_dir / "state" / f"{name}.json", name, durable=durable)
            for name in ("cursors", "health", "undo", "drafts")
        }
        self._segments: dict[str, Segment] = {}
        self._lazy = lazy
        self._unloaded: set[str] = set()  # message segments registered but not read yet
        # In-memory indexes, rebuilt per segment when that segment reloads.
        self._msg_index: dict[str, tuple[str, int]] = {}
        self._msg_cache: dict[str, Message] = {}
        self._triage_index: dict[str, int] = {}
        # (channel, thread_id) -> message ids, so a thread is a lookup, not a scan of every message.
        self._threads: dict[tuple[str, str], set[str]] = {}
        # author key -> message ids, for "what else has this person said, on any channel".
        self._authors: dict[str, set[str]] = {}
        # Parsing a large store is mostly garbage-collector time: pause it, then freeze what was
        # loaded so later collections do not walk (and stall on) every stored message.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            self.refresh()
        finally:
            if gc_was_enabled:
                gc.enable()
            gc.freeze()

    # ----------------------------------------------------------------- housekeeping
    def _check_meta(self) -> None:
        meta = self.dir / "meta.json"
        if not meta.exists():
            atomic_write_bytes(meta, json.dumps({"schema": SCHEMA_VERSION}).encode(), durable=self.durable)
            return
        try:
            version = json.loads(meta.read_text())["schema"]
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f'{meta} is unreadable ({exc}); expected {{"schema": {SCHEMA_VERSION}}}') from None
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.dir} was written by a newer cminbox (schema {version}, this one knows {SCHEMA_VERSION}). "
                "Upgrade cminbox, or point --data-dir elsewhere."
            )

    @synchronized
    def refresh(self) -> set[str]:
        """Pick up what other processes wrote. Returns the ids of messages whose data changed."""
        changed: set[str] = set()
        for path in sorted((self.dir / "messages").glob("[0-9]*.json")):
            if path.stem not in self._segments:
                self._segments[path.stem] = Segment(path, "messages", durable=self.durable)
                if self._lazy:
                    self._unloaded.add(path.stem)
        for key, seg in self._segments.items():
            if key in self._unloaded:
                continue
            if seg.refresh():
                changed |= self._reindex_segment(key, seg)
        for shard in self._shards:
            if shard.refresh():
                # Shards never lose documents, so an index entry can only be added or confirmed.
                for doc_id, doc in shard.items():
                    self._triage_index[doc["id"]] = doc_id
                    changed.add(doc["id"])
        for seg in self._state.values():
            seg.refresh()
        return changed

    def _reindex_segment(self, key: str, seg: Segment) -> set[str]:
        seen: set[str] = set()
        for doc_id, doc in seg.items():
            mid = doc["id"]
            seen.add(mid)
            self._msg_index[mid] = (key, doc_id)
            self._msg_cache.pop(mid, None)
            self._threads.setdefault((doc["channel"], doc.get("thread_id") or mid), set()).add(mid)
            self._authors.setdefault(author_key(doc["author"]["handle"]), set()).add(mid)
        return seen

    @property
    def fully_loaded(self) -> bool:
        return not self._unloaded

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
        gc.disable()
        try:
            seg.refresh()
            self._reindex_segment(key, seg)
        finally:
            gc.enable()
            gc.freeze()
        self._unloaded.discard(key)

    def _ensure_all(self) -> None:
        for key in sorted(self._unloaded, reverse=True):
            self._load_segment(key)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the inter-process lock, with every file reloaded if someone else changed it."""
        with self._mutex, self.lock:
            self.refresh()
            yield

    # ----------------------------------------------------------------- messages
    @synchronized
    def upsert_messages(self, messages: Iterable[Message]) -> list[str]:
        """Add messages not seen before (by id); update ones whose content changed. Returns new ids."""
        with self.transaction():
            self._ensure_all()  # deduplication needs every id
            inserts: dict[str, list[Message]] = {}
            updates: dict[str, dict[int, dict[str, Any]]] = {}
            new_ids: list[str] = []
            for msg in messages:
                where = self._msg_index.get(msg.id)
                if where is None:
                    if any(m.id == msg.id for m in inserts.get(_segment_key(msg.created_at), [])):
                        continue
                    inserts.setdefault(_segment_key(msg.created_at), []).append(msg)
                    new_ids.append(msg.id)
                elif self.get_message(msg.id) != msg:
                    updates.setdefault(where[0], {})[where[1]] = msgspec.to_builtins(msg)
            for key, msgs in inserts.items():
                seg = self._segment(key)
                doc_ids = seg.insert_many([msgspec.to_builtins(m) for m in msgs])
                for m, doc_id in zip(msgs, doc_ids, strict=True):
                    self._msg_index[m.id] = (key, doc_id)
                    self._msg_cache[m.id] = m
                    self._threads.setdefault((m.channel, m.thread_id or m.id), set()).add(m.id)
                    self._authors.setdefault(author_key(m.author.handle), set()).add(m.id)
            for key, docs in updates.items():
                self._segment(key).replace_many(docs)
                for doc in docs.values():
                    self._msg_cache.pop(doc["id"], None)
            return new_ids

    def _segment(self, key: str) -> Segment:
        seg = self._segments.get(key)
        if seg is None:
            seg = Segment(self.dir / "messages" / f"{key}.json", "messages", durable=self.durable)
            self._segments[key] = seg
        return seg

    @synchronized
    def get_message(self, message_id: str) -> Message | None:
        return self._get_message(message_id)

    def _get_message(self, message_id: str) -> Message | None:
        cached = self._msg_cache.get(message_id)
        if cached is not None:
            return cached
        where = self._msg_index.get(message_id)
        if where is None and self._unloaded:
            self._ensure_all()
            where = self._msg_index.get(message_id)
        if where is None:
            return None
        doc = self._segments[where[0]].get(where[1])
        if doc is None:
            return None
        msg = msgspec.convert(doc, Message, strict=False)
        self._msg_cache[message_id] = msg
        return msg

    @synchronized
    def message_ids(self) -> list[str]:
        self._ensure_all()
        return list(self._msg_index)

    @synchronized
    def all_messages(self, *, loaded_only: bool = False) -> list[Message]:
        """Every stored message, converting each document once (then served from the cache).
        ``loaded_only``: just the segments read so far (lazy stores)."""
        if not loaded_only:
            self._ensure_all()
        out: list[Message] = []
        cache = self._msg_cache
        for key, seg in self._segments.items():
            if key in self._unloaded:
                continue
            for doc in seg.raw().values():
                msg = cache.get(doc["id"])
                if msg is None:
                    msg = cache[doc["id"]] = msgspec.convert(doc, Message, strict=False)
                out.append(msg)
        return out

    @synchronized
    def resolve_id(self, partial: str) -> str:
        """Accept a full id, or a unique suffix such as the native id (handy on the command line)."""
        self._ensure_all()
        if partial in self._msg_index:
            return partial
        hits = [mid for mid in self._msg_index if mid.endswith(":" + partial) or mid.endswith(partial)]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise StoreError(f"no message with id {partial!r}. `cminbox list` shows the ids.")
        raise StoreError(f"{partial!r} matches {len(hits)} messages ({', '.join(hits[:3])}, ...); give the full id.")

    # ----------------------------------------------------------------- triage
    @synchronized
    def triage(self, message_id: str) -> TriageState:
        return self._triage(message_id)

    def _triage(self, message_id: str) -> TriageState:
        doc_id = self._triage_index.get(message_id)
        if doc_id is not None:
            doc = self._shards[_shard_of(message_id)].get(doc_id)
            if doc is not None:
                return msgspec.convert(doc, TriageState, strict=False)
        return TriageState(id=message_id)

    @synchronized
    def act(
        self,
        message_ids: Iterable[str],
        make_action: Action | Callable[[TriageState], Action | None],
        *,
        actor: str,
        undoable: bool = True,
        label: str | None = None,
    ) -> ActResult:
        """Apply one triage action to several messages, durably, as one undoable group."""
        group = secrets.token_hex(6)
        now = self.clock()
        with self.transaction():
            per_shard: dict[int, tuple[dict[int, dict[str, Any]], list[dict[str, Any]]]] = {}
            inverses: list[dict[str, Any]] = []
            changed: list[str] = []
            first_label = label
            for mid in dict.fromkeys(message_ids):
                before = self.triage(mid)
                action = make_action(before) if callable(make_action) else make_action
                if action is None:
                    continue
                after = triage.apply(before, action)
                b, a = triage.changed_fields(before, after)
                if not a:
                    continue
                first_label = first_label or triage.describe(action)
                entry = HistoryEntry(
                    at=now, actor=actor, action=label or triage.describe(action), before=b, after=a, group=group
                )
                after = msgspec.structs.replace(after, history=(*after.history, entry), rev=after.rev + 1)
                doc = msgspec.to_builtins(after)
                updates, inserts = per_shard.setdefault(_shard_of(mid), ({}, []))
                doc_id = self._triage_index.get(mid)
                if doc_id is None:
                    inserts.append(doc)
                else:
                    updates[doc_id] = doc
                inverses.append({"id": mid, "inverse": msgspec.to_builtins(triage.inverse(before, action))})
                changed.append(mid)
            for shard_no, (updates, inserts) in per_shard.items():
                shard = self._shards[shard_no]
                shard.replace_many(updates)
                for doc, doc_id in zip(inserts, shard.insert_many(inserts), strict=True):
                    self._triage_index[doc["id"]] = doc_id
            if undoable and changed:
                self._push_undo(group, actor, first_label or "", inverses, now)
        return ActResult(group=group, changed=changed, label=first_label or "")

    def _push_undo(self, group: str, actor: str, label: str, inverses: list[dict[str, Any]], now: datetime) -> None:
        seg = self._state["undo"]
        seg.insert_many(
            [{"id": group, "actor": actor, "label": label, "at": now.isoformat(), "entries": inverses, "undone": False}]
        )
        mine = sorted(doc_id for doc_id, doc in seg.items() if doc["actor"] == actor)
        if len(mine) > UNDO_KEEP:
            seg.remove_many(mine[: len(mine) - UNDO_KEEP])

    @synchronized
    def undo(self, actor: str) -> UndoResult | None:
        """Undo ``actor``'s most recent action group that is not undone yet (repeatable)."""
        with self.transaction():
            seg = self._state["undo"]
            candidates = [(doc_id, doc) for doc_id, doc in seg.items() if doc["actor"] == actor and not doc["undone"]]
            if not candidates:
                return None
            doc_id, doc = max(candidates, key=lambda pair: pair[0])
            inverse_by_id = {e["id"]: triage.ACTION_DECODER.decode(json.dumps(e["inverse"])) for e in doc["entries"]}
            # Inverses are idempotent, so applying them before marking the group undone is crash-safe.
            result = self.act(
                list(inverse_by_id),
                lambda st: inverse_by_id[st.id],
                actor=actor,
                undoable=False,
                label=f"undo: {doc['label']}",
            )
            seg.replace_many({doc_id: {**doc, "undone": True}})
            return UndoResult(label=doc["label"], changed=result.changed)

    # ----------------------------------------------------------------- queries
    @synchronized
    def query(
        self,
        *,
        status: Status | None = None,
        tag: str | None = None,
        channel: str | None = None,
        limit: int | None = None,
        loaded_only: bool = False,
    ) -> list[tuple[Message, TriageState]]:
        """Messages with their triage state, newest first, filtered by exact fields."""
        rows: list[tuple[Message, TriageState]] = []
        triaged = self._all_triage()
        for msg in self.all_messages(loaded_only=loaded_only):
            if channel is not None and msg.channel != channel:
                continue
            state = triaged.get(msg.id) or TriageState(id=msg.id)
            if status is not None and state.status != status:
                continue
            if tag is not None and tag not in state.tags:
                continue
            rows.append((msg, state))
        rows.sort(key=lambda r: (r[0].created_at, r[0].id), reverse=True)
        return rows[:limit] if limit is not None else rows

    @synchronized
    def by_author(self, message: Message, limit: int = 3) -> list[Message]:
        """The author's other recent messages, newest first, on any channel (same handle)."""
        ids = self._authors.get(author_key(message.author.handle), set()) - {message.id}
        found = [m for m in (self._get_message(i) for i in ids) if m is not None]
        return sorted(found, key=lambda m: m.created_at, reverse=True)[:limit]

    def _all_triage(self) -> dict[str, TriageState]:
        """Every triage record, read shard by shard (most messages have none: they are new)."""
        return {
            doc["id"]: msgspec.convert(doc, TriageState, strict=False)
            for shard in self._shards
            for doc in shard.raw().values()
        }

    @synchronized
    def thread_of(self, message: Message) -> list[Message]:
        """Stored messages of the same conversation, oldest first (from the segments loaded so far)."""
        ids = self._threads.get((message.channel, message.thread_id or message.id), {message.id})
        same = [m for m in (self._get_message(i) for i in ids) if m is not None]
        return sorted(same or [message], key=lambda m: m.created_at)
