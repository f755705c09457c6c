"""The inbox's one door to the store: nothing here runs on the UI thread except bookkeeping.

* :class:`Writes`: triage writes run one at a time, in the order the keys were pressed, on a
  worker thread. The view shows each action at once (computed with the core's pure
  :func:`cminbox.core.triage.apply`); what a row shows is always *the last state the store
  confirmed, with the still-pending actions applied on top*, so a write that fails takes
  back exactly its own change and nothing a later key did.
* :class:`Lookups`: the preview's thread and "also from this person" lookups, latest wins
  (one running at most, and only the newest cursor position waits behind it), cached per item;
  the author cards are another one, cached per author (tui/author_card.py).
* :func:`read_people` and :func:`person_data`: the people the rows and filters need, and one
  person's card and items (the person screen), for worker threads.
* :func:`check_changes`: the 1-second change check's store work, for a worker thread.

Reply drafts go through :class:`Writes` too (tui/drafts.py), so a draft read sees every save
queued before it, and the last draft typed is the one the store keeps.

The store methods the TUI calls in the background are named only in this module, so a
store interface that renames them changes this file, not the screens.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import msgspec

from cminbox.core import triage
from cminbox.core.errors import CminboxError, StoreUnavailable
from cminbox.core.models import Message, TriageState
from cminbox.core.people import PROFILE_TAGS, Person, effective_tags, is_stored
from cminbox.core.people_ops import Card, PeopleOps
from cminbox.core.query import PeopleView, Query, Term
from cminbox.core.store_api import StoreApi as Store
from cminbox.core.views import Sort, arrange

R = TypeVar("R")
T = TypeVar("T")


def is_unreachable(exc: BaseException) -> bool:
    """The store cannot be reached or written at all (a database that is down, an unwritable
    folder, a full disk), as opposed to a refusal of this one action (a broken shard file, an
    unknown id). While one is in the air the inbox stays readable, a banner says so, and actions
    are refused."""
    return isinstance(exc, StoreUnavailable)


def probe(store: Store) -> None:
    """Can the store be written again? Raises what it cannot (the interface's ``ping``)."""
    store.ping()


# ---------------------------------------------------------------------------------- writes
Optimistic = Callable[[TriageState], TriageState]


@dataclass(eq=False)
class Write(Generic[R]):
    """One store call and what it is expected to do to the rows it touches."""

    call: Callable[[], R]
    expect: dict[str, Optimistic]  # per item: its state → the state this write should leave
    done: Callable[[R, dict[str, TriageState]], None]  # on the UI loop, with the rows' stored states
    failed: Callable[[CminboxError], None]
    reread: Callable[[R], Iterable[str]] = lambda _: ()  # more ids to re-read after the call (undo's)
    # Tried even while the banner is up: reply drafts (a read-only folder still reads, and a
    # draft that cannot be saved is kept in memory, tui/drafts.py), never triage changes.
    always: bool = False


@dataclass
class Writes:
    """Triage writes, serialised, off the UI thread. ``show`` puts states on the rows (UI loop);
    ``current`` is what the rows of some items show now (an item not on screen left out)."""

    store: Callable[[], Store]
    show: Callable[[list[TriageState]], None]
    current: Callable[[Collection[str]], dict[str, TriageState]]
    refuse: Callable[[], CminboxError | None]  # why writes are refused right now (the banner)
    run_in_thread: Callable[[Callable[[], Any]], Awaitable[Any]] = asyncio.to_thread
    # False once the screen is closing: a write that lands then updates nothing (its widgets are
    # being removed), as tui/ui_thread.py does for the other workers.
    alive: Callable[[], bool] = lambda: True
    confirmed: dict[str, TriageState] = field(default_factory=dict)  # items with writes in flight
    pending: list[Write[Any]] = field(default_factory=list)
    _queue: asyncio.Queue[Write[Any]] | None = None

    def submit(self, write: Write[Any]) -> None:
        """Apply the expected states now and queue the call. Must run on the UI loop."""
        missing = [mid for mid in write.expect if mid not in self.confirmed]
        if missing:
            self.confirmed.update(self.current(missing))
        self.pending.append(write)
        self._rebase(write.expect)
        if self._queue is None:
            self._queue = asyncio.Queue()
        self._queue.put_nowait(write)

    def expected(self, mid: str, base: TriageState) -> TriageState:
        """``base`` with every pending write's expected change applied, in order."""
        for write in self.pending:
            step = write.expect.get(mid)
            if step is not None:
                base = step(base)
        return base

    def _rebase(self, ids: Iterable[str]) -> None:
        states = [self.expected(mid, self.confirmed[mid]) for mid in ids if mid in self.confirmed]
        if states:
            self.show(states)

    def stored(self, states: Iterable[TriageState]) -> list[TriageState]:
        """States read from the store (the change check): for items with writes in flight, the
        new base under those writes; what the rows should show is returned."""
        out = []
        for st in states:
            base = self.confirmed.get(st.id)
            if base is None:
                out.append(st)
                continue
            if st.rev >= base.rev:  # a read that landed late is no newer base (each write raises rev)
                self.confirmed[st.id] = base = st
            out.append(self.expected(st.id, base))
        return out

    async def run(self) -> None:
        """The consumer: one write at a time, in order. Started once by the screen."""
        if self._queue is None:
            self._queue = asyncio.Queue()
        queue = self._queue
        while True:
            write = await queue.get()
            try:
                await self._one(write)
            finally:
                queue.task_done()

    async def idle(self) -> None:
        """Until every queued write has finished (tests; quitting)."""
        if self._queue is not None:
            await self._queue.join()

    async def _one(self, write: Write[Any]) -> None:
        store = self.store()
        refused = None if write.always else self.refuse()
        error: CminboxError | None = refused
        result: Any = None
        states: dict[str, TriageState] = {}
        if refused is None:

            def call() -> tuple[CminboxError | None, Any, dict[str, TriageState] | None]:
                try:
                    out = write.call()
                except CminboxError as exc:
                    if isinstance(exc, StoreUnavailable):
                        # Nothing was changed, and a read would wait out the same outage first
                        # (the refused tag showed ~20 s as applied): the rows go back at once.
                        return exc, None, {}
                    # What the store holds now (a verb may fail after its triage write, an
                    # escalation's delivery say): the rows show that, never a half-truth.
                    try:
                        return exc, None, {mid: store.triage(mid) for mid in write.expect}
                    except CminboxError:
                        return exc, None, {}
                ids = dict.fromkeys([*write.expect, *write.reread(out)])
                try:
                    return None, out, {mid: store.triage(mid) for mid in ids}
                except CminboxError:
                    return None, out, None  # written, but not readable back just now

            error, result, read = await self.run_in_thread(call)
            if read is None:  # trust the write: this step on what the store confirmed before it
                read = {mid: step(self.confirmed[mid]) for mid, step in write.expect.items() if mid in self.confirmed}
            states = read
        self.pending.remove(write)
        if not self.alive():
            return
        touched = dict.fromkeys([*write.expect, *states])
        self.confirmed.update(states)
        self._rebase(touched)
        for mid in touched:  # nothing in flight for it any more: the rows hold the store's state
            if not any(mid in w.expect for w in self.pending):
                self.confirmed.pop(mid, None)
        if error is not None:
            write.failed(error)
        else:
            write.done(result, states)


def optimistic(action: triage.Action | Callable[[TriageState], triage.Action | None]) -> Optimistic:
    """The state a store ``act`` with this action would leave (its history entry aside)."""

    def step(state: TriageState) -> TriageState:
        chosen = action(state) if callable(action) else action
        return state if chosen is None else triage.apply(state, chosen)

    return step


def drafted_among(store: Store, ids: Iterable[str]) -> set[str]:
    """The ids with an unsent reply draft (a bulk "done" asks before taking those)."""
    return {mid for mid in ids if store.get_draft(mid).strip()}


# ---------------------------------------------------------------------------------- lookups
class PreviewData(msgspec.Struct, frozen=True):
    thread: list[Message]
    others: list[Message]


def preview_data(store: Store, message: Message) -> PreviewData:
    return PreviewData(store.thread_of(message), store.by_author(message))


def by_id(message: Message) -> str:
    return message.id


@dataclass
class Lookups(Generic[T]):
    """The preview's lookups (and, with ``key=identity_of``, the author cards): at most one
    runs; a newer request replaces the waiting one, so holding j queues nothing; each result
    is cached per ``key`` (the item) until forgotten. A result read while it was forgotten is
    delivered but not kept: it may predate the change."""

    fetch: Callable[[Message], T]
    deliver: Callable[[Message, T], None]  # on the UI loop; the caller checks the cursor
    run_in_thread: Callable[[Callable[[], Any]], Awaitable[Any]] = asyncio.to_thread
    key: Callable[[Message], str] = by_id
    cache: dict[str, T] = field(default_factory=dict)
    wanted: Message | None = None
    running: Message | None = None
    task: asyncio.Task[None] | None = None
    _generation: int = 0

    def request(self, message: Message) -> T | None:
        """The cached data at once, or None and the lookup starts (latest wins)."""
        key = self.key(message)
        if key in self.cache:
            return self.cache[key]
        running = self.running is not None and self.key(self.running) == key
        self.wanted = None if running else message  # the one in flight will land for it
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._drain())
        return None

    def forget(self, keys: Iterable[str] | None = None) -> None:
        """The store changed: forget what ``keys`` name (None: everything)."""
        if keys is None:
            self.cache.clear()
        else:
            for key in keys:
                self.cache.pop(key, None)
        self._generation += 1

    async def _drain(self) -> None:
        while self.wanted is not None:
            message, self.wanted = self.wanted, None
            self.running = message
            generation = self._generation
            try:
                data: T = await self.run_in_thread(functools.partial(self.fetch, message))
            except CminboxError:
                continue  # unreadable now (the banner's business): the pane keeps what it shows
            finally:
                self.running = None
            if generation == self._generation:
                self.cache[self.key(message)] = data
            if self.wanted is None:  # a newer cursor position would overwrite it at once
                self.deliver(message, data)

    async def idle(self) -> None:
        while self.task is not None and not self.task.done():
            await asyncio.shield(self.task)


