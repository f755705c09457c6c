"""The store interface: what the TUI, the CLI, the engine, the outbox and the archive may ask
of a store. A backend (TinyDB today: :class:`cminbox.core.store.Store`) implements it; callers
use nothing else, so a second backend (PostgreSQL) can take its place.

Each method's docstring is the contract a backend must meet: what is atomic, and what is
durable when the method returns. Words used throughout:

* **atomic**: other instances (and a crash) see all of the step or none of it; for a step over
  several items, each item's part is atomic and the step's events record exactly the parts
  that happened.
* **durable**: once the method returns, a crash (power loss, ``kill -9``) keeps it.
* **committed view**: what a call reads includes everything other instances committed before
  the call, unless it says it reads only what this handle has loaded so far (``loaded_only``).

The sending side (the outbox and the single-poller lease) is in :mod:`cminbox.core.sending_api`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import msgspec

from cminbox.core.census import Counts
from cminbox.core.clock import Clock
from cminbox.core.community import Answering
from cminbox.core.effects import Plan, Planned
from cminbox.core.errors import CminboxError
from cminbox.core.events import Event
from cminbox.core.models import Archived, Message, Status, TriageState
from cminbox.core.people import Person, Seen
from cminbox.core.presence import Activity, Presence
from cminbox.core.query import Query
from cminbox.core.sending_api import OutboxStore, PollerLease
from cminbox.core.triage import Action

__all__ = [
    "ActResult",
    "ArchiveStore",
    "ChangeFeed",
    "EventLog",
    "ItemStore",
    "PeopleStore",
    "PresenceStore",
    "ProgressiveLoading",
    "SmallTables",
    "StoreApi",
    "StoreError",
    "TriageStore",
    "UndoResult",
]


class StoreError(CminboxError):
    """What a store says about a request it cannot serve (an unknown or ambiguous id, a schema
    it cannot read); the message says what to do."""


def stale_write(record: str, who: str) -> StoreError:
    """An optimistic write refused: ``record`` changed (by ``who``) since the caller read it."""
    by = f"by {who} " if who else ""
    return StoreError(f"{record} was changed {by}meanwhile; nothing was written.", "Try again.")


def one_id(partial: str, hits: list[str]) -> str:
    """What ``resolve_id`` answers, on either backend, from the ids that ``partial`` names."""
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise StoreError(
            f"no message with id {partial!r}: give a whole id or the end of one (`cminbox list` shows the ids)"
        )
    raise StoreError(f"{partial!r} matches {len(hits)} messages ({', '.join(hits[:3])}, ...); give the full id.")


def removed_meanwhile(record: str) -> StoreError:
    return StoreError(
        f"{record} was removed meanwhile (linked into another person); nothing was written.", "Try again."
    )


class ActResult(msgspec.Struct, frozen=True):
    group: str  # the action group's id (undo refers to it; its events carry it)
    changed: list[str]  # the ids the action changed (an action that changes nothing is not recorded)
    label: str


class UndoResult(msgspec.Struct, frozen=True):
    label: str
    changed: list[str]


class ItemStore(Protocol):
    """Messages and their triage state, read side and ingestion."""

    def upsert_messages(
        self, messages: Iterable[Message], *, plan: Plan | None = None, answers: Answering | None = None
    ) -> list[str]:
        """Store messages not seen before (by id), update those whose content changed; every
        message is bounded first (cminbox.core.text.bound_message). Returns the new ids, in order.
        Atomic per message together with its ``arrived`` event; durable on return.

        ``plan`` (the rules, cminbox.core.effects) is called inside the same step with the new
        messages and their triage state (a fresh one, unless a record outlived a step cut short),
        and what it returns is written in that step too: its effects (events and history lines
        in the step's group, no undo record) and its outbox items (those whose id is not stored
        yet). Other instances never see a new message without them.

        ``answers``: find who answered the conversations the batch touches, in the same step
        (cminbox.core.community), and record it on their questions."""
        ...

    def apply_plan(self, ids: Iterable[str], plan: Plan, *, history: bool = False) -> Planned:
        """Call ``plan`` inside one step with the live items among ``ids`` and their committed
        triage state (``history``: with their history lines; a backend that keeps them apart
        may skip them otherwise), and write what it returns as :meth:`upsert_messages` does.
        Returns what was written: the effects that changed their item, the outbox items stored.
        Atomic and durable."""
        ...

    def get_message(self, message_id: str) -> Message | None:
        """A live message by full id (archived ones: :meth:`ArchiveStore.archived`)."""
        ...

    def message_ids(self) -> list[str]:
        """Every live message id (committed view)."""
        ...

    def all_messages(self, *, loaded_only: bool = False) -> list[Message]:
        """Every live message; ``loaded_only``: only what this handle has loaded so far."""
        ...

    def __len__(self) -> int:
        """Live messages loaded so far."""
        ...

    def is_live(self, message_id: str) -> bool:
        """In the live store, from what is loaded so far: never loads or blocks on I/O."""
        ...

    def resolve_id(self, partial: str) -> str:
        """A full id, or a unique suffix (the native id). Raises a CminboxError naming the
        candidates when there are none or several."""
        ...

    def triage(self, message_id: str) -> TriageState:
        """The item's triage state; a fresh ``TriageState(id=...)`` (rev 0) when it has none."""
        ...

    def query(
        self,
        *,
        status: Status | None = None,
        tag: str | None = None,
        channel: str | None = None,
        where: Query | None = None,
        me: str = "",
        limit: int | None = None,
        loaded_only: bool = False,
        staff: frozenset[str] = frozenset(),
    ) -> list[tuple[Message, TriageState]]:
        """Live items with their state, newest first (created_at, then id by code points: the
        TUI relies on it, tui/row_loading.py), filtered by exact
        fields and by ``where`` (the filter language, evaluated for actor ``me``; its people
        fields read this store's people, committed view, and ``staff``, the identity keys of
        the configured staff accounts); ``limit`` keeps the first ones. ``loaded_only`` as in
        :meth:`all_messages`."""
        ...

    def every_item(self, *, loaded_only: bool = False) -> list[tuple[Message, TriageState | None]]:
        """Every live item, in :meth:`query`'s order, with its state, or None for one that has
        no triage record (a default state, rev 0): the TUI's rows hold no default state of
        their own, 112 bytes an item (issue #14). ``loaded_only`` as in :meth:`all_messages`."""
        ...

    def by_author(self, message: Message, limit: int = 3) -> list[Message]:
        """The author's other live messages (same handle, any channel), newest first."""
        ...

    def thread_of(self, message: Message) -> list[Message]:
        """The live messages of the same conversation, oldest first (at least ``message``)."""
        ...


