"""In-memory indexes over the store, built at load and kept current by every write.

TinyDB's own lookups (``get(doc_ids=...)``, ``Query``) scan the whole table; at 100k
messages that is ~100 ms each. These maps answer the store's questions instead:
where a message lives, its conversation, its author's other messages, and which
messages have a given channel, status or tag.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from cminbox.core.models import Message, Status, TriageState

TRIAGE_SHARDS = 16


def shard_of(message_id: str) -> int:
    """The triage shard a message's record lives in (a stable hash, so every process agrees)."""
    return zlib.crc32(message_id.encode()) % TRIAGE_SHARDS


def author_key(handle: str) -> str:
    """People keep their user name across networks more often than not: @ana@a.social and
    @ana.bsky.social both key to "ana" (a hint for the preview, never used to merge identities)."""
    user = handle.lower().lstrip("@").split("@")[0]
    return user.split(".")[0] if "." in user else user


def _drop(index: dict[str, set[str]], key: str, mid: str) -> None:
    ids = index.get(key)
    if ids is not None:
        ids.discard(mid)
        if not ids:
            del index[key]


class Indexes:
    def __init__(self) -> None:
        self.messages: dict[str, Message] = {}
        self.where: dict[str, tuple[str, int]] = {}  # id -> (segment key, TinyDB doc id)
        self.threads: dict[tuple[str, str], set[str]] = {}  # (channel, thread id) -> ids
        self.authors: dict[str, set[str]] = {}  # author key -> ids
        self.channels: dict[str, set[str]] = {}
        # Triage: only messages that have a triage record (most do not: they are new).
        self.triage_at: dict[str, int] = {}  # id -> doc id in its shard
        self._triage_keys: dict[str, tuple[Status, tuple[str, ...]]] = {}
        self.status: dict[Status, set[str]] = {}
        self.tags: dict[str, set[str]] = {}

    # ------------------------------------------------------------------ messages
    def add_message(self, key: str, doc_id: int, msg: Message) -> None:
        old = self.messages.get(msg.id)
        if old is not None and (old.channel, old.thread_id, old.author.handle) != (
            msg.channel,
            msg.thread_id,
            msg.author.handle,
        ):
            self.drop_message(msg.id)
        self.messages[msg.id] = msg
        self.where[msg.id] = (key, doc_id)
        self.threads.setdefault((msg.channel, msg.thread_id or msg.id), set()).add(msg.id)
        self.authors.setdefault(author_key(msg.author.handle), set()).add(msg.id)
        self.channels.setdefault(msg.channel, set()).add(msg.id)

    def drop_message(self, mid: str) -> None:
        msg = self.messages.pop(mid, None)
        self.where.pop(mid, None)
        if msg is None:
            return
        thread = self.threads.get((msg.channel, msg.thread_id or msg.id))
        if thread is not None:
            thread.discard(mid)
            if not thread:
                del self.threads[(msg.channel, msg.thread_id or msg.id)]
        _drop(self.authors, author_key(msg.author.handle), mid)
        _drop(self.channels, msg.channel, mid)

    def drop_segment(self, key: str) -> set[str]:
        gone = {mid for mid, (k, _) in self.where.items() if k == key}
        for mid in gone:
            self.drop_message(mid)
        return gone

    # ------------------------------------------------------------------ triage
    def set_triage(self, doc_id: int, state: TriageState) -> None:
        self.triage_at[state.id] = doc_id
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
        old_key = self._triage_keys.pop(mid, None)
        if old_key is not None:
            self.status.get(old_key[0], set()).discard(mid)
            for tag in old_key[1]:
                _drop(self.tags, tag, mid)

    def with_status(self, status: Status) -> set[str]:
        if status != Status.NEW:
            return set(self.status.get(status, ()))
        # "new" is the default: every message without a record, plus records still new.
        others: set[str] = set()
        for st, ids in self.status.items():
            if st != Status.NEW:
                others |= ids
        return set(self.messages).difference(others)

    def candidates(self, *, status: Status | None, tag: str | None, channel: str | None) -> Iterable[str]:
        """Ids matching every given field, smallest set first; all ids when none is given."""
        sets: list[set[str]] = []
        if tag is not None:
            sets.append(self.tags.get(tag, set()))
        if channel is not None:
            sets.append(self.channels.get(channel, set()))
        if status is not None:
            sets.append(self.with_status(status))
        if not sets:
            return self.messages.keys()
        sets.sort(key=len)
        found = set(sets[0])
        for other in sets[1:]:
            found &= other
        return found & self.messages.keys()
