"""Hypothesis strategies read from the config declarations: values every declared type, bound
and choice accepts, and values just outside them. Nothing here lists an option."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any

import msgspec
import msgspec.inspect as mi
from hypothesis import strategies as st

from cminbox.core.config_docs import Option, options

INT64 = 2**63 - 1
NO_SURROGATES = st.characters(codec="utf-8", exclude_categories=["Cs"])
# Text a person might write, plus what a hostile file could hold (quotes, escapes, controls, DEL).
TEXT = st.text(NO_SURROGATES, max_size=30)


def valid(t: mi.Type) -> st.SearchStrategy[Any]:
    """Any value the declared type accepts."""
    if isinstance(t, mi.Metadata):
        t = t.type
    if isinstance(t, mi.BoolType):
        return st.booleans()
    if isinstance(t, mi.LiteralType):
        return st.sampled_from(t.values)
    if isinstance(t, mi.IntType):
        low = t.ge if t.ge is not None else (t.gt + 1 if t.gt is not None else -INT64)
        high = t.le if t.le is not None else (t.lt - 1 if t.lt is not None else INT64)
        return st.integers(low, high)
    if isinstance(t, mi.FloatType):
        return st.floats(
            t.ge if t.ge is not None else t.gt,
            t.le if t.le is not None else t.lt,
            exclude_min=t.ge is None and t.gt is not None,
            exclude_max=t.le is None and t.lt is not None,
            allow_nan=False,
            allow_infinity=False,
        )
    if isinstance(t, mi.StrType):
        if t.pattern is not None:
            return st.from_regex(t.pattern, fullmatch=True)
        shortest = t.min_length or 0
        longest = max(shortest, min(t.max_length, 30) if t.max_length is not None else 30)
        return st.text(NO_SURROGATES, min_size=shortest, max_size=longest)
    if isinstance(t, mi.ListType):
        return st.lists(valid(t.item_type), max_size=4)
    raise NotImplementedError(t)


def values_of(
    struct: type[msgspec.Struct], *, fixed: dict[str, Any] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Some of a table's keys, each with a value its declaration accepts (``fixed`` ones as given)."""
    fixed = fixed or {}
    optional = {o.name: valid(o.type) for o in _scalars(struct) if o.name not in fixed}
    return st.fixed_dictionaries({k: st.just(v) for k, v in fixed.items()}, optional=optional)


@dataclass(frozen=True)
class Bounded:
    option: Option
    why: str  # what the bad value breaks


def bounded(struct: type[msgspec.Struct] | None) -> list[Bounded]:
    """The keys of a table whose declaration refuses some values of their type."""
    found = []
    for o in _scalars(struct) if struct is not None else []:
        t = o.type
        if isinstance(t, mi.LiteralType):
            found.append(Bounded(o, "choice"))
        elif isinstance(t, mi.IntType | mi.FloatType) and (t.ge, t.gt, t.le, t.lt) != (None,) * 4:
            found.append(Bounded(o, "range"))
        elif isinstance(t, mi.StrType) and (t.pattern or t.max_length is not None or t.min_length):
            found.append(Bounded(o, "string"))
    return found


def invalid(t: mi.Type) -> st.SearchStrategy[Any]:
    """A value of the right TOML type that the declaration refuses."""
    if isinstance(t, mi.LiteralType):
        return TEXT.filter(lambda v: v not in t.values)
    if isinstance(t, mi.IntType):
        below = [st.integers(-INT64, t.ge - 1)] if t.ge is not None else []
        above = [st.integers(t.le + 1, INT64)] if t.le is not None else []
        return st.one_of(*below, *above)
    if isinstance(t, mi.FloatType):
        under = [st.floats(max_value=t.ge, exclude_max=True, allow_nan=False)] if t.ge is not None else []
        over = [st.floats(min_value=t.le, exclude_min=True, allow_nan=False)] if t.le is not None else []
        return st.one_of(*under, *over)
    if isinstance(t, mi.StrType):
        if t.pattern is not None:
            pattern = re.compile(t.pattern)
            return st.text(string.printable, max_size=45).filter(lambda v: not pattern.search(v))
        if t.max_length is not None:
            return st.text(string.ascii_letters, min_size=t.max_length + 1, max_size=t.max_length + 5)
        return st.just("")
    raise NotImplementedError(t)


def _scalars(struct: type[msgspec.Struct]) -> list[Option]:
    """The table's own keys (not its sub-tables), whose values generate from their type."""
    return [
        o
        for o in options(struct)
        if not o.deprecated
        and isinstance(o.type, mi.BoolType | mi.LiteralType | mi.IntType | mi.FloatType | mi.StrType | mi.ListType)
        and not (isinstance(o.type, mi.ListType) and isinstance(o.type.item_type, mi.StructType))
    ]