class TriageStore(Protocol):
    def act(
        self,
        message_ids: Iterable[str],
        make_action: Action | Callable[[TriageState], Action | None],
        *,
        actor: str,
        undoable: bool = True,
        label: str | None = None,
    ) -> ActResult:
        """Apply one triage action to several items as one group. ``make_action`` may be a
        function of each item's current state (None: leave that item alone); it sees the
        committed state, so a concurrent update is never lost (read-modify-write under the
        backend's lock or row lock). Per item atomic with its ``action`` event (label, before and
        after fields, group, actor, instance) and its history entry; the undo record is written
        in the same step when ``undoable``. Durable on return."""
        ...

    def undo(self, actor: str, group: str | None = None) -> UndoResult | None:
        """Undo ``actor``'s latest group not undone yet (repeatable: each call goes one further
        back) by applying its inverses, recorded as ``undo`` events; None when there is none.
        ``group`` (an ActResult's): that group of ``actor``'s instead, when not undone yet (the
        TUI's `u` takes back what it showed last, even if a CLI call of the same actor came
        after). Inverses are semantic (a teammate's later tag stays). Durable on return."""
        ...

    def put_triage(self, states: Iterable[TriageState], *, keep_newer: bool = True) -> int:
        """Write whole triage records (import, restore), without events (a record carries its
        history). ``keep_newer``: skip an item whose stored ``rev`` is higher. Returns how many
        were written. Durable on return."""
        ...


