"""Two instances on one store, interleaving actions and arrivals; both must match a model."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from cminbox.core import triage
from cminbox.core.models import Status
from tests.backend.conftest import Backend
from tests.backend.contract import check_event_log
from tests.factories import make_message

IDS = st.sampled_from([f"masto:{i}" for i in range(6)])
WHO = st.integers(0, 1)
TAGS = st.sampled_from(["a", "b", "c"])


def machine(backend: Backend) -> type[RuleBasedStateMachine]:
    class TwoInstances(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            fresh = backend.fresh()
            self.stores = [fresh.open(), fresh.open()]
            self.stores[0].upsert_messages([make_message(i) for i in range(6)])
            self.model: dict[str, tuple[set[str], Status]] = {f"masto:{i}": (set(), Status.NEW) for i in range(6)}

        @rule(who=WHO, mid=IDS, tag=TAGS)
        def add_tag(self, who: int, mid: str, tag: str) -> None:
            self.stores[who].act([mid], triage.AddTags((tag,)), actor=f"p{who}")
            self.model[mid][0].add(tag)

        @rule(who=WHO, mid=IDS, tag=TAGS)
        def remove_tag(self, who: int, mid: str, tag: str) -> None:
            self.stores[who].act([mid], triage.RemoveTags((tag,)), actor=f"p{who}")
            self.model[mid][0].discard(tag)

        @rule(who=WHO, mid=IDS, status=st.sampled_from(list(Status)))
        def set_status(self, who: int, mid: str, status: Status) -> None:
            self.stores[who].act([mid], triage.SetStatus(status), actor=f"p{who}")
            self.model[mid] = (self.model[mid][0], status)

        @rule(who=WHO, n=st.integers(100, 110))
        def ingest(self, who: int, n: int) -> None:
            self.stores[who].upsert_messages([make_message(n)])

        @invariant()
        def both_match_the_model(self) -> None:
            for s in self.stores:
                s.refresh()
                for mid, (tags, status) in self.model.items():
                    state = s.triage(mid)
                    assert (set(state.tags), state.status) == (tags, status)
            assert sorted(self.stores[0].message_ids()) == sorted(self.stores[1].message_ids())

        def teardown(self) -> None:
            try:
                check_event_log(self.stores[1])
            finally:  # each example's two handles: left open, 30 examples ran the server out of clients
                for store in self.stores:
                    store.close()

    return TwoInstances


def test_two_instances_interleaving_match_a_model(backend: Backend) -> None:
    run_state_machine_as_test(
        machine(backend),
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        ),
    )
