"""Saved replies with variables: ``Hi {author.name}, thanks for reaching out on {channel}!``

A saved reply is expanded for one item just before it goes into the composer (or the CLI's
``reply --saved``); the pre-send checks then run on the expanded text, exactly as the channel
will send it (its mention or prefix included), so a reply whose variables push it past the
channel's limit is refused before it is queued.

Expansion is a fixed table of names, never ``str.format``: a saved reply cannot reach into
objects, and values that came from a server (an author's display name) are made one inert
line (no escape sequences, no line breaks) before they go into a reply.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping

import msgspec

from cminbox.core.errors import CminboxError
from cminbox.core.models import Message
from cminbox.core.text import one_line

# ``{name}`` or ``{name.part}``; ``{{`` and ``}}`` are literal braces.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_NAME = re.compile(r"[a-z][a-z_]*(\.[a-z][a-z_]*)?")
MAX_VALUE = 200  # characters of one expanded value (a display name may be anything)


class Context(msgspec.Struct, frozen=True):
    """What a saved reply can name, for one item."""

    message: Message
    me: str  # [team] me
    extra: Mapping[str, str] | None = None  # e.g. {"guideline.name": ..., "guideline.url": ...}


def _author_name(c: Context) -> str:
    return c.message.author.display_name or c.message.author.handle


def _first_name(c: Context) -> str:
    name = _author_name(c).split()
    return name[0] if name else c.message.author.handle


VARIABLES: dict[str, tuple[str, Callable[[Context], str]]] = {
    "author.name": ("the author's display name (their handle when they have none)", _author_name),
    "author.first_name": ("the first word of the author's display name", _first_name),
    "author.handle": ("the author's handle, e.g. @priya@example.social", lambda c: c.message.author.handle),
    "channel": ("the channel's name in your config, e.g. masto", lambda c: c.message.channel),
    "channel.type": ("the channel's type: mastodon, github, email...", lambda c: c.message.channel_type),
    "me": ("you: [team] me", lambda c: c.me),
    "item.url": ("the link to the item on the channel", lambda c: c.message.url),
    "item.id": ("the item's id in cminbox", lambda c: c.message.id),
}
#: Variables only some saved replies have (the guideline follow-up's); checked where used.
GUIDELINE_VARIABLES = {
    "guideline.name": "the guideline that applied",
    "guideline.text": "its text",
    "guideline.url": "the link to it",
}


class TemplateError(CminboxError):
    """A saved reply names a variable that does not exist (``column`` is 1-based)."""

    def __init__(self, column: int, name: str, known: list[str]) -> None:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f'Did you mean "{{{close[0]}}}"? ' if close else ""
        super().__init__(
            f'col {column}: unknown variable "{{{name}}}".',
            hint + "Variables: " + ", ".join(f"{{{k}}}" for k in known) + "; {{ and }} write a brace.",
        )
        self.column = column
        self.name = name


def names(text: str) -> list[tuple[int, str]]:
    """The variables ``text`` uses, with their 1-based columns, in order."""
    return [(m.start() + 1, m.group(1).strip()) for m in _TOKEN.finditer(text) if m.group(1) is not None]


def check(text: str, *, extra: tuple[str, ...] = ()) -> None:
    """Raise TemplateError at the first unknown variable (``extra``: names allowed here too)."""
    known = [*VARIABLES, *extra]
    for column, name in names(text):
        if name not in known or not _NAME.fullmatch(name):
            raise TemplateError(column, name, known)


def expand(text: str, context: Context) -> str:
    """The saved reply for this item: every variable replaced, literal braces kept."""
    extra = dict(context.extra or {})
    check(text, extra=tuple(extra))

    def value(m: re.Match[str]) -> str:
        token = m.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = m.group(1).strip()
        if name in extra:  # the caller's own values (a guideline's text from the config): never cut
            return one_line(extra[name])
        return one_line(VARIABLES[name][1](context), MAX_VALUE)

    return _TOKEN.sub(value, text)
