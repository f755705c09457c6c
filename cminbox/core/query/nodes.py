"""The query AST: immutable data that can be printed, evaluated, planned and compiled to SQL.

Normal form (what the parser produces and the printer expects): ``And`` and ``Or`` have at
least two items and never directly contain a node of their own kind; values are already
validated and normalised (lower-case, a known status, a canonical age ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import msgspec


class Text(msgspec.Struct, frozen=True):
    """Free text: a case-insensitive substring of the text, the author's handle or name."""

    phrase: str  # lower-case


class Term(msgspec.Struct, frozen=True):
    """``field op value``: ``tag:outage``, ``age:<1h``, ``priority:>=high``."""

    field: str  # canonical field name (aliases resolved)
    op: str  # ":" (equals / has) or "<", "<=", ">", ">=" (age and priority only)
    value: str  # normalised


class Not(msgspec.Struct, frozen=True):
    item: Node


class And(msgspec.Struct, frozen=True):
    items: tuple[Node, ...]


class Or(msgspec.Struct, frozen=True):
    items: tuple[Node, ...]


Node: TypeAlias = Text | Term | Not | And | Or


def all_of(items: list[Node]) -> Node | None:
    """``items`` ANDed, in normal form (nested Ands flattened; one item stands alone)."""
    flat: list[Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, And) else (item,))
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def any_of(items: list[Node]) -> Node | None:
    """``items`` ORed, in normal form."""
    flat: list[Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, Or) else (item,))
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def any_leaf(node: Node | None, test: Callable[[Text | Term], bool]) -> bool:
    """Does ``test`` hold for a leaf (a term or a text) anywhere in ``node``, negated or not?
    The one walk behind "does this query use people, me, a field, the state, the message"."""
    if node is None:
        return False
    if isinstance(node, Text | Term):
        return test(node)
    if isinstance(node, Not):
        return any_leaf(node.item, test)
    return any(any_leaf(i, test) for i in node.items)
