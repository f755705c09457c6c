"""People on every backend: stored records, optimistic writes, their events, link/unlink,
another instance seeing a change, what the messages say, and the query fields."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest

from cminbox.core.events import EventKind
from cminbox.core.models import Answered, Author, Status
from cminbox.core.outbox_types import OutboxKind
from cminbox.core.people import PeopleError, Person, identity, new_id
from cminbox.core.people_ops import PeopleOps
from cminbox.core.portable import everything, import_records, write_jsonl
from cminbox.core.query import PeopleView, parse
from cminbox.core.store_api import StoreApi, StoreError
from cminbox.core.triage import SetAnswer, SetStatus
from tests.backend.conftest import Backend
from tests.backend.contract import check_event_log
from tests.factories import make_message

PRIYA = "masto:user1@example.social"
STAFF = frozenset({"masto:user3@example.social"})


def _filled(store: StoreApi) -> None:
    """35 items by user0..user6 on masto; user1 also writes on gh as "user1", "Émile" once."""
    gh = [
        msgspec.structs.replace(make_message(n, channel="gh"), author=Author(id="u1", handle="User1", display_name="P"))
        for n in (100, 101)
    ]
    odd = msgspec.structs.replace(make_message(200), author=Author(id="e", handle="@Émile@ß.social", display_name="É"))
    store.upsert_messages([make_message(n) for n in range(35)] + gh + [odd])


def _new(*keys: str, tags: tuple[str, ...] = ()) -> Person:
    return Person(id=new_id(), identities=list(keys), tags=list(tags))


def test_records_are_stored_and_found_by_id_and_by_identity(store: StoreApi) -> None:
    assert store.person(PRIYA) is None and store.people() == []
    [stored] = store.write_people([_new(PRIYA, "gh:user1", tags=("vip",))], actor="ana", label="tag vip")
    assert (stored.rev, stored.updated_by, stored.updated_at is not None) == (1, "ana", True)
    assert store.person(stored.id) == stored == store.person("gh:user1")
    assert store.people() == [stored]
    assert store.person("gh:nobody") is None and store.person("p-0000000000") is None


def test_a_stale_write_is_refused_naming_who_changed_it(backend: Backend) -> None:
    ana, bob = backend.open(), backend.open()
    [first] = ana.write_people([_new(PRIYA)], actor="ana", label="note")
    [bobs] = bob.write_people([msgspec.structs.replace(first, tags=["vip"])], actor="bob", label="tag vip")
    last = ana.last_position()
    with pytest.raises(StoreError, match=f"{first.id} was changed by bob meanwhile.*Try again"):
        ana.write_people([msgspec.structs.replace(first, tags=["troll"])], actor="ana", label="tag troll")
    assert ana.person(first.id) == bobs and ana.last_position() == last  # nothing written, no event
    # A second record for an identity someone else holds: refused too (an identity is one person's).
    with pytest.raises(StoreError, match="meanwhile"):
        ana.write_people([_new(PRIYA, tags=("press",))], actor="ana", label="tag press")
    # Removing a record that is gone, or one changed since it was read: refused.
    bob.write_people([], [bobs], actor="bob", label="linked away")
    with pytest.raises(StoreError, match="removed meanwhile"):
        ana.write_people([bobs], actor="ana", label="x")
    assert ana.people() == []


def test_each_write_appends_its_events_in_one_group(store: StoreApi) -> None:
    _filled(store)
    ops = PeopleOps(store, STAFF, "ana", store.clock)
    ops.tag([PRIYA], add=["vip"])
    ops.tag(["gh:user1"], add=["advocate"])
    store.refresh()
    before = store.last_position()
    merged = ops.link(PRIYA, "gh:user1")
    events = store.events(since=before)
    assert [e.kind for e in events] == [EventKind.PERSON, EventKind.PERSON]
    assert len({e.group for e in events}) == 1 and all(e.actor == "ana" for e in events)
    written, removed = sorted(events, key=lambda e: e.message_id != merged.id)
    assert written.message_id == merged.id and written.label == "link masto:user1@example.social + gh:user1"
    assert written.before["identities"] == [PRIYA] and written.after["identities"] == [PRIYA, "gh:user1"]
    assert removed.after == {} and removed.before["tags"] == ["advocate"]
    assert store.refresh() == set()  # refresh() names items: a person's id is not one
    check_event_log(store)


def test_link_and_unlink_round_trip(store: StoreApi) -> None:
    _filled(store)
    ops = PeopleOps(store, STAFF, "ana", store.clock)
    ops.tag([PRIYA], add=["vip"])
    merged = ops.link(PRIYA, "gh:user1")  # the stored record keeps its id
    assert store.person("gh:user1") == merged and merged.tags == ["vip"]
    assert {m.id for m, _ in store.query(where=parse(f"person:{merged.id}"))} == {
        *(f"masto:{n}" for n in range(1, 35, 7)),
        "gh:100",
        "gh:101",
    }
    with pytest.raises(PeopleError, match="already one person"):
        ops.link("gh:user1", PRIYA)
    kept = ops.unlink("gh:user1")
    assert kept.id == merged.id and kept.identities == [PRIYA] and kept.tags == ["vip"]
    assert store.person("gh:user1") is None  # a bare identity again: nothing decided sticks to it
    assert {m.id for m, _ in store.query(where=parse("person:gh:user1"))} == {"gh:100", "gh:101"}
    with pytest.raises(PeopleError, match="not linked to anyone"):
        ops.unlink("gh:user1")
    with pytest.raises(PeopleError, match="only identity"):
        ops.unlink(PRIYA)


def test_another_instance_sees_the_change_and_is_woken(backend: Backend) -> None:
    a, b = backend.open(), backend.open()
    b.refresh()
    [p] = a.write_people([_new(PRIYA, tags=("vip",))], actor="ana", label="tag vip")
    assert b.person(PRIYA) == p and b.people() == [p]
    timer = threading.Timer(0.2, lambda: a.write_people([msgspec.structs.replace(p, tags=[])], actor="ana", label="x"))
    timer.start()
    try:
        assert b.wait_for_change(10.0) is True
    finally:
        timer.join()
    found = b.person(PRIYA)
    assert found is not None and found.tags == [] and found.rev == 2
    assert not b.refresh() & {p.id}  # refresh() names items only


def test_authors_say_what_the_messages_say(store: StoreApi) -> None:
    _filled(store)
    store.act(["masto:1", "masto:8"], SetStatus(Status.DONE), actor="ana")
    seen = store.authors([PRIYA, "gh:user1", "masto:nobody"])
    assert set(seen) == {PRIYA, "gh:user1"}
    mine = seen[PRIYA]
    assert (mine.items, mine.open, mine.handle, mine.name) == (5, 3, "@user1@example.social", "User 1")
    assert mine.last_seen == make_message(1).created_at and mine.first_seen == make_message(29).created_at
    everyone = store.authors()
    assert sum(s.items for s in everyone.values()) == 38
    odd = identity("masto", "@Émile@ß.social")
    assert odd == "masto:émile@ss.social" and everyone[odd].items == 1  # casefolded, as Python does it
    assert store.identities() == frozenset(everyone)  # the keys alone, as the card's suggestions read them
    store.upsert_messages(
        [msgspec.structs.replace(make_message(300), author=Author(id="n", handle="@New", display_name="N"))]
    )
    assert "masto:new" in store.identities() and store.authors(["masto:new"])["masto:new"].items == 1


@pytest.mark.parametrize(
    "query",
    [
        "author-tag:vip",
        "-author-tag:vip",
        "author-tag:staff",
        "from:staff",
        "from:@user3",  # a handle prefix, not the staff
        "-from:staff status:new",
        "author-tag:troll",
        "person:{p}",
        "person:gh:user1",
        "person:masto:émile@ss.social",
        "person:masto:user5@example.social",
        "-person:{p} -author-tag:advocate",
        "(author-tag:vip or émile)",  # an OR with non-ASCII text: Python evaluates it on PostgreSQL too
        "author-tag:vip émile",
    ],
)
def test_people_fields_select_the_same_items_as_the_evaluator(store: StoreApi, query: str) -> None:
    _filled(store)
    ops = PeopleOps(store, STAFF, "ana", store.clock)
    ops.tag([PRIYA, "masto:user2@example.social"], add=["vip"])
    ops.tag(["masto:user4@example.social"], add=["advocate"])
    ops.tag(["masto:émile@ss.social"], add=["vip"])
    p = ops.link(PRIYA, "gh:user1")
    ops.link("masto:user6@example.social", "masto:user3@example.social")  # linked to a staff account: staff
    store.act(["masto:2"], SetStatus(Status.DONE), actor="ana")
    q = parse(query.format(p=p.id))
    found = [m.id for m, _ in store.query(where=q, staff=STAFF)]
    view = PeopleView.of(store.people(), STAFF)
    bound = q.bind(view)
    expected = [m.id for m, s in store.query() if bound.matches(m, s, store.clock(), "ana")]
    assert found == expected
    assert bool(found) == (query != "author-tag:troll")  # each query selects something, but one
    if query == "from:staff":
        assert {m.author.handle for m, _ in store.query(where=q, staff=STAFF)} == {
            "@user3@example.social",
            "@user6@example.social",
        }


def test_the_sentiment_trend_and_the_last_reply_are_computed_from_the_items(store: StoreApi) -> None:
    scores = [-0.6] * 10 + [0.4] * 10  # newest first: worse lately
    store.upsert_messages(
        [
            msgspec.structs.replace(make_message(7 * i + 1), sentiment=s, created_at=store.clock() - timedelta(hours=i))
            for i, s in enumerate(scores)
        ]
    )
    item = store.outbox.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "hi"}, "bob")
    [claimed] = store.outbox.claim_due()
    store.outbox.mark_sent(claimed, {"native_id": "9"})
    card = PeopleOps(store, STAFF, "ana", store.clock).card(PRIYA)
    assert card.trend.word == "worsening" and card.trend.recent == pytest.approx(-0.6)
    assert card.trend.before == pytest.approx(0.4) and card.trend.scored == 20
    assert card.last_reply is not None and (card.last_reply.id, card.last_reply.actor) == (item.id, "bob")
    assert card.items == 20 and len(card.open_items) == 10


def test_the_team_s_last_reply_counts_a_staff_account_s_answer_on_the_channel(store: StoreApi) -> None:
    """A staff account's reply made on the channel (the first answer in an item's thread,
    core/community.py) is the team's last reply too, when it is newer than any sent through
    cminbox: the card said "no reply from the team yet" beside an item its preview showed
    answered by staff (new-user trial of 2026-12-02). Both backends."""
    now = store.clock()
    store.upsert_messages([make_message(1)])
    ops = PeopleOps(store, STAFF, "ana", store.clock)
    assert ops.card(PRIYA).team_reply() is None
    noor = Answered(
        kind="staff",
        who="masto:user3@example.social",
        handle="@user3",
        name="Noor",
        at=now - timedelta(hours=1),
        message_id="masto:2",
    )
    store.act(["masto:1"], SetAnswer(noor, detected=True), actor="cminbox")
    got = ops.card(PRIYA).team_reply()
    assert got is not None and (got.by, got.at, got.message_id, got.outside) == ("Noor", noor.at, "masto:1", True)
    assert got.reply_id == "masto:2"  # the staff account's reply; message_id is the item it answered
    # A community member's answer is not the team's.
    community = msgspec.structs.replace(noor, kind="community", name="Mira")
    store.act(["masto:1"], SetAnswer(community, detected=False), actor="ana")
    assert ops.card(PRIYA).team_reply() is None
    store.act(["masto:1"], SetAnswer(noor, detected=False), actor="ana")
    # A reply sent through cminbox after it is the newer one.
    store.outbox.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "hi"}, "bob")
    [claimed] = store.outbox.claim_due()
    store.outbox.mark_sent(claimed, {"native_id": "9"})
    got = ops.card(PRIYA).team_reply()
    assert got is not None and (got.by, got.outside) == ("bob", False)


def test_people_are_exported_and_imported_verbatim(backend: Backend, tmp_path: Path) -> None:
    store = backend.open()
    _filled(store)
    ops = PeopleOps(store, STAFF, "ana", store.clock)
    ops.tag([PRIYA, "masto:user2@example.social"], add=["vip"])
    ops.note(PRIYA, "prefers email")
    ops.link(PRIYA, "gh:user1")
    out = tmp_path / "all.jsonl"
    with out.open("wb") as handle:
        write_jsonl(everything(store), handle)
    target = backend.fresh().open()
    report = import_records(target, out)
    assert report.people == 2 and target.people() == store.people()
    assert [e.kind for e in target.events()] == [e.kind for e in store.events()]  # with their person events
    assert import_records(target, out).people == 0  # the same revisions again: nothing written
