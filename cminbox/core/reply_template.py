"""The file a reply is written in with $VISUAL / $EDITOR, and reading the reply back out of it.

The template is the draft, a marker line, and the message being answered, quoted in
comment lines. Reading it back removes exactly what the template added (the marker, the
"Replying to" line, the quoted lines) and keeps everything the user wrote, above the marker
or below it: text typed below the marker is never dropped silently.
"""

from __future__ import annotations

import msgspec

from cminbox.core.models import Message

MARK = "# ---- write above this line; the quote below is not sent ----"


def _added_lines(message: Message) -> list[str]:
    return [f"# Replying to {message.author.handle} on {message.channel}:"] + [
        f"# > {line}" for line in message.text.splitlines()
    ]


def template(draft: str, message: Message) -> str:
    return "\n".join([draft, "", MARK, *_added_lines(message)]) + "\n"


class EditedReply(msgspec.Struct, frozen=True):
    text: str
    kept_below: int  # lines the user wrote below the marker, kept in the reply


def read_back(edited: str, message: Message) -> EditedReply:
    lines = edited.splitlines()
    marked = MARK in lines
    cut = lines.index(MARK) if marked else 0  # no marker: the template's other lines still go
    above, below = lines[:cut], lines[cut + 1 if marked else 0 :]
    # Compared without trailing blanks: many editors trim them on save ("# > " of an empty line).
    added = [line.rstrip() for line in _added_lines(message)]
    kept: list[str] = []
    for line in below:
        if line.rstrip() in added:
            added.remove(line.rstrip())  # each template line goes once: a user's identical line stays
        elif line != MARK:
            kept.append(line)
    mine, extra = "\n".join(above).strip(), "\n".join(kept).strip()
    text = f"{mine}\n\n{extra}".strip() if mine and extra else mine or extra
    return EditedReply(text, sum(1 for line in kept if line.strip()) if marked else 0)
