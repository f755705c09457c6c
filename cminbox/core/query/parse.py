"""Text to AST: a lexer that knows columns, and a recursive-descent parser.

    query   := or_expr
    or_expr := and_expr ("or" and_expr)*
    and_expr:= unary (["and"] unary)*          adjacent terms are ANDed
    unary   := ("not" | "-") unary | primary
    primary := "(" or_expr ")" | word

Precedence: not > and > or; ``and``/``or``/``not`` are keywords in any case. A word is
``field:value`` when it starts with a lower-case field name and a colon outside quotes,
otherwise free text. Quotes (``"sync down"``, ``'x'``) group words and protect keywords,
parentheses and colons; a backslash escapes the next character. ``(`` opens a group at the
start of a word; ``)`` closes one wherever a group is open (``:)`` is text at the top level).
"""

from __future__ import annotations

import re

import msgspec

from cminbox.core.query.fields import QueryError, check_value, field_name
from cminbox.core.query.nodes import Node, Not, Term, Text, all_of, any_of

_FIELD = re.compile(r"([a-z]+(?:-[a-z]+)*):")  # author-tag: has a hyphen
KEYWORDS = ("and", "or", "not")


class Token(msgspec.Struct, frozen=True):
    kind: str  # "(" ")" "not" "and" "or" "word"
    col: int  # 1-based
    text: str = ""  # a word, unquoted
    prefix: str = ""  # a word's characters before its first quote or escape


def tokens(text: str) -> list[Token]:
    out: list[Token] = []
    depth, i, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "(":
            out.append(Token("(", i + 1))
            depth += 1
            i += 1
        elif c == ")" and depth > 0:
            out.append(Token(")", i + 1))
            depth -= 1
            i += 1
        elif c == ")" and _only_closers(text, i):
            raise QueryError(i + 1, '")" without a matching "("')
        elif c == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] != ")":
            out.append(Token("not", i + 1, text="-"))
            i += 1
            if text[i] == "-":  # "--x" is "not" of the text "-x", as it always was
                i = _word(text, i, depth, out)
        else:
            i = _word(text, i, depth, out)
    return out


def _only_closers(text: str, i: int) -> bool:
    j = i
    while j < len(text) and text[j] == ")":
        j += 1
    return j == len(text) or text[j].isspace()


def _word(text: str, i: int, depth: int, out: list[Token]) -> int:
    start, n = i, len(text)
    buf: list[str] = []
    prefix: list[str] = []
    open_prefix = True
    while i < n:
        c = text[i]
        if c.isspace() or (c == ")" and depth > 0):
            break
        if c in "\"'":
            open_prefix = False
            quote, col = c, i + 1
            i += 1
            while i < n and text[i] != quote:
                if quote == '"' and text[i] == "\\" and i + 1 < n and text[i + 1] in '\\"':
                    i += 1
                buf.append(text[i])
                i += 1
            if i >= n:
                raise QueryError(col, f"unclosed quote {quote} (add a closing {quote})")
            i += 1
            continue
        if c == "\\" and i + 1 < n:
            open_prefix = False
            buf.append(text[i + 1])
            i += 2
            continue
        if open_prefix:
            prefix.append(c)
        buf.append(c)
        i += 1
    word, raw = "".join(buf), "".join(prefix)
    if raw == word and word.lower() in KEYWORDS:
        out.append(Token(word.lower(), start + 1, text=word))
    else:
        out.append(Token("word", start + 1, text=word, prefix=raw))
    return i


MAX_NESTING = 64  # parentheses and "not"s inside each other: deeper is a pasted accident


class _Parser:
    def __init__(self, toks: list[Token], length: int) -> None:
        self.toks = toks
        self.pos = 0
        self.end = length + 1
        self.depth = 0  # (every later pass over the tree recurses too: a bound here bounds them)

    def _deeper(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise QueryError(
                tok.col, f"nested too deeply (at most {MAX_NESTING} parentheses and nots inside each other)"
            )

    def peek(self) -> Token | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> Token:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.take()
            self._needs_term(tok, '"or" needs a term on each side')
            items.append(self.and_expr())
        node = any_of(items)
        assert node is not None
        return node

    def and_expr(self) -> Node:
        items = [self.unary()]
        while (tok := self.peek()) is not None and tok.kind in ("and", "not", "(", "word"):
            if tok.kind == "and":
                self.take()
                self._needs_term(tok, '"and" needs a term on each side')
            items.append(self.unary())
        node = all_of(items)
        assert node is not None
        return node

    def unary(self) -> Node:
        tok = self.peek()
        if tok is not None and tok.kind == "not":
            self.take()
            self._needs_term(tok, f'"{tok.text}" needs a term after it')
            self._deeper(tok)
            node = Not(self.unary())
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise QueryError(self.end, "a term is missing at the end")
        if tok.kind in ("and", "or"):
            raise QueryError(tok.col, f'"{tok.text}" needs a term on each side')
        self.take()
        if tok.kind == "(":
            inner = self.peek()
            if inner is not None and inner.kind == ")":
                raise QueryError(tok.col, "empty parentheses")
            if inner is None:
                raise QueryError(tok.col, 'unclosed "(" (add ")")')
            self._deeper(tok)
            node = self.or_expr()
            self.depth -= 1
            close = self.peek()
            if close is None or close.kind != ")":
                raise QueryError(tok.col, 'unclosed "(" (add ")")')
            self.take()
            return node
        if tok.kind == ")":
            raise QueryError(tok.col, '")" without a matching "("')
        return word_node(tok)

    def _needs_term(self, op: Token, reason: str) -> None:
        nxt = self.peek()
        if nxt is None or nxt.kind in (")", "and", "or"):
            raise QueryError(op.col, reason)


def word_node(tok: Token) -> Node:
    match = _FIELD.match(tok.prefix)
    if match is None:
        return Text(tok.text.lower())
    name = match.group(1)
    field = field_name(name, tok.col)
    raw = tok.text[len(name) + 1 :]
    op, value = check_value(field, raw, tok.col + len(name) + 1, f"{name}:{raw}")
    return Term(field, op, value)


def parse_node(text: str) -> Node | None:
    """The AST of ``text`` (None when it is blank), or a QueryError with the column."""
    toks = tokens(text)
    if not toks:
        return None
    parser = _Parser(toks, len(text))
    node = parser.or_expr()
    if parser.pos < len(toks):
        tok = toks[parser.pos]
        raise QueryError(tok.col, f'unexpected "{tok.text or tok.kind}"')
    return node
