"""The fields of the filter language: names, aliases, operators and value checks.

Every value is validated and normalised here, at parse time, so an evaluator, the planner
and the SQL compiler only ever see values they understand.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable

from cminbox.core.errors import CminboxError
from cminbox.core.models import Kind, Priority, Status
from cminbox.core.people import identity
from cminbox.core.sentiment import Mood
from cminbox.core.triage import normalise_tag


class QueryError(CminboxError, ValueError):
    """A query that does not parse: ``column`` is 1-based; the message starts ``col N:``."""

    def __init__(self, column: int, reason: str) -> None:
        super().__init__(f"col {column}: {reason}")
        self.column = column
        self.reason = reason


IS_WORDS = (
    "new",
    "open",
    "waiting",
    "escalated",
    "done",
    "mine",
    "assigned",
    "unassigned",
    "snoozed",
    "snooze-due",
    "replied",
    "unreplied",
    "direct",
)
FIELD_NAMES = (
    "tag",
    "status",
    "channel",
    "from",
    "is",
    "age",
    "priority",
    "kind",
    "assignee",
    "sentiment",
    "lang",
    "author-tag",
    "person",
    "rule",
    "answered",
)
ALIASES = {
    "to": "assignee",
    "prio": "priority",
    "author": "from",
    "ch": "channel",
    "tags": "tag",
    "mood": "sentiment",
    "language": "lang",
}
COMPARABLE = ("age", "priority")  # the fields that take <, <=, >, >=
AGE = re.compile(r"(\d+)(m|h|d|w)")
AGE_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_AGE_SECONDS = 36_525 * 86400  # a hundred years
STATUSES = tuple(s.value for s in Status)
PRIORITIES = tuple(p.value for p in Priority)
KINDS = tuple(k.value for k in Kind)
MOODS = tuple(m.value for m in Mood)


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean "x"?)`` when one of ``choices`` is close to ``word``, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def field_name(name: str, column: int) -> str:
    """The canonical field for ``name`` (aliases resolved), or a QueryError with a suggestion."""
    field = ALIASES.get(name, name)
    if field not in FIELD_NAMES:
        hint = suggest(name, (*FIELD_NAMES, *ALIASES)) or f"; fields: {', '.join(FIELD_NAMES)}"
        raise QueryError(column, f'unknown field "{name}"{hint}')
    return field


def split_op(field: str, value: str) -> tuple[str, str]:
    """``(op, rest)``: a leading <, <=, >, >= on the fields that compare; ``:`` otherwise."""
    if field in COMPARABLE:
        for op in ("<=", ">=", "<", ">"):
            if value.startswith(op):
                return op, value[len(op) :]
    return ":", value


def _one_of(kind: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        hint = suggest(value, choices) or f"; use one of {', '.join(choices)}"
        raise ValueError(f'unknown {kind} "{value}"{hint}')
    return value


def _age(op: str, value: str) -> tuple[str, str]:
    match = AGE.fullmatch(value)
    if not match:
        raise ValueError("write age:<1h, age:>2d, age:<=30m (units m, h, d, w)")
    if int(match.group(1)) * AGE_UNIT_SECONDS[match.group(2)] > MAX_AGE_SECONDS:
        # (a longer one overflowed a date when the query ran: the TUI ended, a view was an internal error)
        raise ValueError(f"age {value} is too long: at most {MAX_AGE_SECONDS // 86400:,}d")
    return (op if op != ":" else "<"), f"{int(match.group(1))}{match.group(2)}"


def _priority(op: str, value: str) -> tuple[str, str]:
    return op, _one_of("priority", value, PRIORITIES)


def _is(op: str, value: str) -> tuple[str, str]:
    return op, _one_of("is: word", value, IS_WORDS)


def _lang(value: str) -> str:
    """A language code as the gate gives it ("en", "de", "other") or "unknown" (none)."""
    if not re.fullmatch(r"[a-z]{2,8}", value):
        raise ValueError("write lang:en, lang:de, lang:other or lang:unknown")
    return value


def _person(value: str) -> str:
    """A person's id (``p-3f9a0c12de``) or an identity key (``masto:priya@example.social``,
    normalised as core.people.identity does)."""
    if re.fullmatch(r"p-[0-9a-z]+", value):
        return value
    channel, colon, handle = value.partition(":")
    if colon and channel and handle.strip().lstrip("@"):
        return identity(channel, handle)
    raise ValueError("write person:p-… (a person's id) or person:CHANNEL:HANDLE (masto:priya@example.social)")


def _rule(value: str) -> str:
    """A rule's name as ``[[rules]] name`` allows it (lower-case letters, digits, - and _)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", value):
        raise ValueError("write rule:NAME, a rule's name from [[rules]] (`cminbox rules list` shows them)")
    return value


ANSWERED = ("community", "staff", "none")


def _answered(value: str) -> str:
    """``answered:community`` (first answered in its thread by the community), ``staff``, ``none``."""
    return _one_of("answered: value", value, ANSWERED)


def _plain(normalise: Callable[[str], str]) -> Callable[[str, str], tuple[str, str]]:
    return lambda op, value: (op, normalise(value))


_CHECKS: dict[str, Callable[[str, str], tuple[str, str]]] = {
    "tag": _plain(normalise_tag),
    "status": lambda op, v: (op, _one_of("status", v, STATUSES)),
    "channel": _plain(str.lower),
    "from": _plain(str.lower),
    "is": _is,
    "age": _age,
    "priority": _priority,
    "kind": lambda op, v: (op, _one_of("kind", v, KINDS)),
    "assignee": _plain(str.lower),
    "sentiment": lambda op, v: (op, _one_of("sentiment", v, MOODS)),
    "lang": _plain(_lang),
    "author-tag": _plain(normalise_tag),
    "person": _plain(_person),
    "rule": _plain(_rule),
    "answered": lambda op, v: (op, _answered(v)),
}


def check_value(field: str, raw: str, column: int, term: str) -> tuple[str, str]:
    """``(op, value)`` validated and normalised for ``field``; ``term`` is the text as written
    (for the message) and ``column`` where its value starts."""
    op, value = split_op(field, raw)
    if not value:
        raise QueryError(column, f"{term} needs a value")
    try:
        return _CHECKS[field](op, value.lower() if field not in ("tag", "from") else value)
    except ValueError as exc:
        raise QueryError(column, f"{term}: {exc}") from None
