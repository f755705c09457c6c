"""Macros over the store interface, on every backend: a macro over 40 items is one action group
(one undo reverts all 40), its replies are queued once each, and a reply the channel would
refuse stops the whole macro before anything is written."""

from __future__ import annotations

import msgspec

from cminbox.core import macro_run
from cminbox.core.bulk import Hold
from cminbox.core.clock import FrozenClock
from cminbox.core.inbox import Inbox
from cminbox.core.macros import named
from cminbox.core.models import Author, Priority, Status
from cminbox.core.outbox_types import OutboxKind, OutboxStatus
from cminbox.core.triage import AddTags, Assign
from tests.backend.conftest import Backend
from tests.backend.contract import check_event_log
from tests.macro_fixtures import burst, macro_config

IDS = [f"masto:{i}" for i in range(1, 41)]


def inbox_on(backend: Backend, clock: FrozenClock, extra: str = "") -> Inbox:
    store = backend.open()
    return Inbox(macro_config(extra), store, store.outbox, clock)


def test_a_macro_over_40_items_is_one_group_and_one_undo(backend: Backend, clock: FrozenClock) -> None:
    inbox = inbox_on(backend, clock)
    inbox.store.upsert_messages(burst(40, clock.now))
    inbox.store.act(["masto:7"], AddTags(("vip",)), actor="bo")  # a teammate's tag stays through the undo
    macro = named(inbox.config, "outage")
    result = macro_run.run(inbox, macro_run.plan(inbox, macro, IDS))
    assert result.act is not None and sorted(result.act.changed) == sorted(IDS)
    assert len(result.replies) == 40 and result.summary() == "macro outage: 40 items, 40 replies queued"
    other = backend.open()  # another instance sees all of it
    for mid in IDS:
        state = other.triage(mid)
        assert state.status == Status.DONE and "outage" in state.tags
        [line] = [h for h in state.history if h.actor == "ana"]
        assert line.action == "macro outage: tag outage; reply “status page”; done"
        assert line.group == result.act.group
    texts = {i.message_id: i.payload["text"] for i in other.outbox.items() if i.kind == OutboxKind.REPLY}
    assert texts["masto:3"] == "Sync is down for everyone, user3: follow status.example.com for updates."
    assert set(texts) == set(IDS)

    undone = inbox.undo()
    assert undone is not None and sorted(undone.changed) == sorted(IDS)
    assert undone.label.endswith("; 40 unsent replies withdrawn")
    other.refresh()
    for mid in IDS:
        state = other.triage(mid)
        assert state.status == Status.NEW and "outage" not in state.tags
    assert other.triage("masto:7").tags == ("vip",)
    statuses = {i.status for i in other.outbox.items() if i.kind == OutboxKind.REPLY}
    assert statuses == {OutboxStatus.WITHDRAWN} and other.outbox.claim_due(100) == []
    assert inbox.undo() is None  # one undo took back the whole macro: nothing more of ana's
    check_event_log(other)


def test_an_over_long_reply_refuses_the_whole_macro_before_anything_is_written(
    backend: Backend, clock: FrozenClock
) -> None:
    long_reply = '\n[[saved_replies]]\nname = "long"\ntext = "' + "x" * 320 + ' {author.name}"\n'
    long_macro = '\n[[macros]]\nname = "long"\nsteps = [{tag = ["outage"]}, {reply = "long"}]\n'
    inbox = inbox_on(backend, clock, long_reply + long_macro)
    messages = burst(5, clock.now)
    loud = Author(id="x", handle="@loud@example.social", display_name="L" * 200 + " " + "o" * 200)
    messages[2] = msgspec.structs.replace(messages[2], author=loud)  # masto:3's name pushes it past 500
    inbox.store.upsert_messages(messages)
    try:
        macro_run.plan(inbox, named(inbox.config, "long"), [m.id for m in messages])
    except macro_run.MacroRefused as exc:
        assert [mid for mid, _ in exc.refused] == ["masto:3"]
        assert "masto:3" in str(exc) and "changed nothing" in str(exc)
    else:
        raise AssertionError("the macro ran")
    assert all(inbox.store.triage(m.id).tags == () for m in messages)
    assert inbox.store.outbox.items() == []


