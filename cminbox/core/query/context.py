"""What the people fields of the filter language read: who is who, and who is tagged what.

``author-tag:vip``, ``person:p-…`` / ``person:<identity>`` and ``from:staff`` depend on data
outside the item (the stored person records, cminbox.core.people, and the channels'
``staff`` accounts from the config). A query is compiled once against a :class:`PeopleView`
(:meth:`cminbox.core.query.Query.bind`); queries without those fields are never bound and
cost nothing more. The PostgreSQL compiler (sql.py) asks the ``people`` and
``person_identities`` tables instead, with the staff identities as a parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from cminbox.core.people import Person, effective_tags
from cminbox.core.query.nodes import Node, Term, any_leaf

#: The fields whose answer depends on people (``from:`` only for its value ``staff``).
PEOPLE_FIELDS = ("author-tag", "person")
STAFF = "staff"


def is_people_term(term: Term) -> bool:
    return term.field in PEOPLE_FIELDS or (term.field == "from" and term.value == STAFF)


def needs_people(node: Node | None) -> bool:
    """Does ``node`` use a people field (and so need a :class:`PeopleView` to be evaluated)?"""
    return any_leaf(node, lambda leaf: isinstance(leaf, Term) and is_people_term(leaf))


def uses_field(node: Node | None, name: str) -> bool:
    """Does ``node`` have a term of field ``name`` anywhere (``answered:`` in a rule's query)?"""
    return any_leaf(node, lambda leaf: isinstance(leaf, Term) and leaf.field == name)


def needs_me(node: Node | None) -> bool:
    """Does ``node`` depend on who evaluates it (``assignee:me``, ``is:mine``)?"""
    return any_leaf(
        node, lambda leaf: isinstance(leaf, Term) and (leaf.field, leaf.value) in (("assignee", "me"), ("is", "mine"))
    )


class PeopleView(msgspec.Struct, frozen=True):
    """``tagged``: each profile tag (the implied ``staff`` included) → the identity keys whose
    person has it; ``members``: each stored person's id and each of its identity keys → all
    of that person's identity keys. An identity nobody stored is a person of its own."""

    tagged: Mapping[str, frozenset[str]] = msgspec.field(default_factory=dict)
    members: Mapping[str, frozenset[str]] = msgspec.field(default_factory=dict)

    @classmethod
    def of(cls, people: Iterable[Person], staff: Iterable[str] = ()) -> PeopleView:
        staff_keys = frozenset(staff)
        tagged: dict[str, set[str]] = {}
        members: dict[str, frozenset[str]] = {}
        for person in people:
            keys = frozenset(person.identities)
            members[person.id] = keys
            for key in keys:
                members[key] = keys
            for tag in effective_tags(person, staff_keys):
                tagged.setdefault(tag, set()).update(keys)
        for key in staff_keys - members.keys():  # a staff account nobody stored: a person of its own
            tagged.setdefault(STAFF, set()).add(key)
        return cls({tag: frozenset(keys) for tag, keys in tagged.items()}, members)

    def identities(self, term: Term) -> frozenset[str]:
        """The identity keys whose items ``term`` (a people term) matches."""
        if term.field == "person":
            if ":" in term.value:  # an identity key: its person's identities, or itself alone
                return self.members.get(term.value, frozenset({term.value}))
            return self.members.get(term.value, frozenset())
        return self.tagged.get(STAFF if term.field == "from" else term.value, frozenset())


#: No stored people and no staff: ``person:<identity>`` still matches that identity's items.
NOBODY = PeopleView()
