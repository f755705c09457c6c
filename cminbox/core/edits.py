"""Edited messages: what counts as a change of content, and how an edit is recorded.

A poll may bring a message the store already has (same id) with different data. When what a
person reads changed (the text, or a title or subject the channel keeps in ``extra``), the
store records an ``edited`` event in the same atomic step as the update (both backends), and
the item's history gains an "edited: ..." line with its time, so other instances, `cminbox
show` and `cminbox events` learn of it. Other differences (a url, a display name, a channel's
own bookkeeping such as a Discourse post version or a notification id) are stored silently:
they change nothing a person reads, and some channels bump them on every poll, which would
bury the history in noise. Attachments are not modelled apart from the text (a channel that
has them links them in the text), so a changed attachment is an edit when its link changed.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from cminbox.core.models import HistoryEntry, Message
from cminbox.core.packed_extras import enc_hook

#: ``extra`` keys that hold a title or subject a person reads (mail, GitHub, Reddit, Discourse).
CONTENT_EXTRA = ("title", "subject", "topic_title")
#: How much of the old and new text an event keeps: enough to see what changed in `cminbox
#: events`, without copying a 32 KB post into the log and the history twice per edit.
PREVIEW = 200
LABEL = "edited"
_ENC = msgspec.json.Encoder(order="sorted", enc_hook=enc_hook)


def content(message: Message) -> dict[str, str]:
    """The fields of a message a person reads."""
    found = {"text": message.text}
    found.update((key, message.extra[key]) for key in CONTENT_EXTRA if key in message.extra)
    return found


def digest(message: Message) -> str:
    """A short fingerprint of the content: the TinyDB store's crash check compares it with the
    stored message to tell whether an edit's step was written (the previews may not differ)."""
    import hashlib  # an edit's check only, not every start (issue #14)

    return hashlib.sha256(_ENC.encode(content(message))).hexdigest()[:16]


def _clip(value: str) -> str:
    return value if len(value) <= PREVIEW else value[: PREVIEW - 1] + "…"


class Edit(msgspec.Struct, frozen=True):
    """One message's content change, as its event and history line record it."""

    message_id: str
    actor: str  # the message's author (the channel's name when it has no handle): not a teammate
    label: str  # "edited: text", "edited: subject, text"
    before: dict[str, object]
    after: dict[str, object]  # the new values (clipped) and the content's digest

    def history(self, at: datetime, group: str) -> HistoryEntry:
        return HistoryEntry(
            at=at, actor=self.actor, action=self.label, before=self.before, after=self.after, group=group
        )


def edit_of(old: Message, new: Message) -> Edit | None:
    """The edit from ``old`` to ``new`` (both as stored: bounded), or None when no content changed."""
    was, now = content(old), content(new)
    fields = sorted(key for key in was.keys() | now.keys() if was.get(key, "") != now.get(key, ""))
    if not fields:
        return None
    return Edit(
        message_id=new.id,
        actor=new.author.handle or new.channel,
        label=f"{LABEL}: {', '.join(fields)}",
        before={key: _clip(was.get(key, "")) for key in fields},
        after={**{key: _clip(now.get(key, "")) for key in fields}, "digest": digest(new)},
    )


def is_edit(label: str) -> bool:
    """Whether a history line records an edit (a triage action's label never starts so)."""
    return label == LABEL or label.startswith(LABEL + ": ")
