"""Presence: who views or replies to what, shared between instances, expiring unless renewed."""

from __future__ import annotations

import threading

from cminbox.core import collision
from cminbox.core.outbox_types import OutboxKind
from cminbox.core.presence import ONLINE, TTL, Activity, by_item, describe, online
from tests.backend.conftest import Backend
from tests.factories import make_message


def test_two_instances_see_each_others_presence_but_not_their_own(backend: Backend) -> None:
    a, b = backend.open(), backend.open()
    a.upsert_messages([make_message(i) for i in range(3)])
    a.set_presence("ana", "masto:1", Activity.VIEWING)
    b.set_presence("bob", "masto:2", Activity.REPLYING)
    [seen_by_b] = b.presence()
    assert (seen_by_b.person, seen_by_b.message_id, seen_by_b.activity) == ("ana", "masto:1", Activity.VIEWING)
    [seen_by_a] = a.presence()
    assert (seen_by_a.person, seen_by_a.message_id, seen_by_a.activity) == ("bob", "masto:2", Activity.REPLYING)
    assert describe(a.presence()) == "bob is replying"
    # Moving on replaces the one record; opening the composer changes its activity.
    a.set_presence("ana", "masto:2", Activity.REPLYING)
    assert [(p.person, p.message_id, p.activity) for p in b.presence()] == [("ana", "masto:2", Activity.REPLYING)]


def test_presence_expires_unless_renewed(backend: Backend) -> None:
    a, b = backend.open(), backend.open()
    a.set_presence("ana", "masto:1", Activity.REPLYING)
    backend.clock.advance(seconds=TTL.total_seconds() - 1)
    assert [p.person for p in b.presence()] == ["ana"]
    a.set_presence("ana", "masto:1", Activity.REPLYING)  # the heartbeat
    backend.clock.advance(seconds=TTL.total_seconds() - 1)
    assert [p.person for p in b.presence()] == ["ana"]
    backend.clock.advance(seconds=2)  # a crashed instance stops renewing: gone by itself
    assert b.presence() == []


def test_clearing_and_closing_remove_the_record(backend: Backend) -> None:
    a, b, c = backend.open(), backend.open(), backend.open()
    a.set_presence("ana", "masto:1")
    c.set_presence("cy", "masto:1")
    assert sorted(p.person for p in b.presence()) == ["ana", "cy"]
    a.set_presence("ana", None)
    assert [p.person for p in b.presence()] == ["cy"]
    c.close()
    assert b.presence() == []


def test_a_presence_change_wakes_the_other_instances_watcher(backend: Backend) -> None:
    a, b = backend.open(), backend.open()
    a.upsert_messages([make_message(1)])
    b.refresh()
    if not b.pushes_changes:
        return  # TinyDB: the reader's own 1-second check reads presence (covered above)
    b.wait_for_change(0.1)  # drain
    timer = threading.Timer(0.2, lambda: a.set_presence("ana", "masto:1", Activity.REPLYING))
    timer.start()
    try:
        assert b.wait_for_change(10.0) is True
    finally:
        timer.join()
    assert [p.person for p in b.presence()] == ["ana"]


def test_replies_since_the_composer_opened_are_found_by_the_other_instance(backend: Backend) -> None:
    a, b = backend.open(), backend.open()
    a.upsert_messages([make_message(1), make_message(2)])
    a.outbox.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "an old answer"}, "cy")
    opened = collision.mark(b.outbox, "masto:1")  # bob opens his composer
    assert collision.replies_since(b.outbox, opened) == []
    a.outbox.enqueue(OutboxKind.REPLY, "masto:2", "masto", {"text": "another item"}, "ana")
    a.outbox.enqueue(OutboxKind.ESCALATION, "masto:1", "ops", {"note": "not a reply"}, "ana")
    a.outbox.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "Fixed in  1.2,\nthanks!"}, "ana")
    [other] = collision.replies_since(b.outbox, opened)
    assert other.actor == "ana"
    [answer] = collision.answers_since(b.outbox, opened)
    assert collision.describe_answer(answer, backend.clock()) == 'ana queued a reply just now: "Fixed in 1.2, thanks!"'


def test_an_inbox_on_no_item_is_online_but_marks_no_row(backend: Backend) -> None:
    """An empty list (or a filter matching nothing) still says "in the inbox": the header's
    "with ana" and `cminbox who` list her, and no row gets a marker."""
    a, b = backend.open(), backend.open()
    a.set_presence("ana", ONLINE)
    [rec] = b.presence()
    assert (rec.person, rec.message_id) == ("ana", ONLINE)
    assert online(b.presence(), me="bob") == ["ana"] and by_item(b.presence()) == {}
    assert online(b.presence(), me="ana") == []  # yourself on another host is not "with" you
    a.set_presence("ana", None)
    assert b.presence() == []
