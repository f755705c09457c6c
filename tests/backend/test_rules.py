"""Rules on every backend: effects stored with the item in one step, as history lines by the
rule, undone per item and in bulk, stop, auto-replies (once per author per rule per day, never
to staff, trolls, the muted, nor to items older than the rule), a raising rule skipped."""

from __future__ import annotations

import threading
from datetime import timedelta

from cminbox.core.clock import FrozenClock
from cminbox.core.events import EventKind
from cminbox.core.inbox import Inbox
from cminbox.core.models import Priority, Status
from cminbox.core.outbox_types import OutboxKind
from cminbox.core.people import Person, new_id
from cminbox.core.people_ops import PeopleOps
from cminbox.core.query import parse
from cminbox.core.rules_run import RuleRunner
from cminbox.core.rules_undo import undo_item, undo_rule
from cminbox.core.store_api import StoreApi
from cminbox.core.triage import AddTags
from tests.backend.conftest import Backend
from tests.backend.contract import check_event_log
from tests.rules_fixtures import by, raising, rules_config, runner

ALICE, BOB = "@alice@example.social", "@bob@example.social"


def test_effects_are_stored_with_the_item_as_lines_of_the_rule(store: StoreApi, clock: FrozenClock) -> None:
    now = clock.now
    got = runner(store, clock).ingest([by(1, ALICE, "sync is down", now), by(2, BOB, "casino bonus", now)])
    assert got.new_ids == ["masto:1", "masto:2"] and got.outcome.warnings == []
    one, two = store.triage("masto:1"), store.triage("masto:2")
    assert (one.tags, one.priority, one.status) == (("outage",), Priority.HIGH, Status.NEW)
    assert [(h.actor, h.action) for h in one.history] == [
        ("rule outage", "rule outage: tag outage; priority → high"),
        ("rule ack", "rule ack: auto-reply “ack”"),
    ]
    assert (two.status, two.tags, [n.text for n in two.notes]) == (
        Status.DONE,
        ("muted",),
        ["muted by rule spam: spam"],
    )
    assert [h.action for h in two.history] == ["rule spam: mute (spam)"]
    events = check_event_log(store)
    assert [(e.kind, e.actor) for e in events if e.message_id == "masto:1"] == [
        (EventKind.ARRIVED, "@alice@example.social"),
        (EventKind.ACTION, "rule outage"),
        (EventKind.ACTION, "rule ack"),
    ]
    assert store.undo("ana") is None  # a rule's effect is no one's action to undo


def test_no_instance_ever_sees_a_new_item_without_its_effects(backend: Backend, clock: FrozenClock) -> None:
    writer, reader = backend.open(), backend.open()
    seen_bare: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            reader.refresh()
            seen_bare.extend(m.id for m, s in reader.query() if "outage" not in s.tags)

    thread = threading.Thread(target=watch)
    thread.start()
    try:
        rules = runner(writer, clock)
        for batch in range(15):
            rules.ingest([by(10 * batch + i, ALICE, "sync again", clock.now) for i in range(4)])
    finally:
        stop.set()
        thread.join()
    reader.refresh()
    assert seen_bare == [] and len(reader.query(tag="outage")) == 60


def test_rules_run_in_file_order_and_stop_ends_them(store: StoreApi, clock: FrozenClock) -> None:
    rules = """
[[rules]]
name = "first"
when = "sync"
tag = ["sync"]

[[rules]]
name = "reads-first"
when = "tag:sync"
priority = "urgent"
stop = true

[[rules]]
name = "never"
when = "sync"
tag = ["late"]
"""
    runner(store, clock, rules).ingest([by(1, ALICE, "sync?", clock.now), by(2, ALICE, "hello", clock.now)])
    state = store.triage("masto:1")
    assert (state.tags, state.priority) == (("sync",), Priority.URGENT)
    assert store.triage("masto:2").history == ()


