"""Edited messages: a poll bringing a stored message (same id) with new content is an ``edited``
event, in the same step as the change, that other instances are told of; the same content
again, or a change nobody sees (a url, a channel's bookkeeping), is no event."""

from __future__ import annotations

import threading

import msgspec

from cminbox.core.clock import FrozenClock
from cminbox.core.events import EventKind
from cminbox.core.instance import INSTANCE_ID
from cminbox.core.models import Message
from cminbox.core.store_api import StoreApi
from tests.backend.conftest import Backend
from tests.backend.contract import check_event_log
from tests.factories import make_message


def edited(n: int, text: str, **extra: str) -> Message:
    msg = make_message(n, text=text)
    return msgspec.structs.replace(msg, extra={**msg.extra, **extra}) if extra else msg


def test_an_edit_is_an_event_with_who_when_and_what_and_a_history_line(backend: Backend, clock: FrozenClock) -> None:
    a, b = backend.open(), backend.open()
    a.upsert_messages([make_message(1), make_message(2)])
    b.refresh()
    mark = a.last_position()
    assert a.upsert_messages([make_message(1), make_message(2)]) == []  # the same content again
    assert a.events(since=mark) == [] and b.refresh() == set()
    clock.advance(minutes=5)
    assert a.upsert_messages([make_message(1, text="message number 1, fixed a typo")]) == []
    [event] = a.events(since=mark)
    assert (event.kind, event.message_id, event.actor, event.instance, event.at) == (
        EventKind.EDITED,
        "masto:1",
        make_message(1).author.handle,  # the author edited it, not a teammate
        INSTANCE_ID,
        clock.now,
    )
    assert event.label == "edited: text"
    assert event.before == {"text": "message number 1"}
    assert event.after["text"] == "message number 1, fixed a typo"
    # Another instance is told which item changed, and reads the new text.
    assert "masto:1" in b.refresh()
    found = b.get_message("masto:1")
    assert found is not None and found.text == "message number 1, fixed a typo"
    # `cminbox show` prints the item's history: the edit is a line of it, with its time.
    [line] = b.triage("masto:1").history
    assert (line.action, line.at, line.actor) == ("edited: text", clock.now, event.actor)
    assert b.triage("masto:1").rev == 1  # a row drawn by revision is drawn again
    assert a.upsert_messages([make_message(1, text="message number 1, fixed a typo")]) == []
    assert len(a.events(since=mark)) == 1  # unchanged re-upsert: nothing more
    check_event_log(a)


def test_a_title_or_subject_is_content_and_bookkeeping_is_not(backend: Backend) -> None:
    store = backend.open()
    store.upsert_messages([edited(1, "body", subject="Export broken"), make_message(2)])
    mark = store.last_position()
    store.upsert_messages([edited(1, "body", subject="Export broken on 2.3")])
    [event] = store.events(since=mark)
    assert (event.kind, event.label) == (EventKind.EDITED, "edited: subject")
    assert event.before == {"subject": "Export broken"}
    mark = event.pos
    # A channel's own bookkeeping and the link change without anyone seeing a different message.
    moved = msgspec.structs.replace(make_message(2), url="https://example.social/@user/2?v=2", extra={"version": "3"})
    store.upsert_messages([moved])
    assert store.events(since=mark) == []
    assert store.get_message("masto:2") == moved  # stored all the same
    check_event_log(store)


def test_an_edit_wakes_another_instance_waiting_for_changes(backend: Backend) -> None:
    a, b = backend.open(), backend.open()
    a.upsert_messages([make_message(1)])
    b.refresh()
    assert b.wait_for_change(0.3) is True  # the first call
    assert b.wait_for_change(0.3) is False
    timer = threading.Timer(0.2, lambda: a.upsert_messages([make_message(1, text="edited on the server")]))
    timer.start()
    try:
        assert b.wait_for_change(10.0) is True
    finally:
        timer.join()
    assert "masto:1" in b.refresh()


def test_edits_interleave_with_actions_in_history_and_revision(store: StoreApi, clock: FrozenClock) -> None:
    from cminbox.core import triage

    store.upsert_messages([make_message(1)])
    store.act(["masto:1"], triage.AddTags(("bug",)), actor="ana")
    clock.advance(minutes=1)
    store.upsert_messages([make_message(1, text="v2")])
    clock.advance(minutes=1)
    store.act(["masto:1"], triage.Assign("bo"), actor="ana")
    store.upsert_messages([make_message(1, text="v3")])
    state = store.triage("masto:1")
    assert [h.action for h in state.history] == ["tag bug", "edited: text", "assign → bo", "edited: text"]
    assert state.rev == 4 and state.tags == ("bug",) and state.assignee == "bo"
    assert store.undo("ana") is not None  # undo goes back over the actions only
    assert store.triage("masto:1").assignee is None
    found = store.get_message("masto:1")
    assert found is not None and found.text == "v3"
    check_event_log(store)
