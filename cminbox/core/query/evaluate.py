"""The one evaluator: an AST compiled once into a predicate over a message and its triage state.

Semantics (the same as the SQL compiler's, see sql.py):

- free text: a substring of the text, the author's handle or display name, ignoring case;
- ``tag:x`` the item has tag x; ``status:x``; ``kind:x``; ``channel:x`` the channel's name or type;
- ``from:x`` the handle (without leading @) starts with x, or the display name contains x;
- ``assignee:x`` (``me``: the current actor); ``is:`` a status or one of mine, assigned,
  unassigned, snoozed, snooze-due, replied, unreplied, direct;
- ``age:<1h`` / ``age:<=1h`` at most that old, ``age:>2d`` / ``age:>=2d`` at least that old;
- ``priority:high`` exactly, ``priority:>=high`` (``>``, ``<``, ``<=``) by rank;
- ``sentiment:negative`` (neutral, positive, unknown) by VADER's published cut-offs;
  ``lang:en`` the language gate's verdict (``lang:unknown``: too little text to tell);
- ``answered:community`` the item was first answered in its thread by the community (``staff``:
  by a staff account; ``none``: not answered), as detected at ingest (core/community.py);
- ``author-tag:vip`` the author's person has that profile tag (``staff`` also for the
  configured staff accounts); ``person:p-…`` / ``person:<identity>`` the items of every
  identity of that person; ``from:staff`` is ``author-tag:staff`` (a handle that starts with
  "staff" is ``from:@staff``). These read a :class:`~cminbox.core.query.context.PeopleView`.
- ``rule:outage`` the rule ``outage`` changed the item and that effect was not taken back
  (its history, as rule_lines.open_effects reads it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from cminbox.core.models import Kind, Message, Priority, Status, TriageState
from cminbox.core.people import identity_of
from cminbox.core.query.context import NOBODY, PeopleView, is_people_term
from cminbox.core.query.fields import AGE, AGE_UNIT_SECONDS, STATUSES
from cminbox.core.query.nodes import And, Node, Not, Or, Term, Text, any_leaf
from cminbox.core.rule_lines import open_effects
from cminbox.core.sentiment import Mood, mood_of

Predicate = Callable[[Message, TriageState, datetime, str], bool]
_RANK_OPS: dict[str, Callable[[int, int], bool]] = {
    ":": int.__eq__,
    "<": int.__lt__,
    "<=": int.__le__,
    ">": int.__gt__,
    ">=": int.__ge__,
}


def age_limit(value: str) -> timedelta:
    match = AGE.fullmatch(value)
    assert match is not None, value  # validated by the parser
    return timedelta(seconds=int(match.group(1)) * AGE_UNIT_SECONDS[match.group(2)])


# The fields whose terms read the message only (the rest read the triage state only).
MESSAGE_FIELDS = frozenset({"channel", "from", "age", "kind", "sentiment", "lang", "author-tag", "person"})


def _reads_message(term: Term) -> bool:
    return term.field in MESSAGE_FIELDS or (term.field == "is" and term.value == "direct")


def needs_state(node: Node) -> bool:
    """Does evaluating ``node`` look at the triage state (or only at the message)?"""
    return any_leaf(node, lambda leaf: isinstance(leaf, Term) and not _reads_message(leaf))


def needs_message(node: Node) -> bool:
    """Does evaluating ``node`` look at the message (or only at the triage state)? One that
    does not gives every item with the same state the same answer (tui/row_loading.py asks
    once for all the rows of items nobody has triaged)."""
    return any_leaf(node, lambda leaf: isinstance(leaf, Text) or _reads_message(leaf))


def compile_node(node: Node, people: PeopleView = NOBODY) -> Predicate:
    """A predicate for ``node`` (compiled once per query, called per item); the people fields
    read ``people``, taken in at compile time so the predicate's signature stays the same."""
    if isinstance(node, Text):
        needle = node.phrase
        return lambda m, s, now, me: (
            needle in m.text.lower() or needle in m.author.handle.lower() or needle in m.author.display_name.lower()
        )
    if isinstance(node, Term):
        return _term(node, people)
    if isinstance(node, Not):
        negated = _negated_term(node.item) if isinstance(node.item, Term) else None
        if negated is not None:
            return negated
        inner = compile_node(node.item, people)
        return lambda m, s, now, me: not inner(m, s, now, me)
    # "-status:done -status:waiting" (the needs-reply view): one membership test.
    excluded = (
        frozenset(st for i in node.items if (st := _excluded_status(i)) is not None)
        if isinstance(node, And)
        else frozenset()
    )
    if len(excluded) > 1:
        rest = (compile_node(i, people) for i in node.items if _excluded_status(i) is None)
        preds: tuple[Predicate, ...] = (lambda m, s, now, me: s.status not in excluded, *rest)
    else:
        preds = tuple(compile_node(i, people) for i in node.items)
    # Loops, not all()/any() over a generator: a view is evaluated per item on every change of
    # view at 100k items, and the generators were ~40 % of it (the inbox view: ~57 -> ~32 ms).
    if isinstance(node, And):

        def every(m: Message, s: TriageState, now: datetime, me: str) -> bool:
            for p in preds:  # noqa: SIM110 - the loop is the point (above)
                if not p(m, s, now, me):
                    return False
            return True

        return every
    assert isinstance(node, Or)

    def some(m: Message, s: TriageState, now: datetime, me: str) -> bool:
        for p in preds:  # noqa: SIM110 - the loop is the point (above)
            if p(m, s, now, me):
                return True
        return False

    return some


