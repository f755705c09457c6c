"""The import/export side of a store, for moving a team between backends (``cminbox store
migrate``) and for complete backups (``cminbox export --all``).

Everything here copies *verbatim*: messages without new ``arrived`` events, triage states
with their revision, events with their positions, outbox items with their status, attempts
and ids (hence their idempotency keys). Each writing method is idempotent (keyed by ids or
positions), so a copy that was interrupted can simply be run again. Both backends implement
it (TinyDB: :mod:`cminbox.core.store_portable`; PostgreSQL: :mod:`cminbox.core.pg.portable`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

from cminbox.core.events import Event
from cminbox.core.models import Message, TriageState
from cminbox.core.outbox_types import OutboxItem
from cminbox.core.people import Person


@runtime_checkable
class PortableStore(Protocol):
    def export_items(self, after: str = "") -> Iterator[tuple[Message, TriageState]]:
        """Live items with id > ``after``, in id order, each with its full triage state (history included)."""
        ...

    def all_drafts(self) -> dict[str, str]:
        """message id -> unsent reply."""
        ...

    def all_cursors(self) -> dict[str, dict[str, Any] | None]:
        """channel -> poll cursor."""
        ...

    def import_items(self, items: list[tuple[Message, TriageState]]) -> None:
        """Store messages (no ``arrived`` events: the events are copied themselves) and their
        triage states as given (rev included; history goes where the backend keeps it). A
        stored state with a higher rev is kept. Atomic and durable."""
        ...

    def import_events(self, events: list[Event]) -> int:
        """Append events with their own positions (ascending); those at or below the last
        position are skipped (already copied). Returns how many were written. Durable."""
        ...

    def import_outbox(self, items: list[OutboxItem]) -> int:
        """Add outbox items whose id is unknown, in the order given; an item known here keeps its
        record, except that a ``sent`` copy marks it sent (a reply is never sent twice).
        Returns how many were added or marked sent. Durable."""
        ...

    def import_people(self, people: list[Person]) -> int:
        """Write person records as given (rev, updated_at and by kept), without events (they
        are copied with the log). A stored record with the same or a higher rev is kept, and a
        record whose identity belongs to another stored person is left out. Returns how many
        were written. Atomic and durable."""
        ...

    def migration_mark(self) -> dict[str, Any] | None:
        """The progress of a copy into this store (``cminbox store migrate``), or None."""
        ...

    def set_migration_mark(self, mark: dict[str, Any]) -> None:
        """Durable on return."""
        ...

    def settle(self) -> None:
        """Upkeep after a bulk copy into this store, before it is used (PostgreSQL: statistics
        and visibility for its planner; TinyDB: nothing). Failing here fails no copy."""
        ...