# ---------------------------------------------------------------------------------- changes
class Changes(msgspec.Struct, frozen=True):
    """What the change check found, read off the UI thread."""

    changed: set[str]
    gone: bool  # some changed items left the live store (archived): the list is rebuilt
    states: dict[str, TriageState]
    messages: dict[str, Message]


def check_changes(store: Store) -> Changes:
    """Pick up what other instances wrote (runs on a worker thread)."""
    changed = store.refresh()
    if not changed:
        return Changes(set(), False, {}, {})
    loader = store.progressive
    fully_loaded = loader is None or loader.fully_loaded
    gone = fully_loaded and any(not store.is_live(mid) for mid in changed)
    states = {mid: store.triage(mid) for mid in changed}
    messages = {mid: m for mid in changed if (m := store.get_message(mid)) is not None}
    return Changes(changed, gone, states, messages)


# ---------------------------------------------------------------------------------- people
class PeopleRead(msgspec.Struct, frozen=True):
    """The people as the inbox needs them, read together on a worker: ``view`` answers the
    filter's people fields, ``markers`` gives each identity key its person's profile-tag glyphs
    (for the rows; absent: no profile tag)."""

    view: PeopleView
    markers: dict[str, str]


def marker_of(person: Person, staff: frozenset[str]) -> str:
    """The person's row glyphs, the implied staff tag included (a configured staff account)."""
    return msgspec.structs.replace(person, tags=effective_tags(person, staff)).marker()


def read_people(ops: PeopleOps) -> PeopleRead:
    """One read of the stored people (a worker thread's): the view and the markers from it."""
    people = ops.store.people()
    markers: dict[str, str] = {}
    for person in people:
        if mark := marker_of(person, ops.staff):
            markers.update(dict.fromkeys(person.identities, mark))
    for key in ops.staff - {k for p in people for k in p.identities}:  # staff nobody stored
        markers[key] = PROFILE_TAGS["staff"]
    return PeopleRead(PeopleView.of(people, ops.staff), markers)


class PersonData(msgspec.Struct, frozen=True):
    """The person screen's content: the card, and every item of every identity, newest first."""

    card: Card
    items: list[tuple[Message, TriageState]]


def person_data(ops: PeopleOps, ref: str) -> PersonData:
    card = ops.card(ref)
    person = card.person
    mine = Term("person", ":", person.id if is_stored(person) else person.identities[0])
    items = ops.store.query(where=Query.of(mine), staff=ops.staff)
    return PersonData(card, arrange(items, Sort.NEWEST))