class EventLog(Protocol):
    """The append-only log of what happened (cminbox.core.events). Every writing method of
    the store appends its events in the same atomic step as the change itself: after a crash
    there is never a change without its event, nor an event without its change."""

    def events(self, *, since: int = 0, after: datetime | None = None, limit: int | None = None) -> list[Event]:
        """Committed events with ``pos > since`` (and, with ``after``, ``at >= after``), oldest
        first, at most ``limit``. ``after`` may stop looking at the first events older than it
        (event times follow positions, within the clocks' skew)."""
        ...

    def last_position(self) -> int:
        """The position of the newest committed event (0: none yet)."""
        ...


class ChangeFeed(Protocol):
    """How an instance learns what others changed, without re-reading everything."""

    #: True when :meth:`wait_for_change` is woken by the other instance's commit (PostgreSQL's
    #: LISTEN/NOTIFY): a watcher blocks on it instead of asking on a timer. False when it only
    #: looks at files on a timer itself (TinyDB): then the caller's own 1-second check is as good.
    pushes_changes: bool

    def refresh(self) -> set[str]:
        """Take in what other instances committed since the last call (and what this handle
        archived away): returns the ids of items whose message or state changed or that left
        the live store (items only: a change of a person record is a ``person`` event, read
        with :meth:`EventLog.events`). Cheap when nothing changed; a backend with notifications
        drains the ones received rather than querying."""
        ...

    def wait_for_change(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds until another instance may have committed something
        (then :meth:`refresh` says what); False on timeout. The first call says True at once:
        what was committed between this handle's open and its first wait notified nobody (the
        team demo's second teammate's first change could go unseen). Call from a worker
        thread, never from the UI thread."""
        ...


class SmallTables(Protocol):
    """Poll cursors and health per channel, drafts per message. Each write is atomic and durable."""

    def get_cursor(self, channel: str) -> dict[str, Any] | None:
        """Raises a CminboxError when the stored cursor cannot be read (polling from scratch
        would re-notify what it covered)."""
        ...

    def set_cursor(self, channel: str, cursor: dict[str, Any] | None) -> None: ...

    def rewind_cursors(self, channels: Iterable[str] | None) -> list[str]:
        """Forget the cursors of ``channels`` (all: None), so the next poll re-reads recent
        history. Returns the channels rewound."""
        ...

    def get_health(self, channel: str) -> dict[str, Any] | None: ...

    def set_health(self, channel: str, health: dict[str, Any]) -> None: ...

    def all_health(self) -> dict[str, dict[str, Any]]: ...

    def get_draft(self, message_id: str) -> str:
        """The unsent reply to a message ("" when none)."""
        ...

    def set_draft(self, message_id: str, text: str) -> None:
        """Keep the draft; blank text drops it."""
        ...


class ArchiveStore(Protocol):
    def archive(self, older_than: timedelta, *, dry_run: bool = False) -> list[str]:
        """Move done items whose last activity is older than ``older_than`` out of the live
        store, each with its ``archived`` event. An item is durable in the archive before it
        leaves the live store. Returns the ids moved (or that would move)."""
        ...

    def archived(self) -> list[Archived]:
        """Every archived item not also live, newest first (may read a lot: not per keypress)."""
        ...

    def archived_ids(self) -> set[str]: ...

    def restore(self, ids: Iterable[str]) -> list[str]:
        """Bring archived items back live with their triage state (``restored`` events).
        Returns the ids restored."""
        ...

    def put_archived(self, items: Iterable[Archived]) -> None:
        """Write items straight into the archive (import), replacing entries with the same id."""
        ...


class PresenceStore(Protocol):
    """Who is viewing or replying to what (cminbox.core.presence): one throwaway record per
    store handle, expiring unless renewed; other instances learn of a change through the same
    change feed as other changes (:meth:`ChangeFeed.wait_for_change` wakes, or the 1-second check)."""

    def set_presence(self, person: str, message_id: str | None, activity: Activity = Activity.VIEWING) -> None:
        """Replace this handle's record (``message_id`` None: remove it) and renew its expiry
        (presence.TTL from now). Cheap and not durable (throwaway); :meth:`close` removes it."""
        ...

    def presence(self) -> list[Presence]:
        """The unexpired records of other handles (committed view)."""
        ...


class PeopleStore(Protocol):
    """Person records (cminbox.core.people): what the team decided about the people behind the
    channel identities, kept apart from the messages. Only records someone made (tagged,
    noted, linked) are stored, with ids ``p-…``; an identity nobody touched has none. What the
    messages say about an identity (:meth:`authors`) is computed when asked, never stored."""

    def person(self, ref: str) -> Person | None:
        """The stored person with id ``ref``, or the one holding identity key ``ref``
        (committed view); None when there is none."""
        ...

    def people(self) -> list[Person]:
        """Every stored person, by id (committed view)."""
        ...

    def write_people(
        self, puts: Iterable[Person], deletes: Iterable[Person] = (), *, actor: str, label: str
    ) -> list[Person]:
        """Store ``puts`` and remove ``deletes`` in one atomic, durable step, with one ``person``
        event per record (``label``, the changed fields before and after, one group), which
        wakes other instances like any change. Optimistic: each record's ``rev`` is the one it
        was read at (0: a new record); when a stored record's rev differs, a record to remove
        is gone, or an identity of a put belongs to another stored person (not removed in this
        step), nothing is written and a StoreError says who changed it meanwhile. Returns the
        puts as stored (``rev`` + 1, ``updated_at`` and ``updated_by`` set)."""
        ...

    def authors(self, keys: Iterable[str] | None = None) -> dict[str, Seen]:
        """What the live messages say about each identity (of ``keys``; None: every author),
        by identity key; an identity without live messages is absent."""
        ...

    def identities(self) -> frozenset[str]:
        """The identity keys with live messages: what :meth:`authors` would key, without the
        counts (the card's link suggestions and handle lookups need only the keys)."""
        ...


class ProgressiveLoading(Protocol):
    """An optional capability (:attr:`StoreApi.progressive`): a store that opens at once and
    reads its older parts on demand, newest first, so the first screen shows quickly."""

    @property
    def fully_loaded(self) -> bool: ...

    def load_next_segment(self) -> str | None:
        """Load the newest part not loaded yet and return its name; None when all is loaded.
        Safe from a worker thread while the UI thread reads."""
        ...

    @property
    def loaded_items(self) -> int:
        """How many live items are loaded so far."""
        ...

    def census(self, cutoff: datetime, exclude: Collection[str]) -> Counts:
        """The counts of every live item not in ``exclude``, loaded or not (core/census.py):
        the header's counts are exact before the older parts are read."""
        ...


@runtime_checkable
class StoreApi(
    ItemStore, TriageStore, EventLog, ChangeFeed, SmallTables, ArchiveStore, PresenceStore, PeopleStore, Protocol
):
    """Everything a store provides. The reports of later issues extend it."""

    clock: Clock
    migrated: list[str]  # what opening the store upgraded (schema migrations), to tell the user

    @property
    def outbox(self) -> OutboxStore:
        """This store's outbox (one per store handle, sharing its transactions)."""
        ...

    def poller_lease(self) -> PollerLease:
        """A handle on the team's single-poller lease, for this instance."""
        ...

    @property
    def progressive(self) -> ProgressiveLoading | None:
        """The progressive-loading capability, or None when the store is fully loaded at open."""
        ...

    @property
    def problems(self) -> Mapping[str, str]:
        """Parts of the store that cannot be read (where → what is wrong, with what to do).
        The rest works; those parts are skipped and never overwritten."""
        ...

    def ping(self) -> None:
        """Return when the store can be written now; else raise
        :class:`~cminbox.core.errors.StoreUnavailable` saying why. Cheap (one round trip, or
        one scratch write): the TUI calls it every few seconds while its banner is up."""
        ...

    def close(self) -> None:
        """Release connections, locks and leases held by this handle (idempotent)."""
        ...
