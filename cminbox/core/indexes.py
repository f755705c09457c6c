"""In-memory indexes over the store, built at load and kept current by every write.

TinyDB's own lookups (``get(doc_ids=...)``, ``Query``) scan the whole table; at 100k
messages that is ~100 ms each. These maps answer the store's questions instead:
where a message lives, its conversation, its author's other messages, and which
messages have a given channel, status or tag.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Iterable
from datetime import UTC
from operator import attrgetter, methodcaller

import msgspec

from cminbox.core.extras_sharing import ExtrasSharing
from cminbox.core.models import Author, Message, Status, TriageState
from cminbox.core.part_ids import PartIds
from cminbox.core.people import identity
from cminbox.core.time_order import TimeOrder

TRIAGE_SHARDS = 16
_ID, _CREATED = attrgetter("id"), attrgetter("created_at")
_CHANNEL, _CHANNEL_TYPE = attrgetter("channel"), attrgetter("channel_type")
_TIMESTAMP = methodcaller("timestamp")


def shard_of(message_id: str) -> int:
    """Where stores written before 2026-12 put a message's triage record (a hash of its id).
    Records are found wherever they are (:attr:`Indexes.triage_shard`, built from the files);
    a new one goes to :func:`home_shard`, and only when this shard is readable (a record in a
    broken shard cannot be seen, and must not get a second one elsewhere)."""
    return zlib.crc32(message_id.encode()) % TRIAGE_SHARDS


def home_shard(message: Message) -> int:
    """The shard a store step's new triage records go to (all of them: the first one's home):
    a hash of the channel and the hour the message was written, so over time the records
    spread over every shard while one step, a poll or a burst, rewrites one file instead of
    the six or seven a hash of each id spread them over (each an fsynced rewrite, ~1.5 ms:
    bench/rules.py). Any shard is right: the index finds records wherever they are."""
    hour = message.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H")
    return zlib.crc32(f"{message.channel}\x1f{hour}".encode()) % TRIAGE_SHARDS


def author_key(handle: str) -> str:
    """People keep their user name across networks more often than not: @ana@a.social and
    @ana.bsky.social both key to "ana" (a hint for the preview, never used to merge identities)."""
    user = handle.lower().lstrip("@").split("@")[0]
    return user.split(".")[0] if "." in user else user


def _id_of(msg: Message | None) -> str | None:
    return None if msg is None else msg.id


def _drop(index: dict[str, set[str]], key: str, mid: str) -> None:
    ids = index.get(key)
    if ids is not None:
        ids.discard(mid)
        if not ids:
            del index[key]


class Indexes:
    def __init__(self) -> None:
        self.messages: dict[str, Message] = {}
        # Part (segment key) -> its ids; disjoint. Which part holds an id is found from these
        # (segment_of, by_segment), and its TinyDB doc id from the part when a write needs it: an
        # id -> (part, doc id) map kept for every message cost ~12 MB and ~30 ms of a 100k
        # load (issue #14) for what only edits and archiving ask.
        self.segment_ids: dict[str, PartIds] = {}
        # (channel, thread id) -> its ids but the first message's (the one whose id is the
        # thread id: found in ``messages``, not kept here): one id as a str, a set from the
        # second. Most conversations are one message: no entry at all for them (~11 MB less at
        # 100k mails than an entry each, ~14 MB more for a set each). Read through thread_ids().
        self.threads: dict[tuple[str, str], str | set[str]] = {}
        # Identity key (people.identity: one account on one channel) -> ids, for the author
        # card, the people fields and the preview's "their other messages", and author key ->
        # the identities that share it (few: an author key is a user name on any channel). Built
        # at load (every preview reads it). An author key -> ids index beside it held every id
        # once more (~3 MB at 100k, issue #14): author_ids() joins the identities' sets instead.
        self._identities: dict[str, set[str]] = {}
        self._author_identities: dict[str, set[str]] = {}
        # Identity -> its author keys: one, unless handles that casefold alike lower differently
        # ("@straße", "@STRASSE"): then author_ids() looks at each message (never forgets: few).
        self._identity_authors: dict[str, set[str]] = {}
        # Channel -> handle -> identity key, computed once per account (few people, many
        # messages), its author key noted with it (identity()).
        self._handle_identities: dict[str, dict[str, str]] = {}
        self._author_keys: dict[str, str] = {}  # handle -> author key (few people, many messages)
        self._shared_authors: dict[Author, Author] = {}
        self._shared_words: dict[str, str] = {}
        # What extras repeat, one copy of it (Mastodon's account id and acct per author: ~35 MB
        # less at 100k), learnt per channel, and the rest packed (core/extras_sharing.py).
        self.extras = ExtrasSharing()
        # No channel -> ids index: a set per channel held every id once more (~4 MB at 100k,
        # issue #14) for what only a channel filter asks; in_channels() passes over the messages.
        # Channel name -> the channel types seen on it (one, in practice; never shrinks).
        self.channel_types: dict[str, set[str]] = {}
        # Every live id in time order, for newest-first results (core/time_order.py).
        self.time_order = TimeOrder()
        # Triage: only messages that have a triage record (most do not: they are new).
        self.triage_at: dict[str, int] = {}  # id -> doc id in its shard
        self.triage_shard: dict[str, int] = {}  # id -> the shard its record is in
        self._triage_keys: dict[str, tuple[Status, tuple[str, ...]]] = {}
        self.status: dict[Status, set[str]] = {}
        self.tags: dict[str, set[str]] = {}
        # Who answered first (core/community.py): kind ("community", "staff") -> ids, for answered:.
        self.answered: dict[str, set[str]] = {}
        self._answered_kind: dict[str, str] = {}

    def thread_ids(self, channel: str, thread: str) -> Collection[str]:
        """The ids of a conversation's live messages (empty when none)."""
        members = self.threads.get((channel, thread), ())
        first = self.messages.get(thread)
        if first is not None and first.channel == channel and (first.thread_id or thread) == thread:
            if not members:
                return (thread,)
            return (thread, members) if isinstance(members, str) else {thread, *members}
        return (members,) if isinstance(members, str) else members

    def in_channels(self, names: Collection[str]) -> set[str]:
        """The ids of the live messages of the channels ``names`` (one pass: ~10 ms at 100k)."""
        if not names:
            return set()
        return {mid for mid, msg in self.messages.items() if msg.channel in names}

    def author_of(self, handle: str) -> str:
        """``author_key(handle)``, computed once per handle (few people, many messages)."""
        key = self._author_keys.get(handle)
        if key is None:
            key = self._author_keys[handle] = author_key(handle)
        return key

    def identity(self, msg: Message) -> str:
        """``people.identity_of(msg)``, computed once per account; the first time, its author
        key is noted with it (author_ids)."""
        known = self._handle_identities.get(msg.channel)
        if known is None:
            known = self._handle_identities[msg.channel] = {}
        key = known.get(msg.author.handle)
        if key is None:
            key = known[msg.author.handle] = identity(msg.channel, msg.author.handle)
            author = self.author_of(msg.author.handle)
            self._author_identities.setdefault(author, set()).add(key)
            self._identity_authors.setdefault(key, set()).add(author)
        return key

    def by_identity(self) -> dict[str, set[str]]:
        """Identity key -> the ids of its live messages (read-only for the caller)."""
        return self._identities

    def author_ids(self, author: str) -> set[str]:
        """The ids of the live messages whose author has the author key ``author``."""
        found: set[str] = set()
        for ident in self._author_identities.get(author, ()):
            ids = self._identities.get(ident, set())
            if len(self._identity_authors[ident]) == 1:
                found |= ids
            else:
                found.update(mid for mid in ids if self.author_of(self.messages[mid].author.handle) == author)
        return found

    # ------------------------------------------------------------------ messages
    def add_message(self, key: str, msg: Message) -> None:
        if msg.id in self.messages:
            self.drop_message(msg.id)  # an edit may change the thread or author keys
        self.add_segment(key, [msg])

    def newest_first(self, ids: Iterable[str]) -> list[str]:
        """``ids`` newest first, equal times by id, last first (the order StoreApi.query promises)."""
        return self.time_order.newest_first(ids, self.messages)

    def segment_of(self, mid: str) -> str | None:
        """The part that holds ``mid`` (a membership test per part: ~75 at 100k mails)."""
        for key, ids in self.segment_ids.items():
            if mid in ids:
                return key
        return None

    def by_segment(self, ids: Iterable[str]) -> dict[str, set[str]]:
        """``ids`` grouped by the part that holds them (those in none left out)."""
        wanted = set(ids)
        found: dict[str, set[str]] = {}
        for key, held in self.segment_ids.items():
            if wanted and (here := held.common(wanted)):
                found[key] = here
                wanted -= here
        return found

    def add_segment(self, key: str, msgs: list[Message]) -> None:
        """Index messages not indexed yet (the load path: ~100k calls, so locals, not attributes)."""
        threads, idents = self.threads, self._identities
        shared_authors, shared_words, share_extras = self._shared_authors, self._shared_words, self.extras.shared
        set_field = msgspec.structs.force_setattr
        # A part's messages mostly share their channel, type and visibility with the one before:
        # an equal short string is compared, not hashed (each is a fresh copy from the decoder).
        channel = channel_type = visibility = ""
        seen_here: dict[str, Author] = {}  # this part's authors by id (few people, many messages)
        # Handle -> identity key on the channel of the message before (identity() fills it).
        ident_here = self._handle_identities.setdefault(channel, {})
        # A reply names its conversation and its parent by their ids: point to the one string of
        # that message's id instead of a copy of it (~4 MB at 100k mails, a third of them replies;
        # nine in ten of those find their parent in the same part).
        mids = list(map(_ID, msgs))
        ids_here = dict(zip(mids, mids, strict=True))
        same_id, loaded = ids_here.get, self.messages
        for msg in msgs:  # what takes a decision per message
            mid = msg.id
            # Thousands of messages share an author and a channel: keep one copy of each
            # (~50 MB less at 100k messages). Safe on frozen structs nobody else holds yet.
            # Found by id first: one string hashed, and the rest compared, instead of all four hashed.
            person = msg.author
            known = seen_here.get(person.id)
            if known is None or known != person:
                known = seen_here[person.id] = shared_authors.setdefault(person, person)
            if known is not person:
                set_field(msg, "author", known)
                person = known
            if msg.channel != channel:
                channel = shared_words.setdefault(msg.channel, msg.channel)
                ident_here = self._handle_identities.setdefault(channel, {})
            if msg.channel_type != channel_type:
                channel_type = shared_words.setdefault(msg.channel_type, msg.channel_type)
            if msg.visibility != visibility:
                visibility = shared_words.setdefault(msg.visibility, msg.visibility)
            set_field(msg, "channel", channel)
            set_field(msg, "channel_type", channel_type)
            set_field(msg, "visibility", visibility)
            thread_id = msg.thread_id
            if thread_id and thread_id is not mid:
                if thread_id == mid:  # a conversation's first message: one string, not two
                    set_field(msg, "thread_id", mid)
                elif (one := same_id(thread_id) or _id_of(loaded.get(thread_id))) is not None:
                    set_field(msg, "thread_id", one)
            parent_id = msg.parent_id
            if parent_id and (one := same_id(parent_id) or _id_of(loaded.get(parent_id))) is not None:
                set_field(msg, "parent_id", one)
            extra = msg.extra
            if extra and type(extra) is dict:  # (a message indexed before holds them packed)
                shared = share_extras(channel, extra)
                if shared is not extra:
                    set_field(msg, "extra", shared)
            thread_id = msg.thread_id
            if thread_id and thread_id != mid:  # (a first message is found by its id: thread_ids)
                thread = (channel, thread_id)
                members = threads.get(thread)
                if members is None:
                    threads[thread] = mid  # a reply: its id alone, no set yet
                elif isinstance(members, str):
                    if members != mid:
                        threads[thread] = {members, mid}
                else:
                    members.add(mid)
            ident = ident_here.get(person.handle)
            if ident is None:
                ident = self.identity(msg)  # (fills ident_here, the same dict)
            ids = idents.get(ident)
            if ids is None:
                idents[ident] = {mid}
            else:
                ids.add(mid)
        # The rest in C-level passes over the part, not a step per message (~30 ms of 100k).
        self.messages.update(zip(mids, msgs, strict=True))
        self.time_order.add(mids, map(_TIMESTAMP, map(_CREATED, msgs)))
        held = self.segment_ids.get(key)
        if held is None:
            self.segment_ids[key] = PartIds(mids)
        else:
            held.update(mids)
        for name, kind in set(zip(map(_CHANNEL, msgs), map(_CHANNEL_TYPE, msgs), strict=True)):
            self.channel_types.setdefault(name, set()).add(kind)

    def drop_message(self, mid: str, segment: str | None = None) -> None:
        """``segment``: the part that held it, when the caller knows (spares the search)."""
        msg = self.messages.pop(mid, None)
        if msg is None:
            return
        part = segment if segment is not None else self.segment_of(mid)
        if part is not None and (held := self.segment_ids.get(part)) is not None:
            held.discard(mid)
        if msg.thread_id and msg.thread_id != mid:  # (a first message has no entry)
            key = (msg.channel, msg.thread_id)
            members = self.threads.get(key)
            if members == mid:
                del self.threads[key]
            elif isinstance(members, set):
                members.discard(mid)
                if not members:
                    del self.threads[key]
        _drop(self._identities, self.identity(msg), mid)  # (its author key keeps the identity: few)

    def drop_segment(self, key: str) -> set[str]:
        held = self.segment_ids.pop(key, None)
        gone = set(held) if held is not None else set()
        for mid in gone:
            self.drop_message(mid, key)
        return gone

    # ------------------------------------------------------------------ triage
    def set_triage(self, doc_id: int, state: TriageState, shard: int) -> None:
        self.triage_at[state.id] = doc_id
        self.triage_shard[state.id] = shard
        self._set_answered(state.id, state.answered.kind if state.answered is not None else "")
        new_key = (state.status, state.tags)
        old_key = self._triage_keys.get(state.id)
        if old_key == new_key:
            return
        if old_key is not None:
            self.status.get(old_key[0], set()).discard(state.id)
            for tag in old_key[1]:
                _drop(self.tags, tag, state.id)
        self._triage_keys[state.id] = new_key
        self.status.setdefault(state.status, set()).add(state.id)
        for tag in state.tags:
            self.tags.setdefault(tag, set()).add(state.id)

    def drop_triage(self, mid: str) -> None:
        self.triage_at.pop(mid, None)
        self.triage_shard.pop(mid, None)
        self._set_answered(mid, "")
        old_key = self._triage_keys.pop(mid, None)
        if old_key is not None:
            self.status.get(old_key[0], set()).discard(mid)
            for tag in old_key[1]:
                _drop(self.tags, tag, mid)

    def _set_answered(self, mid: str, kind: str) -> None:
        old = self._answered_kind.get(mid, "")
        if old == kind:
            return
        if old:
            _drop(self.answered, old, mid)
        if kind:
            self._answered_kind[mid] = kind
            self.answered.setdefault(kind, set()).add(mid)
        else:
            self._answered_kind.pop(mid, None)

    def with_status(self, status: Status) -> set[str]:
        if status != Status.NEW:
            return set(self.status.get(status, ()))
        # "new" is the default: every message without a record, plus records still new.
        others: set[str] = set()
        for st, ids in self.status.items():
            if st != Status.NEW:
                others |= ids
        return set(self.messages).difference(others)

    def status_of(self, mid: str) -> Status:
        key = self._triage_keys.get(mid)
        return key[0] if key is not None else Status.NEW

    def candidates(self, *, status: Status | None, tag: str | None, channel: str | None) -> Iterable[str]:
        """Ids matching every given field: start from the smallest index set, check the rest per id."""
        sets: list[set[str]] = []
        if tag is not None:
            sets.append(self.tags.get(tag, set()))
        if status is not None and status != Status.NEW:
            sets.append(self.status.get(status, set()))
        if not sets:
            if channel is not None:  # no index narrows it: one pass over the messages
                sets.append(self.in_channels({channel}))
                channel = None
            elif status is None:
                return self.messages.keys()
            else:
                return self.with_status(status)
        sets.sort(key=len)
        found = set(sets[0])
        for other in sets[1:]:
            found &= other
        found &= self.messages.keys()
        if channel is not None:  # checked per id of the few a tag or a status left
            found = {mid for mid in found if self.messages[mid].channel == channel}
        if status == Status.NEW:
            found = {mid for mid in found if self.status_of(mid) == Status.NEW}
        return found
