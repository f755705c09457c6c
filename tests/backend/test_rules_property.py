"""A property, on every backend: for any rules and items, ``rules test`` writes nothing and says
what ``rules apply`` then does (the same counts per rule, matched, changed and replies), and
each item then has the effects the rules planned for it, no more."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cminbox.core.clock import FrozenClock
from cminbox.core.models import Priority, Status
from cminbox.core.query import parse
from cminbox.core.rules import Rule
from cminbox.core.rules_run import RuleRunner
from cminbox.core.triage import AddTags
from tests.backend.conftest import Backend
from tests.backend.contract import check_event_log
from tests.rules_fixtures import by, rules_config

WORDS = ["sync", "casino", "hello", "bug"]
QUERIES = ["sync", "casino or bug", "tag:a", "-tag:b", "priority:high", "hello -sync", "status:new"]
rules = st.builds(
    Rule,
    index=st.just(0),
    name=st.sampled_from(["r1", "r2", "r3"]),
    when=st.sampled_from(QUERIES).map(parse),
    tags=st.sampled_from([(), ("a",), ("b",)]),
    untags=st.sampled_from([(), ("a",)]),
    priority=st.sampled_from([None, Priority.HIGH]),
    status=st.sampled_from([None, Status.OPEN]),
    assign=st.sampled_from(["", "ana"]),
    escalate=st.sampled_from(["", "oncall"]),
    mute=st.sampled_from(["", "spam"]),
    reply=st.sampled_from(["", "ack"]),
    stop=st.booleans(),
).map(lambda r: replace(r, reply_text="Thanks!") if r.reply else r)
items = st.lists(
    st.tuples(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3), st.integers(0, 3), st.booleans()),
    min_size=1,
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ruleset=st.lists(rules, min_size=1, max_size=4, unique_by=lambda r: r.name), found=items)
def test_test_says_what_apply_does(
    backend: Backend, clock: FrozenClock, ruleset: list[Rule], found: list[tuple[list[str], int, bool]]
) -> None:
    fresh = backend.fresh()
    try:
        store = fresh.open()
        store.upsert_messages(
            [
                by(n, f"@user{author}@example.social", " ".join(words), clock.now + timedelta(minutes=n - 4))
                for n, (words, author, _) in enumerate(found)
            ]
        )
        tagged = [f"masto:{n}" for n, (_, _, tag) in enumerate(found) if tag]
        if tagged:
            store.act(tagged, AddTags(("b",)), actor="ana")
        runner = RuleRunner(rules_config(""), store, clock, rules=ruleset)
        last = store.last_position()
        stored = store.query()
        dry = runner.test(stored, ruleset)
        assert store.last_position() == last and store.outbox.items() == []
        done = runner.apply([m.id for m, _ in stored], ruleset)
        for name in {r.name for r in ruleset}:
            assert (dry.matched[name], dry.changed[name], dry.replies[name]) == (
                done.matched[name],
                done.changed[name],
                done.replies[name],
            ), name
        planned = sorted((e.message_id, e.label) for e in dry.planned.effects)
        assert sorted((e.message_id, e.label) for e in done.planned.effects) == planned
        assert len(store.outbox.items()) == len(dry.planned.outbox)
        check_event_log(fresh.open())
    finally:
        fresh.close()
