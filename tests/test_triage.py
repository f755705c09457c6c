from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from cminbox.core import triage
from cminbox.core.models import Escalation, Note, Priority, Status, TriageState

_when = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))
_tags = st.lists(st.sampled_from(["bug", "sync", "outage", "praise", "vip"]), max_size=4).map(tuple)
_note = st.builds(
    Note, id=st.sampled_from(["n1", "n2", "n3"]), author=st.just("me"), at=_when, text=st.text(max_size=20)
)
_esc = st.builds(
    Escalation,
    target=st.sampled_from(["oncall", "legal"]),
    priority=st.sampled_from(list(Priority)),
    note=st.text(max_size=10),
    at=_when,
    by=st.just("me"),
)

states = st.builds(
    TriageState,
    id=st.just("c:1"),
    status=st.sampled_from(list(Status)),
    tags=_tags.map(lambda t: tuple(dict.fromkeys(t))),
    assignee=st.one_of(st.none(), st.sampled_from(["ana", "bo"])),
    priority=st.sampled_from(list(Priority)),
    snoozed_until=st.one_of(st.none(), _when),
    notes=st.lists(_note, max_size=3, unique_by=lambda n: n.id).map(tuple),
    first_response_at=st.one_of(st.none(), _when),
    escalation=st.one_of(st.none(), _esc),
)

actions = st.one_of(
    st.builds(triage.SetStatus, st.sampled_from(list(Status))),
    st.builds(triage.AddTags, _tags),
    st.builds(triage.RemoveTags, _tags),
    st.builds(triage.Assign, st.one_of(st.none(), st.sampled_from(["ana", "bo", "cy"]))),
    st.builds(triage.SetPriority, st.sampled_from(list(Priority))),
    st.builds(triage.Snooze, st.one_of(st.none(), _when)),
    st.builds(triage.AddNote, _note),
    st.builds(triage.RemoveNote, st.sampled_from(["n1", "n2", "n9"])),
    st.builds(
        triage.SetEscalation, st.one_of(st.none(), _esc), st.sampled_from(list(Status)), st.sampled_from(list(Priority))
    ),
    st.builds(triage.SetFirstResponse, st.one_of(st.none(), _when)),
)


def comparable(s: TriageState) -> tuple[object, ...]:
    # Tag and note *order* may differ after undo; their membership may not.
    return (
        s.status,
        frozenset(s.tags),
        s.assignee,
        s.priority,
        s.snoozed_until,
        frozenset(s.notes),
        s.first_response_at,
        s.escalation,
    )


@given(states, actions)
def test_inverse_restores_the_state(state: TriageState, action: triage.Action) -> None:
    after = triage.apply(state, action)
    undo = triage.inverse(state, action)
    assert comparable(triage.apply(after, undo)) == comparable(state)


@given(states, actions)
def test_apply_is_pure(state: TriageState, action: triage.Action) -> None:
    before = comparable(state)
    triage.apply(state, action)
    assert comparable(state) == before


@given(states, actions)
def test_inverse_is_idempotent(state: TriageState, action: triage.Action) -> None:
    # Undo must be safe to apply twice (a crash between applying and recording it).
    after = triage.apply(state, action)
    undo = triage.inverse(state, action)
    once = triage.apply(after, undo)
    assert comparable(triage.apply(once, undo)) == comparable(once)


@given(actions)
def test_actions_roundtrip_through_json(action: triage.Action) -> None:
    import msgspec

    assert triage.ACTION_DECODER.decode(msgspec.json.encode(action)) == action


def test_undoing_my_tag_keeps_a_teammates_tag() -> None:
    s0 = TriageState(id="c:1")
    mine = triage.AddTags(("bug",))
    s1 = triage.apply(s0, mine)
    undo = triage.inverse(s0, mine)
    s2 = triage.apply(s1, triage.AddTags(("vip",)))  # a teammate, meanwhile
    assert triage.apply(s2, undo).tags == ("vip",)


def test_normalise_tag() -> None:
    assert triage.normalise_tag("  #Sync Outage ") == "sync-outage"
    # No escape survives in a stored tag (hostile-data trial of 2026-12-01).
    assert triage.normalise_tag("x\x1b]52;c;Q0xJ\x07 Big\x9b") == "x-big"
    # A comma would read as two tags in the comma-separated lists (new-user trial of 2026-12-02).
    assert triage.normalise_tag("tag,with, commas") == "tag-with-commas"
    assert triage.normalise_tag(",") == ""


def test_mypy_catches_a_triage_action_left_out_of_a_match(tmp_path: Path) -> None:
    """Each `match` ends in assert_never: an action a new case forgets is a type error, not a
    TypeError at runtime."""
    from mypy import api

    source = Path(triage.__file__).read_text()
    handled = (
        "        case SetFirstResponse(at=at):\n"
        "            return msgspec.structs.replace(state, first_response_at=at)\n"
    )
    assert handled in source
    copy = tmp_path / "triage_missing_case.py"
    copy.write_text(source.replace(handled, ""))
    out, _, status = api.run(["--strict", "--follow-imports=silent", "--no-incremental", str(copy)])
    assert status == 1 and "SetFirstResponse" in out and "assert_never" in out, out
    copy.write_text(source)
    out, _, status = api.run(["--strict", "--follow-imports=silent", "--no-incremental", str(copy)])
    assert status == 0, out
