"""Storing polled messages in the TinyDB store: new ones with their ``arrived`` event, changed
ones updated in place, and a change of content (cminbox.core.edits) with its ``edited`` event
and a line in the item's history (its triage revision goes up by one, like an action's).

A mixin of :class:`~cminbox.core.store.Store`, kept apart so store.py holds the layout. One
step writes, under the store lock and in this order:

1. its events (``arrived``, ``edited``), see store_events.py;
2. the message parts;
3. the triage records of the edited items (the history line).

A crash after 1 drops the events whose change is not there: an edit's is there when the
stored message has the event's content digest. A crash after 2 keeps the edit's event (the
message did change), and the next step writes its missing history line
(:meth:`UpsertTables._finish_edits`): the log, the messages and the histories agree either way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path

import msgspec

from cminbox.core import triage
from cminbox.core.clock import Clock
from cminbox.core.community import Answering, ThreadKey, answer_effects, official_effects
from cminbox.core.edits import Edit, digest, edit_of
from cminbox.core.effects import Effect, Plan, Planned
from cminbox.core.events import Event, EventKind
from cminbox.core.failpoints import failpoint
from cminbox.core.indexes import Indexes, home_shard, shard_of
from cminbox.core.kept import Kept
from cminbox.core.migrations import PART_DOCS, part_name
from cminbox.core.models import HistoryEntry, Message, TriageState
from cminbox.core.segment import Segment, one_folder_sync
from cminbox.core.store_events import draft, new_group
from cminbox.core.store_parts import StoreParts
from cminbox.core.text import bound_message
from cminbox.core.triage import Action


def _with(state: TriageState, actions: list[Action]) -> TriageState:
    """The state the rules see: what this step already decided for the item applied."""
    for action in actions:
        state = triage.apply(state, action)
    return state


def _month(created_at: datetime) -> str:
    return created_at.strftime("%Y-%m")


class UpsertTables(StoreParts):
    dir: Path
    kept: Kept
    durable: bool
    clock: Clock
    ix: Indexes
    _mutex: threading.RLock
    _segments: dict[str, Segment[Message]]
    # From a mixin later in Store's bases (archive.py): declared, not stubbed,
    # since this mixin comes first and a stub here would hide them.
    _shards: list[Segment[TriageState]]
    _write_shard: Callable[[int, dict[int, TriageState], list[TriageState]], None]
    _effect_changes: Callable[
        [Iterable[Effect], datetime, str], tuple[list[Event], list[TriageState], list[Effect]]
    ]  # store_effects.py

    def _upsert(
        self, messages: Iterable[Message], *, arrivals: bool, plan: Plan | None = None, answers: Answering | None = None
    ) -> list[str]:
        """``arrivals``: a poll or an import, recording new messages as arrived and content
        changes as edits; not when items come back from the archive (restore records that).
        ``plan``: the rules, run on the new messages inside this step (store_effects.py)."""
        with self.transaction():
            self._ensure_all()  # deduplication needs every id
            inserts: dict[str, dict[str, Message]] = {}
            updates: dict[str, dict[int, Message]] = {}
            fresh: dict[str, Message] = {}  # the new messages in the order given (the first of an id)
            doc_ids: dict[str, dict[str, int]] = {}  # part -> its ids' doc ids, read when an edit needs them
            for msg in map(bound_message, messages):  # the one way in: no item is stored unbounded
                stored = self.ix.messages.get(msg.id)
                if stored is None:
                    inserts.setdefault(_month(msg.created_at), {}).setdefault(msg.id, msg)
                    fresh.setdefault(msg.id, msg)
                elif stored != msg and (key := self.ix.segment_of(msg.id)) is not None:
                    if key not in doc_ids:
                        doc_ids[key] = {doc.id: doc_id for doc_id, doc in self._segments[key].items()}
                    updates.setdefault(key, {})[doc_ids[key][msg.id]] = msg
            now = self.clock()
            group = new_group()
            planned = Planned()
            answered: list[Effect] = []  # community answers (core/community.py): before the rules, which may read them
            if answers is not None:
                changed = [*fresh.values(), *(m for docs in updates.values() for m in docs.values())]
                answered = official_effects(fresh.values(), answers)  # the team's own posts: closed
                answered += answer_effects(changed, self._thread_messages, answers)
            if plan is not None and fresh:
                found: dict[str, list[Action]] = {}
                for e in answered:
                    found.setdefault(e.message_id, []).append(e.action)
                planned = plan(
                    [(m, _with(self._triage(mid), found.get(mid, []))) for mid, m in fresh.items()], self.outbox.known
                )
            mine = [*answered, *(e for e in planned.effects if e.message_id in fresh)]  # rules: on the new items only
            effect_events, effect_states, _ = self._effect_changes(mine, now, group)
            # The last version of each message in the batch against the stored one.
            edits = [
                edit
                for docs in updates.values()
                for msg in docs.values()
                if arrivals and (edit := edit_of(self.ix.messages[msg.id], msg)) is not None
            ]
            states = [self._edited(edit, now, group) for edit in edits]
            self._append_events(  # first: see store_events.py
                [
                    *(
                        draft(EventKind.ARRIVED, now, msg.author.handle, msg.id, "arrived", group)
                        for _, by_id in sorted(inserts.items())
                        for msg in by_id.values()
                        if arrivals
                    ),
                    *effect_events,
                    *(
                        draft(
                            EventKind.EDITED,
                            now,
                            edit.actor,
                            edit.message_id,
                            edit.label,
                            group,
                            before=edit.before,
                            after=edit.after,
                            rev=state.rev,
                        )
                        for edit, state in zip(edits, states, strict=True)
                    ),
                ]
            )
            # The effects before the messages: see store_effects.py.
            self._write_states(effect_states, fresh)
            self.outbox.add_new(planned.outbox)
            failpoint("store.before_messages")  # the crash test's kill between the effects and their messages
            new_ids: list[str] = []
            for month, by_id in sorted(inserts.items()):
                pending = list(by_id.values())
                while pending:
                    key, seg = self._open_part(month)
                    batch, pending = pending[: PART_DOCS - len(seg)], pending[PART_DOCS - len(seg) :]
                    seg.insert_many(batch)
                    for msg in batch:
                        self.ix.add_message(key, msg)
                        new_ids.append(msg.id)
                    self.kept.note([seg.path])  # after its write: from now on, its absence is a loss
            for key, docs in updates.items():
                self._segments[key].replace_many(docs)
                for msg in docs.values():
                    self.ix.add_message(key, msg)
            if states:
                failpoint("store.before_edit_history")  # the crash test's kill between the message and its history
                self._write_states(states)
            return new_ids

    def _thread_messages(self, keys: set[ThreadKey]) -> list[Message]:
        """The stored messages of these conversations, from the thread index (no scan)."""
        return [self.ix.messages[mid] for channel, thread in keys for mid in self.ix.thread_ids(channel, thread)]

    def _edited(self, edit: Edit, at: datetime, group: str) -> TriageState:
        """The item's triage record with the edit's history line (revision + 1, as an action's)."""
        return self._with_line(self._triage(edit.message_id), edit.history(at, group))

    @staticmethod
    def _with_line(state: TriageState, line: HistoryEntry) -> TriageState:
        return msgspec.structs.replace(state, history=(*state.history, line), rev=state.rev + 1)

    def _new_record_shard(self, mid: str, message: Message | None = None, *, step: dict[str, int]) -> int:
        """Where a new triage record for ``mid`` goes: every new record of one store step in
        one shard (``step`` remembers it), the home shard (indexes.home_shard) of the first
        one's message, so a poll's or a backlog's records cost one shard write, not one per
        hour they span. Records are found wherever they are, so any shard is right.

        So for an item already stored, a new record is refused, as a write to it would be,
        while any shard is unreadable: the item may have its record there, unseen, and a
        second one made elsewhere would hide it now and lose this change to it at the repair
        (review of 2026-12-02: "tagged", then the tag gone after `doctor --repair`). A message
        not stored yet has no record anywhere: its record is made as usual."""
        if mid in self.ix.messages or message is None:
            for shard in (self._shards[shard_of(mid)], *self._shards):  # the old placement's first
                if shard.broken is not None:
                    raise shard.broken
        if "shard" not in step:
            message = message or self.ix.messages.get(mid)
            step["shard"] = home_shard(message) if message is not None else shard_of(mid)
        return step["shard"]

    def _write_states(self, states: Iterable[TriageState], messages: Mapping[str, Message] | None = None) -> None:
        """Each state into its shard, one write per shard; ``messages``: those not stored yet
        (a new record's shard is computed from its message: Store._new_record_shard)."""
        per_shard: dict[int, tuple[dict[int, TriageState], list[TriageState]]] = {}
        step: dict[str, int] = {}
        for state in states:
            doc_id = self.ix.triage_at.get(state.id)
            if doc_id is None:
                home = self._new_record_shard(state.id, (messages or {}).get(state.id), step=step)
                per_shard.setdefault(home, ({}, []))[1].append(state)
            else:
                per_shard.setdefault(self.ix.triage_shard[state.id], ({}, []))[0][doc_id] = state
        with one_folder_sync():  # one folder flush for every shard, before the caller writes on
            for number, (updates, inserts) in per_shard.items():
                self._write_shard(number, updates, inserts)

    def _edit_written(self, event: Event) -> bool:
        """Whether an ``edited`` event's message write happened: the stored content is the event's."""
        msg = self._get_message(event.message_id)
        return msg is not None and digest(msg) == event.after.get("digest")

    def _finish_edits(self, kept: Iterable[Event]) -> None:
        """Write the history lines of edits whose step was cut after the message was written."""
        missing = [
            self._with_line(
                state,
                HistoryEntry(
                    at=e.at, actor=e.actor, action=e.label, before=dict(e.before), after=dict(e.after), group=e.group
                ),
            )
            for e in kept
            if e.kind == EventKind.EDITED and (state := self._triage(e.message_id)).rev < e.rev
        ]
        if missing:
            self._write_states(missing)

    def _open_part(self, month: str) -> tuple[str, Segment[Message]]:
        """The part of ``month`` that new messages go to: the last one, or a new one when it is full."""
        parts = sorted(k for k in self._segments if k.startswith(month + "-"))
        if parts:
            last = self._segments[parts[-1]]
            if last.broken is None and len(last) < PART_DOCS:
                return parts[-1], last
            number = int(parts[-1].rsplit("-", 1)[1]) + 1
        else:
            number = 0
        key = part_name(month, number)
        seg: Segment[Message] = Segment(
            self.dir / "messages" / f"{key}.json", "messages", durable=self.durable, doc_type=Message
        )
        self._segments[key] = seg
        return key, seg
