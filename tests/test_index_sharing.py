"""What the in-memory indexes share between messages to keep 100k items small: authors,
channel words and, up to a bound, extras that repeat (core/indexes.py). Sharing never
changes what a message says."""

from __future__ import annotations

import msgspec
import pytest

from cminbox.core import indexes
from cminbox.core.indexes import Indexes
from tests.factories import make_message


def test_equal_extras_are_one_dict_and_each_message_still_reads_its_own() -> None:
    ix = Indexes()
    msgs = [
        msgspec.structs.replace(make_message(n), extra={"account_id": str(n % 3), "acct": f"u{n % 3}@x"})
        for n in range(30)
    ]
    ix.add_segment("s", list(enumerate(msgs)))
    stored = [ix.messages[m.id] for m in msgs]
    assert len({id(m.extra) for m in stored}) == 3
    assert [m.extra for m in stored] == [{"account_id": str(n % 3), "acct": f"u{n % 3}@x"} for n in range(30)]


def test_per_message_extras_stop_being_kept_at_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(indexes, "SHARED_EXTRAS", 5)
    ix = Indexes()
    msgs = [msgspec.structs.replace(make_message(n), extra={"post_id": str(n)}) for n in range(20)]
    ix.add_segment("s", list(enumerate(msgs)))
    assert len(ix._shared_extras) == 5
    assert [ix.messages[m.id].extra for m in msgs] == [{"post_id": str(n)} for n in range(20)]


def _copy(text: str) -> str:
    """An equal string that is another object (as decoding each message makes them)."""
    return text[:1] + text[1:]


def test_a_mail_s_repeats_of_its_author_and_its_own_id_are_shared() -> None:
    """Reply-to address and name are the author's strings, a first message's thread id its id;
    each message still reads what it said (the equality the channel sees is unchanged)."""
    ix = Indexes()
    msgs = []
    for n in range(10):
        m = make_message(n)
        extra = {"reply_to": _copy(m.author.handle), "reply_to_name": _copy(m.author.display_name), "uid": str(n)}
        extra["other"] = "someone-else@example.com"
        msgs.append(msgspec.structs.replace(m, extra=extra, thread_id=_copy(m.id) if n % 2 else "thread-x"))
    originals = [msgspec.structs.replace(m, extra=dict(m.extra)) for m in msgs]
    assert all(m.extra["reply_to"] is not m.author.handle for m in msgs)
    ix.add_segment("s", list(enumerate(msgs)))
    for before in originals:
        stored = ix.messages[before.id]
        assert stored == before
        assert stored.extra["reply_to"] is stored.author.handle
        if stored.author.display_name:
            assert stored.extra["reply_to_name"] is stored.author.display_name
        assert stored.extra["other"] == "someone-else@example.com"
        if stored.thread_id == stored.id:
            assert stored.thread_id is stored.id


def test_a_conversation_of_one_is_an_id_not_a_set_and_grows_and_shrinks() -> None:
    ix = Indexes()
    first = msgspec.structs.replace(make_message(1), thread_id="")
    reply = msgspec.structs.replace(make_message(2), thread_id=first.id)
    alone = make_message(3)
    ix.add_segment("s", [(1, first), (3, alone)])
    assert ix.threads[(first.channel, first.id)] == first.id  # one message: its id, no set
    assert list(ix.thread_ids(first.channel, first.id)) == [first.id]
    ix.add_segment("s", [(2, reply)])
    assert set(ix.thread_ids(first.channel, first.id)) == {first.id, reply.id}
    ix.add_message("s", 2, reply)  # the same message again (an edit): still two
    assert set(ix.thread_ids(first.channel, first.id)) == {first.id, reply.id}
    ix.drop_message(first.id)
    assert set(ix.thread_ids(first.channel, first.id)) == {reply.id}
    ix.drop_message(reply.id)
    ix.drop_message(alone.id)
    assert ix.threads == {} and list(ix.thread_ids(first.channel, first.id)) == []
