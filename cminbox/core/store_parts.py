"""What the TinyDB store's mixins call on each other, declared once.

The store is split by what each part holds (events, queries, state tables, archive, portable
export, presence, people, upsert: one module each), and the parts call a few of each other's
methods. They are declared here, in the one base every mixin shares: it comes last in the
store's method order, so the real method (in :class:`~cminbox.core.store.Store` or in another
mixin) always wins, where a stub repeated in each mixin could hide a later mixin's method.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager

from cminbox.core.effects import Plan
from cminbox.core.events import Event
from cminbox.core.models import Message, TriageState
from cminbox.core.outbox import Outbox


class StoreParts:
    def transaction(self, *, events: bool = True) -> AbstractContextManager[None]:
        raise NotImplementedError  # Store: the inter-process lock, reload and event check

    def _ensure_all(self) -> None:
        raise NotImplementedError  # Store: every message segment loaded

    def _triage(self, message_id: str) -> TriageState:
        raise NotImplementedError  # Store

    def _get_message(self, message_id: str) -> Message | None:
        raise NotImplementedError  # Store

    @property
    def outbox(self) -> Outbox:
        raise NotImplementedError  # Store

    def _upsert(self, messages: Iterable[Message], *, arrivals: bool, plan: Plan | None = None) -> list[str]:
        raise NotImplementedError  # store_upsert.py

    def _new_record_shard(self, mid: str, message: Message | None = None, *, step: dict[str, int]) -> int:
        raise NotImplementedError  # Store: where a new triage record goes

    def _write_states(self, states: Iterable[TriageState], messages: Mapping[str, Message] | None = None) -> None:
        raise NotImplementedError  # store_upsert.py: each state into its shard, in one write per shard

    def _append_events(self, drafts: Iterable[Event]) -> list[Event]:
        raise NotImplementedError  # store_events.py
