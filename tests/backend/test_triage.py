"""Triage actions and undo: history, groups, and any sequence of them against a model."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cminbox.core import triage
from cminbox.core.clock import FrozenClock
from cminbox.core.models import Priority, Status, TriageState
from cminbox.core.store_api import StoreApi
from tests.backend.conftest import Backend
from tests.backend.contract import check_event_log
from tests.factories import make_message


def test_history_records_who_what_before_after(store: StoreApi, clock: FrozenClock) -> None:
    store.upsert_messages([make_message(1)])
    result = store.act(["masto:1"], triage.SetStatus(Status.DONE), actor="ana")
    [entry] = store.triage("masto:1").history
    assert (entry.actor, entry.at, entry.before, entry.after, entry.group) == (
        "ana",
        clock.now,
        {"status": "new"},
        {"status": "done"},
        result.group,
    )
    assert (result.changed, result.label) == (["masto:1"], "status → done")


def test_an_action_that_changes_nothing_is_not_recorded(store: StoreApi) -> None:
    store.upsert_messages([make_message(1)])
    assert store.act(["masto:1"], triage.SetStatus(Status.NEW), actor="ana").changed == []
    assert store.triage("masto:1").history == () and store.undo("ana") is None


def test_undo_is_per_actor_and_repeatable(store: StoreApi) -> None:
    store.upsert_messages([make_message(1)])
    store.act(["masto:1"], triage.AddTags(("a",)), actor="ana")
    store.act(["masto:1"], triage.AddTags(("b",)), actor="bo")
    store.act(["masto:1"], triage.SetStatus(Status.DONE), actor="ana")
    first, second = store.undo("ana"), store.undo("ana")
    assert first is not None and first.label == "status → done"
    assert second is not None and second.label == "tag a"
    assert store.undo("ana") is None
    state = store.triage("masto:1")
    assert (state.tags, state.status) == (("b",), Status.NEW)
    assert [h.action for h in state.history][-2:] == ["undo: status → done", "undo: tag a"]


def test_undo_of_a_named_group_takes_back_that_group_not_the_actor_s_latest(store: StoreApi) -> None:
    """The TUI's `u` names the group it showed last: a later call of the same actor (a CLI tag
    in another shell) is not what it takes back (new-user trial); the next plain undo is."""
    store.upsert_messages([make_message(1), make_message(2)])
    first = store.act(["masto:1"], triage.SetStatus(Status.DONE), actor="ana")
    store.act(["masto:2"], triage.AddTags(("cli",)), actor="ana")
    undone = store.undo("ana", first.group)
    assert undone is not None and undone.changed == ["masto:1"]
    assert store.triage("masto:1").status == Status.NEW and store.triage("masto:2").tags == ("cli",)
    assert store.undo("ana", first.group) is None  # undone already
    assert store.undo("bo", store.act(["masto:1"], triage.AddTags(("x",)), actor="ana").group) is None  # not bo's
    again = store.undo("ana")
    assert again is not None and again.changed == ["masto:1"] and store.triage("masto:1").tags == ()
    assert store.undo("ana") is not None and store.triage("masto:2").tags == ()


def test_undo_keeps_a_teammate_s_later_change_to_the_same_field(store: StoreApi) -> None:
    """Regression (fault trial of 2026-12-01): bo's undo of "done" put an item ana had set to
    "waiting" since back to "new", and of an assignment, ana's own assignment to nobody."""
    store.upsert_messages([make_message(1), make_message(2)])
    store.act(["masto:1", "masto:2"], triage.SetStatus(Status.DONE), actor="bo")
    store.act(["masto:1"], triage.SetStatus(Status.WAITING), actor="ana")
    undone = store.undo("bo")
    assert undone is not None and undone.changed == ["masto:2"]  # the item nobody touched since
    assert store.triage("masto:1").status == Status.WAITING and store.triage("masto:2").status == Status.NEW
    store.act(["masto:1"], triage.Assign("bo"), actor="bo")
    store.act(["masto:1"], triage.Assign("ana"), actor="ana")
    store.act(["masto:1"], triage.SetPriority(Priority.HIGH), actor="bo")
    assert store.undo("bo") is not None and store.triage("masto:1").priority == Priority.NORMAL  # bo's own
    assert store.undo("bo") is not None
    assert store.triage("masto:1").assignee == "ana"
    # The same field back at the value bo set: then bo's undo applies again.
    store.act(["masto:2"], triage.SetStatus(Status.DONE), actor="bo")
    store.act(["masto:2"], triage.SetStatus(Status.OPEN), actor="ana")
    store.act(["masto:2"], triage.SetStatus(Status.DONE), actor="ana")
    assert store.undo("bo") is not None and store.triage("masto:2").status == Status.NEW


