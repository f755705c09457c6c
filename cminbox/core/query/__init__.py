"""The filter language shared by the TUI's ``/`` bar, saved views and ``cminbox list --query``.

    tag:outage status:new (channel:mastodon or channel:bluesky) -from:@bot "sync down" age:<1h

A query parses into an immutable AST (nodes.py) with one printer (printer.py), one
evaluator (evaluate.py), a planner over the store's in-memory indexes (plan.py) and a
compiler to SQL for PostgreSQL (sql.py). Errors say the column and suggest a fix:
``col 14: unknown field "statsu" (did you mean "status"?)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cminbox.core.models import Message, TriageState
from cminbox.core.query.context import NOBODY, PeopleView, needs_people
from cminbox.core.query.evaluate import Predicate, compile_node, needs_message, needs_state
from cminbox.core.query.explain import explain
from cminbox.core.query.fields import ALIASES, FIELD_NAMES, IS_WORDS, QueryError
from cminbox.core.query.nodes import And, Node, Not, Or, Term, Text, all_of, any_of
from cminbox.core.query.parse import parse_node
from cminbox.core.query.printer import to_text

__all__ = [
    "ALIASES",
    "FIELD_NAMES",
    "IS_WORDS",
    "And",
    "Node",
    "Not",
    "Or",
    "PeopleView",
    "Query",
    "QueryError",
    "Term",
    "Text",
    "all_of",
    "any_of",
    "explain",
    "parse",
    "parse_node",
    "to_text",
]


def _always(m: Message, s: TriageState, now: datetime, me: str) -> bool:
    return True


@dataclass(frozen=True)
class Query:
    """A parsed query: the text as typed, its AST (None: matches everything) and the
    predicate compiled from it once.

    A query with people fields (``author-tag:``, ``person:``, ``from:staff``) is compiled as if
    nobody were stored; :meth:`bind` compiles it against the people of a store (the stores'
    ``query`` do it themselves). Every other query is its own binding, at no cost."""

    text: str
    node: Node | None
    predicate: Predicate = field(default=_always, compare=False, repr=False)
    uses_state: bool = field(default=False, compare=False, repr=False)
    uses_people: bool = field(default=False, compare=False, repr=False)
    uses_message: bool = field(default=False, compare=False, repr=False)

    @classmethod
    def of(cls, node: Node | None, text: str | None = None, people: PeopleView = NOBODY) -> Query:
        if node is None:
            return cls(text or "", None)
        return cls(
            to_text(node) if text is None else text,
            node,
            compile_node(node, people),
            needs_state(node),
            needs_people(node),
            needs_message(node),
        )

    def bind(self, people: PeopleView) -> Query:
        """This query with its people fields answered from ``people`` (itself when it has none)."""
        if not self.uses_people:
            return self
        return Query.of(self.node, self.text, people)

    def matches(self, message: Message, state: TriageState, now: datetime, me: str) -> bool:
        return self.predicate(message, state, now, me)

    @property
    def empty(self) -> bool:
        return self.node is None

    @property
    def canonical(self) -> str:
        return to_text(self.node)


def parse(text: str) -> Query:
    """Parse ``text``, or raise :class:`QueryError` (``col N: ...``)."""
    return Query.of(parse_node(text), text)
