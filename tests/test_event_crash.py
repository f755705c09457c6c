"""The event log under SIGKILL (TinyDB): a process killed between writing a step's events and
writing its change leaves neither behind once the store is opened again (store_events.py).

Each scenario runs one step in a child process with the ``store.after_events`` failpoint,
which kills it with SIGKILL right after the events are durable and before the change is
written; then the store must agree with its log, and go on working.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest

from cminbox.core import triage
from cminbox.core.channel import Channel
from cminbox.core.clock import FrozenClock
from cminbox.core.dispatch import Dispatcher
from cminbox.core.effects import Effect, OutboxLookup, Planned
from cminbox.core.errors import CminboxError
from cminbox.core.events import EventKind
from cminbox.core.models import Message, Status, TriageState
from cminbox.core.outbox_types import OutboxItem, OutboxKind, OutboxStatus
from cminbox.core.people import Person, new_id
from cminbox.core.repair import repair_store
from cminbox.core.store import Store
from tests.backend.contract import check_event_log
from tests.conftest import ROOT, cli_env, run_cli
from tests.factories import make_message

THEN = datetime(2026, 6, 1, tzinfo=UTC)

STEPS = {
    "upsert": "store.upsert_messages([make_message(n) for n in (50, 51)])",
    "edit": "store.upsert_messages([make_message(n, text='edited') for n in (1, 2)])",
    "act": "store.act(['masto:1', 'masto:2'], triage.AddTags(('killed',)), actor='ana')",
    "undo": "store.undo('ana')",
    "sent": "[item] = store.outbox.claim_due(); store.outbox.mark_sent(item, {'native_id': '7'})",
    "archive": "store.archive(timedelta(days=90))",
    # A link: one record written with both identities, the other removed, in one step.
    "people": "[a, b] = store.people(); store.write_people([linked(a, b)], [b], actor='ana', label='link')",
    # New messages with their rules' effects and a rule's outbox item, in one step.
    "rules": "store.upsert_messages([make_message(n) for n in (60, 61)], plan=ruled)",
}
PRELUDE = """
import sys
from datetime import datetime, timedelta, UTC
from pathlib import Path
from cminbox.core import triage
from cminbox.core.people import linked
from cminbox.core.repair import repair_store
from cminbox.core.store import Store
from tests.factories import make_message
from tests.test_event_crash import ruled
store = Store(Path(sys.argv[1]), clock=lambda: datetime(2026, 11, 1, tzinfo=UTC))
"""


def ruled(items: list[tuple[Message, TriageState]], known: OutboxLookup) -> Planned:
    """A rule's plan: tag each new item, and queue one reply whose id repeats (as an auto-reply's)."""
    effects = [Effect(m.id, triage.AddTags(("ruled",)), "rule r", "rule r: tag ruled") for m, _ in items]
    first = items[0][0]
    reply = OutboxItem(
        id="rule-reply-fixed",
        kind=OutboxKind.REPLY,
        message_id=first.id,
        destination="masto",
        payload={"text": "on it", "rule": "r"},
        actor="rule r",
        created_at=THEN,
    )
    return Planned(effects, [reply])


def prepared(data: Path) -> Store:
    store = Store(data, clock=FrozenClock(THEN))
    store.upsert_messages([make_message(n, at=THEN - timedelta(hours=n)) for n in range(1, 6)])
    store.act(["masto:3"], triage.SetStatus(Status.DONE), actor="ana")
    store.act(["masto:1"], triage.AddTags(("kept",)), actor="ana")
    store.outbox.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "hi"}, "ana")
    store.write_people(
        [
            Person(id=new_id(), identities=["masto:user1@example.social"], tags=["vip"]),
            Person(id=new_id(), identities=["gh:user1"], tags=["advocate"]),
        ],
        actor="ana",
        label="tag",
    )
    return store


@pytest.mark.parametrize("step", sorted(STEPS))
def test_a_kill_between_the_events_and_the_change_leaves_neither(tmp_path: Path, step: str) -> None:
    data = tmp_path / "data"
    prepared(data)
    before = Store(data)  # as read back from disk, to compare with what is read after the kill
    last = before.last_position()
    states = {mid: before.triage(mid) for mid in before.message_ids()}
    people = before.people()
    env = {**cli_env(), "CMINBOX_FAILPOINT": "store.after_events"}
    proc = subprocess.run(
        [sys.executable, "-c", PRELUDE + STEPS[step], str(data)], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == -9, proc.stderr  # killed at the failpoint, after its events were written
    raw_parts = sorted((data / "events").glob("*.json"))
    assert raw_parts and b'"pos":' in raw_parts[-1].read_bytes()

    after = Store(data)
    events = check_event_log(after)
    assert after.last_position() == last and events[-1].pos == last  # the cut-off step's events are gone
    assert {mid: after.triage(mid) for mid in after.message_ids()} == states  # and its change never happened
    assert sorted(after.message_ids()) == sorted(states)
    assert after.people() == people and len(people) == 2
    assert [i.status for i in after.outbox.items()] in ([OutboxStatus.PENDING], [OutboxStatus.SENDING])
    assert after.triage("masto:60").rev == 0  # the rules' effects neither
    # The store goes on: the next step gets the next position.
    after.act(["masto:2"], triage.AddTags(("next",)), actor="bo")
    [new] = after.events(since=last)
    assert (new.kind, new.message_id, new.pos) == (EventKind.ACTION, "masto:2", last + 1)
    check_event_log(Store(data))


def test_an_edit_killed_after_its_message_was_written_gets_its_history_line(tmp_path: Path) -> None:
    """The edit's message part is written, its history line is not (the triage shard comes
    last): the message did change, so the event stays and the next step writes the line."""
    data = tmp_path / "data"
    prepared(data)
    last = Store(data).last_position()
    env = {**cli_env(), "CMINBOX_FAILPOINT": "store.before_edit_history"}
    step = "store.upsert_messages([make_message(1, text='edited')])"
    proc = subprocess.run([sys.executable, "-c", PRELUDE + step, str(data)], env=env, cwd=ROOT, capture_output=True)
    assert proc.returncode == -9, proc.stderr
    after = Store(data)
    [edit] = after.events(since=last)
    assert (edit.kind, edit.message_id) == (EventKind.EDITED, "masto:1")
    found = after.get_message("masto:1")
    assert found is not None and found.text == "edited"
    assert [h.action for h in after.triage("masto:1").history] == ["tag kept", "edited: text"]
    check_event_log(after)
    check_event_log(Store(data))


def test_new_items_killed_after_their_effects_come_again_with_them_once(tmp_path: Path) -> None:
    """Killed after the effects' triage records and the rule's outbox item were written, before
    the message parts (store_effects.py): the messages are not there, so neither are their
    ``arrived`` events; the effects' records and events stay, invisible. The next poll brings the
    messages again: they arrive with their effects, nothing is recorded or queued twice, and
    the rule's reply waits for its message meanwhile instead of failing."""
    data = tmp_path / "data"
    prepared(data)
    last = Store(data).last_position()
    env = {**cli_env(), "CMINBOX_FAILPOINT": "store.before_messages"}
    step = "store.upsert_messages([make_message(n) for n in (60, 61)], plan=ruled)"
    proc = subprocess.run([sys.executable, "-c", PRELUDE + step, str(data)], env=env, cwd=ROOT, capture_output=True)
    assert proc.returncode == -9, proc.stderr
    after = Store(data, clock=FrozenClock(THEN))
    check_event_log(after)
    assert after.get_message("masto:60") is None
    assert [(e.kind, e.message_id) for e in after.events(since=last)] == [
        (EventKind.ACTION, "masto:60"),
        (EventKind.ACTION, "masto:61"),
    ]
    dispatcher = Dispatcher(after, after.outbox, {"masto": cast(Channel, object())}, {}, FrozenClock(THEN))
    [delivery] = [d for d in asyncio.run(dispatcher.deliver_due()) if d.item.id == "rule-reply-fixed"]
    assert not delivery.ok and "not in the store yet" in delivery.detail
    waiting = after.outbox.get("rule-reply-fixed")
    assert waiting is not None and waiting.status == OutboxStatus.PENDING  # retried later, not failed
    assert after.upsert_messages([make_message(n) for n in (60, 61)], plan=ruled) == ["masto:60", "masto:61"]
    for mid in ("masto:60", "masto:61"):
        assert [h.action for h in after.triage(mid).history] == ["rule r: tag ruled"]
    assert len([i for i in after.outbox.items() if i.id == "rule-reply-fixed"]) == 1
    check_event_log(after)
    check_event_log(Store(data))


