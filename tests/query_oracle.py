"""The filter language as it was before the AST (a56f8a1), kept as the oracle for property tests."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cminbox.core.errors import CminboxError
from cminbox.core.models import Kind, Message, Priority, Status, TriageState

Predicate = Callable[[Message, TriageState, datetime, str], bool]
_AGE = re.compile(r"^([<>]=?)?(\d+)(m|h|d|w)$")
_UNIT = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
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


class OldQueryError(CminboxError, ValueError):
    pass


def _status(value: str) -> Predicate:
    try:
        want = Status(value)
    except ValueError:
        raise OldQueryError(f"status:{value}: use one of {', '.join(s.value for s in Status)}") from None
    return lambda m, s, now, me: s.status == want


def _priority(value: str) -> Predicate:
    op = ">=" if value.startswith(">=") else ">" if value.startswith(">") else ""
    name = value[len(op) :]
    try:
        want = Priority(name)
    except ValueError:
        raise OldQueryError(f"priority:{value}: use a priority") from None
    if op == ">=":
        return lambda m, s, now, me: s.priority.rank >= want.rank
    if op == ">":
        return lambda m, s, now, me: s.priority.rank > want.rank
    return lambda m, s, now, me: s.priority == want


def _age(value: str) -> Predicate:
    match = _AGE.match(value)
    if not match:
        raise OldQueryError(f"age:{value}: write age:<1h, age:>2d, age:<=30m (units m, h, d, w)")
    op, amount, unit = match.group(1) or "<", int(match.group(2)), match.group(3)
    limit = timedelta(seconds=amount * _UNIT[unit])
    if op.startswith("<"):
        return lambda m, s, now, me: now - m.created_at <= limit
    return lambda m, s, now, me: now - m.created_at >= limit


def _is(value: str) -> Predicate:
    checks: dict[str, Predicate] = {
        "mine": lambda m, s, now, me: s.assignee == me,
        "assigned": lambda m, s, now, me: s.assignee is not None,
        "unassigned": lambda m, s, now, me: s.assignee is None,
        "snoozed": lambda m, s, now, me: s.is_snoozed(now),
        "snooze-due": lambda m, s, now, me: s.snoozed_until is not None and s.snoozed_until <= now,
        "replied": lambda m, s, now, me: s.first_response_at is not None,
        "unreplied": lambda m, s, now, me: s.first_response_at is None,
        "direct": lambda m, s, now, me: m.kind == Kind.DIRECT,
    }
    if value in checks:
        return checks[value]
    if value in {s.value for s in Status}:
        return _status(value)
    raise OldQueryError(f"is:{value}: use one of {', '.join(IS_WORDS)}")


def _kind(value: str) -> Predicate:
    if value not in {k.value for k in Kind}:
        raise OldQueryError(f"kind:{value}: use one of {', '.join(k.value for k in Kind)}")
    return lambda m, s, now, me: m.kind == value


def _from(value: str) -> Predicate:
    want = value.lower().lstrip("@")
    return lambda m, s, now, me: (
        m.author.handle.lower().lstrip("@").startswith(want) or (want in m.author.display_name.lower())
    )


def _text(needle: str) -> Predicate:
    def match(m: Message, s: TriageState, now: datetime, me: str) -> bool:
        return needle in m.text.lower() or needle in m.author.handle.lower() or needle in m.author.display_name.lower()

    return match


FIELDS: dict[str, Callable[[str], Predicate]] = {
    "tag": lambda v: lambda m, s, now, me: v.lower().lstrip("#") in s.tags,
    "status": _status,
    "channel": lambda v: lambda m, s, now, me: m.channel == v or m.channel_type == v,
    "from": _from,
    "is": _is,
    "age": _age,
    "priority": _priority,
    "kind": _kind,
    "assignee": lambda v: lambda m, s, now, me: (s.assignee or "") == (me if v == "me" else v),
}
ALIASES = {"to": "assignee", "prio": "priority", "author": "from", "ch": "channel", "tags": "tag"}


@dataclass(frozen=True)
class Query:
    text: str
    terms: tuple[tuple[bool, Predicate], ...]

    def matches(self, message: Message, state: TriageState, now: datetime, me: str) -> bool:
        return all(pred(message, state, now, me) != negate for negate, pred in self.terms)

    @property
    def empty(self) -> bool:
        return not self.terms


def parse(text: str) -> Query:
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise OldQueryError(f"unbalanced quotes ({exc})") from None
    terms: list[tuple[bool, Predicate]] = []
    for word in words:
        negate = word.startswith("-") and len(word) > 1
        body = word[1:] if negate else word
        field, sep, value = body.partition(":")
        if sep and re.fullmatch(r"[a-z]+", field):
            field = ALIASES.get(field, field)
            if field not in FIELDS:
                raise OldQueryError(f"unknown filter `{field}:`; known: {', '.join(FIELDS)}")
            if not value:
                raise OldQueryError(f"`{field}:` needs a value")
            terms.append((negate, FIELDS[field](value.lower() if field != "from" else value)))
        else:
            terms.append((negate, _text(body.lower())))
    return Query(text=text, terms=tuple(terms))
