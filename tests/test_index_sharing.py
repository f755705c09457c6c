"""What the in-memory indexes share between messages to keep 100k items small: authors,
channel words and, up to a bound, extras that repeat, the rest packed (core/indexes.py,
core/extras_sharing.py). Neither changes what a message says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cminbox.core import extras_sharing, time_order
from cminbox.core.indexes import Indexes
from cminbox.core.models import Message
from cminbox.core.packed_extras import PackedExtras
from tests.factories import make_message


def test_equal_extras_are_one_packed_object_and_each_message_still_reads_its_own() -> None:
    ix = Indexes()
    msgs = [
        msgspec.structs.replace(make_message(n), extra={"account_id": str(n % 3), "acct": f"u{n % 3}@x"})
        for n in range(30)
    ]
    ix.add_segment("s", msgs)
    stored = [ix.messages[m.id] for m in msgs]
    assert len({id(m.extra) for m in stored}) == 3
    assert all(type(m.extra) is PackedExtras for m in stored)
    assert [m.extra for m in stored] == [{"account_id": str(n % 3), "acct": f"u{n % 3}@x"} for n in range(30)]


def test_per_message_extras_stop_being_kept_at_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extras_sharing, "SHARED_EXTRAS", 5)
    ix = Indexes()
    msgs = [msgspec.structs.replace(make_message(n), extra={"post_id": str(n)}) for n in range(20)]
    ix.add_segment("s", msgs)
    assert ix.extras.kept == 5
    assert [ix.messages[m.id].extra for m in msgs] == [{"post_id": str(n)} for n in range(20)]


def _mails(start: int, count: int, channel: str = "mail") -> list[Message]:
    """Mails as the email channel stores them: a Message-ID of their own, the author's address
    and name repeated as reply-to (other objects, as decoding each message makes them)."""
    out = []
    for n in range(start, start + count):
        m = msgspec.structs.replace(make_message(n), channel=channel, id=f"{channel}:{n}")
        extra = {
            "message_id": f"{n}.{n * 7}@example.com",
            "reply_to": _copy(m.author.handle),
            "reply_to_name": _copy(m.author.display_name),
            "uid": str(n),
        }
        out.append(msgspec.structs.replace(m, extra=extra))
    return out


def test_a_channel_whose_extras_never_repeat_stops_keeping_them_after_its_trial(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Mail's extras hold a Message-ID each: after the trial no table of them is kept (it would
    never find one, and cost a hash per mail), while a channel whose extras repeat keeps sharing;
    both are packed, and every message reads what it said."""
    monkeypatch.setattr(extras_sharing, "TRIAL", 10)
    ix = Indexes()
    mails = _mails(0, 50)
    toots = [
        msgspec.structs.replace(make_message(n), channel="social", id=f"social:{n}", extra={"acct": f"u{n % 3}@x"})
        for n in range(50)
    ]
    originals = [msgspec.structs.replace(m, extra=dict(m.extra)) for m in mails + toots]
    ix.add_segment("s", mails + toots)
    assert ix.extras.sharing("mail") is False and ix.extras.sharing("social") is True
    assert ix.extras.sharing("feeds") is None
    assert ix.extras.kept == 3  # the three accts: nothing of mail's
    assert len({id(ix.messages[m.id].extra) for m in toots}) == 3
    for before in originals:
        stored = ix.messages[before.id]
        assert stored == before
    assert all(type(ix.messages[m.id].extra) is PackedExtras for m in mails + toots)
    more = _mails(50, 5)
    ix.add_segment("t", more)  # a later part: the channel stays settled
    assert ix.extras.kept == 3
    assert [ix.messages[m.id].extra["message_id"] for m in more] == [f"{n}.{n * 7}@example.com" for n in range(50, 55)]


def _copy(text: str) -> str:
    """An equal string that is another object (as decoding each message makes them)."""
    return text[:1] + text[1:]


def test_a_first_message_s_thread_id_is_its_id_and_its_extras_read_as_given() -> None:
    """A first message's thread id is its id (one string, not two); its extras, packed, still
    read what they said (the equality the channel sees is unchanged)."""
    ix = Indexes()
    msgs = []
    for n in range(10):
        m = make_message(n)
        extra = {"reply_to": _copy(m.author.handle), "reply_to_name": _copy(m.author.display_name), "uid": str(n)}
        extra["other"] = "someone-else@example.com"
        msgs.append(msgspec.structs.replace(m, extra=extra, thread_id=_copy(m.id) if n % 2 else "thread-x"))
    originals = [msgspec.structs.replace(m, extra=dict(m.extra)) for m in msgs]
    assert all(m.extra["reply_to"] is not m.author.handle for m in msgs)
    ix.add_segment("s", msgs)
    for before in originals:
        stored = ix.messages[before.id]
        assert stored == before
        assert stored.extra["reply_to"] == stored.author.handle
        assert stored.extra["other"] == "someone-else@example.com"
        if stored.thread_id == stored.id:
            assert stored.thread_id is stored.id