def test_undo_takes_back_one_items_effect(backend: Backend, clock: FrozenClock) -> None:
    store = backend.open()
    runner(store, clock).ingest([by(n, ALICE if n % 2 else BOB, "sync down", clock.now) for n in (1, 2, 3)])
    inbox = Inbox(rules_config(), store, store.outbox, clock)
    first = inbox.undo("masto:1")  # the auto-reply's line is the newest
    assert first is not None and first.label == "rule ack: auto-reply “ack”"
    second = inbox.undo("masto:1")
    assert second is not None and (second.label, second.changed) == (
        "rule outage: tag outage; priority → high",
        ["masto:1"],
    )
    other = backend.open()
    state = other.triage("masto:1")
    assert (state.tags, state.priority, state.notes) == ((), Priority.NORMAL, ())
    assert [(h.actor, h.action) for h in state.history][-2:] == [
        ("ana", "undo: rule ack: auto-reply “ack”"),
        ("ana", "undo: rule outage: tag outage; priority → high"),
    ]
    assert undo_item(other, "masto:1", actor="ana") is None  # nothing of a rule left on it
    assert other.triage("masto:2").tags == ("outage",) and other.triage("masto:3").tags == ("outage",)
    # With nothing of a rule on the item, `u` undoes your own last action as before.
    store.act(["masto:2"], AddTags(("mine",)), actor="ana")
    inbox.undo("masto:2")
    inbox.undo("masto:2")
    mine = inbox.undo("masto:1")
    assert mine is not None and mine.label == "tag mine" and store.triage("masto:2").tags == ()
    check_event_log(other)


def test_rules_undo_reverts_a_misfire_since_a_time_in_bulk(backend: Backend, clock: FrozenClock) -> None:
    store = backend.open()
    rules = runner(store, clock)
    rules.ingest([by(1, ALICE, "sync early", clock.now)])
    clock.advance(hours=2)
    since = clock.now
    rules.ingest([by(n, BOB, "sync misfire", clock.now) for n in range(2, 42)])
    store.act(["masto:5"], AddTags(("by-hand",)), actor="bo")  # a teammate's tag stays
    result = undo_rule(backend.open(), "outage", since - timedelta(minutes=1), actor="ana")
    assert sorted(result.changed) == sorted(f"masto:{n}" for n in range(2, 42))
    store.refresh()  # the undo ran on another handle
    assert store.triage("masto:1").tags == ("outage",)  # before the misfire: kept
    assert store.triage("masto:5").tags == ("by-hand",) and store.triage("masto:5").priority == Priority.NORMAL
    again = undo_rule(store, "outage", since - timedelta(minutes=1), actor="ana")
    assert again.changed == []  # what was taken back is not taken back twice
    check_event_log(backend.open())


def test_an_auto_reply_goes_once_per_author_per_rule_per_day(backend: Backend, clock: FrozenClock) -> None:
    a, b = backend.open(), backend.open()
    runner(a, clock).ingest([by(1, ALICE, "sync?", clock.now), by(2, ALICE, "sync!!", clock.now)])
    clock.advance(hours=1)
    runner(b, clock).ingest([by(3, ALICE, "still sync", clock.now), by(4, BOB, "sync", clock.now)])
    replies = [i for i in a.outbox.items() if i.kind == OutboxKind.REPLY]
    assert sorted(i.message_id for i in replies) == ["masto:1", "masto:4"]
    assert {i.actor for i in replies} == {"rule ack"} and all(i.payload["rule"] == "ack" for i in replies)
    assert [n.text for n in a.triage("masto:2").notes] == []  # no "auto-reply" line for the one not sent
    clock.advance(days=1)
    runner(a, clock).ingest([by(5, ALICE, "sync tomorrow", clock.now)])
    assert "masto:5" in {i.message_id for i in a.outbox.items()}


def test_no_auto_reply_to_staff_trolls_the_muted_or_items_older_than_the_rule(
    store: StoreApi, clock: FrozenClock
) -> None:
    troll, muted = "@troll@example.social", "@quiet@example.social"
    store.write_people(
        [
            Person(id=new_id(), identities=["masto:troll@example.social"], tags=["troll"]),
            Person(id=new_id(), identities=["masto:quiet@example.social"], tags=["muted"]),
        ],
        actor="ana",
        label="tag",
    )
    rules = runner(store, clock, RULE_ACK_ALL)
    rules.ingest([by(1, ALICE, "hello", clock.now - timedelta(minutes=5))])  # the rule starts with this run
    rules.ingest(
        [
            by(2, "@team@example.social", "hello from staff", clock.now),
            by(3, troll, "hello", clock.now),
            by(4, muted, "hello", clock.now),
            by(5, BOB, "casino hello", clock.now),  # muted by the first rule
            by(6, ALICE, "hello again", clock.now - timedelta(seconds=1)),  # older than the rule
            by(7, BOB, "hello", clock.now),
        ]
    )
    assert [i.message_id for i in store.outbox.items()] == ["masto:7"]


