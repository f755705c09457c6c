"""AST to canonical text: the one printer (``parse(to_text(node)) == node``)."""

from __future__ import annotations

import re

from cminbox.core.query.nodes import And, Node, Not, Or, Term, Text
from cminbox.core.query.parse import KEYWORDS

# A bare word that reads back as the same free text: no quote, escape, space or parenthesis,
# no leading "-", no colon (``x:y`` could read as a field), not a keyword.
_BARE = re.compile(r"[^\s\"'\\():\-][^\s\"'\\():]*")
_BARE_VALUE = re.compile(r"[^\s\"'\\()]+")


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(phrase: str) -> str:
    if _BARE.fullmatch(phrase) and phrase not in KEYWORDS:
        return phrase
    return quote(phrase)


def _term(term: Term) -> str:
    op = term.op if term.op != ":" else ""
    value = term.value if _BARE_VALUE.fullmatch(term.value) and term.value[0] not in "<>" else quote(term.value)
    return f"{term.field}:{op}{value}"


def to_text(node: Node | None) -> str:
    """Canonical text: fields by their full names, ``-`` for not, ``or`` in lower case,
    parentheses only where precedence needs them."""
    if node is None:
        return ""
    if isinstance(node, Text):
        return _text(node.phrase)
    if isinstance(node, Term):
        return _term(node)
    if isinstance(node, Not):
        inner = node.item
        body = to_text(inner)
        return f"-({body})" if isinstance(inner, And | Or | Not) else f"-{body}"
    if isinstance(node, And):
        return " ".join(f"({to_text(i)})" if isinstance(i, Or) else to_text(i) for i in node.items)
    return " or ".join(to_text(i) for i in node.items)