def test_a_reply_points_to_its_conversation_s_and_parent_s_own_id_string() -> None:
    """A reply's thread and parent ids are the very strings of those messages' ids, when they
    are in the same part or loaded before; otherwise its own copy. Nothing reads differently."""
    ix = Indexes()
    root, older = make_message(1), make_message(2)
    ix.add_segment("old", [older])
    replies = [
        msgspec.structs.replace(make_message(10 + n), thread_id=_copy(root.id), parent_id=_copy(parent))
        for n, parent in enumerate([root.id, older.id, "masto:elsewhere"])
    ]
    originals = [msgspec.structs.replace(m) for m in replies]
    ix.add_segment("new", [*replies, root])
    for before in originals:
        stored = ix.messages[before.id]
        assert stored == before
        assert stored.thread_id is ix.messages[root.id].id
    assert ix.messages[replies[0].id].parent_id is ix.messages[root.id].id  # the same part
    assert ix.messages[replies[1].id].parent_id is ix.messages[older.id].id  # a part loaded before
    assert ix.messages[replies[2].id].parent_id == "masto:elsewhere"  # not loaded: its own copy
    assert {m.id for m in replies} <= set(ix.thread_ids("masto", root.id))


def test_a_conversation_of_one_is_kept_as_nothing_and_grows_and_shrinks() -> None:
    ix = Indexes()
    first = msgspec.structs.replace(make_message(1), thread_id="")
    reply = msgspec.structs.replace(make_message(2), thread_id=first.id)
    alone = make_message(3)
    ix.add_segment("s", [first, alone])
    assert ix.threads == {}  # conversations of one message: nothing kept, found by their id
    assert list(ix.thread_ids(first.channel, first.id)) == [first.id]
    assert list(ix.thread_ids("elsewhere", first.id)) == []
    ix.add_segment("s", [reply])
    assert set(ix.thread_ids(first.channel, first.id)) == {first.id, reply.id}
    ix.add_message("s", reply)  # the same message again (an edit): still two
    assert set(ix.thread_ids(first.channel, first.id)) == {first.id, reply.id}
    ix.drop_message(first.id)
    assert set(ix.thread_ids(first.channel, first.id)) == {reply.id}
    ix.drop_message(reply.id)
    ix.drop_message(alone.id)
    assert ix.threads == {} and list(ix.thread_ids(first.channel, first.id)) == []


_values = st.sampled_from(["", "a", "b", "@user1@example.social", "User 1", "User 2", "x" * 20])