def _excluded_status(node: Node) -> Status | None:
    """The status ``node`` excludes when it is ``-status:x`` (``-is:x``), else None."""
    return _status_of(node.item) if isinstance(node, Not) and isinstance(node.item, Term) else None


def _status_of(term: Term) -> Status | None:
    if term.field == "status" or (term.field == "is" and term.value in STATUSES):
        return Status(term.value)
    return None


def _negated_term(term: Term) -> Predicate | None:
    """The negation of a state term as one test, not a call around the term's predicate: views
    negate statuses and flags, and run per item over every row (100k at a full load)."""
    status = _status_of(term)
    if status is not None:
        return lambda m, s, now, me: s.status != status
    if term.field == "tag":
        tag = term.value
        return lambda m, s, now, me: tag not in s.tags
    if term.field == "is" and term.value == "snoozed":
        return lambda m, s, now, me: s.snoozed_until is None or s.snoozed_until <= now
    return None


def _term(term: Term, people: PeopleView) -> Predicate:
    field, op, v = term.field, term.op, term.value
    if is_people_term(term):
        keys = people.identities(term)
        if not keys:
            return lambda m, s, now, me: False
        return lambda m, s, now, me: identity_of(m) in keys
    if field == "tag":
        return lambda m, s, now, me: v in s.tags
    if field == "status" or (field == "is" and v in STATUSES):
        status = Status(v)
        return lambda m, s, now, me: s.status == status
    if field == "channel":
        return lambda m, s, now, me: m.channel == v or m.channel_type == v
    if field == "from":
        want = v.lstrip("@")
        return lambda m, s, now, me: (
            m.author.handle.lower().lstrip("@").startswith(want) or (want in m.author.display_name.lower())
        )
    if field == "kind":
        return lambda m, s, now, me: m.kind == v
    if field == "assignee":
        return lambda m, s, now, me: (s.assignee or "") == (me if v == "me" else v)
    if field == "age":
        limit = age_limit(v)
        if op.startswith("<"):
            return lambda m, s, now, me: now - m.created_at <= limit
        return lambda m, s, now, me: now - m.created_at >= limit
    if field == "priority":
        rank, cmp = Priority(v).rank, _RANK_OPS[op]
        return lambda m, s, now, me: cmp(s.priority.rank, rank)
    if field == "sentiment":
        mood = Mood(v)
        return lambda m, s, now, me: mood_of(m.sentiment) == mood
    if field == "lang":
        lang = "" if v == "unknown" else v
        return lambda m, s, now, me: m.lang == lang
    if field == "rule":  # an effect of that rule on the item that was not taken back
        return lambda m, s, now, me: bool(open_effects(s.history, v))
    if field == "answered":
        return answered_predicate(v)
    return _IS[v]


def answered_predicate(value: str) -> Predicate:
    """``answered:community|staff|none``: who answered first in the item's thread (core/community.py)."""
    if value == "none":
        return lambda m, s, now, me: s.answered is None
    return lambda m, s, now, me: s.answered is not None and s.answered.kind == value


_IS: dict[str, Predicate] = {
    "mine": lambda m, s, now, me: s.assignee == me,
    "assigned": lambda m, s, now, me: s.assignee is not None,
    "unassigned": lambda m, s, now, me: s.assignee is None,
    "snoozed": lambda m, s, now, me: s.is_snoozed(now),
    "snooze-due": lambda m, s, now, me: s.snoozed_until is not None and s.snoozed_until <= now,
    "replied": lambda m, s, now, me: s.first_response_at is not None,
    "unreplied": lambda m, s, now, me: s.first_response_at is None,
    "direct": lambda m, s, now, me: m.kind == Kind.DIRECT,
}


def matches(node: Node | None, message: Message, state: TriageState, now: datetime, me: str) -> bool:
    """Does the item match ``node`` (None matches everything)? Compiles each call: for many
    items, use :func:`compile_node` or :class:`~cminbox.core.query.Query` once."""
    return node is None or compile_node(node)(message, state, now, me)