RULE_ACK_ALL = """
[[rules]]
name = "spam"
when = "casino"
mute = "spam"

[[rules]]
name = "ack"
when = "hello"
reply = "ack"
auto_reply = true
"""


def test_a_raising_rule_is_skipped_for_the_item_and_ingest_goes_on(store: StoreApi, clock: FrozenClock) -> None:
    rules = runner(store, clock)
    rules.rules[0] = raising(rules.rules[0])
    got = rules.ingest([by(1, ALICE, "sync casino", clock.now), by(2, BOB, "casino", clock.now)])
    assert got.new_ids == ["masto:1", "masto:2"]
    # Skipped where it ran: on masto:2 it never did (its phrase is not there, so it cannot match).
    assert {(w.rule, w.message_id) for w in got.outcome.warnings} == {("outage", "masto:1")}
    assert store.triage("masto:1").tags == ("muted",)  # the rules after it ran
    assert store.get_message("masto:2") is not None


def test_escalate_and_reruns_when_a_profile_tag_changes(store: StoreApi, clock: FrozenClock) -> None:
    rules = """
[[rules]]
name = "vip"
when = "author-tag:vip"
priority = "urgent"
escalate = "oncall"
escalate_note = "a VIP wrote"
"""
    config = rules_config(rules)
    RuleRunner(config, store, clock).ingest([by(n, ALICE, f"question {n}", clock.now) for n in (1, 2, 3)])
    assert store.triage("masto:1").priority == Priority.NORMAL
    store.act(["masto:3"], AddTags(("x",)), actor="ana")
    from cminbox.core.triage import SetStatus

    store.act(["masto:3"], SetStatus(Status.DONE), actor="ana")
    ops = PeopleOps.of(config, store, clock)
    ops.tag(["masto:alice@example.social"], add=["vip"])
    assert ops.rerun.changed["vip"] == 2
    one = store.triage("masto:1")
    assert (one.status, one.priority) == (Status.ESCALATED, Priority.URGENT)
    assert one.escalation is not None and one.escalation.by == "rule vip" and one.escalation.note == "a VIP wrote"
    assert store.triage("masto:3").status == Status.DONE  # done items are left alone
    escalations = [i for i in store.outbox.items() if i.kind == OutboxKind.ESCALATION]
    assert sorted(i.message_id for i in escalations) == ["masto:1", "masto:2"]
    ops.tag(["masto:alice@example.social"], remove=["vip"])
    ops.tag(["masto:alice@example.social"], add=["vip"])
    assert len([i for i in store.outbox.items() if i.kind == OutboxKind.ESCALATION]) == 2  # escalated once
    check_event_log(store)


def test_the_rule_field_finds_what_a_rule_changed_and_still_holds(backend: Backend, clock: FrozenClock) -> None:
    """``rule:NAME`` on both backends (SQL over the event log on PostgreSQL): an item a rule
    changed, until that effect is taken back; applied again, it matches again."""
    store = backend.open()
    rules = runner(store, clock)
    rules.ingest(
        [by(1, ALICE, "sync down", clock.now), by(2, BOB, "casino bonus", clock.now), by(3, BOB, "hi", clock.now)]
    )

    def ids(query: str) -> list[str]:
        return sorted(m.id for m, _ in backend.open().query(where=parse(query)))

    assert ids("rule:outage") == ["masto:1"] and ids("rule:spam") == ["masto:2"]
    assert ids("-rule:outage -rule:spam") == ["masto:3"] and ids("rule:nosuch") == []
    assert ids("rule:outage or rule:spam") == ["masto:1", "masto:2"]
    inbox = Inbox(rules_config(), store, store.outbox, clock)
    inbox.undo("masto:1")  # the auto-reply's line (rule ack)
    assert ids("rule:ack") == [] and ids("rule:outage") == ["masto:1"]
    inbox.undo("masto:1")  # the outage rule's line
    assert ids("rule:outage") == []
    rules.apply(["masto:1"])  # run again on the stored item: the effect holds again
    assert ids("rule:outage") == ["masto:1"]