@settings(max_examples=60, deadline=None)
@given(
    extras=st.lists(
        st.tuples(st.sampled_from(["m", "n"]), st.dictionaries(st.sampled_from(["k", "j", "i"]), _values, max_size=3)),
        max_size=40,
    ),
    trial=st.integers(min_value=1, max_value=8),
)
def test_sharing_never_changes_what_a_message_says(extras: list[tuple[str, dict[str, str]]], trial: int) -> None:
    """Whatever the channels' extras and wherever their trial ends, each stored message equals
    the one given, and later changes to nothing (dicts shared are never written after)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(extras_sharing, "TRIAL", trial)
        ix = Indexes()
        msgs = [
            msgspec.structs.replace(
                make_message(n), channel=ch, id=f"{ch}:{n}", extra={k: _copy(v) if v else v for k, v in ex.items()}
            )
            for n, (ch, ex) in enumerate(extras)
        ]
        originals = [msgspec.structs.replace(m, extra=dict(m.extra)) for m in msgs]
        half = len(msgs) // 2
        ix.add_segment("a", msgs[:half])
        ix.add_segment("b", msgs[half:])
        assert [ix.messages[m.id] for m in originals] == originals
        by_channel: dict[str, set[str]] = {}
        for m in originals:
            by_channel.setdefault(m.channel, set()).add(m.id)
        assert {ch: ix.in_channels({ch}) for ch in by_channel} == by_channel
        assert ix.channel_types == {ch: {"mastodon"} for ch in by_channel}
        assert (
            set(ix.newest_first(ix.messages.keys()))
            == set().union(*ix.segment_ids.values())
            == set(ix.messages)
            == {m.id for m in originals}
        )
        assert ix.extras.kept <= len({(m.channel, tuple(m.extra.items())) for m in originals if m.extra})


_thread_step = st.tuples(
    st.sampled_from(["add", "add", "add", "drop", "segment"]),
    st.integers(0, 12),  # the message
    st.sampled_from(["a", "b"]),  # its channel
    st.sampled_from(["", "self", "a:0", "a:1", "b:0", "a:5", "elsewhere"]),  # its thread id
    st.integers(0, 2),  # its part
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_thread_step, max_size=40))
def test_a_conversation_s_ids_match_a_fresh_grouping_after_any_changes(
    steps: list[tuple[str, int, str, str, int]],
) -> None:
    """thread_ids keeps no entry for a first message (found by its id) and must still answer
    as grouping every live message by (channel, thread id or own id) would, in any order of
    adds (replies before their first message: parts load newest first), edits and removals."""
    ix = Indexes()
    for op, n, channel, thread, part in steps:
        mid = f"{channel}:{n}"
        if op == "add":
            msg = msgspec.structs.replace(
                make_message(n), id=mid, channel=channel, thread_id=mid if thread == "self" else thread
            )
            ix.add_message(f"seg{part}", msg)
        elif op == "drop":
            ix.drop_message(mid)
        else:
            ix.drop_segment(f"seg{part}")
    groups: dict[tuple[str, str], set[str]] = {}
    for m in ix.messages.values():
        groups.setdefault((m.channel, m.thread_id or m.id), set()).add(m.id)
    keys = {*groups, *((ch, f"{c}:{k}") for ch in "ab" for c in "ab" for k in range(13)), ("a", "elsewhere")}
    for channel, thread in keys:
        found = list(ix.thread_ids(channel, thread))
        assert len(found) == len(set(found))
        assert set(found) == groups.get((channel, thread), set()), (channel, thread)


T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _at(mid: str, t: int) -> Message:
    return msgspec.structs.replace(make_message(0), id=mid, created_at=T0 + timedelta(seconds=t))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text("abc:0123", min_size=1, max_size=5), st.integers(0, 6), max_size=40), st.data())
def test_newest_first_is_time_then_id_both_descending(times: dict[str, int], data: st.DataObject) -> None:
    """The order a query promises: newest first, equal times by id (last first), whatever the
    runs of equal times and wherever they fall, for every id, a large set and a small one."""
    ix = Indexes()
    mids = list(times)
    for start in range(0, len(mids), 7):  # in parts, as the store loads them
        ix.add_segment(f"part{start}", [_at(mid, times[mid]) for mid in mids[start : start + 7]])
    assert ix.newest_first(ix.messages.keys()) == sorted(times, key=lambda mid: (times[mid], mid), reverse=True)
    asked = data.draw(st.permutations(mids))
    assert ix.newest_first(asked) == sorted(asked, key=lambda mid: (times[mid], mid), reverse=True)
    some = data.draw(st.sets(st.sampled_from(mids))) if times else set()
    assert ix.newest_first(some) == sorted(some, key=lambda mid: (times[mid], mid), reverse=True)


_order_step = st.tuples(
    st.sampled_from(["add", "add", "add", "drop", "part"]), st.integers(0, 30), st.integers(0, 5), st.integers(0, 3)
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_order_step, max_size=60), st.data())
def test_newest_first_follows_adds_edits_and_removals(
    steps: list[tuple[str, int, int, int]], data: st.DataObject
) -> None:
    """The time order, settled only when a query asks, answers as sorting the live messages
    would, after any mix of new messages, edits that move a message in time (an add of an id
    already there), removals and whole parts dropped, asked at any point in between."""
    ix = Indexes()
    for op, n, t, part in steps:
        mid = f"masto:{n}"
        if op == "add":
            ix.add_message(f"seg{part}", _at(mid, t))
        elif op == "drop":
            ix.drop_message(mid)
        else:
            ix.drop_segment(f"seg{part}")
        if data.draw(st.booleans()):  # a query now and then settles the order mid-way
            ix.newest_first(ix.messages.keys())
    live = {mid: m.created_at for mid, m in ix.messages.items()}
    assert ix.newest_first(ix.messages.keys()) == sorted(live, key=lambda mid: (live[mid], mid), reverse=True)
    some = data.draw(st.sets(st.sampled_from(sorted(live)))) if live else set()
    assert ix.newest_first(some) == sorted(some, key=lambda mid: (live[mid], mid), reverse=True)


def test_many_new_ids_at_once_and_a_few_later_are_each_put_in_their_places() -> None:
    ix = Indexes()
    first = [_at(f"masto:{n}", (n * 7919) % 1000) for n in range(time_order.FEW * 2)]
    ix.add_segment("a", first)
    assert len(ix.newest_first(ix.messages.keys())) == len(first)  # sorted in: more than FEW at once
    later = [_at(f"masto:x{n}", (n * 31) % 1000) for n in range(5)]
    for m in later:
        ix.add_segment("b", [m])  # a few: each put in its place
    live = {m.id: m.created_at for m in [*first, *later]}
    assert ix.newest_first(ix.messages.keys()) == sorted(live, key=lambda mid: (live[mid], mid), reverse=True)
    some = set(list(live)[:: time_order.SMALL])  # a small set: sorted, not walked
    assert ix.newest_first(some) == sorted(some, key=lambda mid: (live[mid], mid), reverse=True)
