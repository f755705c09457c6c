"""The people fields of the filter language: author-tag:, person:, from:staff; how they parse,
what they mean with and without the people of a store, and what --explain says of them."""

from __future__ import annotations

from datetime import datetime

import msgspec
import pytest

from cminbox.core.models import Author, Message, TriageState
from cminbox.core.people import Person
from cminbox.core.query import PeopleView, QueryError, Term, explain, parse, to_text
from cminbox.core.query.context import NOBODY
from tests.factories import make_message
from tests.query_strategies import NOW

STAFF = frozenset({"masto:team@example.social"})


def _item(handle: str, channel: str = "masto") -> tuple[Message, TriageState, datetime, str]:
    """The arguments of Query.matches for an item written by ``handle`` on ``channel``."""
    m = msgspec.structs.replace(make_message(1, channel=channel), author=Author(id=handle, handle=handle))
    return m, TriageState(id=m.id), NOW, "ana"


def test_values_are_normalised_and_errors_say_what_to_write() -> None:
    assert parse('author-tag:"Big VIP"').node == Term("author-tag", ":", "big-vip")
    assert parse("person:Masto:@Priya@Example.Social").node == Term("person", ":", "masto:priya@example.social")
    assert parse("person:p-3f9a0c12de").node == Term("person", ":", "p-3f9a0c12de")
    with pytest.raises(QueryError, match=r"col 8: person:priya: write person:p-… .* or person:CHANNEL:HANDLE"):
        parse("person:priya")
    with pytest.raises(QueryError, match='unknown field "autor-tag" \\(did you mean "author-tag"\\?\\)'):
        parse("autor-tag:vip")
    for text in ("author-tag:vip -person:masto:priya@example.social from:staff", "from:@staff person:p-1"):
        assert to_text(parse(text).node) == text


def test_from_staff_is_the_staff_and_from_at_staff_a_handle() -> None:
    view = PeopleView.of([], STAFF)
    staff, handle = parse("from:staff").bind(view), parse("from:@staff").bind(view)
    assert staff.matches(*_item("@team@example.social")) and not handle.matches(*_item("@team@example.social"))
    assert handle.matches(*_item("@staffan@example.social")) and not staff.matches(*_item("@staffan@example.social"))
    assert staff.matches(*_item("@Team@Example.Social"))  # an identity: case and "@" do not matter
    assert not staff.matches(*_item("@team@example.social", channel="sky"))  # staff on masto only


def test_the_people_view_links_identities_and_implies_staff() -> None:
    priya = Person(id="p-1", identities=["masto:priya@example.social", "gh:priya"], tags=["vip"])
    helper = Person(id="p-2", identities=["gh:team", "masto:team@example.social"])  # linked to a staff account
    view = PeopleView.of([priya, helper], STAFF)
    vip, person = parse("author-tag:vip").bind(view), parse("person:gh:priya").bind(view)
    assert vip.matches(*_item("priya", channel="gh")) and vip.matches(*_item("@priya@example.social"))
    assert person.matches(*_item("@priya@example.social"))  # every identity of that person
    assert parse("author-tag:staff").bind(view).matches(*_item("team", channel="gh"))
    assert parse("person:p-2").bind(view).matches(*_item("team", channel="gh"))
    assert not parse("person:p-9").bind(view).matches(*_item("team", channel="gh"))  # unknown id: nobody


def test_unbound_queries_know_nobody_and_other_queries_are_their_own_binding() -> None:
    plain = parse("tag:x status:new")
    assert plain.bind(PeopleView.of([], STAFF)) is plain and not plain.uses_people
    alone = parse("person:masto:priya@example.social")
    assert alone.uses_people and alone.matches(*_item("@priya@example.social"))  # an identity is its own person
    assert not parse("author-tag:vip").matches(*_item("@priya@example.social"))
    assert not parse("from:staff").matches(*_item("@team@example.social"))
    assert PeopleView() == NOBODY


def test_explain_says_where_the_people_fields_run() -> None:
    text = explain(parse("author-tag:vip from:staff tag:x").node, NOW, "ana", sorted(STAFF))
    assert "author-tag:vip  index (the people's identities, then the identity index)" in text
    assert "JOIN people p ON p.id = pi.person_id" in text and "['masto:team@example.social']" in text
    assert "nothing left for Python" in text
