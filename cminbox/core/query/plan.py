"""The planner for the TinyDB store: narrow a query to candidates with the in-memory indexes
(core/indexes.py), then evaluate only what the indexes did not answer, per item.

Indexed: ``status:x`` and ``is:<status>`` (status index, exact), ``tag:x`` (tag index, exact),
``answered:community`` / ``answered:staff`` (the answered index, exact),
``channel:x`` (channel index plus the channel types seen on each channel: narrows, then is
checked per item). An AND intersects its indexed parts; an OR of indexed parts unites them.
Everything else (free text, from, age, priority, assignee, other ``is:`` words, NOT) is
evaluated per candidate. With a :class:`PeopleView` (queries that use them), the people
fields (``person:``, ``author-tag:``, ``from:staff``) are exact too: the identities they name,
through the identity index (the author card's ``person:`` query at 100k is the ids of one
person, not a pass over every message).
"""

from __future__ import annotations

import msgspec

from cminbox.core.indexes import Indexes
from cminbox.core.models import Status
from cminbox.core.query.context import PeopleView, is_people_term
from cminbox.core.query.fields import STATUSES
from cminbox.core.query.nodes import And, Node, Or, Term, all_of


class Plan(msgspec.Struct, frozen=True):
    candidates: set[str] | None  # None: every message
    residue: Node | None  # still to evaluate per candidate (None: the indexes answered it all)
    indexed: tuple[Node, ...]  # the parts the indexes answered exactly or narrowed


def index_kind(node: Node, people: PeopleView | None = None) -> str | None:
    """How the indexes serve ``node``: "exact", "narrow" or None (evaluated per item)."""
    if isinstance(node, Term):
        if is_people_term(node):
            return "exact" if people is not None else None
        if node.field in ("status", "tag") or (node.field == "is" and node.value in STATUSES):
            return "exact"
        if node.field == "channel":
            return "narrow"
        if node.field == "answered" and node.value != "none":
            return "exact"
        return None
    if isinstance(node, Or):
        kinds = [index_kind(i, people) for i in node.items]
        if None in kinds:
            return None
        return "exact" if all(k == "exact" for k in kinds) else "narrow"
    return None


def _ids(node: Node, ix: Indexes, people: PeopleView | None) -> set[str]:
    if isinstance(node, Or):
        found: set[str] = set()
        for item in node.items:
            found |= _ids(item, ix, people)
        return found
    assert isinstance(node, Term)
    if is_people_term(node):
        assert people is not None  # index_kind says "exact" only with a view
        index = ix.by_identity()
        found = set()
        for key in people.identities(node):
            found |= index.get(key, set())
        return found
    if node.field == "tag":
        return ix.tags.get(node.value, set())
    if node.field == "answered":
        return ix.answered.get(node.value, set())
    if node.field == "channel":
        names = {name for name, kinds in ix.channel_types.items() if name == node.value or node.value in kinds}
        return ix.in_channels(names)
    status = Status(node.value)
    return ix.with_status(status) if status == Status.NEW else ix.status.get(status, set())


def plan(node: Node | None, ix: Indexes, people: PeopleView | None = None) -> Plan:
    if node is None:
        return Plan(None, None, ())
    parts = node.items if isinstance(node, And) else (node,)
    sets: list[set[str]] = []
    indexed: list[Node] = []
    rest: list[Node] = []
    for part in parts:
        kind = index_kind(part, people)
        if kind is None:
            rest.append(part)
            continue
        sets.append(_ids(part, ix, people))
        indexed.append(part)
        if kind == "narrow":
            rest.append(part)
    if not sets:
        return Plan(None, node, ())
    sets.sort(key=len)
    found = set(sets[0])
    for other in sets[1:]:
        found &= other
    found &= ix.messages.keys()
    return Plan(found, all_of(rest), tuple(indexed))
