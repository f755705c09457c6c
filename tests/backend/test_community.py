"""Community answers on every backend: detected in the step that stores a reply (or the
question, when it arrives after its answer), right when staff answered first, never the
author's own reply nor a troll's; ``answered:`` queries; confirm credits the helper and one
undo takes it back; the thank-you is queued exactly once."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from cminbox.core import config
from cminbox.core.clock import FrozenClock
from cminbox.core.community import Answering
from cminbox.core.community_ops import AnswerError, CommunityOps, thank_you_id
from cminbox.core.models import Author, Kind, Message, Priority, Status
from cminbox.core.people import Person, identity
from cminbox.core.query import parse
from cminbox.core.rules_run import RuleRunner
from cminbox.core.store_api import StoreApi
from cminbox.core.triage import SetFirstResponse, SetPriority, SetStatus
from tests.backend.contract import check_event_log
from tests.rules_fixtures import BASE, PATH

ASKER, MIRA, TEAM, TROLL = "@jo@example.social", "@mira@example.social", "@team@example.social", "@grr@example.social"
STAFF = frozenset({identity("masto", TEAM)})
ANSWERING = Answering(staff=STAFF, ignored=frozenset({identity("masto", TROLL)}))
CONFIG = (
    BASE
    + """
[community]
thank_you = "thanks"