def test_held_items_and_answered_items_are_left_alone_and_reported(backend: Backend, clock: FrozenClock) -> None:
    inbox = inbox_on(backend, clock)
    inbox.store.upsert_messages(burst(4, clock.now))
    inbox.store.act(["masto:1"], Assign("bo"), actor="bo")  # bo took it
    inbox.store.outbox.enqueue(OutboxKind.REPLY, "masto:2", "masto", {"text": "on it"}, "bo")  # bo answered
    macro = named(inbox.config, "outage")
    planned = macro_run.plan(inbox, macro, ["masto:1", "masto:2", "masto:3", "masto:4"])
    assert [(i.id, i.held) for i in planned.held] == [("masto:1", Hold.ASSIGNED)]
    other = backend.open()  # bo answers masto:4 on another instance while the question is open
    other.outbox.enqueue(OutboxKind.REPLY, "masto:4", "masto", {"text": "fixed now"}, "bo")
    result = macro_run.run(inbox, planned)
    assert result.held == [("masto:1", Hold.ASSIGNED)]
    assert result.not_replied == [("masto:2", "bo queued a reply already"), ("masto:4", "bo queued a reply already")]
    assert inbox.store.triage("masto:1").status == Status.NEW
    assert inbox.store.triage("masto:2").status == Status.DONE
    assert [r.message_id for r in result.replies] == ["masto:3"]
    assert inbox.store.triage("masto:4").status == Status.DONE  # the rest of the macro applies
    again = macro_run.plan(inbox, macro, ["masto:3"])  # run twice by mistake: no second answer
    assert again.items[0].reply is None and again.items[0].no_reply.startswith("macro outage already replied")


def test_escalation_step_is_marked_in_the_group_and_delivered_once(backend: Backend, clock: FrozenClock) -> None:
    inbox = inbox_on(backend, clock)
    inbox.store.upsert_messages(burst(3, clock.now))
    macro = named(inbox.config, "page")
    result = macro_run.run(inbox, macro_run.plan(inbox, macro, ["masto:1", "masto:2"]))
    assert len(result.escalations) == 2 and {e.destination for e in result.escalations} == {"oncall"}
    state = inbox.store.triage("masto:1")
    assert (state.status, state.priority) == (Status.ESCALATED, Priority.URGENT)
    assert state.escalation is not None and state.escalation.note == "customer-facing"
    assert [n.text for n in state.notes] == ["paged during the outage"]
    # Escalated once: running it again changes nothing and sends nothing more.
    again = macro_run.run(inbox, macro_run.plan(inbox, macro, ["masto:1"]))
    assert again.escalations == [] and again.act is not None and again.act.changed == []


def test_undo_withdraws_only_the_replies_no_sender_tried(backend: Backend, clock: FrozenClock) -> None:
    inbox = inbox_on(backend, clock)
    inbox.store.upsert_messages(burst(4, clock.now))
    result = macro_run.run(
        inbox, macro_run.plan(inbox, named(inbox.config, "outage"), [f"masto:{i}" for i in range(1, 5)])
    )
    by_item = {r.message_id: r for r in result.replies}
    sender = backend.open().outbox  # the instance that holds the poller lease
    claimed = sender.claim_due(3)  # oldest first: masto:4's stays pending, never tried
    assert sorted(i.message_id for i in claimed) == ["masto:1", "masto:2", "masto:3"]
    [one] = [i for i in claimed if i.message_id == "masto:1"]
    sender.mark_sent(one, {"native_id": "r1", "url": ""})
    [two] = [i for i in claimed if i.message_id == "masto:2"]
    sender.mark_failed(two, "timeout")  # tried once, back to pending: it may have reached the server
    undone = inbox.undo()
    assert undone is not None
    assert undone.label.endswith(
        "; 1 unsent reply withdrawn, 1 already sent (a reply cannot be unsent), 2 being sent, left to finish"
    )
    status = {i.message_id: i.status for i in backend.open().outbox.items()}
    assert status == {
        "masto:1": OutboxStatus.SENT,
        "masto:2": OutboxStatus.PENDING,
        "masto:3": OutboxStatus.SENDING,
        "masto:4": OutboxStatus.WITHDRAWN,
    }
    assert by_item["masto:4"].id not in {i.id for i in sender.claim_due(100)}
    assert sender.withdraw([by_item["masto:3"].id], "late") == []  # claimed: never both