def test_a_killed_cli_action_leaves_no_event(tmp_path: Path) -> None:
    data = tmp_path / "data"
    prepared(data)
    env = {**cli_env(), "CMINBOX_FAILPOINT": "store.after_events"}
    result = run_cli("--data-dir", str(data), "tag", "masto:4", "lost", env=env)
    assert result.returncode == -9
    listed = run_cli("--data-dir", str(data), "events", "--json")
    assert listed.returncode == 0 and '"lost"' not in listed.stdout
    assert "lost" not in Store(data).triage("masto:4").tags


def test_a_damaged_event_part_is_reported_and_repaired_keeping_the_whole_events(tmp_path: Path) -> None:
    data = tmp_path / "data"
    prepared(data)
    part = sorted((data / "events").glob("*.json"))[-1]
    raw = part.read_bytes()
    part.write_bytes(raw[: raw.rindex(b'{"pos"')])  # cut inside the last event
    broken = Store(data)
    assert part in broken.file_problems
    with pytest.raises(CminboxError, match="cannot be loaded"):
        broken.act(["masto:2"], triage.AddTags(("x",)), actor="ana")  # nothing written past a damaged log
    repaired, _ = repair_store(broken, list(broken.file_problems))
    assert repaired[0].kept == len(raw.split(b'{"pos"')) - 2
    fixed = Store(data)
    assert fixed.file_problems == {}
    fixed.act(["masto:2"], triage.AddTags(("x",)), actor="ana")
    assert fixed.events()[-1].label == "tag x"