[[saved_replies]]
name = "thanks"
text = "Thank you {author.first_name}!"
"""
)


def post(n: int, who: str, minutes: int, clock: FrozenClock, *, to: int | None = None, text: str = "") -> Message:
    """Message ``masto:n`` by ``who``, ``minutes`` after the clock's now; ``to``: a reply to
    ``masto:to`` (Mastodon keys a reply's conversation on its parent)."""
    mid = f"masto:{n}"
    parent = f"masto:{to}" if to is not None else ""
    return Message(
        id=mid,
        channel="masto",
        channel_type="mastodon",
        native_id=str(n),
        kind=Kind.MENTION,
        author=Author(id=who, handle=who, display_name=who.split("@")[1].title()),
        text=text or f"message {n}",
        created_at=clock.now - timedelta(hours=1) + timedelta(minutes=minutes),
        url=f"https://example.social/{n}",
        thread_id=parent or mid,
        parent_id=parent,
    )


def ingest(store: StoreApi, *messages: Message) -> list[str]:
    return store.upsert_messages(list(messages), answers=ANSWERING)


def test_a_reply_before_staff_is_a_community_answer(store: StoreApi, clock: FrozenClock) -> None:
    ingest(store, post(1, ASKER, 0, clock))
    ingest(store, post(2, MIRA, 5, clock, to=1), post(3, TEAM, 9, clock, to=1))
    a = store.triage("masto:1").answered
    assert a is not None and (a.kind, a.who, a.message_id, a.url) == (
        "community",
        identity("masto", MIRA),
        "masto:2",
        "https://example.social/2",
    )
    assert [h.action for h in store.triage("masto:1").history] == [
        "community answer by " + MIRA,
        "replied on the channel by staff " + TEAM,  # the official response after it: the first response
    ]
    assert store.triage("masto:1").first_response_at == post(3, TEAM, 9, clock).created_at
    assert store.triage("masto:2").answered is None  # the answer itself is no question
    check_event_log(store)


def test_staff_first_is_not_a_community_answer_even_when_it_arrives_later(store: StoreApi, clock: FrozenClock) -> None:
    ingest(store, post(1, ASKER, 0, clock), post(2, MIRA, 5, clock, to=1))
    assert store.triage("masto:1").answered.kind == "community"  # type: ignore[union-attr]
    ingest(store, post(3, TEAM, 2, clock, to=1))  # written before Mira's, polled after
    a = store.triage("masto:1").answered
    assert a is not None and (a.kind, a.message_id) == ("staff", "masto:3")


def test_the_askers_own_reply_and_a_trolls_do_not_count(store: StoreApi, clock: FrozenClock) -> None:
    ingest(store, post(1, ASKER, 0, clock), post(2, ASKER, 1, clock, to=1), post(3, TROLL, 2, clock, to=1))
    assert store.triage("masto:1").answered is None
    assert store.query(where=parse("answered:none"), limit=None)
    ingest(store, post(4, MIRA, 3, clock, to=1))
    assert store.triage("masto:1").answered.message_id == "masto:4"  # type: ignore[union-attr]


def test_an_answer_that_arrives_before_its_question(store: StoreApi, clock: FrozenClock) -> None:
    ingest(store, post(2, MIRA, 5, clock, to=1))
    assert store.triage("masto:2").answered is None
    ingest(store, post(1, ASKER, 0, clock))
    a = store.triage("masto:1").answered
    assert a is not None and (a.kind, a.message_id) == ("community", "masto:2")
    check_event_log(store)


def test_edits_leave_the_answer_as_it_was(store: StoreApi, clock: FrozenClock) -> None:
    ingest(store, post(1, ASKER, 0, clock), post(2, MIRA, 5, clock, to=1))
    before = store.triage("masto:1")
    ingest(store, post(2, MIRA, 5, clock, to=1, text="edited: Settings → Sync"))
    ingest(store, post(1, ASKER, 0, clock, text="edited question"))
    after = store.triage("masto:1")
    assert after.answered == before.answered
    assert [h.action for h in after.history if h.actor == "community"] == ["community answer by " + MIRA]
    check_event_log(store)


def test_answered_queries_on_the_store(store: StoreApi, clock: FrozenClock) -> None:
    ingest(store, post(1, ASKER, 0, clock), post(2, MIRA, 5, clock, to=1))
    ingest(store, post(10, ASKER, 0, clock), post(11, TEAM, 3, clock, to=10), post(12, MIRA, 6, clock, to=10))
    ingest(store, post(20, ASKER, 0, clock))

    def ids(q: str) -> set[str]:
        return {m.id for m, _ in store.query(where=parse(q))}

    assert ids("answered:community") == {"masto:1"}
    assert ids("answered:staff") == {"masto:10"}
    assert "masto:20" in ids("answered:none") and "masto:1" not in ids("answered:none")
    assert ids("answered:community -status:done") == {"masto:1"}


def test_a_rule_reads_an_answer_found_in_the_same_step(store: StoreApi, clock: FrozenClock) -> None:
    cfg = config.parse(
        BASE + '\n[[rules]]\nname = "answered"\nwhen = "answered:community"\ntag = ["community"]\n', PATH
    )
    ingest(store, post(2, MIRA, 5, clock, to=1))
    RuleRunner(cfg, store, clock).ingest([post(1, ASKER, 0, clock)], ANSWERING)
    assert store.triage("masto:1").tags == ("community",)


def test_a_rule_reads_an_answer_that_arrives_after_its_question(store: StoreApi, clock: FrozenClock) -> None:
    """The question was stored (and its rules run) before anyone answered: when the answer
    comes, the rules that read answered: run again on the question, and only those."""
    cfg = config.parse(
        BASE
        + '\n[[rules]]\nname = "answered"\nwhen = "answered:community"\ntag = ["community"]\n'
        + '\n[[rules]]\nname = "all"\nwhen = "message"\npriority = "low"\n',
        PATH,
    )
    rules = RuleRunner(cfg, store, clock)
    rules.ingest([post(1, ASKER, 0, clock)], ANSWERING)
    assert store.triage("masto:1").tags == ()
    store.act(["masto:1"], SetPriority(Priority.HIGH), actor="ana")  # a person's choice since
    got = rules.ingest([post(2, MIRA, 5, clock, to=1)], ANSWERING)
    state = store.triage("masto:1")
    assert state.tags == ("community",) and state.priority == Priority.HIGH  # "all" did not run again
    assert got.outcome.changed["answered"] == 1
    again = rules.ingest([post(3, MIRA, 7, clock, to=1)], ANSWERING)  # a second reply: nothing new
    assert "answered" not in again.outcome.changed


def _answered(store: StoreApi, clock: FrozenClock) -> CommunityOps:
    ingest(store, post(1, ASKER, 0, clock), post(2, MIRA, 5, clock, to=1))
    return CommunityOps(config.parse(CONFIG, PATH), store, clock)


def test_confirm_credits_the_helper_and_one_undo_takes_it_back(store: StoreApi, clock: FrozenClock) -> None:
    ops = _answered(store, clock)
    done = ops.confirm("masto:1")
    state = store.triage("masto:1")
    assert state.status == Status.DONE and done.answered.confirmed_by == "ana"
    assert state.answered is not None and state.answered.confirmed_at == clock.now
    [top] = ops.top(timedelta(days=30))
    assert (top.key, top.confirmed, top.answers) == (identity("masto", MIRA), 1, 1)
    assert store.undo("ana") is not None
    state = store.triage("masto:1")
    assert state.status == Status.NEW and state.answered is not None and state.answered.confirmed_at is None
    assert ops.top(timedelta(days=30))[0].confirmed == 0
    check_event_log(store)


def test_a_confirmed_answer_is_kept_when_an_earlier_reply_turns_up(store: StoreApi, clock: FrozenClock) -> None:
    ops = _answered(store, clock)
    ops.confirm("masto:1")
    ingest(store, post(3, TEAM, 1, clock, to=1))
    a = store.triage("masto:1").answered
    assert a is not None and (a.kind, a.message_id) == ("community", "masto:2") and a.confirmed_at is not None


def test_the_thank_you_is_queued_once(store: StoreApi, clock: FrozenClock) -> None:
    ops = _answered(store, clock)
    first = ops.confirm("masto:1", thank=True)
    assert first.thanked is not None and first.thanked.id == thank_you_id("masto:2")
    assert (first.thanked.message_id, first.thanked.payload["text"]) == ("masto:2", "Thank you Mira!")
    store.undo("ana")
    again = ops.confirm("masto:1", thank=True)
    assert again.thanked is None
    assert [i.id for i in store.outbox.items()] == [thank_you_id("masto:2")]


def test_confirm_needs_a_community_answer(store: StoreApi, clock: FrozenClock) -> None:
    ingest(store, post(1, ASKER, 0, clock), post(2, TEAM, 5, clock, to=1))
    with pytest.raises(AnswerError, match="staff first"):
        CommunityOps(config.parse(CONFIG, PATH), store, clock).confirm("masto:1")


def test_people_top_ranks_confirmed_then_answers_then_replies(store: StoreApi, clock: FrozenClock) -> None:
    bo = "@bo@example.social"
    ingest(store, post(1, ASKER, 0, clock), post(2, bo, 5, clock, to=1))
    ingest(store, post(10, ASKER, 0, clock), post(11, bo, 5, clock, to=10))
    ingest(store, post(20, ASKER, 0, clock), post(21, MIRA, 5, clock, to=20))
    ingest(store, post(30, TROLL, 0, clock), post(31, ASKER, 5, clock, to=30))  # the asker helps once
    store.write_people([Person(id="p-mira", name="Mira O", identities=[identity("masto", MIRA)])], actor="t", label="t")
    ops = CommunityOps(config.parse(CONFIG, PATH), store, clock)
    ops.confirm("masto:20")
    ranked = ops.top(timedelta(days=30))
    assert [(h.key, h.confirmed, h.answers) for h in ranked[:2]] == [("p-mira", 1, 1), (identity("masto", bo), 0, 2)]
    assert ranked[0].name == "Mira O" and ranked[0].channels == {"masto": 2}
    assert msgspec.json.encode([h.to_json() for h in ranked])  # JSON-ready
    assert ops.top(timedelta(days=30), channel="elsewhere") == []


def test_a_thank_you_too_long_as_sent_is_refused_before_the_confirm(store: StoreApi, clock: FrozenClock) -> None:
    """The thank-you is checked as any reply is, on the text as sent (the helper's mention
    added, the name filled in): too long, and nothing is done, not even the confirm."""
    ingest(store, post(1, ASKER, 0, clock), post(2, MIRA, 5, clock, to=1))
    long = CONFIG.replace("Thank you {author.first_name}!", "Thank you {author.first_name}! " + "x" * 480)
    ops = CommunityOps(config.parse(long, PATH), store, clock)
    with pytest.raises(AnswerError, match="characters as sent"):
        ops.confirm("masto:1", thank=True)
    assert store.triage("masto:1").status == Status.NEW and store.outbox.items() == []


def test_confirm_marks_read_on_channels_that_mark_read_on_done(store: StoreApi, clock: FrozenClock) -> None:
    ingest(store, post(1, ASKER, 0, clock), post(2, MIRA, 5, clock, to=1))
    # A channel type that marks read (GitHub), named as the items' channel.
    marking = CONFIG.replace(
        'name = "masto"\ntype = "mastodon"\nurl = "https://example.social"\n',
        'name = "masto"\ntype = "github"\nurl = "https://api.github.com"\nmark_read_on_done = true\n',
        1,
    )
    CommunityOps(config.parse(marking, PATH), store, clock).confirm("masto:1")
    assert [(i.message_id, i.payload.get("action")) for i in store.outbox.items()] == [("masto:1", "mark_read")]


def test_the_teams_own_posts_never_enter_the_queue(store: StoreApi, clock: FrozenClock) -> None:
    """A staff account's post is an official answer, not incoming work: stored (the thread and
    the collision check read it) and closed in the step that stores it, with a line saying
    why; a teammate who reopens it keeps it open when it is polled again."""
    ingest(store, post(1, ASKER, 0, clock), post(2, TEAM, 5, clock, to=1))
    official = store.triage("masto:2")
    assert official.status == Status.DONE
    assert [(h.actor, h.action) for h in official.history] == [
        ("staff", "official: posted by a staff account, not incoming")
    ]
    assert store.triage("masto:1").status == Status.OPEN and store.triage("masto:1").answered is not None
    store.act(["masto:2"], SetStatus(Status.OPEN), actor="ana")
    ingest(store, post(2, TEAM, 5, clock, to=1, text="edited"))
    assert store.triage("masto:2").status == Status.OPEN
    check_event_log(store)


def test_a_staff_reply_on_the_channel_is_the_first_response(store: StoreApi, clock: FrozenClock) -> None:
    """A reply written on the channel's own site by a staff account answers the item as one sent
    through cminbox does: its time is the first response, the new item is open, and it leaves
    "needs reply" (is:unreplied) and the overdue count (the preview said "answered first by
    staff" while the row stayed in "needs reply": the demo's first screen, 2026-12-02)."""
    ingest(store, post(1, ASKER, 0, clock), post(20, ASKER, 1, clock))
    needs_reply = parse("is:unreplied -status:done -status:waiting -is:snoozed")  # view 1's query
    assert {m.id for m, _ in store.query(where=needs_reply)} == {"masto:1", "masto:20"}
    reply = post(2, TEAM, 7, clock, to=1)
    ingest(store, reply)
    st = store.triage("masto:1")
    assert (st.status, st.first_response_at) == (Status.OPEN, reply.created_at)
    assert [(h.actor, h.action) for h in st.history] == [
        ("community", "staff answer by " + TEAM),
        ("staff", "replied on the channel by staff " + TEAM),
    ]
    assert {m.id for m, _ in store.query(where=needs_reply)} == {"masto:20"}
    assert store.triage("masto:20").first_response_at is None  # another conversation: untouched
    check_event_log(store)


def test_the_first_staff_reply_counts_after_a_community_answer(store: StoreApi, clock: FrozenClock) -> None:
    """A community answer is not the official response: the item stays unreplied until staff
    replies, and then the staff reply's time is the first response (not the helper's)."""
    ingest(store, post(1, ASKER, 0, clock), post(2, MIRA, 3, clock, to=1))
    st = store.triage("masto:1")
    assert (st.status, st.first_response_at, st.answered.kind) == (Status.NEW, None, "community")  # type: ignore[union-attr]
    ingest(store, post(3, TEAM, 8, clock, to=1), post(4, TEAM, 12, clock, to=1))
    st = store.triage("masto:1")
    assert (st.status, st.first_response_at) == (Status.OPEN, post(3, TEAM, 8, clock).created_at)
    assert st.answered.kind == "community"  # type: ignore[union-attr]  # the answer record is unchanged


def test_a_teammates_status_and_an_earlier_first_response_are_kept(store: StoreApi, clock: FrozenClock) -> None:
    """Only a new item is opened; a first response already recorded (a reply sent through
    cminbox) is kept; once recorded, a later poll of the thread changes nothing, so a teammate
    who set the item back to new keeps it new."""
    ingest(store, post(1, ASKER, 0, clock), post(10, ASKER, 0, clock))
    store.act(["masto:1"], SetStatus(Status.WAITING), actor="ana")
    earlier = clock.now - timedelta(minutes=50)
    store.act(["masto:10"], SetFirstResponse(earlier), actor="ana")
    ingest(store, post(2, TEAM, 5, clock, to=1), post(11, TEAM, 5, clock, to=10))
    assert (store.triage("masto:1").status, store.triage("masto:1").first_response_at) == (
        Status.WAITING,
        post(2, TEAM, 5, clock).created_at,
    )
    assert (store.triage("masto:10").status, store.triage("masto:10").first_response_at) == (Status.NEW, earlier)
    store.act(["masto:1"], SetStatus(Status.NEW), actor="ana")
    ingest(store, post(2, TEAM, 5, clock, to=1, text="edited"), post(3, TEAM, 9, clock, to=1))
    assert store.triage("masto:1").status == Status.NEW
    check_event_log(store)


def nested(n: int, who: str, minutes: int, clock: FrozenClock, *, root: int, to: int) -> Message:
    """Message ``masto:n`` in ``masto:root``'s conversation, replying to ``masto:to`` (a channel
    that keys a thread on its root: Reddit, Bluesky, Matrix, GitHub, mail)."""
    return msgspec.structs.replace(post(n, who, minutes, clock, to=to), thread_id=f"masto:{root}")


def test_a_staff_reply_answers_the_item_it_replies_to(store: StoreApi, clock: FrozenClock) -> None:
    """Where a conversation is keyed on its root, a staff reply to one comment is the first
    response to that comment, not to the question (a reply through cminbox records on the item
    replied to, too). Review of 2026-12-02: the question was opened and the comment left waiting."""
    q, c = post(1, ASKER, 0, clock), nested(2, MIRA, 3, clock, root=1, to=1)
    reply = nested(3, TEAM, 8, clock, root=1, to=2)
    ingest(store, q, c)
    ingest(store, reply)
    assert (store.triage("masto:2").status, store.triage("masto:2").first_response_at) == (
        Status.OPEN,
        reply.created_at,
    )
    assert (store.triage("masto:1").status, store.triage("masto:1").first_response_at) == (Status.NEW, None)
    # A reply to a message that is not stored: which item it answers is not known.
    ingest(store, nested(4, TEAM, 9, clock, root=1, to=99))
    assert store.triage("masto:1").first_response_at is None
    check_event_log(store)


def test_staff_asking_or_muted_staff_is_no_first_response(store: StoreApi, clock: FrozenClock) -> None:
    """A reply to the team's own post answers nothing of the queue's, and a staff account tagged
    muted or troll counts no more than for a community answer."""
    muted_staff = Answering(staff=STAFF | {identity("masto", TROLL)}, ignored=frozenset({identity("masto", TROLL)}))
    store.upsert_messages([post(1, TEAM, 0, clock), post(2, TEAM, 4, clock, to=1)], answers=ANSWERING)
    assert store.triage("masto:1").first_response_at is None
    store.upsert_messages([post(10, ASKER, 0, clock), post(11, TROLL, 4, clock, to=10)], answers=muted_staff)
    assert (store.triage("masto:10").status, store.triage("masto:10").first_response_at) == (Status.NEW, None)


def test_a_message_polled_again_unchanged_decides_nothing_again(store: StoreApi, clock: FrozenClock) -> None:
    """Only new and changed messages make their conversation be read again, on both backends:
    an account tagged staff after it replied does not answer old threads at the next poll of an
    overlapping window (PostgreSQL read every message of the batch again; review of 2026-12-02)."""
    q, r = post(1, ASKER, 0, clock), post(2, MIRA, 5, clock, to=1)
    ingest(store, q, r)
    history = store.triage("masto:1").history
    now_staff = Answering(staff=STAFF | {identity("masto", MIRA)}, ignored=ANSWERING.ignored)
    store.upsert_messages([q, r], answers=now_staff)  # the same window polled again
    st = store.triage("masto:1")
    assert (st.status, st.first_response_at, st.history) == (Status.NEW, None, history)
    # Once recorded, a later poll of the thread adds no history line either.
    ingest(store, post(3, TEAM, 7, clock, to=1))
    recorded = store.triage("masto:1")
    ingest(store, post(3, TEAM, 7, clock, to=1, text="edited"), post(4, TEAM, 9, clock, to=1))
    again = store.triage("masto:1")
    assert (again.first_response_at, len([h for h in again.history if h.actor == "staff"])) == (
        recorded.first_response_at,
        1,
    )
