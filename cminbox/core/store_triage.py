"""Triage actions and their undo in the TinyDB store: each a step with its events, its shard
writes and, for an undoable group, its undo record (the ``undo`` state table).

A mixin of :class:`~cminbox.core.store.Store`. An action on many items is one group: one
history entry and one event per changed item, every shard it touches written in that step
(one folder flush), then the undo record, which holds each item's inverse action. Undo applies
the inverses before it marks the group undone: inverses are idempotent, so a kill between the
two leaves the group to be undone again, never half undone.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import msgspec

from cminbox.core import triage
from cminbox.core.clock import Clock
from cminbox.core.events import EventKind
from cminbox.core.indexes import Indexes
from cminbox.core.locking import synchronized
from cminbox.core.models import HistoryEntry, TriageState
from cminbox.core.segment import Segment, one_folder_sync
from cminbox.core.store_api import ActResult, UndoResult
from cminbox.core.store_events import draft, new_group
from cminbox.core.store_parts import StoreParts
from cminbox.core.triage import Action

UNDO_KEEP = 500  # undo groups kept per actor


class TriageTables(StoreParts):
    clock: Clock
    ix: Indexes
    _mutex: threading.RLock
    _state: dict[str, Segment[dict[str, Any]]]
    # From a mixin later in Store's bases (archive.py): declared, not stubbed.
    _write_shard: Callable[[int, dict[int, TriageState], list[TriageState]], None]

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
        return self._act(message_ids, make_action, actor=actor, undoable=undoable, label=label, kind=EventKind.ACTION)

    def _act(
        self,
        message_ids: Iterable[str],
        make_action: Action | Callable[[TriageState], Action | None],
        *,
        actor: str,
        undoable: bool,
        label: str | None,
        kind: EventKind,
    ) -> ActResult:
        group = new_group()
        now = self.clock()
        with self.transaction():
            per_shard: dict[int, tuple[dict[int, TriageState], list[TriageState]]] = {}
            step: dict[str, int] = {}  # where this step's new triage records go (one shard)
            inverses: list[dict[str, Any]] = []
            changed: list[str] = []
            events = []
            first_label = label
            for mid in dict.fromkeys(message_ids):
                before = self._triage(mid)
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
                events.append(draft(kind, now, actor, mid, entry.action, group, before=b, after=a, rev=after.rev))
                doc_id = self.ix.triage_at.get(mid)
                if doc_id is None:
                    per_shard.setdefault(self._new_record_shard(mid, step=step), ({}, []))[1].append(after)
                else:
                    per_shard.setdefault(self.ix.triage_shard[mid], ({}, []))[0][doc_id] = after
                inverses.append({"id": mid, "inverse": msgspec.to_builtins(triage.inverse(before, action))})
                changed.append(mid)
            self._append_events(events)  # first: see store_events.py
            with one_folder_sync():  # a bulk action's shards: one folder flush, before the undo record
                for shard_no, (updates, inserts) in per_shard.items():
                    self._write_shard(shard_no, updates, inserts)
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
    def undo(self, actor: str, group: str | None = None) -> UndoResult | None:
        """Undo ``actor``'s most recent action group that is not undone yet (repeatable), or
        the group ``group`` of theirs."""
        with self.transaction():
            seg = self._state["undo"]
            candidates = [
                (doc_id, doc)
                for doc_id, doc in seg.items()
                if doc["actor"] == actor and not doc["undone"] and (group is None or doc["id"] == group)
            ]
            if not candidates:
                return None
            doc_id, doc = max(candidates, key=lambda pair: pair[0])
            inverse_by_id = {e["id"]: triage.ACTION_DECODER.decode(json.dumps(e["inverse"])) for e in doc["entries"]}
            # Inverses are idempotent, so applying them before marking the group undone is crash-safe.
            result = self._act(
                list(inverse_by_id),
                lambda st: inverse_by_id[st.id],
                actor=actor,
                undoable=False,
                label=f"undo: {doc['label']}",
                kind=EventKind.UNDO,
            )
            seg.replace_many({doc_id: {**doc, "undone": True}})
            return UndoResult(label=doc["label"], changed=result.changed)