def test_bulk_action_is_one_undo_group(store: StoreApi) -> None:
    store.upsert_messages([make_message(i) for i in range(30)])
    ids = [f"masto:{i}" for i in range(30)]
    store.act(ids, triage.SetStatus(Status.DONE), actor="ana")
    assert all(store.triage(i).status == Status.DONE for i in ids)
    undone = store.undo("ana")
    assert undone is not None and len(undone.changed) == 30
    assert all(store.triage(i).status == Status.NEW for i in ids)


def test_an_action_made_from_the_current_state_sees_another_instances_update(backend: Backend) -> None:
    a, b = backend.open(), backend.open()
    a.upsert_messages([make_message(1)])
    b.act(["masto:1"], triage.AddTags(("from-b",)), actor="bo")
    seen: list[tuple[str, ...]] = []

    def from_state(state: TriageState) -> triage.Action:
        seen.append(state.tags)
        return triage.AddTags(("from-a",))

    a.act(["masto:1"], from_state, actor="ana")
    assert seen == [("from-b",)] and backend.open().triage("masto:1").tags == ("from-b", "from-a")


def test_put_triage_keeps_a_newer_revision(store: StoreApi) -> None:
    store.upsert_messages([make_message(1)])
    store.act(["masto:1"], triage.AddTags(("x",)), actor="ana")
    store.act(["masto:1"], triage.AddTags(("y",)), actor="ana")
    older = TriageState(id="masto:1", tags=("old",), rev=1)
    assert store.put_triage([older]) == 0 and store.triage("masto:1").tags == ("x", "y")
    assert store.put_triage([older], keep_newer=False) == 1 and store.triage("masto:1").tags == ("old",)


# ---------------------------------------------------------------------------- a model of act and undo
ITEMS = [f"masto:{i}" for i in range(4)]
ACTORS = ["ana", "bo"]
actions = st.one_of(
    st.builds(triage.AddTags, st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=2).map(tuple)),
    st.builds(triage.RemoveTags, st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=2).map(tuple)),
    st.builds(triage.SetStatus, st.sampled_from(list(Status))),
    st.builds(triage.Assign, st.sampled_from([None, "ana", "bo"])),
    st.builds(triage.SetPriority, st.sampled_from(list(Priority))),
)


@dataclass(frozen=True)
class Act:
    actor: str
    ids: tuple[str, ...]
    action: triage.Action


@dataclass(frozen=True)
class Undo:
    actor: str


steps = st.one_of(
    st.builds(
        Act, st.sampled_from(ACTORS), st.lists(st.sampled_from(ITEMS), min_size=1, max_size=3).map(tuple), actions
    ),
    st.builds(Undo, st.sampled_from(ACTORS)),
)


def fields(state: TriageState) -> tuple[object, ...]:
    return (state.status, state.tags, state.assignee, state.priority)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=st.lists(steps, max_size=25))
def test_any_sequence_of_actions_and_undos_matches_the_model(backend: Backend, script: list[Act | Undo]) -> None:
    """The model: the pure triage functions on plain states, with a stack of inverse groups per actor."""
    fresh = backend.fresh()
    try:
        _run_script(fresh, script)
    finally:
        fresh.close()


def _run_script(fresh: Backend, script: list[Act | Undo]) -> None:
    store = fresh.open()
    store.upsert_messages([make_message(i) for i in range(4)])
    model = {mid: TriageState(id=mid) for mid in ITEMS}
    undo_stacks: dict[str, list[list[tuple[str, triage.Action]]]] = {a: [] for a in ACTORS}
    for step in script:
        if isinstance(step, Act):
            group = []
            for mid in dict.fromkeys(step.ids):
                after = triage.apply(model[mid], step.action)
                if fields(after) != fields(model[mid]):
                    group.append((mid, triage.inverse(model[mid], step.action)))
                    model[mid] = after
            result = store.act(step.ids, step.action, actor=step.actor)
            assert sorted(result.changed) == sorted(mid for mid, _ in group)
            if group:
                undo_stacks[step.actor].append(group)
        else:
            undone = store.undo(step.actor)
            assert (undone is None) == (not undo_stacks[step.actor])
            if undo_stacks[step.actor]:
                for mid, inverse in undo_stacks[step.actor].pop():
                    model[mid] = triage.apply(model[mid], inverse)
    other = fresh.open()  # what another instance sees
    for mid in ITEMS:
        assert fields(store.triage(mid)) == fields(model[mid]) == fields(other.triage(mid))
    check_event_log(other)
