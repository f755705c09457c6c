"""Checks on the exact text a reply will send, beyond its length: who it mentions.

A mention notifies its person, and on Mastodon it also *addresses* them: a direct (private)
reply that mentions someone adds them to the conversation, who then reads it. So a reply that
mentions someone who is not in the thread (not an author there, not mentioned there, not one
of the team's own accounts) gets a warning, and a private one is held until the user says
yes (the TUI's confirmation, the CLI's ``--force``).

Run on :class:`~cminbox.core.channel.OutgoingReply.text`, the text the channel posts (with
its own added mention and after a saved reply's variables are expanded), so what is checked
is what is sent. Email is left alone: an ``@name`` there notifies nobody.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import msgspec

from cminbox.core.channel import OutgoingReply
from cminbox.core.models import Message

#: ``@user``, ``@user@server.tld`` (fediverse), ``@name.bsky.social`` (Bluesky), ``@user:server``
#: (Matrix). Not inside a word or an address: ``ana@example.com`` is no mention.
MENTION = re.compile(
    r"(?<![\w@/.:+-])@([a-z0-9_](?:[a-z0-9_.\-]*[a-z0-9_])?(?:@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+|:[a-z0-9.\-]+)?)",
    re.IGNORECASE,
)
#: Channel types whose mentions notify nobody.
SILENT = frozenset({"email", "mail", "feed"})
#: Visibilities in which a mention lets its person read the reply (Mastodon's private kinds).
PRIVATE = frozenset({"direct", "private"})


class SendCheck(msgspec.Struct, frozen=True):
    """What the checks found: ``outside`` the mentions of people not in the thread;
    ``private``: the reply goes only to those it addresses (a mention widens it)."""

    outside: tuple[str, ...] = ()
    private: bool = False

    @property
    def warnings(self) -> list[str]:
        if not self.outside:
            return []
        who = ", ".join("@" + m for m in self.outside)
        if self.private:
            return [
                f"{who} {'is' if len(self.outside) == 1 else 'are'} not in this private conversation: "
                "mentioning adds them to it, and they will read this reply"
            ]
        return [f"{who} {'is' if len(self.outside) == 1 else 'are'} not in this thread and will be notified"]

    @property
    def holds(self) -> bool:
        """Sending needs a yes: a private conversation would be widened."""
        return bool(self.outside) and self.private


def mentions(text: str) -> list[str]:
    """The handles ``text`` mentions, casefolded, without the "@", each once, in order."""
    return list(dict.fromkeys(m.group(1).casefold() for m in MENTION.finditer(text)))


def _key(handle: str) -> str:
    return handle.strip().lstrip("@").casefold()


def _local(handle: str) -> str:
    return re.split(r"[@:]", handle, maxsplit=1)[0]


def _known(mention: str, people: set[str]) -> bool:
    """A mention names someone in ``people``: the same handle, or the same user name where one
    side has no server (Mastodon's ``@ana`` for ``ana@example.social``; GitHub's bare names)."""
    if mention in people:
        return True
    bare = not re.search(r"[@:]", mention)
    local = _local(mention)
    return any(_local(p) == local for p in people if bare or not re.search(r"[@:]", p))


def check_send(out: OutgoingReply, message: Message, thread: Sequence[Message], staff: Iterable[str] = ()) -> SendCheck:
    """The mentions in ``out.text`` of people outside ``message``'s ``thread`` (the stored
    messages of its conversation); ``staff``: the team's own handles on the channel."""
    if message.channel_type in SILENT:
        return SendCheck()
    people = {_key(h) for h in staff}
    for m in (message, *thread):
        people.add(_key(m.author.handle))
        extra_acct = m.extra.get("acct") if isinstance(m.extra, Mapping) else None
        if isinstance(extra_acct, str):
            people.add(_key(extra_acct))
        people.update(mentions(m.text))
    outside = tuple(m for m in mentions(out.text) if not _known(m, people))
    visibility = out.visibility or message.visibility
    return SendCheck(outside=outside, private=visibility in PRIVATE)
